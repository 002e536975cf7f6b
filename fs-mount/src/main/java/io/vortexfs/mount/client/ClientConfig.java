package io.vortexfs.mount.client;

import io.vortexfs.protocol.rpc.ClusterKey;
import java.time.Duration;

/**
 * How a client talks to the cluster.
 *
 * @param requestTimeout deadline of every request; a FUSE call never waits longer than this per request
 * @param connectTimeout deadline of opening a connection to a node
 * @param maxInFlightPerNode requests outstanding to one node before callers wait for a slot
 * @param key the cluster's key, proved on every connection; null for a cluster that has none
 * @param tls whether connections are under TLS (for nodes started with --tls)
 * @param localReads whether whole chunks held by a node on this machine are read from its files (see
 *     {@link LocalChunks}) rather than over a connection
 * @param localWrites whether the copies of chunks for nodes on this machine are written into their
 *     staging directories by the mount (see {@link LocalWrites}) rather than sent over a connection
 */
public record ClientConfig(Duration requestTimeout, Duration connectTimeout, int maxInFlightPerNode, ClusterKey key,
        boolean tls, boolean localReads, boolean localWrites) {
    public static final ClientConfig DEFAULT = new ClientConfig(Duration.ofSeconds(30), Duration.ofSeconds(5), 256);

    public ClientConfig(Duration requestTimeout, Duration connectTimeout, int maxInFlightPerNode) {
        this(requestTimeout, connectTimeout, maxInFlightPerNode, null, false, true, true);
    }

    public ClientConfig withKey(ClusterKey k) {
        return new ClientConfig(requestTimeout, connectTimeout, maxInFlightPerNode, k, tls, localReads, localWrites);
    }

    public ClientConfig withTls(boolean t) {
        return new ClientConfig(requestTimeout, connectTimeout, maxInFlightPerNode, key, t, localReads, localWrites);
    }

    public ClientConfig withLocalReads(boolean l) {
        return new ClientConfig(requestTimeout, connectTimeout, maxInFlightPerNode, key, tls, l, localWrites);
    }

    public ClientConfig withLocalWrites(boolean w) {
        return new ClientConfig(requestTimeout, connectTimeout, maxInFlightPerNode, key, tls, localReads, w);
    }

    public ClientConfig {
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("requestTimeout must be positive: " + requestTimeout);
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive: " + connectTimeout);
        }
        if (maxInFlightPerNode <= 0) {
            throw new IllegalArgumentException("maxInFlightPerNode <= 0: " + maxInFlightPerNode);
        }
    }
}
