package io.vortexfs.node;

import io.vortexfs.node.cluster.ClusterSettings;
import io.vortexfs.node.cluster.Membership;
import io.vortexfs.protocol.Topology;
import io.vortexfs.protocol.placement.HashRing;
import io.vortexfs.protocol.rpc.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything a node is started with. Each value has its default here and reaches the code that uses
 * it through this record.
 *
 * @param dataDir    where chunks, metadata and the node's identity live
 * @param host       address the node listens on and tells others to reach it at
 * @param port       TCP port of the protocol (0 picks a free one)
 * @param workers    threads that run blocking disk and metadata work
 * @param queueDepth requests that may wait for a worker before the node answers BUSY
 * @param maxInFlightPerConnection requests one connection may have outstanding before the node
 *                   stops reading from it
 * @param stalledFrameTimeout how long a connection may sit on half a frame before it is closed
 * @param salvageWal start even when the write-ahead log is damaged before its tail, dropping the
 *                   damaged part and everything after it (an operator's decision, never a default)
 * @param cluster    which cluster to found or join, and how
 * @param upkeep     rates and periods of the chunk repair and scrubbing
 * @param httpPort   TCP port of the status page, JSON status and metrics (0 picks a free one; -1: none)
 */
public record NodeConfig(Path dataDir, String host, int port, int workers, int queueDepth, int maxInFlightPerConnection,
        Duration stalledFrameTimeout, boolean salvageWal, Cluster cluster, Upkeep upkeep, int httpPort) {

    /**
     * @param join        members to ask to let this node in; empty to found a cluster, or to rejoin the
     *                    members a restarted node remembers
     * @param topology    null to take the cluster's (all-to-all when founding)
     * @param replicas    0 to take the cluster's ({@link ClusterSettings#DEFAULT_REPLICAS} when founding)
     * @param vnodes      0 to take the cluster's ({@link HashRing#DEFAULT_VNODES} when founding)
     * @param writeQuorum 0 for the default rule; only used when founding
     * @param timing      heartbeat interval, failure-detection delays and the grace before repair
     * @param peerTimeout deadline of a call to another node
     * @param keyFile     the cluster's key, copied into the data directory; null to use the copy there,
     *                    if any (without a key the node talks to anyone, and only to nodes without one)
     * @param tls         whether every connection, to the node and from it, is under TLS
     * @param encrypt     found a cluster that encrypts chunks and metadata at rest (needs a key); a
     *                    node joining or restarted with it is refused by a cluster that does not.
     *                    Without it a node takes the cluster's setting.
     */
    public record Cluster(List<HostPort> join, Topology topology, int replicas, int vnodes, int writeQuorum,
            int partitions, Membership.Timing timing, Duration peerTimeout, Path keyFile, boolean tls, boolean encrypt) {
        public static final Cluster DEFAULT = new Cluster(List.of(), null, 0, 0, 0, 0, Membership.Timing.DEFAULT,
                Duration.ofSeconds(10));

        public Cluster(List<HostPort> join, Topology topology, int replicas, int vnodes, int writeQuorum,
                int partitions, Membership.Timing timing, Duration peerTimeout) {
            this(join, topology, replicas, vnodes, writeQuorum, partitions, timing, peerTimeout, null, false, false);
        }

        public Cluster(List<HostPort> join, Topology topology, int replicas, int vnodes, int writeQuorum,
                int partitions, Membership.Timing timing, Duration peerTimeout, Path keyFile) {
            this(join, topology, replicas, vnodes, writeQuorum, partitions, timing, peerTimeout, keyFile, false, false);
        }

        public Cluster {
            join = List.copyOf(join);
            if (replicas < 0 || vnodes < 0 || writeQuorum < 0 || partitions < 0) {
                throw new IllegalArgumentException("replicas, vnodes, write quorum and partitions must not be negative");
            }
        }
    }

    /**
     * The background work that keeps a node's chunks whole, and how much of the disk it may take.
     *
     * @param repairRate most bytes per second the chunk repair sends to other owners; 0 for no limit
     * @param scrubEvery pause between two scrub passes over every chunk
     * @param scrubRate  most bytes per second a scrub pass reads; 0 for no limit
     * @param gcEvery    pause between two garbage collection passes
     * @param gcGrace    how old an unreferenced chunk must be before it is deleted: far longer than a
     *                   writer may take between storing a chunk and committing it (30 s for a mount)
     */
    public record Upkeep(long repairRate, Duration scrubEvery, long scrubRate, Duration gcEvery, Duration gcGrace) {
        /**
         * Rates that leave a disk most of its bandwidth for the users; a week between scrubs, as Ceph's
         * deep scrub; a day's grace for unreferenced chunks, which covers a mount cut off for hours.
         */
        public static final Upkeep DEFAULT = new Upkeep(32L << 20, Duration.ofDays(7), 16L << 20, Duration.ofHours(1),
                Duration.ofDays(1));

        public Upkeep {
            if (repairRate < 0 || scrubRate < 0) {
                throw new IllegalArgumentException("repair and scrub rates must not be negative");
            }
            if (!positive(scrubEvery) || !positive(gcEvery) || !positive(gcGrace)) {
                throw new IllegalArgumentException("scrub and garbage collection periods must be positive");
            }
        }

        public static boolean positive(Duration d) {
            return !d.isNegative() && !d.isZero();
        }
    }
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 7400;

    public NodeConfig {
        if (dataDir == null) {
            throw new IllegalArgumentException("dataDir == null");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (httpPort < -1 || httpPort > 65535) {
            throw new IllegalArgumentException("HTTP port out of range: " + httpPort);
        }
        if (cluster == null || upkeep == null) {
            throw new IllegalArgumentException("cluster == null || upkeep == null");
        }
        if (workers <= 0 || queueDepth <= 0 || maxInFlightPerConnection <= 0) {
            throw new IllegalArgumentException("workers, queueDepth and maxInFlightPerConnection must be positive");
        }
    }

    public static NodeConfig defaults(Path dataDir, String host, int port) {
        return new NodeConfig(dataDir, host, port, 16, 4096, 256, Duration.ofSeconds(30), false, Cluster.DEFAULT,
                Upkeep.DEFAULT, -1);
    }

    public NodeConfig withStalledFrameTimeout(Duration d) {
        return new NodeConfig(dataDir, host, port, workers, queueDepth, maxInFlightPerConnection, d, salvageWal, cluster,
                upkeep, httpPort);
    }

    public NodeConfig withCluster(Cluster c) {
        return new NodeConfig(dataDir, host, port, workers, queueDepth, maxInFlightPerConnection, stalledFrameTimeout,
                salvageWal, c, upkeep, httpPort);
    }

    public NodeConfig withUpkeep(Upkeep u) {
        return new NodeConfig(dataDir, host, port, workers, queueDepth, maxInFlightPerConnection, stalledFrameTimeout,
                salvageWal, cluster, u, httpPort);
    }

    public NodeConfig withHttpPort(int p) {
        return new NodeConfig(dataDir, host, port, workers, queueDepth, maxInFlightPerConnection, stalledFrameTimeout,
                salvageWal, cluster, upkeep, p);
    }

    public Duration peerTimeout() {
        return cluster.peerTimeout();
    }
}
