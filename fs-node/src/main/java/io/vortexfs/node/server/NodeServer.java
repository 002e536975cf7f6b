package io.vortexfs.node.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
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

/** The node's TCP endpoint: accepts connections and feeds their requests to the {@link NodeService}. */
public final class NodeServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeServer.class);

    private final EventLoopGroup boss = EventLoops.newGroup(1, "vortex-accept");
    private final EventLoopGroup io = EventLoops.newGroup(2, "vortex-io");
    private final ThreadPoolExecutor workers;
    private Channel serverChannel;

    public NodeServer(int workerThreads, int queueDepth) {
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(workerThreads, workerThreads, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(queueDepth), r -> {
                    Thread t = new Thread(r, "vortex-worker-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    /** Binds and starts serving; returns the port actually bound. */
    public int start(String host, int port, NodeService service, int maxInFlightPerConnection) throws InterruptedException {
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
                        ch.pipeline()
                                .addLast("frame-decoder", new FrameDecoder())
                                .addLast("frame-encoder", encoder)
                                .addLast("requests", new RequestHandler(service, workers, maxInFlightPerConnection));
                    }
                });
        serverChannel = b.bind(host, port).sync().channel();
        int bound = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        service.boundTo(bound);
        LOG.info("listening on {}:{}", host, bound);
        return bound;
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        io.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        workers.shutdown();
        try {
            if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            workers.shutdownNow();
        }
    }
}
