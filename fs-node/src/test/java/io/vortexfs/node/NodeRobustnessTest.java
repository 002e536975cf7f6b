package io.vortexfs.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.vortexfs.protocol.testing.LeakCheck;
import io.vortexfs.protocol.wire.Frames;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Message;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.testing.ClientLoop;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.rpc.RpcClient;
import io.vortexfs.protocol.wire.FrameFormat;
import io.vortexfs.protocol.wire.MessageCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A node keeps serving well-behaved clients while others send it garbage, half frames or nothing. */
@ExtendWith(LeakCheck.class)
class NodeRobustnessTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @RegisterExtension
    static final ClientLoop LOOP = new ClientLoop(1);

    @TempDir
    Path dir;

    private Node node;
    private RpcClient client;
    private final List<Socket> sockets = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        node = Node.start(NodeConfig.defaults(dir, "127.0.0.1", 0));
        client = RpcClient.connect(LOOP.group(), new HostPort("127.0.0.1", node.port()), TIMEOUT, 64);
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        client.close();
        node.close();
    }

    private Socket raw() throws IOException {
        Socket s = new Socket("127.0.0.1", node.port());
        s.setSoTimeout(10_000);
        sockets.add(s);
        return s;
    }

    private static byte[] frame(long id, Message m, byte[] payload) {
        return Frames.frame(id, m, payload);
    }

    /** Reads until the node closes the connection; returns what it sent. */
    private static byte[] readToEnd(Socket s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the node did not close the connection", e);
        } catch (IOException e) {
            // Reset by the node: closed all the same.
        }
        return out.toByteArray();
    }

    private void assertStillServes(String name) throws FsException {
        try (Reply r = client.callSync(new Request.MakeNode(1, name, FileType.S_IFDIR | 0755, 0, 0, null, 0), null,
                TIMEOUT)) {
            Attr a = ((Response.AttrReply) r.response()).attr();
            assertTrue(a.isDirectory());
        }
        try (Reply r = client.callSync(new Request.Lookup(1, name), null, TIMEOUT)) {
            assertTrue(r.response() instanceof Response.AttrReply);
        }
    }

    @Test
    void garbageAndSilentConnectionsDoNotStopAWellBehavedClient() throws Exception {
        Socket garbage = raw();
        Socket halfFrame = raw();
        byte[] whole = frame(1, new Request.GetStats(), new byte[0]);
        halfFrame.getOutputStream().write(whole, 0, 10);
        halfFrame.getOutputStream().flush();
        garbage.getOutputStream().write("GET / HTTP/1.1\r\nHost: vortex\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        garbage.getOutputStream().flush();

        for (int i = 0; i < 20; i++) {
            assertStillServes("d" + i);
        }
        assertEquals(0, readToEnd(garbage).length, "the node answers garbage by closing, with no reply");

        // The silent half frame is left waiting: neither answered nor closed.
        halfFrame.setSoTimeout(200);
        assertThrows(SocketTimeoutException.class, () -> halfFrame.getInputStream().read());
        assertStillServes("after");
        // Completing the frame gets it answered.
        halfFrame.setSoTimeout(10_000);
        halfFrame.getOutputStream().write(whole, 10, whole.length - 10);
        halfFrame.getOutputStream().flush();
        assertTrue(halfFrame.getInputStream().read() >= 0);
    }

    @Test
    void aConnectionStalledHalfwayThroughAFrameIsClosedButAnIdleOneIsNot() throws Exception {
        client.close();
        node.close();
        node = Node.start(NodeConfig.defaults(dir, "127.0.0.1", 0).withStalledFrameTimeout(java.time.Duration.ofSeconds(1)));
        client = RpcClient.connect(LOOP.group(), new HostPort("127.0.0.1", node.port()), TIMEOUT, 64);

        Socket stalled = raw();
        Socket idle = raw();
        byte[] whole = frame(1, new Request.GetStats(), new byte[0]);
        stalled.getOutputStream().write(whole, 0, 10);
        stalled.getOutputStream().flush();

        long t0 = System.nanoTime();
        assertEquals(0, readToEnd(stalled).length, "the stalled connection is closed without a reply");
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(tookMs >= 800 && tookMs < 5000, "closed after " + tookMs + " ms");

        // A connection that sent nothing at all is a client between requests: it stays.
        idle.getOutputStream().write(whole);
        idle.getOutputStream().flush();
        assertTrue(idle.getInputStream().read() >= 0, "the idle connection still gets answers");
        assertStillServes("after-stall");
    }

    @Test
    void repliesToAClientThatVanishedAreReleased() throws Exception {
        // Chunk replies carry pooled buffers; written after the connection is gone (and its pipeline
        // with it), they must still be released. LeakCheck fails the class if one is not.
        byte[] data = new byte[256 * 1024];
        new Random(3).nextBytes(data);
        ChunkId id = ChunkId.of(data);
        try (Reply r = client.callSync(new Request.PutChunk(id, data.length), Unpooled.wrappedBuffer(data), TIMEOUT)) {
            assertEquals(new Response.Stored(1), r.response());
        }
        for (int round = 0; round < 3; round++) {
            Socket s = raw();
            ByteArrayOutputStream batch = new ByteArrayOutputStream();
            for (int i = 0; i < 200; i++) {
                batch.write(frame(i, new Request.GetChunk(id), new byte[0]));
            }
            s.getOutputStream().write(batch.toByteArray());
            s.getOutputStream().flush();
            // Let the node read the requests, then vanish (RST) while its workers are still busy.
            Thread.sleep(30);
            s.setSoLinger(true, 0);
            s.close();
        }
        // Let the workers finish the requests of the vanished connections.
        for (int i = 0; i < 20; i++) {
            assertStillServes("after-" + i);
        }
        Thread.sleep(200);
    }

    @Test
    void aResponseSentToTheNodeClosesThatConnection() throws Exception {
        Socket s = raw();
        s.getOutputStream().write(frame(1, new Response.Ok(), new byte[0]));
        s.getOutputStream().flush();
        assertEquals(0, readToEnd(s).length);
        assertStillServes("x");
    }

    /**
     * The node-level fuzz campaign: 100,000 frames over a few thousand connections. Each connection
     * sends a run of valid requests and, mostly, one hostile frame to end it (a valid header over a
     * random body, a valid frame with bytes changed, noise, a length at or past its limit, an unknown
     * kind), so that nearly every frame is decoded and answered or refused. Meanwhile a well-behaved
     * client keeps asking, and no answer of its may wait long.
     */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void survivesAHundredThousandRandomFramesWithoutStallingAWellBehavedClient() throws Exception {
        Random random = new Random(100_000);
        int[] kinds = messageKinds();
        List<Message> valid = List.of(new Request.GetStats(), new Request.StatFs(), new Request.GetAttr(1),
                new Request.ReadDir(1), new Request.Lookup(1, "nothing"), new Request.GetAttr(12345),
                new Request.GetChunk(ChunkId.of(new byte[] {1})), new Request.Hello(FrameFormat.VERSION, "fuzz"));
        AtomicBoolean fuzzing = new AtomicBoolean(true);
        AtomicLong worstNanos = new AtomicLong();
        AtomicInteger answered = new AtomicInteger();
        CompletableFuture<Void> steady = CompletableFuture.runAsync(() -> {
            while (fuzzing.get()) {
                long t0 = System.nanoTime();
                try (Reply r = client.callSync(new Request.GetAttr(1), null, TIMEOUT)) {
                    assertTrue(r.response() instanceof Response.AttrReply);
                } catch (FsException e) {
                    throw new AssertionError("the well-behaved client's call failed: " + e.getMessage(), e);
                }
                worstNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
                answered.incrementAndGet();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
        });
        int frames = 0;
        int connections = 0;
        try {
            while (frames < 100_000) {
                ByteArrayOutputStream batch = new ByteArrayOutputStream();
                int n = random.nextInt(60);
                for (int i = 0; i < n; i++, frames++) {
                    batch.write(frame(random.nextLong(), valid.get(random.nextInt(valid.size())), new byte[0]));
                }
                if (random.nextInt(8) != 0) {
                    batch.write(hostileFrame(random, kinds, valid));
                    frames++;
                }
                Socket s = raw();
                try {
                    s.getOutputStream().write(batch.toByteArray());
                    s.shutdownOutput();
                } catch (IOException e) {
                    // The node may close on a bad frame before the rest is written.
                }
                readToEnd(s);
                s.close();
                sockets.remove(s);
                connections++;
            }
        } finally {
            fuzzing.set(false);
        }
        steady.get(30, TimeUnit.SECONDS);
        assertTrue(connections > 2_000, "connections: " + connections);
        assertTrue(answered.get() > 100, "the well-behaved client got " + answered.get() + " answers");
        assertTrue(worstNanos.get() < TimeUnit.SECONDS.toNanos(2),
                "a well-behaved call waited " + worstNanos.get() / 1_000_000 + " ms");
        assertStillServes("survivor");
        try (Reply r = client.callSync(new Request.GetStats(), null, TIMEOUT)) {
            assertTrue(r.response() instanceof Response.NodeStats);
        }
    }

    private static byte[] hostileFrame(Random random, int[] kinds, List<Message> valid) {
        switch (random.nextInt(5)) {
            case 0: { // a valid header with a random body
                byte[] body = new byte[random.nextInt(60)];
                random.nextBytes(body);
                byte[] payload = new byte[random.nextInt(10)];
                return header(kinds[random.nextInt(kinds.length)], random.nextLong(), body.length, payload.length, body,
                        payload);
            }
            case 1: { // a valid frame with a few bytes changed
                byte[] f = frame(random.nextLong(), valid.get(random.nextInt(valid.size())), new byte[random.nextInt(4)]);
                for (int i = 0; i < 1 + random.nextInt(3); i++) {
                    f[random.nextInt(f.length)] = (byte) random.nextInt(256);
                }
                return f;
            }
            case 2: { // lengths at and past their limits, and negative
                int[] lengths = {FrameFormat.DEFAULT_MAX_BODY, FrameFormat.DEFAULT_MAX_BODY + 1, Integer.MAX_VALUE, -1,
                        FrameFormat.DEFAULT_MAX_PAYLOAD + 1};
                boolean body = random.nextBoolean();
                int length = lengths[random.nextInt(lengths.length)];
                return header(kinds[random.nextInt(kinds.length)], random.nextLong(), body ? length : 4,
                        body ? 0 : length, new byte[random.nextInt(8)], new byte[0]);
            }
            case 3: { // a kind nobody registered
                int kind;
                do {
                    kind = random.nextInt(0x10000);
                } while (MessageCodec.messageClass(kind) != null);
                return header(kind, random.nextLong(), 2, 0, new byte[] {1, 2}, new byte[0]);
            }
            default: { // noise
                byte[] noise = new byte[random.nextInt(100)];
                random.nextBytes(noise);
                return noise;
            }
        }
    }

    /** A frame header with the given fields, followed by {@code body} and {@code payload} whatever the lengths say. */
    private static byte[] header(int kind, long id, int bodyLength, int payloadLength, byte[] body, byte[] payload) {
        ByteBuf b = Unpooled.buffer();
        b.writeInt(FrameFormat.MAGIC).writeByte(FrameFormat.VERSION).writeByte(0).writeShort(kind).writeLong(id)
                .writeInt(bodyLength).writeInt(payloadLength).writeBytes(body).writeBytes(payload);
        byte[] out = ByteBufUtil.getBytes(b);
        b.release();
        return out;
    }

    /** The registered message kinds, found by asking the codec. */
    private static int[] messageKinds() {
        List<Integer> out = new ArrayList<>();
        for (int k = 0; k <= 0xffff; k++) {
            if (MessageCodec.messageClass(k) != null) {
                out.add(k);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
