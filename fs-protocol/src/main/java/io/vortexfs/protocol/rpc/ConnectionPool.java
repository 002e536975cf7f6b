package io.vortexfs.protocol.rpc;

import io.netty.channel.EventLoopGroup;
import io.vortexfs.protocol.FsException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps one open connection per node address and reconnects when one has closed. Connections are
 * multiplexed by request id, so one per node carries any number of concurrent callers.
 *
 * <p>A connect that failed after a long wait is remembered for a moment ({@link #RETRY_AFTER}):
 * callers that waited for it, and those that come within that moment, fail at once with its error.
 * Without that, a host that has gone silent (cut off, its SYNs unanswered) would cost every caller a
 * full connect timeout, one after another, and a node's heartbeats to it would tie up every thread
 * that connects. A refusal costs nothing and is not remembered: the node is starting, or restarting,
 * and will listen in a moment.
 */
public final class ConnectionPool implements AutoCloseable {
    private final EventLoopGroup group;
    private final Duration connectTimeout;
    private final int maxInFlight;
    private final ClusterKey key;
    private final io.netty.handler.ssl.SslContext tls;
    private final Map<HostPort, RpcClient> clients = new ConcurrentHashMap<>();
    private final Map<HostPort, Object> locks = new ConcurrentHashMap<>();
    private final Map<HostPort, Failed> failed = new ConcurrentHashMap<>();
    private final Duration retryAfter;
    private volatile boolean closed;

    /** The last failed connect to an address, and until when it stands for the next ones. */
    private record Failed(FsException error, long untilNanos) {
    }

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
        this.retryAfter = connectTimeout.compareTo(RETRY_AFTER) < 0 ? connectTimeout : RETRY_AFTER;
    }

    /** How long, at most, a failed connect stands before the address is tried again. */
    static final Duration RETRY_AFTER = Duration.ofSeconds(1);

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
        failIfJustFailed(address);
        synchronized (locks.computeIfAbsent(address, a -> new Object())) {
            if (closed) {
                throw new FsException(io.vortexfs.protocol.ErrorCode.UNAVAILABLE, "connection pool is closed");
            }
            c = clients.get(address);
            if (c != null && c.isOpen()) {
                return c;
            }
            // Whoever held the lock may have just tried, and failed.
            failIfJustFailed(address);
            if (c != null) {
                c.close();
            }
            RpcClient fresh;
            long start = System.nanoTime();
            try {
                fresh = RpcClient.connect(group, address, connectTimeout, maxInFlight, key, tls);
            } catch (FsException e) {
                long now = System.nanoTime();
                if (now - start >= connectTimeout.toNanos() / 2) {
                    failed.put(address, new Failed(e, now + retryAfter.toNanos()));
                }
                throw e;
            }
            failed.remove(address);
            clients.put(address, fresh);
            return fresh;
        }
    }

    private void failIfJustFailed(HostPort address) throws FsException {
        Failed f = failed.get(address);
        if (f != null && f.untilNanos - System.nanoTime() > 0) {
            throw new FsException(f.error.code(), f.error.getMessage() + " (a moment ago; not tried again yet)");
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
