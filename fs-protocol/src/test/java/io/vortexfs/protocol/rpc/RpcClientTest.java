package io.vortexfs.protocol.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.Samples;
import io.vortexfs.protocol.testing.LeakCheck;
import io.vortexfs.protocol.wire.Envelope;
import io.vortexfs.protocol.wire.FrameDecoder;
import io.vortexfs.protocol.wire.FrameEncoder;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** RpcClient against a scripted loopback server: the test decides when and how each request is answered. */
@ExtendWith(LeakCheck.class)
class RpcClientTest {
    private static final Duration LONG = Duration.ofSeconds(10);

    private static EventLoopGroup serverGroup;
    private static EventLoopGroup clientGroup;

    private ScriptedServer server;
    private final List<RpcClient> clients = new ArrayList<>();

    /** A request as the server received it; the test answers it, or not. */
    record Received(ChannelHandlerContext ctx, Envelope envelope) {
        Request request() {
            return (Request) envelope.message();
        }

        void reply(Response r) {
            reply(r, Unpooled.EMPTY_BUFFER);
        }

        void reply(Response r, ByteBuf payload) {
            ctx.writeAndFlush(new Envelope(envelope.requestId(), r, payload));
        }
    }

    /** Accepts connections and queues every request it decodes. */
    static final class ScriptedServer implements AutoCloseable {
        final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
        final List<Channel> connections = Collections.synchronizedList(new ArrayList<>());
        final Channel channel;

        ScriptedServer() throws InterruptedException {
            channel = new ServerBootstrap()
                    .group(serverGroup)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            connections.add(ch);
                            ch.pipeline()
                                    .addLast("frame-decoder", new FrameDecoder())
                                    .addLast("frame-encoder", new FrameEncoder())
                                    .addLast("script", new SimpleChannelInboundHandler<Envelope>(Envelope.class, false) {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, Envelope e) {
                                            received.add(new Received(ctx, e));
                                        }

                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                            ctx.close();
                                        }
                                    });
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
        }

        HostPort address() {
            return new HostPort("127.0.0.1", ((InetSocketAddress) channel.localAddress()).getPort());
        }

        Received take() throws InterruptedException {
            Received r = received.poll(10, TimeUnit.SECONDS);
            if (r == null) {
                throw new AssertionError("the server received no request");
            }
            return r;
        }

        void closeConnections() {
            for (Channel c : List.copyOf(connections)) {
                c.close().syncUninterruptibly();
            }
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            closeConnections();
            for (Received r; (r = received.poll()) != null; ) {
                r.envelope().release();
            }
        }
    }

    @BeforeAll
    static void startLoops() {
        serverGroup = EventLoops.newGroup(1, "test-server");
        clientGroup = EventLoops.newGroup(1, "test-client");
    }

    @AfterAll
    static void stopLoops() {
        serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @BeforeEach
    void startServer() throws InterruptedException {
        server = new ScriptedServer();
    }

    @AfterEach
    void stopServer() {
        clients.forEach(RpcClient::close);
        server.close();
    }

    private RpcClient connect(int maxInFlight) throws FsException {
        RpcClient c = RpcClient.connect(clientGroup, server.address(), Duration.ofSeconds(5), maxInFlight);
        clients.add(c);
        return c;
    }

    private static FsException failure(CompletableFuture<Reply> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(FsException.class, e.getCause());
    }

    private static Attr attr(long ino) {
        return Samples.fileAttr(ino);
    }

    @Test
    void concurrentCallsAnsweredOutOfOrderReachTheirCallers() throws Exception {
        RpcClient client = connect(256);
        int n = 100;
        List<CompletableFuture<Reply>> futures = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            Request r = i % 2 == 0 ? new Request.GetAttr(i) : new Request.GetChunk(Samples.chunkId("c" + i));
            futures.add(client.call(r, null, LONG));
        }
        List<Received> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(server.take());
        }
        Collections.shuffle(all, new Random(3));
        for (Received r : all) {
            r.envelope().release();
            if (r.request() instanceof Request.GetAttr g) {
                r.reply(new Response.AttrReply(attr(g.ino())));
            } else {
                ChunkId id = ((Request.GetChunk) r.request()).id();
                byte[] data = id.hex().getBytes(StandardCharsets.US_ASCII);
                r.reply(new Response.ChunkData(id, data.length), Unpooled.wrappedBuffer(data));
            }
        }
        for (int i = 1; i <= n; i++) {
            try (Reply reply = futures.get(i - 1).get(10, TimeUnit.SECONDS)) {
                if (i % 2 == 0) {
                    assertEquals(i, ((Response.AttrReply) reply.response()).attr().ino());
                    assertEquals(0, reply.payload().readableBytes());
                } else {
                    ChunkId id = Samples.chunkId("c" + i);
                    assertEquals(id, ((Response.ChunkData) reply.response()).id());
                    assertArrayEquals(id.hex().getBytes(StandardCharsets.US_ASCII), ByteBufUtil.getBytes(reply.payload()));
                }
            }
        }
    }

    @Test
    void requestPayloadReachesTheServerIntact() throws Exception {
        RpcClient client = connect(16);
        byte[] data = new byte[100_000];
        new Random(5).nextBytes(data);
        CompletableFuture<Reply> f = client.call(new Request.PutChunk(ChunkId.of(data), data.length),
                Unpooled.copiedBuffer(data), LONG);
        Received r = server.take();
        try {
            assertEquals(new Request.PutChunk(ChunkId.of(data), data.length), r.request());
            assertArrayEquals(data, ByteBufUtil.getBytes(r.envelope().payload()));
        } finally {
            r.envelope().release();
        }
        r.reply(new Response.Ok());
        try (Reply reply = f.get(10, TimeUnit.SECONDS)) {
            assertEquals(new Response.Ok(), reply.response());
        }
    }

    @Test
    void deadlineFailsTheCallWithTimeoutWhenTheServerNeverAnswers() throws Exception {
        RpcClient client = connect(16);
        long start = System.nanoTime();
        CompletableFuture<Reply> f = client.call(new Request.GetAttr(1), null, Duration.ofMillis(200));
        FsException e = failure(f);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(ErrorCode.TIMEOUT, e.code());
        assertTrue(tookMs >= 190 && tookMs < 5000, "timed out after " + tookMs + " ms");

        // The late answer is dropped (and its payload released); the connection still works.
        Received late = server.take();
        late.envelope().release();
        late.reply(new Response.ChunkData(Samples.chunkId("late"), 3), Unpooled.copiedBuffer(new byte[] {1, 2, 3}));
        CompletableFuture<Reply> next = client.call(new Request.GetAttr(2), null, LONG);
        Received r = server.take();
        r.envelope().release();
        r.reply(new Response.AttrReply(attr(2)));
        try (Reply reply = next.get(10, TimeUnit.SECONDS)) {
            assertEquals(2, ((Response.AttrReply) reply.response()).attr().ino());
        }
    }

    @Test
    void aConnectionWithoutAReplyForLongerThanItsSilenceIsClosedWhenACallTimesOut() throws Exception {
        RpcClient client = RpcClient.connect(clientGroup, server.address(), LONG, 16, Duration.ofMillis(300), null, null);
        clients.add(client);
        CompletableFuture<Reply> longCall = client.call(new Request.GetAttr(1), null, LONG);
        server.take().envelope().release();
        // A short call times out before the silence is long enough: the connection stays.
        assertEquals(ErrorCode.TIMEOUT, failure(client.call(new Request.GetAttr(2), null, Duration.ofMillis(50))).code());
        server.take().envelope().release();
        assertTrue(client.isOpen());
        // One that times out after 400 ms without any reply meanwhile takes the connection down, and
        // the calls still waiting on it fail at once, as if the peer had closed it.
        assertEquals(ErrorCode.TIMEOUT, failure(client.call(new Request.GetAttr(3), null, Duration.ofMillis(400))).code());
        server.take().envelope().release();
        assertEquals(ErrorCode.UNAVAILABLE, failure(longCall).code());
        assertFalse(client.isOpen());
    }

    @Test
    void callSyncThrowsTimeout() throws Exception {
        RpcClient client = connect(16);
        FsException e = assertThrows(FsException.class,
                () -> client.callSync(new Request.GetAttr(1), null, Duration.ofMillis(100)));
        assertEquals(ErrorCode.TIMEOUT, e.code());
        server.take().envelope().release();
    }

    @Test
    void pendingCallsFailWithUnavailableWhenTheServerClosesTheConnection() throws Exception {
        RpcClient client = connect(16);
        List<CompletableFuture<Reply>> futures = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            futures.add(client.call(new Request.GetAttr(i), null, LONG));
        }
        for (int i = 0; i < 3; i++) {
            server.take().envelope().release();
        }
        server.closeConnections();
        for (CompletableFuture<Reply> f : futures) {
            assertEquals(ErrorCode.UNAVAILABLE, failure(f).code());
        }
        assertFalse(client.isOpen());
        ByteBuf payload = Unpooled.copiedBuffer(new byte[] {1});
        CompletableFuture<Reply> after = client.call(new Request.PutChunk(Samples.chunkId("z"), 1), payload, LONG);
        assertEquals(ErrorCode.UNAVAILABLE, failure(after).code());
        assertEquals(0, payload.refCnt(), "a call that cannot be sent releases its payload");
    }

    @Test
    void closingTheClientFailsPendingCalls() throws Exception {
        RpcClient client = connect(16);
        CompletableFuture<Reply> f = client.call(new Request.GetAttr(1), null, LONG);
        server.take().envelope().release();
        client.close();
        assertEquals(ErrorCode.UNAVAILABLE, failure(f).code());
        client.close();
    }

    @Test
    void errorResponseSurfacesAsFsExceptionWithItsCode() throws Exception {
        RpcClient client = connect(16);
        CompletableFuture<Reply> f = client.call(new Request.Remove(1, "d", true), null, LONG);
        Received r = server.take();
        r.envelope().release();
        r.reply(new Response.Error(ErrorCode.NOT_EMPTY, "directory 'd' is not empty"));
        FsException e = failure(f);
        assertEquals(ErrorCode.NOT_EMPTY, e.code());
        assertEquals("directory 'd' is not empty", e.getMessage());

        Thread answer = new Thread(() -> {
            try {
                Received r2 = server.take();
                r2.envelope().release();
                r2.reply(new Response.Error(ErrorCode.NOT_FOUND, "no entry 'x'"));
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        });
        answer.start();
        FsException sync = assertThrows(FsException.class, () -> client.callSync(new Request.Lookup(1, "x"), null, LONG));
        answer.join();
        assertEquals(ErrorCode.NOT_FOUND, sync.code());
    }

    @Test
    void callsBeyondMaxInFlightWaitForASlotWithinTheirDeadline() throws Exception {
        RpcClient client = connect(2);
        CompletableFuture<Reply> a = client.call(new Request.GetAttr(1), null, LONG);
        CompletableFuture<Reply> b = client.call(new Request.GetAttr(2), null, LONG);
        ByteBuf payload = Unpooled.copiedBuffer(new byte[] {1});
        CompletableFuture<Reply> c = client.call(new Request.PutChunk(Samples.chunkId("q"), 1), payload,
                Duration.ofMillis(100));
        FsException e = failure(c);
        assertEquals(ErrorCode.TIMEOUT, e.code());
        assertEquals(0, payload.refCnt());

        Received ra = server.take();
        ra.envelope().release();
        ra.reply(new Response.AttrReply(attr(1)));
        a.get(10, TimeUnit.SECONDS).close();
        // A slot is free again.
        CompletableFuture<Reply> d = client.call(new Request.GetAttr(4), null, LONG);
        Received rb = server.take();
        Received rd = server.take();
        rb.envelope().release();
        rd.envelope().release();
        rb.reply(new Response.AttrReply(attr(2)));
        rd.reply(new Response.AttrReply(attr(4)));
        b.get(10, TimeUnit.SECONDS).close();
        try (Reply reply = d.get(10, TimeUnit.SECONDS)) {
            assertEquals(4, ((Response.AttrReply) reply.response()).attr().ino());
        }
    }

    @Test
    void aRequestFromTheServerClosesTheConnection() throws Exception {
        RpcClient client = connect(16);
        CompletableFuture<Reply> f = client.call(new Request.GetAttr(1), null, LONG);
        Received r = server.take();
        r.envelope().release();
        r.ctx().writeAndFlush(new Envelope(r.envelope().requestId(), new Request.GetStats()));
        assertEquals(ErrorCode.UNAVAILABLE, failure(f).code());
        assertFalse(client.isOpen());
    }

    @Test
    void garbageFromTheServerClosesTheConnection() throws Exception {
        RpcClient client = connect(16);
        CompletableFuture<Reply> f = client.call(new Request.GetAttr(1), null, LONG);
        Received r = server.take();
        r.envelope().release();
        r.ctx().channel().writeAndFlush(Unpooled.copiedBuffer("HTTP/1.1 400 Bad Request\r\n\r\n", StandardCharsets.US_ASCII));
        assertEquals(ErrorCode.UNAVAILABLE, failure(f).code());
    }

    @Test
    void connectingToAClosedPortFailsWithUnavailable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        FsException e = assertThrows(FsException.class,
                () -> RpcClient.connect(clientGroup, new HostPort("127.0.0.1", port), Duration.ofSeconds(2), 4));
        assertEquals(ErrorCode.UNAVAILABLE, e.code());
    }
}
