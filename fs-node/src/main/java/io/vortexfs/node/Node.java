package io.vortexfs.node;

import io.netty.buffer.PooledByteBufAllocator;
import io.vortexfs.node.chunks.ChunkStore;
import io.vortexfs.node.cluster.ChunkCollector;
import io.vortexfs.node.cluster.ChunkRepair;
import io.vortexfs.node.cluster.ChunkScrub;
import io.vortexfs.node.cluster.Departure;
import io.vortexfs.node.cluster.ClusterSettings;
import io.vortexfs.node.cluster.Membership;
import io.vortexfs.node.cluster.Peers;
import io.vortexfs.node.crypto.Sealer;
import io.vortexfs.node.metadata.MetadataStore;
import io.vortexfs.node.server.NodeServer;
import io.vortexfs.node.server.NodeService;
import io.vortexfs.node.wal.WriteAheadLog;
import io.vortexfs.protocol.rpc.ClusterKey;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.Topology;
import io.vortexfs.protocol.placement.HashRing;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running VortexFS node: its identity, stores and server, started in that order and closed in the
 * reverse. The data directory is locked for the node's lifetime so two nodes never share one.
 */
public final class Node implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Node.class);
    /** How often a node checks, besides after every change of members, that its chunks' owners hold them. */
    private static final Duration REPAIR_PERIOD = Duration.ofMinutes(5);

    private final FileChannel lockChannel;
    private final FileLock lock;
    private final NodeIdentity identity;
    private final Parts parts;
    private final NodeServer server;
    private final int port;

    /** What the node builds once it knows its port; closed in reverse order. */
    private static final class Parts {
        Peers peers;
        ChunkStore chunks;
        MetadataStore metadata;
        Membership membership;
        ChunkRepair repair;
        ChunkScrub scrub;
        ChunkCollector collector;
        Departure departure;
        final io.vortexfs.node.web.NodeMetrics metrics = new io.vortexfs.node.web.NodeMetrics();
        io.vortexfs.node.web.WebServer web;
        /** What the node does once it has left the cluster; set by whoever runs it. */
        volatile Runnable onLeft = () -> { };
        NodeService service;
        /**
         * Starts heartbeating and the background passes. Only once the node answers requests: a peer
         * that hears of it routes requests to it at once.
         */
        void startUpkeep() throws IOException {
            membership.start();
            repair.start();
            scrub.start();
            collector.start();
            try {
                departure.resumeIfLeaving();
            } catch (io.vortexfs.protocol.FsException e) {
                throw new IOException("cannot go on leaving the cluster: " + e.getMessage(), e);
            }
        }

        void close() {
            if (web != null) {
                web.close();
            }
            if (repair != null) {
                repair.close();
            }
            if (scrub != null) {
                scrub.close();
            }
            if (collector != null) {
                collector.close();
            }
            if (departure != null) {
                departure.close();
            }
            if (membership != null) {
                membership.close();
            }
            if (service != null) {
                service.close();
            }
            if (metadata != null) {
                metadata.close();
            }
            if (peers != null) {
                peers.close();
            }
        }
    }

    private Node(FileChannel lockChannel, FileLock lock, NodeIdentity identity, Parts parts, NodeServer server, int port) {
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.identity = identity;
        this.parts = parts;
        this.server = server;
        this.port = port;
    }

    /** Opens the data directory, founds or joins a cluster, and serves. An IOException's message is fit for a user. */
    public static Node start(NodeConfig config) throws IOException, InterruptedException {
        Files.createDirectories(config.dataDir());
        FileChannel lockChannel = FileChannel.open(config.dataDir().resolve("lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IOException("data directory " + config.dataDir() + " is in use by another node");
        }
        Parts parts = new Parts();
        NodeServer server = null;
        try {
            NodeIdentity identity = NodeIdentity.loadOrCreate(config.dataDir());
            ClusterKey key = clusterKey(config);
            boolean tls = config.cluster().tls();
            if (tls && key == null) {
                // TLS alone would encrypt, but to anyone: trust comes from the key's handshake.
                throw new IOException("TLS needs a cluster key (--key-file)");
            }
            if (config.cluster().encrypt() && key == null) {
                throw new IOException("encryption at rest needs a cluster key (--key-file): its keys are derived from it");
            }
            parts.peers = new Peers(Duration.ofSeconds(3), 1024, key, tls);
            server = new NodeServer(config.workers(), config.queueDepth(), config.stalledFrameTimeout(), key,
                    tls ? io.vortexfs.protocol.rpc.Tls.server() : null, parts.metrics);
            int port;
            try {
                port = server.start(config.host(), config.port(), bound -> build(config, identity, key, parts, bound),
                        config.maxInFlightPerConnection());
            } catch (io.netty.channel.ChannelException | java.net.BindException e) {
                throw new IOException("cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
            }
            parts.startUpkeep();
            parts.metrics.watch(parts.service);
            if (config.httpPort() >= 0) {
                parts.web = io.vortexfs.node.web.WebServer.start(config.host(), config.httpPort(), parts.metrics,
                        parts.membership, parts.peers, parts.service, key == null ? null : key.apiToken());
            }
            LOG.info("node {} (generation {}) serving {} chunks and {} inodes from {}; cluster {} ({}, {} replicas)",
                    identity.nodeId(), identity.generation(), parts.chunks.count(), parts.metadata.inodeCount(), config.dataDir(),
                    parts.membership.settings().clusterId(), parts.membership.settings().topology(),
                    parts.membership.settings().replicas());
            return new Node(lockChannel, lock, identity, parts, server, port);
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            parts.close();
            lock.release();
            lockChannel.close();
            throw e;
        }
    }

    /**
     * The key this node proves and asks for on every connection: the one given, which is kept in the
     * data directory from then on, else the one kept there, else none.
     */
    private static ClusterKey clusterKey(NodeConfig config) throws IOException {
        Path kept = config.dataDir().resolve(ClusterKey.FILE);
        Path given = config.cluster().keyFile();
        if (given == null) {
            return Files.exists(kept) ? ClusterKey.load(kept) : null;
        }
        ClusterKey key = ClusterKey.load(given);
        if (Files.exists(kept)) {
            if (!ClusterKey.load(kept).sameAs(key)) {
                throw new IOException("this node belongs to the cluster whose key is in " + kept + ", not " + given);
            }
        } else {
            key.save(kept);
        }
        return key;
    }

    /** Settles which cluster this node is in and opens its metadata; {@link Parts#startUpkeep} sets it going. */
    private static NodeService build(NodeConfig config, NodeIdentity identity, ClusterKey key, Parts parts, int port)
            throws IOException {
        NodeConfig.Cluster want = config.cluster();
        MemberInfo self = new MemberInfo(identity.nodeId(), config.host(), port, MemberState.ALIVE, identity.generation());
        ClusterSettings stored = ClusterSettings.load(config.dataDir());
        ClusterSettings settings;
        List<MemberInfo> known;
        boolean founding = false;
        if (!want.join().isEmpty()) {
            Request.Join join = new Request.Join(stored == null ? "" : stored.clusterId(),
                    want.topology() == null ? "" : want.topology().label(), want.replicas(), want.vnodes(), self);
            Response.ClusterView v = Membership.join(want.join(), join, parts.peers, want.peerTimeout());
            settings = new ClusterSettings(v.clusterId(), Topology.parse(v.topology()), v.replicas(), v.vnodes(),
                    v.writeQuorum(), v.partitions(), v.encrypted());
            check(want, settings);
            known = v.members();
        } else if (stored != null) {
            settings = stored;
            check(want, stored);
            known = Membership.loadKnown(config.dataDir());
        } else {
            String legacy = NodeIdentity.legacyClusterId(config.dataDir());
            settings = new ClusterSettings(legacy != null ? legacy : UUID.randomUUID().toString(),
                    want.topology() == null ? Topology.ALL_TO_ALL : want.topology(),
                    want.replicas() == 0 ? ClusterSettings.DEFAULT_REPLICAS : want.replicas(),
                    want.vnodes() == 0 ? HashRing.DEFAULT_VNODES : want.vnodes(), want.writeQuorum(),
                    // A data directory from before clusters numbered its inodes for one partition.
                    legacy != null ? 1 : want.partitions() == 0 ? ClusterSettings.DEFAULT_PARTITIONS : want.partitions(),
                    want.encrypt());
            known = List.of();
            founding = true;
        }
        if (settings.encrypted() && key == null) {
            throw new IOException("this node's cluster encrypts at rest; it needs the cluster key (--key-file)");
        }
        settings.save(config.dataDir());
        parts.chunks = settings.encrypted()
                ? new ChunkStore(config.dataDir(), key.contentIds(), Sealer.of(key, "chunks"))
                : new ChunkStore(config.dataDir());
        ChunkStore chunks = parts.chunks;
        parts.metadata = MetadataStore.open(config.dataDir(), Clock.systemUTC(),
                WriteAheadLog.Options.DEFAULT.withSalvage(config.salvageWal()), settings.partitions(),
                settings.encrypted() ? key : null);
        if (founding) {
            try {
                parts.metadata.createRootIfMissing();
            } catch (io.vortexfs.protocol.FsException e) {
                throw new IOException("cannot create the root directory: " + e.getMessage(), e);
            }
        }
        parts.membership = new Membership(self, settings, want.timing(), parts.peers, config.dataDir(), System::nanoTime);
        parts.membership.know(known);
        // Surplus copies are dropped only once every view has had time to agree on the ring.
        parts.repair = new ChunkRepair(parts.membership, chunks, parts.peers, want.peerTimeout(), REPAIR_PERIOD,
                config.upkeep().repairRate(), want.timing().deadAfter().multipliedBy(3), System::nanoTime);
        parts.scrub = new ChunkScrub(parts.membership, chunks, parts.peers, want.peerTimeout(), config.upkeep().scrubEvery(),
                config.upkeep().scrubRate(), System::nanoTime);
        parts.collector = new ChunkCollector(parts.membership, chunks, parts.peers, want.peerTimeout(),
                config.upkeep().gcEvery(), config.upkeep().gcGrace(), System::currentTimeMillis);
        // Heartbeats saying LEFT for a few intervals before the node stops, so nobody mistakes it for dead.
        parts.departure = new Departure(parts.membership, chunks, parts.metadata, parts.repair, parts.peers,
                want.peerTimeout(), want.timing().interval().multipliedBy(5), () -> parts.onLeft.run());
        parts.service = new NodeService(identity, config, chunks, parts.metadata, parts.membership, parts.peers,
                parts.repair, parts.scrub, parts.collector, parts.departure, PooledByteBufAllocator.DEFAULT);
        return parts.service;
    }

    /** A restarted node must be started as its cluster was founded, or not at all. */
    private static void check(NodeConfig.Cluster want, ClusterSettings stored) throws IOException {
        if (want.topology() != null && want.topology() != stored.topology()) {
            throw new IOException("this node belongs to a cluster with --topology " + stored.topology().label()
                    + ", not " + want.topology().label());
        }
        if (want.replicas() != 0 && want.replicas() != stored.replicas()) {
            throw new IOException("this node belongs to a cluster with --replicas " + stored.replicas()
                    + ", not " + want.replicas());
        }
        if (want.vnodes() != 0 && want.vnodes() != stored.vnodes()) {
            throw new IOException("this node belongs to a cluster with --vnodes " + stored.vnodes() + ", not " + want.vnodes());
        }
        if (want.encrypt() && !stored.encrypted()) {
            throw new IOException("this node belongs to a cluster that does not encrypt at rest; --encrypt is fixed "
                    + "when a cluster is founded");
        }
        if (want.partitions() != 0 && want.partitions() != stored.partitions()) {
            throw new IOException("this node belongs to a cluster with --partitions " + stored.partitions() + ", not "
                    + want.partitions());
        }
    }

    public int port() {
        return port;
    }

    /** What the node counts about itself (also on its HTTP port, when it has one). */
    public io.vortexfs.node.web.NodeMetrics metrics() {
        return parts.metrics;
    }

    /**
     * Serves the REST file API from {@code files} on the HTTP port (a node holds only its share of
     * the namespace, so whoever runs it gives it a client of the whole cluster); nothing without one.
     */
    public void serveFiles(io.vortexfs.node.web.FileService files) {
        if (parts.web != null) {
            parts.web.serveFiles(files);
        }
    }

    /** The port of the status page and metrics; -1 when the node serves none. */
    public int httpPort() {
        return parts.web == null ? -1 : parts.web.port();
    }

    public NodeIdentity identity() {
        return identity;
    }

    public Membership membership() {
        return parts.membership;
    }

    /** Runs {@code r} once this node has been decommissioned and has handed over everything it held. */
    public void whenLeft(Runnable r) {
        parts.onLeft = r;
    }

    @Override
    public void close() {
        server.close();
        parts.close();
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            LOG.warn("releasing the data directory lock failed: {}", e.toString());
        }
        LOG.info("node {} stopped", identity.nodeId());
    }
}
