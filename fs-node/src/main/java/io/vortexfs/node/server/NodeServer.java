package io.vortexfs.node.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.vortexfs.protocol.rpc.EventLoops;
import io.vortexfs.protocol.wire.FrameDecoder;
import io.vortexfs.protocol.wire.FrameEncoder;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's TCP endpoint: accepts connections and feeds their requests to the {@link NodeService}.
 * Limits keep hostile or broken peers from holding the node's memory or threads: at most
 * {@link #MAX_CONNECTIONS} connections, and a connection that stops halfway through a frame for the
 * stalled-frame timeout is closed. (Frame size and requests in flight per connection are
 * bounded by the decoder and the request handler.)
 */
public final class NodeServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeServer.class);
    static final int MAX_CONNECTIONS = 4096;

    private final AtomicInteger connections = new AtomicInteger();
    /** Every accepted connection, so that closing the server closes them all, at once and explicitly. */
    private final ChannelGroup accepted = new DefaultChannelGroup("vortex-connections", GlobalEventExecutor.INSTANCE);

    private final EventLoopGroup boss = EventLoops.newGroup(1, "vortex-accept");
    private final EventLoopGroup io = EventLoops.newGroup(2, "vortex-io");
    private final ThreadPoolExecutor workers;
    private final java.time.Duration stalledFrameTimeout;
    /** When set, every connection must prove it holds this key before anything else (see {@link AuthGate}). */
    private final io.vortexfs.protocol.rpc.ClusterKey key;
    /** When set, every connection is under TLS with this node's certificate. */
    private final io.vortexfs.protocol.rpc.Tls.Server tls;
    private final io.vortexfs.node.web.NodeMetrics metrics;
    private Channel serverChannel;

    public NodeServer(int workerThreads, int queueDepth, java.time.Duration stalledFrameTimeout,
            io.vortexfs.protocol.rpc.ClusterKey key, io.vortexfs.protocol.rpc.Tls.Server tls,
            io.vortexfs.node.web.NodeMetrics metrics) {
        this.metrics = metrics;
        this.stalledFrameTimeout = stalledFrameTimeout;
        this.key = key;
        this.tls = tls;
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(workerThreads, workerThreads, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(queueDepth), r -> {
                    Thread t = new Thread(r, "vortex-worker-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    /** Makes the service once the port is known (a node tells its peers where to reach it). */
    @FunctionalInterface
    public interface ServiceFactory {
        NodeService create(int boundPort) throws java.io.IOException;
    }

    /**
     * Binds, makes the service for the bound port, and serves; returns the port. Requests that
     * arrive before the service exists are answered UNAVAILABLE.
     */
    public int start(String host, int port, ServiceFactory factory, int maxInFlightPerConnection)
            throws InterruptedException, java.io.IOException {
        java.util.concurrent.atomic.AtomicReference<NodeService> service = new java.util.concurrent.atomic.AtomicReference<>();
        FrameEncoder encoder = new FrameEncoder();
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, io)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 512)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(8 << 20, 32 << 20))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (connections.incrementAndGet() > MAX_CONNECTIONS) {
                            connections.decrementAndGet();
                            LOG.warn("refusing connection from {}: {} connections already open", ch.remoteAddress(),
                                    MAX_CONNECTIONS);
                            ch.close();
                            return;
                        }
                        ch.closeFuture().addListener(f -> connections.decrementAndGet());
                        accepted.add(ch);
                        FrameDecoder decoder = new FrameDecoder();
                        ch.pipeline().addLast("traffic", new Traffic(metrics));
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.context().newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast("idle", new IdleStateHandler(stalledFrameTimeout.toMillis(), 0, 0, TimeUnit.MILLISECONDS))
                                .addLast("frame-decoder", decoder)
                                .addLast("stalled-frames", new StalledFrameCloser(decoder, stalledFrameTimeout))
                                .addLast("frame-encoder", encoder);
                        if (key != null) {
                            ch.pipeline().addLast("auth", new AuthGate(key, tls == null ? "" : tls.fingerprint()));
                        }
                        ch.pipeline().addLast("requests", new RequestHandler(service::get, workers, maxInFlightPerConnection,
                                metrics));
                    }
                });
        serverChannel = b.bind(host, port).sync().channel();
        int bound = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        LOG.info("listening on {}:{}", host, bound);
        service.set(factory.create(bound));
        return bound;
    }

    /** Counts the bytes a connection reads and writes, as they cross the wire (under TLS, encrypted). */
    private static final class Traffic extends io.netty.channel.ChannelDuplexHandler {
        private final io.vortexfs.node.web.NodeMetrics metrics;

        Traffic(io.vortexfs.node.web.NodeMetrics metrics) {
            this.metrics = metrics;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof io.netty.buffer.ByteBuf b) {
                metrics.received(b.readableBytes());
            }
            super.channelRead(ctx, msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) throws Exception {
            if (msg instanceof io.netty.buffer.ByteBuf b) {
                metrics.sent(b.readableBytes());
            } else if (msg instanceof io.netty.channel.FileRegion f) {
                metrics.sent(f.count());
            }
            super.write(ctx, msg, promise);
        }
    }

    /** Open connections, for tests and status. */
    int connections() {
        return connections.get();
    }

    /**
     * Closes a connection that has sent part of a frame and then nothing for the idle period. An idle
     * connection between frames is fine: mounts keep theirs open for as long as they live.
     */
    private static final class StalledFrameCloser extends ChannelInboundHandlerAdapter {
        private final FrameDecoder decoder;
        private final java.time.Duration timeout;

        StalledFrameCloser(FrameDecoder decoder, java.time.Duration timeout) {
            this.decoder = decoder;
            this.timeout = timeout;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent && decoder.hasPartialFrame()) {
                LOG.warn("closing connection {}: half a frame and then silence for {} ms", ctx.channel().remoteAddress(),
                        timeout.toMillis());
                ctx.close();
                return;
            }
            super.userEventTriggered(ctx, evt);
        }
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        // Clients must see their connections end now, not whenever the event loops get to it.
        accepted.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        io.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        workers.shutdown();
        try {
            if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
                RequestHandler.dropped(workers.shutdownNow());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            RequestHandler.dropped(workers.shutdownNow());
        }
    }
}
