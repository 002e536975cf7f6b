package io.vortexfs.protocol.rpc;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.wire.Envelope;
import io.vortexfs.protocol.wire.FrameDecoder;
import io.vortexfs.protocol.wire.FrameEncoder;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to one node. Requests are pipelined on the connection and paired with their
 * responses by request id; every call carries a deadline after which it fails with
 * {@link ErrorCode#TIMEOUT}, and a closed connection fails every call still waiting. At most
 * {@code maxInFlight} calls are outstanding at once: the next caller waits for a slot, within its
 * deadline, so nothing queues without bound.
 */
public final class RpcClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RpcClient.class);

    private final HostPort address;
    private final Channel channel;
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextId = new AtomicLong(1);
    private final Semaphore slots;
    private final long silentAfterNanos;
    /** When the last reply arrived on this connection (or it was opened). */
    private volatile long lastReadNanos = System.nanoTime();

    private record Pending(CompletableFuture<Reply> future, Request request) {
    }

    private RpcClient(HostPort address, Channel channel, int maxInFlight, Duration silentAfter) {
        this.address = address;
        this.channel = channel;
        this.slots = new Semaphore(maxInFlight);
        this.silentAfterNanos = silentAfter.toNanos();
    }

    /**
     * How long a connection may go without a single reply, while a call on it times out, before it
     * is taken for dead and closed. A peer cut off by the network never resets the connection: its
     * packets are just lost, and after the cut heals TCP's retransmission backoff can keep the old
     * connection stalled for minutes. Closing it lets the next call open a fresh one. A slow peer
     * that answers anything at all keeps its connection.
     */
    public static final Duration SILENT_AFTER = Duration.ofSeconds(5);

    /** Opens a connection, waiting at most {@code timeout}. Must not be called on an event loop. */
    public static RpcClient connect(EventLoopGroup group, HostPort address, Duration timeout, int maxInFlight)
            throws FsException {
        return connect(group, address, timeout, maxInFlight, SILENT_AFTER, null, null);
    }

    /**
     * Opens a connection, waiting at most {@code timeout} for it and as long again for each step of
     * the handshake: with a {@code key}, the node and this client each prove they hold it before
     * anything else is sent, and a node that cannot is refused (PERMISSION). Must not be called on
     * an event loop.
     */
    public static RpcClient connect(EventLoopGroup group, HostPort address, Duration timeout, int maxInFlight,
            ClusterKey key) throws FsException {
        return connect(group, address, timeout, maxInFlight, SILENT_AFTER, key, null);
    }

    /**
     * As {@link #connect(EventLoopGroup, HostPort, Duration, int, ClusterKey)}, under TLS when
     * {@code tls} is set ({@link Tls#client()}); the handshake then proves the key over the
     * certificate this client was shown.
     */
    public static RpcClient connect(EventLoopGroup group, HostPort address, Duration timeout, int maxInFlight,
            ClusterKey key, SslContext tls) throws FsException {
        return connect(group, address, timeout, maxInFlight, SILENT_AFTER, key, tls);
    }

    /** As {@link #connect(EventLoopGroup, HostPort, Duration, int, ClusterKey, SslContext)}, closing the connection after {@code silentAfter}. */
    static RpcClient connect(EventLoopGroup group, HostPort address, Duration timeout, int maxInFlight,
            Duration silentAfter, ClusterKey key, SslContext tls) throws FsException {
        ResponseHandler handler = new ResponseHandler();
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, timeout.toMillis()))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), address.host(), address.port()));
                        }
                        ch.pipeline()
                                .addLast("frame-decoder", new FrameDecoder())
                                .addLast("frame-encoder", new FrameEncoder())
                                .addLast("responses", handler);
                    }
                });
        ChannelFuture f = b.connect(address.host(), address.port());
        try {
            if (!f.await(timeout.toMillis() + 100, TimeUnit.MILLISECONDS)) {
                f.cancel(false);
                throw new FsException(ErrorCode.UNAVAILABLE, "connecting to " + address + " timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(false);
            throw new FsException(ErrorCode.UNAVAILABLE, "interrupted while connecting to " + address);
        }
        if (!f.isSuccess()) {
            Throwable c = f.cause();
            throw new FsException(ErrorCode.UNAVAILABLE, "cannot reach " + address + ": "
                    + (c == null ? "cancelled" : c.getMessage()));
        }
        RpcClient client = new RpcClient(address, f.channel(), maxInFlight, silentAfter);
        handler.client = client;
        f.channel().closeFuture().addListener(x -> client.failAll("connection to " + address + " closed"));
        if (key != null || tls != null) {
            try {
                String binding = tls == null ? "" : client.awaitTls(timeout);
                if (key != null) {
                    client.authenticate(key, timeout, binding);
                }
            } catch (FsException e) {
                client.close();
                throw e;
            }
        }
        return client;
    }

    /**
     * The client's half of the handshake: sends a fresh nonce, checks the node's proof over it and
     * the node's own nonce, then proves the same over both. A node without the key (or with another)
     * cannot answer the first step; a client without it is cut off at the second.
     */
    /** Waits for the TLS handshake; returns the fingerprint of the certificate the node showed. */
    private String awaitTls(Duration timeout) throws FsException {
        SslHandler h = channel.pipeline().get(SslHandler.class);
        io.netty.util.concurrent.Future<Channel> done = h.handshakeFuture();
        try {
            if (!done.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new FsException(ErrorCode.TIMEOUT, "the TLS handshake with " + address + " timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(ErrorCode.UNAVAILABLE, "interrupted during the TLS handshake with " + address);
        }
        if (!done.isSuccess()) {
            throw new FsException(ErrorCode.UNAVAILABLE, "no TLS with " + address + ": " + done.cause().getMessage());
        }
        try {
            return Tls.fingerprint(h.engine().getSession().getPeerCertificates()[0]);
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            throw new FsException(ErrorCode.PERMISSION, address + " showed no TLS certificate");
        }
    }

    private void authenticate(ClusterKey key, Duration timeout, String binding) throws FsException {
        String mine = ClusterKey.nonce();
        Response.Challenge challenge;
        try (Reply r = callSync(new Request.Authenticate(mine), null, timeout)) {
            if (!(r.response() instanceof Response.Challenge c)) {
                throw new FsException(ErrorCode.PROTOCOL, address + " answered the handshake with " + r.response());
            }
            challenge = c;
        } catch (FsException e) {
            if (e.code() == ErrorCode.TIMEOUT) {
                throw e;
            }
            throw new FsException(ErrorCode.PERMISSION, "the node at " + address
                    + " does not hold this cluster's key (" + e.getMessage() + ")");
        }
        if (!ClusterKey.same(challenge.proof(), key.proof(ClusterKey.NODE, mine, challenge.nonce(), binding))) {
            throw new FsException(ErrorCode.PERMISSION, "the node at " + address + " does not hold this cluster's key");
        }
        try (Reply r = callSync(new Request.Prove(key.proof(ClusterKey.CLIENT, challenge.nonce(), mine, binding)), null, timeout)) {
            // Ok: the node accepted the proof.
        } catch (FsException e) {
            if (e.code() == ErrorCode.TIMEOUT) {
                throw e;
            }
            throw new FsException(ErrorCode.PERMISSION, "the node at " + address + " refused this key ("
                    + e.getMessage() + ")");
        }
    }

    public HostPort address() {
        return address;
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    /**
     * Sends a request with an optional payload (ownership passes to this call) and completes with the
     * reply, or exceptionally with an {@link FsException}. An error response also completes
     * exceptionally, with its code.
     */
    public CompletableFuture<Reply> call(Request request, ByteBuf payload, Duration timeout) {
        ByteBuf body = payload == null ? Unpooled.EMPTY_BUFFER : payload;
        CompletableFuture<Reply> future = new CompletableFuture<>();
        boolean acquired;
        try {
            acquired = channel.eventLoop().inEventLoop()
                    ? slots.tryAcquire()
                    : slots.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            acquired = false;
        }
        if (!acquired) {
            body.release();
            future.completeExceptionally(new FsException(ErrorCode.TIMEOUT,
                    "too many requests in flight to " + address));
            return future;
        }
        long id = nextId.getAndIncrement();
        pending.put(id, new Pending(future, request));
        future.whenComplete((r, e) -> {
            pending.remove(id);
            slots.release();
        });
        if (!channel.isActive()) {
            body.release();
            future.completeExceptionally(new FsException(ErrorCode.UNAVAILABLE, "connection to " + address + " is closed"));
            return future;
        }
        var timer = channel.eventLoop().schedule(() -> {
            future.completeExceptionally(new FsException(ErrorCode.TIMEOUT,
                    request.getClass().getSimpleName() + " to " + address + " timed out after " + timeout.toMillis() + " ms"));
            if (System.nanoTime() - lastReadNanos >= silentAfterNanos && channel.isActive()) {
                LOG.info("closing the connection to {}: no reply for {} ms", address,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastReadNanos));
                channel.close();
            }
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        future.whenComplete((r, e) -> timer.cancel(false));
        channel.writeAndFlush(new Envelope(id, request, body)).addListener(w -> {
            if (!w.isSuccess()) {
                future.completeExceptionally(new FsException(ErrorCode.UNAVAILABLE,
                        "sending to " + address + " failed: " + w.cause()));
            }
        });
        return future;
    }

    /**
     * Blocking form of {@link #call}: waits for the reply and returns it, throwing the failure as an
     * FsException. For FUSE and CLI threads, never event loops.
     */
    public Reply callSync(Request request, ByteBuf payload, Duration timeout) throws FsException {
        return await(call(request, payload, timeout), timeout);
    }

    /** Waits for a call's reply with a deadline slightly past the call's own, which always fires first. */
    public static Reply await(CompletableFuture<Reply> future, Duration timeout) throws FsException {
        try {
            return future.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.thenAccept(Reply::close);
            throw new FsException(ErrorCode.TIMEOUT, "interrupted");
        } catch (TimeoutException e) {
            future.thenAccept(Reply::close);
            throw new FsException(ErrorCode.TIMEOUT, "no reply within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof FsException fs) {
                throw fs;
            }
            throw new FsException(ErrorCode.IO, String.valueOf(c), c);
        }
    }

    private void complete(Envelope envelope) {
        lastReadNanos = System.nanoTime();
        Pending p = pending.get(envelope.requestId());
        if (p == null) {
            // Late reply to a call that timed out: drop it.
            envelope.release();
            return;
        }
        Reply reply = new Reply((Response) envelope.message(), envelope.payload());
        if (reply.response() instanceof Response.Error err) {
            reply.close();
            p.future().completeExceptionally(err.toException());
        } else if (!p.future().complete(reply)) {
            reply.close();
        }
    }

    private void failAll(String why) {
        for (Pending p : pending.values()) {
            p.future().completeExceptionally(new FsException(ErrorCode.UNAVAILABLE, why));
        }
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        failAll("connection to " + address + " closed");
    }

    /** Feeds responses to the client; one per channel. */
    private static final class ResponseHandler extends SimpleChannelInboundHandler<Envelope> {
        volatile RpcClient client;

        ResponseHandler() {
            super(Envelope.class, false);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Envelope envelope) {
            RpcClient c = client;
            if (c == null || !(envelope.message() instanceof Response)) {
                envelope.release();
                ConnectionErrors.closeOnError(LOG, ctx,
                        new io.vortexfs.protocol.wire.CorruptFrameException("a request arrived on a client connection"));
                return;
            }
            c.complete(envelope);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ConnectionErrors.closeOnError(LOG, ctx, cause);
        }
    }
}
