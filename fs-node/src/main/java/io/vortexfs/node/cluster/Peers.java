package io.vortexfs.node.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.rpc.ConnectionPool;
import io.vortexfs.protocol.rpc.EventLoops;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.rpc.RpcClient;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A node's connections to the other members: one multiplexed connection per peer, opened on demand.
 * Opening one may block (a connect to a silent host waits out its timeout), so the asynchronous calls
 * here connect on a small pool of their own and never on the caller's thread or an event loop. Work
 * that blocks on a peer's answer has a pool of its own too: it must not wait behind connects to a
 * peer that has gone silent.
 */
public final class Peers implements AutoCloseable {
    private final EventLoopGroup group;
    private final ConnectionPool pool;
    private final ThreadPoolExecutor connectors;
    private final ThreadPoolExecutor work;

    /**
     * @param key the cluster's key, proved on every connection to a peer; null for a cluster without one
     * @param tls whether connections to peers are under TLS
     */
    public Peers(Duration connectTimeout, int maxInFlightPerPeer, io.vortexfs.protocol.rpc.ClusterKey key, boolean tls) {
        this.group = EventLoops.newGroup(2, "vortex-peer");
        this.pool = new ConnectionPool(group, connectTimeout, maxInFlightPerPeer, key, tls);
        this.connectors = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(4096), new DefaultThreadFactory("vortex-peer-connect", true));
        connectors.allowCoreThreadTimeOut(true);
        // Full, it runs the work on the caller's thread: a wait, never a lost task.
        this.work = new ThreadPoolExecutor(8, 8, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(1024),
                new DefaultThreadFactory("vortex-peer-work", true), new ThreadPoolExecutor.CallerRunsPolicy());
        work.allowCoreThreadTimeOut(true);
    }

    public ConnectionPool pool() {
        return pool;
    }

    /**
     * Threads for work that blocks on peers' answers (fetching a snapshot, asking other partitions'
     * coordinators), off the event loops and apart from the connects.
     */
    public java.util.concurrent.Executor blockingPool() {
        return work;
    }

    public static HostPort address(MemberInfo m) {
        return new HostPort(m.host(), m.port());
    }

    /**
     * Sends a request without blocking the caller; the future completes with the reply or an
     * FsException. {@code payload} (may be null) passes to this call.
     */
    public CompletableFuture<Reply> call(HostPort to, Request request, ByteBuf payload, Duration timeout) {
        RpcClient open = pool.getIfOpen(to);
        if (open != null) {
            // Straight onto the connection: calls made one after another leave in that order.
            return open.call(request, payload, timeout);
        }
        CompletableFuture<Reply> out = new CompletableFuture<>();
        try {
            connectors.execute(() -> {
                RpcClient c;
                try {
                    c = pool.get(to);
                } catch (FsException e) {
                    if (payload != null) {
                        payload.release();
                    }
                    out.completeExceptionally(e);
                    return;
                }
                c.call(request, payload, timeout).whenComplete((r, e) -> {
                    if (e != null) {
                        out.completeExceptionally(e);
                    } else if (!out.complete(r)) {
                        r.close();
                    }
                });
            });
        } catch (RejectedExecutionException e) {
            if (payload != null) {
                payload.release();
            }
            out.completeExceptionally(new FsException(io.vortexfs.protocol.ErrorCode.BUSY, "too many peer calls queued"));
        }
        return out;
    }

    /** Fire and forget, for heartbeats: a lost one is made up by the next. */
    public void send(MemberInfo to, Request request, Duration timeout) {
        call(address(to), request, null, timeout).whenComplete((r, e) -> {
            if (r != null) {
                r.close();
            }
        });
    }

    @Override
    public void close() {
        connectors.shutdownNow();
        work.shutdownNow();
        pool.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
