package io.vortexfs.cli;

import io.vortexfs.mount.client.ClientConfig;
import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.protocol.ContentHash;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.ConnectionPool;
import io.vortexfs.protocol.rpc.EventLoops;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.wire.FrameFormat;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Starts clusters of growing size under each topology, as separate node processes on loopback, and
 * measures what the topology costs: connections each node holds, how long news of a new member and
 * of a dead one takes to reach every node, and the latency of a replicated chunk write.
 */
@Command(name = "bench-topology", mixinStandardHelpOptions = true,
        description = "Measure what each topology costs as the cluster grows (node processes on loopback).")
final class BenchTopologyCommand implements Runnable {
    @Option(names = "--sizes", split = ",", paramLabel = "N[,N...]", description = "Cluster sizes (default ${DEFAULT-VALUE}).")
    List<Integer> sizes = List.of(3, 5, 8);

    @Option(names = "--writes", paramLabel = "N", description = "Chunk writes timed per cluster (default ${DEFAULT-VALUE}).")
    int writes = 200;

    @Option(names = "--replicas", paramLabel = "R", description = "Copies of every chunk (default ${DEFAULT-VALUE}).")
    int replicas = 3;

    private static final Duration POLL = Duration.ofMillis(10);

    @Override
    public void run() {
        if (writes < 10 || replicas < 1 || sizes.isEmpty() || sizes.stream().anyMatch(n -> n < 2 || n > 32)) {
            throw new UserError("--writes must be at least 10, --replicas at least 1, and every size between 2 and 32");
        }
        System.out.printf(Locale.ROOT, "%-11s %5s %10s %12s %12s %10s %10s%n", "topology", "nodes", "conns/node",
                "join news", "death news", "write p50", "write p99");
        for (String topology : List.of("all-to-all", "ring")) {
            for (int n : sizes) {
                try {
                    System.out.println(measure(topology, n));
                } catch (IOException | FsException e) {
                    throw new UserError(topology + " with " + n + " nodes: " + e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        System.out.println("join news: from the last node's start until every node lists it alive; death news: from a"
                + " kill -9 until every other node lists it dead (not merely suspect); conns/node: TCP connections a node holds"
                + " to other nodes after the writes; writes: " + writes + " chunks of 64 KiB, "
                + replicas + " copies each.");
    }

    private String measure(String topology, int n) throws IOException, FsException, InterruptedException {
        Path data = Files.createTempDirectory("vortex-bench-topology");
        List<NodeProcess> procs = new ArrayList<>();
        List<HostPort> addresses = new ArrayList<>();
        EventLoopGroup group = EventLoops.newGroup(1, "bench-topology");
        ConnectionPool pool = new ConnectionPool(group, Duration.ofSeconds(2), 64);
        try {
            long lastStart = 0;
            for (int i = 0; i < n; i++) {
                List<String> args = new ArrayList<>(List.of("--topology=" + topology, "--replicas=" + replicas));
                if (i > 0) {
                    args.add("--join=" + addresses.get(0));
                }
                NodeProcess p = NodeProcess.start(data.resolve("node-" + i), "127.0.0.1", 0, "128m", args);
                procs.add(p);
                addresses.add(HostPort.parse(p.awaitReady(Duration.ofSeconds(60))));
                lastStart = System.nanoTime();
            }
            long joinNanos = awaitEveryView(pool, addresses, v -> alive(v) == n) - lastStart;

            double[] latencies;
            // Every copy over the network, as between machines: written as local files, the
            // all-to-all copies would skip the network that the topologies differ in.
            try (ClusterClient client = ClusterClient.connect(addresses, new ClientConfig(Duration.ofSeconds(10),
                    Duration.ofSeconds(2), 64).withLocalWrites(false), "bench-topology")) {
                latencies = timeWrites(client);
            }
            double conns = 0;
            for (NodeProcess p : procs) {
                conns += sockets(p.pid());
            }
            // Each node's listening socket and the connection this benchmark holds to it are not peers.
            conns = conns / n - 2;

            NodeProcess victim = procs.get(n - 1);
            victim.kill();
            long killed = System.nanoTime();
            long deathNanos = awaitEveryView(pool, addresses.subList(0, n - 1), v -> notDead(v) == n - 1) - killed;
            return String.format(Locale.ROOT, "%-11s %5d %10.1f %9.0f ms %9.0f ms %7.2f ms %7.2f ms", topology, n, conns,
                    joinNanos / 1e6, deathNanos / 1e6, latencies[latencies.length / 2],
                    latencies[(int) (latencies.length * 0.99)]);
        } finally {
            pool.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            for (NodeProcess p : procs) {
                p.stop();
            }
            deleteTree(data);
        }
    }

    private double[] timeWrites(ClusterClient client) throws FsException {
        Random random = new Random(7);
        byte[] chunk = new byte[64 << 10];
        double[] ms = new double[writes];
        for (int i = 0; i < writes; i++) {
            random.nextBytes(chunk);
            ContentHash.Summed summed = client.contentIds().summed(chunk, 0, chunk.length);
            long t0 = System.nanoTime();
            client.putChunk(summed, chunk, chunk.length);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms;
    }

    private static long notDead(Response.ClusterView v) {
        return v.members().stream().filter(m -> m.state().isUp()).count();
    }

    private static long alive(Response.ClusterView v) {
        return v.members().stream().filter(m -> m.state() == MemberState.ALIVE).count();
    }

    /** Polls every node's view until all satisfy {@code done}; returns the time they first all did. */
    private static long awaitEveryView(ConnectionPool pool, List<HostPort> nodes, Predicate<Response.ClusterView> done)
            throws FsException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (HostPort h : nodes) {
                try (Reply r = pool.get(h).callSync(new Request.Hello(FrameFormat.VERSION, "bench"), null,
                        Duration.ofSeconds(2))) {
                    if (!done.test((Response.ClusterView) r.response())) {
                        all = false;
                        break;
                    }
                }
            }
            if (all) {
                return System.nanoTime();
            }
            Thread.sleep(POLL.toMillis());
        }
        throw new FsException(io.vortexfs.protocol.ErrorCode.TIMEOUT, "the members did not agree within 60 s");
    }

    /** Open TCP sockets of a process, from its file descriptors. */
    private static int sockets(long pid) throws IOException {
        int count = 0;
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith("socket:")) {
                        count++;
                    }
                } catch (IOException gone) {
                    // Closed while we looked.
                }
            }
        }
        return count;
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // A temporary directory; leave what cannot be removed.
        }
    }
}
