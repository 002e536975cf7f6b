package io.vortexfs.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A VortexFS cluster for one test: node processes on loopback with ephemeral ports and their own
 * data directories, and mounts of it, each a separate JVM as in production.
 */
final class TestCluster implements AutoCloseable {
    static final String NODE_READY = "VORTEX-NODE-READY";
    static final String MOUNTED = "mounted ";

    private final Path dir;
    private final String topology;
    private final int replicas;
    private final List<Node> nodes = new ArrayList<>();
    private final List<String> nodeArgs = new ArrayList<>();
    /** When set, node i runs in host i of these namespaces, at its address. */
    private NetworkNamespaces hosts;
    private final List<Vortex.Proc> mounts = new ArrayList<>();

    final class Node {
        final Path data;
        Vortex.Proc proc;
        String address;
        /** HOST:PORT of the node's status page, when it was started with --http-port. */
        String http;
        int port;

        Node(Path data) {
            this.data = data;
        }

        void start() throws IOException, InterruptedException {
            // The first start takes any free port; a restart reuses it, as a real node would.
            int index = nodes.indexOf(this);
            List<String> args = new ArrayList<>(List.of("node", "--data", data.toString(), "--port", Integer.toString(port)));
            if (hosts != null) {
                args.addAll(List.of("--host", hosts.address(index)));
            }
            if (topology != null) {
                args.add("--topology=" + topology);
            }
            if (replicas > 0) {
                args.add("--replicas=" + replicas);
            }
            args.addAll(nodeArgs);
            List<String> others = nodes.stream().filter(n -> n != this && n.address != null).map(n -> n.address).toList();
            if (!others.isEmpty()) {
                args.add("--join=" + String.join(",", others));
            }
            List<String> cmd = Vortex.java("256m", args.toArray(String[]::new));
            proc = new Vortex.Proc(hosts == null ? cmd : hosts.inHost(index, cmd),
                    data.resolveSibling(data.getFileName() + ".log"));
            String line = proc.awaitLine(NODE_READY, 60);
            address = line.split(" ")[1];
            for (String field : line.split(" ")) {
                if (field.startsWith("http=")) {
                    http = field.substring("http=".length());
                }
            }
            port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        }

        void kill() throws InterruptedException {
            proc.kill();
        }

        /** The ids of the chunks this node stores, read from its data directory. */
        java.util.Set<String> chunkIds() throws IOException {
            java.util.Set<String> ids = new java.util.HashSet<>();
            Path root = data.resolve("chunks");
            try (var fan = java.nio.file.Files.list(root)) {
                for (Path sub : fan.filter(p -> p.getFileName().toString().length() == 2).toList()) {
                    try (var files = java.nio.file.Files.list(sub)) {
                        files.forEach(f -> ids.add(f.getFileName().toString()));
                    }
                }
            }
            return ids;
        }

        /** Bytes of the chunks this node stores; one removed while they are counted counts for none. */
        long chunkBytes() throws IOException {
            long total = 0;
            for (String id : chunkIds()) {
                try {
                    total += java.nio.file.Files.size(data.resolve("chunks").resolve(id.substring(0, 2)).resolve(id));
                } catch (java.nio.file.NoSuchFileException removedMeanwhile) {
                    // The node dropped it as surplus between the listing and now.
                }
            }
            return total;
        }

        void restart() throws IOException, InterruptedException {
            if (proc.process.isAlive()) {
                proc.kill();
            }
            start();
        }
    }

    /** A cluster of nodes started with the defaults: the first founds it, the others join. */
    TestCluster(Path dir) {
        this(dir, null, 0);
    }

    /** A cluster whose nodes are started with {@code --topology} and {@code --replicas} (null, 0: defaults). */
    TestCluster(Path dir, String topology, int replicas) {
        this.dir = dir;
        this.topology = topology;
        this.replicas = replicas;
    }

    /** Runs node i in host i of {@code hosts}, listening on that host's address. */
    TestCluster inHosts(NetworkNamespaces hosts) {
        this.hosts = hosts;
        return this;
    }

    /** Adds options that every node is started (and restarted) with. */
    TestCluster withNodeArgs(String... args) {
        nodeArgs.addAll(List.of(args));
        return this;
    }

    int size() {
        return nodes.size();
    }

    Node startNode() throws IOException, InterruptedException {
        Node n = new Node(dir.resolve("node-" + (nodes.size() + 1)));
        nodes.add(n);
        n.start();
        return n;
    }

    Node node(int i) {
        return nodes.get(i);
    }

    String seeds() {
        return String.join(",", nodes.stream().map(n -> n.address).toList());
    }

    /** Mounts the cluster at {@code mp} in a separate process and waits until it serves. */
    Vortex.Proc mount(Path mp, String heap, String... extra) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("mount", mp.toString(), "--cluster", seeds()));
        args.addAll(List.of(extra));
        Vortex.Proc m = new Vortex.Proc(Vortex.java(heap, args.toArray(String[]::new)),
                dir.resolve("mount-" + (mounts.size() + 1) + ".log"));
        mounts.add(m);
        m.awaitLine(MOUNTED, 60);
        return m;
    }

    @Override
    public void close() throws InterruptedException {
        for (Vortex.Proc m : mounts) {
            if (m.process.isAlive()) {
                m.process.destroy();
                m.process.waitFor(15, java.util.concurrent.TimeUnit.SECONDS);
            }
            m.close();
        }
        Mounts.clearStale();
        for (Node n : nodes) {
            if (n.proc != null) {
                n.proc.close();
            }
        }
    }
}
