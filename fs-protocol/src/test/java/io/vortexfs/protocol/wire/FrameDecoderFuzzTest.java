package io.vortexfs.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.vortexfs.protocol.Message;
import io.vortexfs.protocol.Samples;
import io.vortexfs.protocol.testing.Allocations;
import io.vortexfs.protocol.testing.LeakCheck;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Random bytes at the decoder. Whatever arrives, the only failure is a DecoderException caused by a
 * CorruptFrameException; no other exception, no Error hidden in a cause, and no input of a few
 * hundred bytes makes the decoder allocate megabytes.
 */
@ExtendWith(LeakCheck.class)
class FrameDecoderFuzzTest {
    /** Three campaigns of this many inputs each: over 100,000 hostile frames per run. */
    private static final int ROUNDS = 35_000;
    private static final long MAX_ALLOCATION_PER_INPUT = 4 << 20;
    private static int[] kinds;

    /** What one fuzz run saw, to prove it reached past the header checks. */
    private static final class Tally {
        int decoded;
        int corrupt;
    }

    @BeforeAll
    static void findKinds() {
        List<Integer> found = new ArrayList<>();
        for (int kind = 0; kind <= 0xffff; kind++) {
            if (MessageCodec.messageClass(kind) != null) {
                found.add(kind);
            }
        }
        kinds = found.stream().mapToInt(Integer::intValue).toArray();
        for (Message m : Samples.all()) {
            MessageCodec.decode(MessageCodec.kindOf(m), MessageCodec.encode(m, 1 << 20));
        }
    }

    private static void feed(byte[] input, Tally tally) {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(64 << 10, 64 << 10));
        long before = Allocations.current();
        try {
            ch.writeInbound(Unpooled.wrappedBuffer(input));
            ch.finish();
        } catch (DecoderException e) {
            if (!(e.getCause() instanceof CorruptFrameException)) {
                throw new AssertionError("unexpected cause for input " + java.util.HexFormat.of().formatHex(input), e);
            }
            Allocations.assertNoVmError(e);
            tally.corrupt++;
        } catch (RuntimeException | Error e) {
            throw new AssertionError("unexpected failure for input " + java.util.HexFormat.of().formatHex(input), e);
        } finally {
            for (Object o; (o = ch.readInbound()) != null; ) {
                ((Envelope) o).release();
                tally.decoded++;
            }
            ch.finishAndReleaseAll();
        }
        long allocated = Allocations.current() - before;
        if (allocated > MAX_ALLOCATION_PER_INPUT) {
            throw new AssertionError(input.length + " bytes made the decoder allocate " + allocated + " bytes: "
                    + java.util.HexFormat.of().formatHex(input));
        }
    }

    private static byte[] header(int kind, int bodyLength, int payloadLength) {
        return Frames.rawFrame(FrameFormat.MAGIC, FrameFormat.VERSION, kind, 1, bodyLength, payloadLength, new byte[0]);
    }

    @Test
    void randomBytesOnlyEverFailAsCorruptFrames() {
        Random random = new Random(20_000);
        Tally tally = new Tally();
        for (int i = 0; i < ROUNDS; i++) {
            byte[] input = new byte[random.nextInt(200)];
            random.nextBytes(input);
            if (i % 2 == 0 && input.length >= 8) {
                // Half of them get past the magic and version checks.
                System.arraycopy(header(0, 0, 0), 0, input, 0, 5);
            }
            feed(input, tally);
        }
        assertTrue(tally.corrupt > ROUNDS * 9 / 10, "corrupt " + tally.corrupt);
    }

    @Test
    void validHeaderWithRandomBodyOnlyEverFailsAsCorruptFrame() {
        Random random = new Random(7);
        Tally tally = new Tally();
        for (int i = 0; i < ROUNDS; i++) {
            byte[] body = new byte[random.nextInt(i % 10 == 0 ? 400 : 40)];
            random.nextBytes(body);
            if (body.length > 0 && random.nextBoolean()) {
                // Small first bytes reach deeper into Kryo: class ids, list counts, short strings.
                body[0] = (byte) random.nextInt(30);
            }
            byte[] payload = new byte[random.nextInt(8)];
            int kind = kinds[random.nextInt(kinds.length)];
            feed(Frames.concat(header(kind, body.length, payload.length), body, payload), tally);
        }
        assertTrue(tally.decoded > 0, "nothing decoded: the fuzz never got past the checks");
    }

    @Test
    void mutatedValidFramesOnlyEverFailAsCorruptFrames() {
        Random random = new Random(99);
        List<Message> samples = Samples.all();
        Tally tally = new Tally();
        for (int i = 0; i < ROUNDS; i++) {
            Message m = samples.get(random.nextInt(samples.size()));
            byte[] frame = Frames.frame(i, m, new byte[random.nextInt(4)]);
            int flips = 1 + random.nextInt(3);
            for (int f = 0; f < flips; f++) {
                int at = random.nextInt(frame.length);
                if (random.nextBoolean()) {
                    frame[at] = (byte) random.nextInt(256);
                } else {
                    frame[at] ^= (byte) (1 << random.nextInt(8));
                }
            }
            feed(frame, tally);
        }
        assertTrue(tally.decoded > 0 && tally.corrupt > 0, "decoded " + tally.decoded + " corrupt " + tally.corrupt);
    }
}
