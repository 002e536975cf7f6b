package io.vortexfs.node.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.vortexfs.protocol.rpc.ClusterKey;
import io.vortexfs.protocol.testing.LeakCheck;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakCheck.class)
class SealerTest {
    private static final ClusterKey KEY = ClusterKey.generate();
    private static final byte[] AAD = "place".getBytes(StandardCharsets.UTF_8);
    private final Sealer sealer = Sealer.of(KEY, "tests");

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    @Test
    void valuesOfEverySizeRoundTripAndGrowByTheOverhead() throws Exception {
        for (int n : new int[] {0, 1, 15, 16, 17, 1000, 1 << 16}) {
            byte[] plain = random(n);
            byte[] sealed = sealer.seal(plain, AAD);
            assertEquals(n + Sealer.OVERHEAD, sealed.length);
            assertArrayEquals(plain, sealer.open(sealed, AAD));
        }
    }

    @Test
    void theSameValueSealsDifferentlyEveryTime() {
        byte[] plain = random(64);
        byte[] a = sealer.seal(plain, AAD);
        byte[] b = sealer.seal(plain, AAD);
        assertFalse(Arrays.equals(a, b), "a fresh nonce per seal");
        assertFalse(Arrays.equals(Arrays.copyOfRange(a, 1, 13), Arrays.copyOfRange(b, 1, 13)));
    }

    @Test
    void everyFlippedBitIsDetected() {
        byte[] sealed = sealer.seal(random(40), AAD);
        for (int bit = 0; bit < sealed.length * 8; bit++) {
            byte[] bad = sealed.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            assertThrows(AEADBadTagException.class, () -> sealer.open(bad, AAD), "bit " + bit);
        }
    }

    @Test
    void otherAssociatedDataOtherPurposeOtherKeyOrTruncationFailToOpen() {
        byte[] sealed = sealer.seal(random(100), AAD);
        assertThrows(AEADBadTagException.class, () -> sealer.open(sealed, "elsewhere".getBytes(StandardCharsets.UTF_8)));
        assertThrows(AEADBadTagException.class, () -> Sealer.of(KEY, "other").open(sealed, AAD));
        assertThrows(AEADBadTagException.class, () -> Sealer.of(ClusterKey.generate(), "tests").open(sealed, AAD));
        assertThrows(AEADBadTagException.class, () -> sealer.open(Arrays.copyOf(sealed, sealed.length - 1), AAD));
        assertThrows(AEADBadTagException.class, () -> sealer.open(new byte[3], AAD));
    }

    @Test
    void buffersSealAndOpenLikeArraysWithoutConsumingTheirInput() throws Exception {
        byte[] plain = random(300_000);
        CompositeByteBuf scattered = Unpooled.compositeBuffer();
        scattered.addComponent(true, Unpooled.wrappedBuffer(Arrays.copyOfRange(plain, 0, 1000)));
        scattered.addComponent(true, Unpooled.directBuffer().writeBytes(plain, 1000, plain.length - 1000));
        ByteBuf sealed = sealer.seal(scattered, AAD, PooledByteBufAllocator.DEFAULT);
        try {
            assertEquals(plain.length, scattered.readableBytes());
            byte[] sealedBytes = ByteBufUtil.getBytes(sealed);
            assertArrayEquals(plain, sealer.open(sealedBytes, AAD), "a sealed buffer opens as an array");
            ByteBuf opened = sealer.open(Unpooled.wrappedBuffer(sealer.seal(plain, AAD)), AAD, PooledByteBufAllocator.DEFAULT);
            try {
                assertArrayEquals(plain, ByteBufUtil.getBytes(opened), "a sealed array opens as a buffer");
            } finally {
                opened.release();
            }
            sealedBytes[sealedBytes.length / 2] ^= 1;
            assertThrows(AEADBadTagException.class,
                    () -> sealer.open(Unpooled.wrappedBuffer(sealedBytes), AAD, PooledByteBufAllocator.DEFAULT));
        } finally {
            sealed.release();
            scattered.release();
        }
    }
}
