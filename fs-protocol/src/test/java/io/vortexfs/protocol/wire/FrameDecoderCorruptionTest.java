package io.vortexfs.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Samples;
import io.vortexfs.protocol.testing.LeakCheck;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(LeakCheck.class)
class FrameDecoderCorruptionTest {
    private static final int MAX_BODY = 1024;
    private static final int MAX_PAYLOAD = 4096;
    private static final int MAGIC = FrameFormat.MAGIC;
    private static final int V = FrameFormat.VERSION;
    private static final byte[] GET_ATTR_BODY = MessageCodec.encode(new Request.GetAttr(7), 64);

    private static byte[] getAttr(int magic, int version, int kind, int bodyLength, int payloadLength, byte[] rest) {
        return Frames.rawFrame(magic, version, kind, 1, bodyLength, payloadLength, rest);
    }

    static Stream<Arguments> corruptFrames() {
        byte[] body = GET_ATTR_BODY;
        int n = body.length;
        return Stream.of(
                Arguments.of("bad magic", getAttr(0x56545847, V, 104, n, 0, body)),
                Arguments.of("HTTP instead of a frame", "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
                Arguments.of("version 0", getAttr(MAGIC, 0, 104, n, 0, body)),
                Arguments.of("the next version", getAttr(MAGIC, V + 1, 104, n, 0, body)),
                Arguments.of("version -1", getAttr(MAGIC, 0xff, 104, n, 0, body)),
                Arguments.of("kind 0 (Kryo's int)", getAttr(MAGIC, V, 0, n, 0, body)),
                Arguments.of("kind 1 (String)", getAttr(MAGIC, V, 1, n, 0, body)),
                Arguments.of("kind 30 (ChunkId, not a message)", getAttr(MAGIC, V, 30, 32, 0, new byte[32])),
                Arguments.of("kind 99", getAttr(MAGIC, V, 99, n, 0, body)),
                Arguments.of("kind 65535", getAttr(MAGIC, V, 0xffff, n, 0, body)),
                Arguments.of("body past its limit", getAttr(MAGIC, V, 104, MAX_BODY + 1, 0, new byte[0])),
                Arguments.of("body of 2 GiB", getAttr(MAGIC, V, 104, Integer.MAX_VALUE, 0, new byte[0])),
                Arguments.of("negative body", getAttr(MAGIC, V, 104, -1, 0, body)),
                Arguments.of("most negative body", getAttr(MAGIC, V, 104, Integer.MIN_VALUE, 0, body)),
                Arguments.of("payload past its limit", getAttr(MAGIC, V, 102, n, MAX_PAYLOAD + 1, new byte[0])),
                Arguments.of("payload of 2 GiB", getAttr(MAGIC, V, 102, n, Integer.MAX_VALUE, new byte[0])),
                Arguments.of("negative payload", getAttr(MAGIC, V, 104, n, -1, body)),
                Arguments.of("garbage body", getAttr(MAGIC, V, 104, 4, 0, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff})),
                Arguments.of("body failing the record's checks", getAttr(MAGIC, V, 104, 1, 0, new byte[] {0})),
                Arguments.of("empty body for a record with fields", getAttr(MAGIC, V, 104, 0, 0, new byte[0])),
                Arguments.of("stray byte after the body", getAttr(MAGIC, V, 104, n + 1, 0, Frames.concat(body, new byte[] {0}))),
                Arguments.of("stray bytes after an empty record", getAttr(MAGIC, V, 202, 3, 0, new byte[] {1, 2, 3})),
                Arguments.of("body of another kind", getAttr(MAGIC, V, 100, n, 0, body)));
    }

    private static EmbeddedChannel decoder() {
        return new EmbeddedChannel(new FrameDecoder(MAX_BODY, MAX_PAYLOAD));
    }

    private static void assertCorrupt(Throwable t) {
        DecoderException e = assertInstanceOf(DecoderException.class, t);
        assertInstanceOf(CorruptFrameException.class, e.getCause(), () -> "cause: " + e.getCause());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptFrames")
    void corruptFrameFailsAndTheRestOfTheStreamIsDiscarded(String what, byte[] corrupt) {
        EmbeddedChannel ch = decoder();
        byte[] good = Frames.frame(1, new Request.GetAttr(9));
        // A good frame before the bad one still comes out; nothing after it does.
        assertCorrupt(assertThrows(Throwable.class,
                () -> ch.writeInbound(Unpooled.wrappedBuffer(Frames.concat(good, corrupt, good)))));
        Envelope first = ch.readInbound();
        assertNotNull(first);
        first.release();
        assertNull(ch.readInbound());

        ch.writeInbound(Unpooled.wrappedBuffer(good));
        ch.writeInbound(Unpooled.wrappedBuffer(good, 0, 10));
        assertNull(ch.readInbound(), "a failed decoder must not decode again");
        assertFalse(ch.finish(), "closing after a failure is quiet");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptFrames")
    void corruptFrameFailsWhenItArrivesAlone(String what, byte[] corrupt) {
        EmbeddedChannel ch = decoder();
        assertCorrupt(assertThrows(Throwable.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(corrupt))));
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void oversizedLengthIsRefusedFromTheHeaderAlone() {
        EmbeddedChannel ch = decoder();
        byte[] header = getAttr(MAGIC, V, 102, 10, MAX_PAYLOAD + 1, new byte[0]);
        assertEquals(FrameFormat.HEADER_BYTES, header.length);
        assertCorrupt(assertThrows(Throwable.class, () -> ch.writeInbound(Unpooled.wrappedBuffer(header))));
        assertFalse(ch.finish());
    }

    @Test
    void defaultLimitsAcceptTheLargestChunk() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        byte[] header = getAttr(MAGIC, V, 102, GET_ATTR_BODY.length, FrameFormat.DEFAULT_MAX_PAYLOAD, new byte[0]);
        ch.writeInbound(Unpooled.wrappedBuffer(header));
        assertNull(ch.readInbound());
        assertCorrupt(assertThrows(Throwable.class, () -> ch.finish()));
    }

    static Stream<Arguments> truncations() {
        byte[] payload = {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] frame = Frames.frame(3, new Request.PutChunk(io.vortexfs.protocol.ChunkId.of(payload), 8), payload);
        int body = frame.length - FrameFormat.HEADER_BYTES - payload.length;
        return Stream.of(
                Arguments.of("one byte", Arrays.copyOf(frame, 1)),
                Arguments.of("partial header", Arrays.copyOf(frame, FrameFormat.HEADER_BYTES - 1)),
                Arguments.of("header only", Arrays.copyOf(frame, FrameFormat.HEADER_BYTES)),
                Arguments.of("mid-body", Arrays.copyOf(frame, FrameFormat.HEADER_BYTES + body / 2)),
                Arguments.of("body, no payload", Arrays.copyOf(frame, FrameFormat.HEADER_BYTES + body)),
                Arguments.of("one payload byte short", Arrays.copyOf(frame, frame.length - 1)),
                Arguments.of("a whole frame, then part of the next",
                        Frames.concat(frame, Arrays.copyOf(frame, 30))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("truncations")
    void truncatedFrameIsReportedWhenTheChannelCloses(String what, byte[] bytes) {
        EmbeddedChannel ch = decoder();
        ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        Throwable t = assertThrows(Throwable.class, ch::finish);
        assertCorrupt(t);
        assertTrue(t.getCause().getMessage().contains("truncated"), t.getCause().getMessage());
        for (Object o; (o = ch.readInbound()) != null; ) {
            ((Envelope) o).release();
        }
    }

    @Test
    void wholeFramesThenCloseIsClean() {
        EmbeddedChannel ch = decoder();
        ch.writeInbound(Unpooled.wrappedBuffer(Frames.concat(Frames.frame(1, new Request.StatFs()),
                Frames.frame(2, Samples.requests().get(0)))));
        Envelope a = ch.readInbound();
        Envelope b = ch.readInbound();
        a.release();
        b.release();
        assertFalse(ch.finish());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1})
    void decoderRejectsBadLimits(int maxBody) {
        assertThrows(IllegalArgumentException.class, () -> new FrameDecoder(maxBody, 10));
    }

    @Test
    void payloadSliceKeepsTheInputAliveUntilReleased() {
        EmbeddedChannel ch = decoder();
        byte[] payload = {1, 2, 3};
        ByteBuf in = Unpooled.directBuffer().writeBytes(
                Frames.frame(1, new Request.PutChunk(io.vortexfs.protocol.ChunkId.of(payload), 3), payload));
        ch.writeInbound(in);
        Envelope e = ch.readInbound();
        assertEquals(1, e.payload().refCnt());
        assertArrayEquals(payload, ByteBufUtil.getBytes(e.payload()));
        assertEquals(1, in.refCnt(), "the decoder is done with the input, but the payload slice still holds it");
        e.release();
        assertEquals(0, in.refCnt(), "the cumulation is freed once the last slice is released");
        assertFalse(ch.finish());
    }
}
