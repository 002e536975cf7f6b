package io.vortexfs.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChunkIdTest {

    @Test
    void isTheSha256OfTheContent() {
        ChunkId id = ChunkId.of("abc".getBytes(StandardCharsets.US_ASCII));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", id.hex());
        assertEquals("ba7816bf8f01cfea", id.toString());
        byte[] padded = "xxabcyy".getBytes(StandardCharsets.US_ASCII);
        assertEquals(id, ChunkId.of(padded, 2, 3));
    }

    @Test
    void hexRoundTrips() {
        Random r = new Random(1);
        for (int i = 0; i < 1_000; i++) {
            byte[] digest = new byte[32];
            r.nextBytes(digest);
            ChunkId id = ChunkId.ofDigest(digest);
            assertEquals(HexFormat.of().formatHex(digest), id.hex());
            assertEquals(id, ChunkId.parse(id.hex()));
            assertEquals(id, ChunkId.parse(id.hex().toUpperCase()));
            assertArrayEquals(digest, id.toBytes());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "ab", "zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"})
    void rejectsMalformedHex(String hex) {
        assertThrows(IllegalArgumentException.class, () -> ChunkId.parse(hex));
    }

    @Test
    void rejectsDigestOfWrongLength() {
        assertThrows(IllegalArgumentException.class, () -> ChunkId.ofDigest(new byte[31]));
    }

    @Test
    void comparesAsUnsignedBytes() {
        Random r = new Random(2);
        for (int i = 0; i < 10_000; i++) {
            byte[] a = new byte[32];
            byte[] b = new byte[32];
            r.nextBytes(a);
            if (i % 3 == 0) {
                System.arraycopy(a, 0, b, 0, 32);
                b[r.nextInt(32)] ^= (byte) (1 << r.nextInt(8));
            } else {
                r.nextBytes(b);
            }
            int expected = Integer.signum(Arrays.compareUnsigned(a, b));
            ChunkId x = ChunkId.ofDigest(a);
            ChunkId y = ChunkId.ofDigest(b);
            assertEquals(expected, Integer.signum(x.compareTo(y)));
            assertEquals(-expected, Integer.signum(y.compareTo(x)));
        }
        ChunkId high = new ChunkId(-1L, 0, 0, 0);
        ChunkId low = new ChunkId(1L, 0, 0, 0);
        assertTrue(high.compareTo(low) > 0, "0xff.. sorts after 0x00..01");
        assertEquals(0, high.compareTo(new ChunkId(-1L, 0, 0, 0)));
    }

    @Test
    void equalsFollowsContent() {
        assertEquals(Samples.chunkId("a"), Samples.chunkId("a"));
        assertEquals(Samples.chunkId("a").hashCode(), Samples.chunkId("a").hashCode());
        assertNotEquals(Samples.chunkId("a"), Samples.chunkId("b"));
    }
}
