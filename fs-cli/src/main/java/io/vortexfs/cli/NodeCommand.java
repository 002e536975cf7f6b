package io.vortexfs.cli;

import io.vortexfs.node.Node;
import io.vortexfs.node.NodeConfig;
import io.vortexfs.node.cluster.ClusterSettings;
import io.vortexfs.node.cluster.Membership;
import java.io.IOException;
import io.vortexfs.protocol.Topology;
import io.vortexfs.protocol.rpc.ClusterKey;
import io.vortexfs.protocol.rpc.HostPort;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Run a storage node in the foreground until interrupted.",
        subcommands = DecommissionCommand.class)
final class NodeCommand implements Runnable {
    /** The line a node prints on stdout once it serves; scripts and `vortex up` wait for it. */
    static final String READY = "VORTEX-NODE-READY";

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", description = "Directory for this node's chunks and metadata (required).")
    Path data;

    @Option(names = "--port", paramLabel = "PORT", description = "TCP port to serve on (0 picks a free one; default ${DEFAULT-VALUE}).")
    int port = NodeConfig.DEFAULT_PORT;

    @Option(names = "--host", paramLabel = "HOST", description = "Address to listen on and to be reached at (default ${DEFAULT-VALUE}).")
    String host = NodeConfig.DEFAULT_HOST;

    @Option(names = "--workers", paramLabel = "N", description = "Threads for disk and metadata work (default ${DEFAULT-VALUE}).")
    int workers = 16;

    @Option(names = "--join", paramLabel = "HOST:PORT[,HOST:PORT...]", converter = Units.HostPortsConverter.class,
            description = "Join the cluster these members belong to (any one is enough). Without it the node founds a "
                    + "cluster, or rejoins the members it remembers.")
    List<HostPort> join = List.of();

    @Option(names = "--topology", paramLabel = "ring|all-to-all",
            description = "How members talk: all-to-all (everyone heartbeats everyone, writes fan out) or ring "
                    + "(neighbours heartbeat, writes are chained). Fixed when the cluster is founded (default all-to-all).")
    String topology;

    @Option(names = "--replicas", paramLabel = "R",
            description = "Copies of every chunk and metadata key, capped by the cluster size. Fixed when the cluster is founded (default 3).")
    int replicas;

    @Option(names = "--vnodes", paramLabel = "N", description = "Virtual nodes per member on the hash ring (default 1024).")
    int vnodes;

    @Option(names = "--write-quorum", paramLabel = "W",
            description = "Copies a write needs before it is acknowledged (default: every live owner, never fewer than a majority).")
    int writeQuorum;

    @Option(names = "--partitions", paramLabel = "P",
            description = "Metadata partitions, the units in which the namespace is spread over the members. "
                    + "Fixed when the cluster is founded (default 32).")
    int partitions;

    @Option(names = "--repair-after", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "How long a member must stay dead before its chunks and metadata are copied to new owners "
                    + "(default 10m).")
    java.time.Duration repairAfter = Membership.Timing.DEFAULT_REPAIR_AFTER;

    @Option(names = "--repair-rate", paramLabel = "SIZE", converter = Units.SizeConverter.class,
            description = "Most bytes per second this node sends to repair or move chunks; 0 for no limit (default 32M).")
    long repairRate = NodeConfig.Upkeep.DEFAULT.repairRate();

    @Option(names = "--scrub-every", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "Pause between two passes that re-read and re-hash every chunk, replacing damaged copies "
                    + "(default 168h).")
    java.time.Duration scrubEvery = NodeConfig.Upkeep.DEFAULT.scrubEvery();

    @Option(names = "--scrub-rate", paramLabel = "SIZE", converter = Units.SizeConverter.class,
            description = "Most bytes per second a scrub pass reads; 0 for no limit (default 16M).")
    long scrubRate = NodeConfig.Upkeep.DEFAULT.scrubRate();

    @Option(names = "--gc-every", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "Pause between two passes that delete the chunks no file references (default 1h).")
    java.time.Duration gcEvery = NodeConfig.Upkeep.DEFAULT.gcEvery();

    @Option(names = "--gc-grace", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "How long an unreferenced chunk is kept, for writers whose commit is still to come "
                    + "(default 24h; keep it far above the mount's 30 s).")
    java.time.Duration gcGrace = NodeConfig.Upkeep.DEFAULT.gcGrace();

    @Option(names = "--salvage-wal", description = "Start even if the write-ahead log is damaged before its end, dropping the damaged part.")
    boolean salvageWal;

    @Option(names = "--key-file", paramLabel = "PATH",
            description = {"The cluster's key: every connection to and from this node proves it. Founding a cluster, "
                    + "a missing file is created with a new key; joining one, give the file of the cluster joined.",
                "Kept in the data directory, where later starts find it. Without any, the node talks to anyone."})
    Path keyFile;

    @Option(names = "--tls", description = "Put every connection to and from this node under TLS (needs --key-file; "
            + "every node and client of the cluster must use it).")
    boolean tls;

    @Option(names = "--encrypt", description = {"Found a cluster that encrypts chunks and metadata on disk (AES-256-GCM, "
            + "keys derived from the cluster key, so it needs one). Fixed when the cluster is founded: nodes that join "
            + "it encrypt too, without the option."})
    boolean encrypt;

    @Option(names = "--http-port", paramLabel = "PORT",
            description = "Serve a status page (/), the cluster's state as JSON (/api/status) and metrics for "
                    + "Prometheus (/metrics) on this port (0 picks a free one). Off unless given.")
    Integer httpPort;

    @Option(names = "--init", description = {"Give the data directory its cluster key and exit without serving: the "
            + "key of --key-file when given (a node about to join), else a new one (the first node of a cluster).",
        "Later starts find it there; copy it to every other node and client."})
    boolean init;

    @Option(names = "--parent-pid", hidden = true, description = "Exit when this process exits (used by `vortex up`).")
    Long parentPid;

    /** {@code --init}: writes the data directory's key, or says which it already holds. */
    private void initialise() {
        Path kept = data.toAbsolutePath().normalize().resolve(ClusterKey.FILE);
        try {
            if (java.nio.file.Files.exists(kept)) {
                ClusterKey held = ClusterKey.load(kept);
                if (keyFile != null && !ClusterKey.load(keyFile).sameAs(held)) {
                    throw new UserError(data + " already belongs to the cluster whose key is in " + kept + ", not " + keyFile);
                }
                System.out.println("cluster key " + kept + " (already there)");
                return;
            }
            ClusterKey key = keyFile == null ? ClusterKey.generate()
                    : ClusterKey.load(keyFile);
            key.save(kept);
        } catch (IOException e) {
            throw new UserError(e.getMessage());
        }
        System.out.println("cluster key " + kept + (keyFile == null
                ? " (new: give a copy to every other node with --init --key-file, and to clients with --key-file)"
                : " (from " + keyFile + ")"));
    }

    @Override
    public void run() {
        if (data == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--data=DIR'");
        }
        if (init) {
            initialise();
            return;
        }
        if (port < 0 || port > 65535) {
            throw new UserError("--port must be between 0 and 65535: " + port);
        }
        if (httpPort != null && (httpPort < 0 || httpPort > 65535)) {
            throw new UserError("--http-port must be between 0 and 65535: " + httpPort);
        }
        if (workers < 1) {
            throw new UserError("--workers must be at least 1: " + workers);
        }
        if (replicas < 0 || vnodes < 0 || writeQuorum < 0) {
            throw new UserError("--replicas, --vnodes and --write-quorum must not be negative");
        }
        if (partitions < 0 || partitions > ClusterSettings.MAX_PARTITIONS) {
            throw new UserError("--partitions must be between 1 and " + ClusterSettings.MAX_PARTITIONS + ": " + partitions);
        }
        if (repairAfter.isNegative() || repairRate < 0 || scrubRate < 0) {
            throw new UserError("--repair-after, --repair-rate and --scrub-rate must not be negative");
        }
        if (!NodeConfig.Upkeep.positive(scrubEvery) || !NodeConfig.Upkeep.positive(gcEvery)
                || !NodeConfig.Upkeep.positive(gcGrace)) {
            throw new UserError("--scrub-every, --gc-every and --gc-grace must be positive");
        }
        if (writeQuorum > 0 && replicas > 0 && writeQuorum > replicas) {
            throw new UserError("--write-quorum " + writeQuorum + " is more than --replicas " + replicas);
        }
        Topology t;
        try {
            t = topology == null ? null : Topology.parse(topology);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        if (keyFile != null && join.isEmpty() && !java.nio.file.Files.exists(keyFile)) {
            try {
                ClusterKey.loadOrCreate(keyFile);
            } catch (IOException e) {
                throw new UserError("cannot create the cluster key " + keyFile + ": " + e.getMessage());
            }
        }
        NodeConfig base = NodeConfig.defaults(data.toAbsolutePath().normalize(), host, port);
        NodeConfig.Cluster d = NodeConfig.Cluster.DEFAULT;
        NodeConfig config = new NodeConfig(base.dataDir(), host, port, workers, base.queueDepth(),
                base.maxInFlightPerConnection(), base.stalledFrameTimeout(), salvageWal,
                new NodeConfig.Cluster(join, t, replicas, vnodes, writeQuorum, partitions,
                        d.timing().withRepairAfter(repairAfter), d.peerTimeout(), keyFile, tls, encrypt),
                new NodeConfig.Upkeep(repairRate, scrubEvery, scrubRate, gcEvery, gcGrace),
                httpPort == null ? -1 : httpPort);
        Node node;
        try {
            node = Node.start(config);
        } catch (IOException e) {
            throw new UserError(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while starting");
        }
        RestFiles files = node.httpPort() < 0 ? null : restFiles(node);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (files != null) {
                files.close();
            }
            node.close();
            stopped.countDown();
        }, "vortex-node-shutdown"));
        if (parentPid != null) {
            watchParent(parentPid);
        }
        node.whenLeft(() -> {
            System.out.println("node " + node.identity().nodeId() + " has left the cluster; its data directory can go");
            // Not on the node's own thread: exiting runs the shutdown hook, which closes the node.
            new Thread(() -> System.exit(0), "vortex-node-exit").start();
        });
        System.out.println(READY + " " + host + ":" + node.port() + " " + node.identity().nodeId()
                + (node.httpPort() < 0 ? "" : " http=" + host + ":" + node.httpPort()));
        System.out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The REST API's files: a client of the whole cluster through this node, with the node's key. */
    private RestFiles restFiles(Node node) {
        Path kept = data.toAbsolutePath().normalize().resolve(ClusterKey.FILE);
        ClusterKey key;
        try {
            key = java.nio.file.Files.exists(kept) ? ClusterKey.load(kept) : null;
        } catch (IOException e) {
            throw new UserError(e.getMessage());
        }
        RestFiles files = new RestFiles(new io.vortexfs.protocol.rpc.HostPort(host, node.port()),
                io.vortexfs.mount.client.ClientConfig.DEFAULT.withKey(key).withTls(tls));
        node.serveFiles(files);
        return files;
    }

    /** A node started by `vortex up` must not outlive it, even when `up` is killed with SIGKILL. */
    private static void watchParent(long pid) {
        var timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vortex-parent-watch");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(() -> {
            boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            if (!alive) {
                System.exit(0);
            }
        }, 1, 1, TimeUnit.SECONDS);
    }
}
