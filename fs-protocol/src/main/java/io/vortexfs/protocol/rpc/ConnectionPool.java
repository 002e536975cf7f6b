package io.vortexfs.protocol.rpc;

import io.netty.channel.EventLoopGroup;
import io.vortexfs.protocol.FsException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps one open connection per node address and reconnects when one has closed. Connections are
 * multiplexed by request id, so one per node carries any number of concurrent callers.
 */
public final class ConnectionPool implements AutoCloseable {
    private final EventLoopGroup group;
    private final Duration connectTimeout;
    private final int maxInFlight;
    private final ClusterKey key;
    private final io.netty.handler.ssl.SslContext tls;
    private final Map<HostPort, RpcClient> clients = new ConcurrentHashMap<>();
    private final Map<HostPort, Object> locks = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public ConnectionPool(EventLoopGroup group, Duration connectTimeout, int maxInFlight) {
        this(group, connectTimeout, maxInFlight, null);
    }

    /** With a {@code key}, every connection starts by proving both ends hold it. */
    public ConnectionPool(EventLoopGroup group, Duration connectTimeout, int maxInFlight, ClusterKey key) {
        this(group, connectTimeout, maxInFlight, key, false);
    }

    /** As {@link #ConnectionPool(EventLoopGroup, Duration, int, ClusterKey)}, every connection under TLS when {@code tls}. */
    public ConnectionPool(EventLoopGroup group, Duration connectTimeout, int maxInFlight, ClusterKey key, boolean tls) {
        this.group = group;
        this.connectTimeout = connectTimeout;
        this.maxInFlight = maxInFlight;
        this.key = key;
        this.tls = tls ? Tls.client() : null;
    }

    /** The open connection to {@code address}, or null when there is none; never blocks. */
    public RpcClient getIfOpen(HostPort address) {
        RpcClient c = clients.get(address);
        return c != null && c.isOpen() ? c : null;
    }

    /** An open connection to {@code address}, connecting if needed. Blocks: never call on an event loop. */
    public RpcClient get(HostPort address) throws FsException {
        RpcClient c = clients.get(address);
        if (c != null && c.isOpen()) {
            return c;
        }
        synchronized (locks.computeIfAbsent(address, a -> new Object())) {
            if (closed) {
                throw new FsException(io.vortexfs.protocol.ErrorCode.UNAVAILABLE, "connection pool is closed");
            }
            c = clients.get(address);
            if (c != null && c.isOpen()) {
                return c;
            }
            if (c != null) {
                c.close();
            }
            RpcClient fresh = RpcClient.connect(group, address, connectTimeout, maxInFlight, key, tls);
            clients.put(address, fresh);
            return fresh;
        }
    }

    @Override
    public void close() {
        closed = true;
        for (RpcClient c : clients.values()) {
            c.close();
        }
        clients.clear();
    }
}
