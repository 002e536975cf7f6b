package io.vortexfs.cli;

import io.vortexfs.mount.client.ClientConfig;
import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.HostPort;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "fsck", mixinStandardHelpOptions = true,
        description = {"Check the whole cluster: every name, link count and inode, and every chunk's bytes against its hash.",
            "Exits 0 when everything is consistent, 1 when a problem was found."})
final class FsckCommand implements Runnable {
    @Option(names = "--cluster", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]",
            converter = Units.HostPortsConverter.class, description = "Any node(s) of the cluster.")
    List<HostPort> cluster;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "How long one node may take to check itself (default 10m).")
    Duration timeout = Duration.ofMinutes(10);

    @Override
    public void run() {
        ClientConfig cfg = Main.ADMIN_CLIENT;
        int problems = 0;
        try (ClusterClient client = ClusterClient.connect(cluster, cfg, "fsck")) {
            for (MemberInfo m : client.view().members()) {
                if (!m.state().isUp()) {
                    // Its copies are checked when it returns; its keys' other copies are checked here.
                    System.out.printf("node %s (%s): %s, not checked%n", m.nodeId(), m.address(), m.state());
                    continue;
                }
                Response.FsckReport r = client.fsck(m, timeout);
                System.out.printf("node %s (%s): %d inodes, %d files, %d chunks re-hashed, %d problem(s)%n",
                        r.nodeId(), m.address(), r.inodes(), r.files(), r.chunksChecked(), r.problems().size());
                for (String p : r.problems()) {
                    System.out.println("  " + p);
                }
                problems += r.problems().size();
            }
        } catch (FsException e) {
            throw new UserError(e.getMessage());
        }
        if (problems > 0) {
            throw new UserError(problems + " problem(s) found");
        }
        System.out.println("consistent");
    }
}
