package io.vortexfs.cli;

import io.vortexfs.mount.client.ClientConfig;
import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.HostPort;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "decommission", mixinStandardHelpOptions = true,
        description = {"Take a node out of the cluster with nothing lost: it stops owning data at once, hands "
                + "every chunk and metadata partition it holds to their owners, and then stops.",
            "Waits until it has left, showing what is still to hand over."})
final class DecommissionCommand implements Runnable {
    @Parameters(index = "0", paramLabel = "NODE", description = "The node: its id (or the start of it), or HOST:PORT.")
    String node;

    @Option(names = "--cluster", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]",
            converter = Units.HostPortsConverter.class, description = "Any node(s) of the cluster.")
    List<HostPort> cluster;

    @picocli.CommandLine.Mixin
    KeyOption key;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "How long to wait for the hand-over (default 24h); the node goes on leaving after it.")
    Duration timeout = Duration.ofHours(24);

    @Option(names = "--progress", negatable = true,
            description = "Show a progress bar of what is handed over (default: only on a terminal; else a line per change).")
    Boolean progress;

    @Override
    public void run() {
        ClientConfig cfg = key.apply(Main.ADMIN_CLIENT);
        try (ClusterClient client = ClusterClient.connect(cluster, cfg, "decommission")) {
            MemberInfo m = find(client.view().members());
            if (m.state() == MemberState.LEFT) {
                System.out.println("node " + m.nodeId() + " has already left the cluster");
                return;
            }
            if (!m.state().isUp()) {
                throw new UserError("node " + m.nodeId() + " is " + m.state() + ": only a running node can hand over "
                        + "its data (a dead one is replaced by itself after the nodes' --repair-after)");
            }
            Response.Drain d = client.decommission(m);
            long deadline = System.nanoTime() + timeout.toNanos();
            // Chunks and partitions to hand over, as first seen; what is left counts down to 0.
            long total = Math.max(1, d.chunksLeft() + d.partitionsBehind());
            Progress bar = Progress.of(progress, total, Long::toString, System.err);
            if (bar.shown()) {
                System.err.println("node " + m.nodeId() + " hands over " + d.chunksLeft() + " chunk(s) and "
                        + d.partitionsBehind() + " metadata partition(s):");
            }
            String shown = "";
            while (!d.done()) {
                String line = "node " + m.nodeId() + " is leaving: " + d.chunksLeft() + " chunk(s) and "
                        + d.partitionsBehind() + " metadata partition(s) still to hand over";
                if (bar.shown()) {
                    bar.update(total - Math.min(total, d.chunksLeft() + d.partitionsBehind()));
                } else if (!line.equals(shown)) {
                    System.err.println(line);
                    shown = line;
                }
                if (System.nanoTime() > deadline) {
                    throw new UserError("node " + m.nodeId() + " has not finished handing over within " + timeout
                            + "; it goes on leaving (see `vortex status`)");
                }
                sleep();
                try {
                    d = client.drain(m);
                } catch (FsException e) {
                    // It may have finished and stopped between two looks: the others then know it LEFT.
                    if (!hasLeft(client, m)) {
                        throw new UserError("lost touch with node " + m.nodeId() + " before it finished handing over ("
                                + e.getMessage() + "); it goes on leaving when it runs again");
                    }
                    break;
                }
            }
            bar.done(total);
            System.out.println("node " + m.nodeId() + " handed over everything it held and has left the cluster");
        } catch (FsException e) {
            throw new UserError(e.getMessage());
        }
    }

    private static boolean hasLeft(ClusterClient client, MemberInfo m) {
        for (int i = 0; i < 10; i++) {
            for (MemberInfo now : client.freshView().members()) {
                if (now.nodeId().equals(m.nodeId()) && now.state() == MemberState.LEFT) {
                    return true;
                }
            }
            sleep();
        }
        return false;
    }

    private MemberInfo find(List<MemberInfo> members) {
        List<MemberInfo> matches = new ArrayList<>();
        for (MemberInfo m : members) {
            if (m.nodeId().startsWith(node) || m.address().equals(node)) {
                matches.add(m);
            }
        }
        if (matches.isEmpty()) {
            throw new UserError("no member " + node + " in the cluster (see `vortex status`)");
        }
        if (matches.size() > 1) {
            throw new UserError(node + " names " + matches.size() + " members; give more of the id");
        }
        return matches.get(0);
    }

    private static void sleep() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted; the node goes on leaving");
        }
    }
}
