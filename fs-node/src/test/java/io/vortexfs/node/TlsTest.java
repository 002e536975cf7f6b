package io.vortexfs.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.vortexfs.node.cluster.Membership;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.ClusterKey;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.testing.ClientLoop;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.rpc.RpcClient;
import io.vortexfs.protocol.rpc.Tls;
import io.vortexfs.protocol.wire.FrameFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Nodes started with TLS: what crosses the wire is unreadable, and nobody can sit in the middle. */
class TlsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final String SECRET = "a-name-nobody-should-read-on-the-wire";

    @RegisterExtension
    static final ClientLoop LOOP = new ClientLoop(2);

    @TempDir
    Path dir;

    private Node node;
    private ClusterKey key;

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
    }

    private void startNode(boolean tls) throws Exception {
        Path keyFile = dir.resolve("cluster.key");
        key = ClusterKey.loadOrCreate(keyFile);
        node = Node.start(NodeConfig.defaults(dir.resolve("node"), "127.0.0.1", 0).withCluster(new NodeConfig.Cluster(
                List.of(), null, 0, 0, 0, 0, Membership.Timing.DEFAULT, Duration.ofSeconds(10), keyFile, tls, false)));
    }

    /** Asks about the secret name through a relay that keeps a copy of every byte; returns the copy. */
    private String askThroughRecorder(boolean tls) throws Exception {
        try (Recorder relay = new Recorder(node.port())) {
            try (RpcClient c = RpcClient.connect(LOOP.group(), new HostPort("127.0.0.1", relay.port()), TIMEOUT, 16, key,
                    tls ? Tls.client() : null)) {
                try (Reply r = c.callSync(new Request.Hello(FrameFormat.VERSION, "test"), null, TIMEOUT)) {
                    assertTrue(r.response() instanceof Response.ClusterView);
                }
                FsException e = assertThrows(FsException.class,
                        () -> c.callSync(new Request.Lookup(1, SECRET), null, TIMEOUT).close());
                assertEquals(ErrorCode.NOT_FOUND, e.code(), "the request went through: " + e.getMessage());
            }
            return relay.seen();
        }
    }

    @Test
    void withoutTlsTheWireCarriesNamesInTheClear() throws Exception {
        startNode(false);
        assertTrue(askThroughRecorder(false).contains(SECRET), "the recorder sees plain requests");
    }

    @Test
    void underTlsTheWireCarriesNothingReadable() throws Exception {
        startNode(true);
        assertFalse(askThroughRecorder(true).contains(SECRET));
    }

    @Test
    void aClientWithoutTlsGetsNothingFromATlsNode() throws Exception {
        startNode(true);
        assertThrows(FsException.class,
                () -> RpcClient.connect(LOOP.group(), new HostPort("127.0.0.1", node.port()), TIMEOUT, 16, key));
    }

    @Test
    void nobodyCanEndTlsInTheMiddleAndRelayTheHandshake() throws Exception {
        startNode(true);
        try (TlsMiddleman m = new TlsMiddleman(node.port())) {
            FsException e = assertThrows(FsException.class,
                    () -> RpcClient.connect(LOOP.group(), new HostPort("127.0.0.1", m.port()), TIMEOUT, 16, key, Tls.client()));
            assertEquals(ErrorCode.PERMISSION, e.code(), e.getMessage());
            assertTrue(m.relayed() > 0, "the middleman did relay the handshake");
        }
        // And straight to the node, the same key and TLS work.
        RpcClient.connect(LOOP.group(), new HostPort("127.0.0.1", node.port()), TIMEOUT, 16, key, Tls.client()).close();
    }

    /** A TCP relay to a port that keeps a copy of everything it passes, both ways. */
    private static final class Recorder implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        private final ByteArrayOutputStream copy = new ByteArrayOutputStream();
        private final Thread acceptor;

        Recorder(int target) throws IOException {
            acceptor = new Thread(() -> {
                try (Socket in = server.accept(); Socket out = new Socket("127.0.0.1", target)) {
                    Thread back = pump(out.getInputStream(), in.getOutputStream());
                    pump(in.getInputStream(), out.getOutputStream()).join();
                    back.join();
                } catch (IOException | InterruptedException e) {
                    // Closed.
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private Thread pump(InputStream from, OutputStream to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[8192];
                try {
                    for (int n; (n = from.read(buf)) >= 0; ) {
                        synchronized (copy) {
                            copy.write(buf, 0, n);
                        }
                        to.write(buf, 0, n);
                        to.flush();
                    }
                    to.close();
                } catch (IOException e) {
                    // One side closed.
                }
            });
            t.setDaemon(true);
            t.start();
            return t;
        }

        int port() {
            return server.getLocalPort();
        }

        String seen() {
            synchronized (copy) {
                return copy.toString(StandardCharsets.ISO_8859_1);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /**
     * Ends the client's TLS with a certificate of its own and opens its own TLS to the node, passing
     * the plain bytes between them: what a middleman without the key can do.
     */
    private static final class TlsMiddleman implements AutoCloseable {
        private final Channel server;
        private final java.util.concurrent.atomic.AtomicLong relayed = new java.util.concurrent.atomic.AtomicLong();

        TlsMiddleman(int target) throws InterruptedException {
            Tls.Server mine = Tls.server();
            server = new ServerBootstrap().group(LOOP.group()).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel front) {
                            front.config().setAutoRead(false);
                            front.pipeline().addLast(mine.context().newHandler(front.alloc()));
                            Channel back = new Bootstrap().group(LOOP.group()).channel(NioSocketChannel.class)
                                    .handler(new ChannelInitializer<SocketChannel>() {
                                        @Override
                                        protected void initChannel(SocketChannel b) {
                                            b.pipeline().addLast(Tls.client().newHandler(b.alloc(), "127.0.0.1", target));
                                            b.pipeline().addLast(new Pass(front));
                                        }
                                    }).connect("127.0.0.1", target).addListener(f -> front.config().setAutoRead(true))
                                    .channel();
                            front.pipeline().addLast(new Pass(back));
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        }

        private final class Pass extends ChannelInboundHandlerAdapter {
            private final Channel to;

            Pass(Channel to) {
                this.to = to;
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                relayed.addAndGet(((ByteBuf) msg).readableBytes());
                to.writeAndFlush(msg);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                to.close();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        }

        int port() {
            return ((InetSocketAddress) server.localAddress()).getPort();
        }

        long relayed() {
            return relayed.get();
        }

        @Override
        public void close() {
            server.close().syncUninterruptibly();
        }
    }
}
