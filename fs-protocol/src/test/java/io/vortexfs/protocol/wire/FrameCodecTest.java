package io.vortexfs.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import io.vortexfs.protocol.Message;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.Samples;
import io.vortexfs.protocol.testing.LeakCheck;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(LeakCheck.class)
class FrameCodecTest {

    static List<Message> samples() {
        return Samples.all();
    }

    /** Encodes through a FrameEncoder pipeline and returns the frame's bytes. */
    private static byte[] encode(Envelope envelope) {
        EmbeddedChannel enc = new EmbeddedChannel(new FrameEncoder());
        assertTrue(enc.writeOutbound(envelope));
        ByteBuf all = Unpooled.buffer();
        try {
            for (ByteBuf b; (b = enc.readOutbound()) != null; ) {
                all.writeBytes(b);
                b.release();
            }
            assertFalse(enc.finish());
            return ByteBufUtil.getBytes(all);
        } finally {
            all.release();
        }
    }

    /** Feeds {@code pieces} to a fresh decoder and returns every envelope it emits; the caller releases them. */
    private static List<Envelope> decode(List<byte[]> pieces) {
        EmbeddedChannel dec = new EmbeddedChannel(new FrameDecoder());
        List<Envelope> out = new ArrayList<>();
        for (byte[] piece : pieces) {
            dec.writeInbound(Unpooled.wrappedBuffer(piece));
            for (Envelope e; (e = dec.readInbound()) != null; ) {
                out.add(e);
            }
        }
        assertFalse(dec.finish(), "the decoder kept something back");
        return out;
    }

    private static Envelope decodeOne(byte[] frame) {
        List<Envelope> out = decode(List.of(frame));
        assertEquals(1, out.size());
        return out.get(0);
    }

    @ParameterizedTest
    @MethodSource("samples")
    void roundTripsThroughEncoderAndDecoder(Message m) {
        byte[] frame = encode(new Envelope(77, m));
        assertArrayEquals(Frames.frame(77, m), frame, "pipeline and toBuffer disagree");
        Envelope e = decodeOne(frame);
        try {
            assertEquals(77, e.requestId());
            assertEquals(m, e.message());
            assertEquals(0, e.payload().readableBytes());
        } finally {
            e.release();
        }
    }

    @Test
    void headerFollowsTheDocumentedLayout() {
        Request.GetAttr m = new Request.GetAttr(3);
        byte[] frame = Frames.frame(0x0102030405060708L, m, new byte[] {9, 9, 9});
        ByteBuf b = Unpooled.wrappedBuffer(frame);
        assertEquals(0x56545846, b.getInt(0));
        assertEquals(3, b.getByte(4), "the version FrameFormat's history names last");
        assertEquals(0, b.getByte(5));
        assertEquals(104, b.getUnsignedShort(6));
        assertEquals(0x0102030405060708L, b.getLong(8));
        int body = b.getInt(16);
        assertEquals(MessageCodec.encode(m, 64).length, body);
        assertEquals(3, b.getInt(20));
        assertEquals(FrameFormat.HEADER_BYTES + body + 3, frame.length);
    }

    @Test
    void putChunkPayloadArrivesIntact() {
        byte[] data = new byte[256 * 1024 + 3];
        new Random(1).nextBytes(data);
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(data.length).writeBytes(data);
        Request.PutChunk put = new Request.PutChunk(io.vortexfs.protocol.ChunkId.of(data), data.length);
        byte[] frame = encode(new Envelope(5, put, payload));
        assertEquals(0, payload.refCnt(), "the encoder passes the payload on and the write releases it");

        Envelope e = decodeOne(frame);
        try {
            assertEquals(put, e.message());
            assertArrayEquals(data, ByteBufUtil.getBytes(e.payload()));
        } finally {
            e.release();
        }
        assertEquals(0, e.payload().refCnt());
    }

    @Test
    void payloadIsPassedOnWithoutCopy() {
        ByteBuf payload = Unpooled.copiedBuffer(new byte[] {1, 2, 3});
        EmbeddedChannel enc = new EmbeddedChannel(new FrameEncoder());
        enc.writeOutbound(new Envelope(1, new Response.ChunkData(Samples.chunkId("c"), 3), payload));
        ByteBuf head = enc.readOutbound();
        ByteBuf second = enc.readOutbound();
        try {
            assertSame(payload, second);
            assertEquals(1, payload.refCnt());
            assertNull(enc.readOutbound());
        } finally {
            head.release();
            second.release();
            enc.finishAndReleaseAll();
        }
    }

    @Test
    void payloadIsReleasedWhenTheBodyCannotBeEncoded() {
        ByteBuf payload = Unpooled.copiedBuffer(new byte[] {1, 2, 3});
        EmbeddedChannel enc = new EmbeddedChannel(new FrameEncoder(64));
        Request.Hello tooBig = new Request.Hello(1, "x".repeat(500));
        assertThrows(EncoderException.class, () -> enc.writeOutbound(new Envelope(1, tooBig, payload)));
        assertEquals(0, payload.refCnt());
        assertFalse(enc.finishAndReleaseAll());
    }

    @Test
    void payloadIsReleasedWhenWrittenToAClosedChannel() {
        // A reply written after the peer went away: the pipeline is gone, nothing encodes it.
        EmbeddedChannel enc = new EmbeddedChannel(new FrameEncoder());
        enc.close();
        ByteBuf payload = Unpooled.copiedBuffer(new byte[] {1, 2, 3});
        ChannelFuture f = enc.writeAndFlush(new Envelope(1, new Response.ChunkData(Samples.chunkId("c"), 3), payload));
        assertFalse(f.isSuccess());
        assertEquals(0, payload.refCnt());
        enc.finishAndReleaseAll();
    }

    @Test
    void decodesFrameFedOneByteAtATime() {
        byte[] payload = {4, 5, 6, 7};
        byte[] frame = Frames.frame(9, new Request.PutChunk(io.vortexfs.protocol.ChunkId.of(payload), 4), payload);
        EmbeddedChannel dec = new EmbeddedChannel(new FrameDecoder());
        for (int i = 0; i < frame.length - 1; i++) {
            dec.writeInbound(Unpooled.wrappedBuffer(frame, i, 1));
            assertNull(dec.readInbound(), "emitted before the frame was whole, at byte " + i);
        }
        dec.writeInbound(Unpooled.wrappedBuffer(frame, frame.length - 1, 1));
        Envelope e = dec.readInbound();
        assertNotNull(e);
        try {
            assertEquals(9, e.requestId());
            assertArrayEquals(payload, ByteBufUtil.getBytes(e.payload()));
        } finally {
            e.release();
        }
        assertFalse(dec.finish());
    }

    @Test
    void decodesSeveralFramesInOneBuffer() {
        List<Message> all = Samples.all();
        List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            frames.add(Frames.frame(i, all.get(i), new byte[i % 3]));
        }
        List<Envelope> out = decode(List.of(Frames.concat(frames.toArray(new byte[0][]))));
        try {
            assertEquals(all.size(), out.size());
            for (int i = 0; i < all.size(); i++) {
                assertEquals(i, out.get(i).requestId());
                assertEquals(all.get(i), out.get(i).message());
                assertEquals(i % 3, out.get(i).payload().readableBytes());
            }
        } finally {
            out.forEach(Envelope::release);
        }
    }

    @Test
    void decodesFrameSplitAtEveryOffset() {
        byte[] payload = {1, 2, 3, 4, 5};
        byte[] one = Frames.frame(1, Samples.responses().get(8), payload);
        byte[] two = Frames.frame(2, new Request.GetAttr(2));
        byte[] both = Frames.concat(one, two);
        for (int cut = 0; cut <= both.length; cut++) {
            List<Envelope> out = decode(List.of(java.util.Arrays.copyOfRange(both, 0, cut),
                    java.util.Arrays.copyOfRange(both, cut, both.length)));
            try {
                assertEquals(2, out.size(), "split at " + cut);
                assertEquals(Samples.responses().get(8), out.get(0).message());
                assertArrayEquals(payload, ByteBufUtil.getBytes(out.get(0).payload()));
                assertEquals(new Request.GetAttr(2), out.get(1).message());
            } finally {
                out.forEach(Envelope::release);
            }
        }
    }

    @Test
    void decodesFramesCutIntoRandomPieces() {
        Random random = new Random(42);
        List<Message> all = Samples.all();
        byte[][] frames = new byte[all.size()][];
        for (int i = 0; i < frames.length; i++) {
            byte[] payload = new byte[random.nextInt(100)];
            random.nextBytes(payload);
            frames[i] = Frames.frame(i, all.get(i), payload);
        }
        byte[] stream = Frames.concat(frames);
        for (int round = 0; round < 50; round++) {
            List<byte[]> pieces = new ArrayList<>();
            for (int at = 0; at < stream.length; ) {
                int n = Math.min(stream.length - at, 1 + random.nextInt(64));
                pieces.add(java.util.Arrays.copyOfRange(stream, at, at + n));
                at += n;
            }
            List<Envelope> out = decode(pieces);
            try {
                assertEquals(all.size(), out.size());
                for (int i = 0; i < all.size(); i++) {
                    assertEquals(all.get(i), out.get(i).message());
                }
            } finally {
                out.forEach(Envelope::release);
            }
        }
    }
}
