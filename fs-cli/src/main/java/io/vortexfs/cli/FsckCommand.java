package io.vortexfs.cli;

import io.vortexfs.mount.client.ClientConfig;
import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.mount.fs.VortexFileSystem;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.ThinFile;
import io.vortexfs.protocol.rpc.HostPort;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "fsck", mixinStandardHelpOptions = true,
        description = {"Check the whole cluster: every name, link count and inode, and every copy of every chunk a file "
                + "uses against its hash.",
            "Lists the files with fewer good copies than the cluster keeps (copies on a node that is down count as none).",
            "Exits 0 when everything is consistent, 1 when a problem was found."})
final class FsckCommand implements Runnable {

    @Option(names = "--cluster", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]",
            converter = Units.HostPortsConverter.class, description = "Any node(s) of the cluster.")
    List<HostPort> cluster;

    @picocli.CommandLine.Mixin
    KeyOption key;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "How long one node may take to check itself (default 10m).")
    Duration timeout = Duration.ofMinutes(10);

    @Override
    public void run() {
        ClientConfig cfg = key.apply(Main.ADMIN_CLIENT);
        int problems = 0;
        try (ClusterClient client = ClusterClient.connect(cluster, cfg, "fsck")) {
            for (MemberInfo m : client.view().members()) {
                if (!m.state().isUp()) {
                    // Its copies are checked when it returns; its keys' other copies are checked here.
                    System.out.printf("node %s (%s): %s, not checked%n", m.nodeId(), m.address(), m.state());
                    continue;
                }
                Response.FsckReport r = client.fsck(m, timeout);
                System.out.printf("node %s (%s): %d inodes, %d files, copies of %d chunks counted, %d problem(s), "
                        + "%d file(s) short of copies%n", r.nodeId(), m.address(), r.inodes(), r.files(),
                        r.chunksChecked(), r.problems().size(), r.thinFiles().size());
                for (String p : r.problems()) {
                    System.out.println("  " + p);
                }
                Map<Long, String> paths = pathsOf(client, r.thinFiles().stream().map(ThinFile::ino).collect(Collectors.toSet()));
                for (ThinFile t : r.thinFiles()) {
                    System.out.printf("  file %s: %d chunk(s) with fewer than %d good copies, the fewest %d%n",
                            paths.getOrDefault(t.ino(), "inode " + t.ino() + " (no name found)"), t.chunks(), t.wanted(),
                            t.fewest());
                }
                problems += r.problems().size() + r.thinFiles().size();
            }
        } catch (FsException e) {
            throw new UserError(e.getMessage());
        }
        if (problems > 0) {
            throw new UserError(problems + " problem(s) found");
        }
        System.out.println("consistent");
    }

    /**
     * A path for each of {@code inos} that has one, found by walking the tree from the root; the
     * walk stops once each has been found.
     */
    private static Map<Long, String> pathsOf(ClusterClient client, Set<Long> inos) throws FsException {
        Map<Long, String> out = new HashMap<>();
        ArrayDeque<Map.Entry<Long, String>> dirs = new ArrayDeque<>();
        dirs.add(Map.entry(VortexFileSystem.ROOT, ""));
        while (out.size() < inos.size() && !dirs.isEmpty()) {
            Map.Entry<Long, String> dir = dirs.poll();
            for (DirEntry e : client.readDir(dir.getKey())) {
                String path = dir.getValue() + "/" + e.name();
                if (e.attr().isDirectory()) {
                    dirs.add(Map.entry(e.attr().ino(), path));
                } else if (inos.contains(e.attr().ino())) {
                    out.putIfAbsent(e.attr().ino(), path);
                }
            }
        }
        return out;
    }
}
