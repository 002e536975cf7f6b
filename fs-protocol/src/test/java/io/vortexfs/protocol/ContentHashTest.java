package io.vortexfs.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vortexfs.protocol.rpc.ClusterKey;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ContentHashTest {
    private static final byte[] DATA = "the quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.US_ASCII);

    @Test
    void plainIdsAreTheSha256OfTheBytes() {
        assertEquals("05c6e08f1d9fdafa03147fcb8f82f124c76d2f70e3d989dc8aadb5e7d7450bec",
                ContentHash.SHA256.of(DATA, 0, DATA.length).hex());
        assertFalse(ContentHash.SHA256.isKeyed());
        assertEquals(ChunkId.of(DATA), ContentHash.SHA256.of(DATA, 0, DATA.length));
    }

    @Test
    void keyedIdsAreAnHmacThatDependsOnTheKeyAndStillDeduplicate() {
        ClusterKey k = ClusterKey.generate();
        ContentHash keyed = k.contentIds();
        assertTrue(keyed.isKeyed());
        assertEquals(keyed.of(DATA, 0, DATA.length), k.contentIds().of(DATA, 0, DATA.length), "equal bytes, equal ids");
        assertNotEquals(ContentHash.SHA256.of(DATA, 0, DATA.length), keyed.of(DATA, 0, DATA.length));
        assertNotEquals(keyed.of(DATA, 0, DATA.length), ClusterKey.generate().contentIds().of(DATA, 0, DATA.length));
        // RFC 4231 test case 2: HMAC-SHA256 with a key padded to our 32 bytes is still HMAC-SHA256.
        byte[] jefe = new byte[32];
        System.arraycopy("Jefe".getBytes(StandardCharsets.US_ASCII), 0, jefe, 0, 4);
        byte[] msg = "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII);
        assertEquals("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                ContentHash.keyed(jefe).of(msg, 0, msg.length).hex());
        assertThrows(IllegalArgumentException.class, () -> ContentHash.keyed(new byte[16]));
    }

    @Test
    void scatteredBuffersHashAsTheirConcatenation() {
        ContentHash keyed = ClusterKey.generate().contentIds();
        for (ContentHash h : new ContentHash[] {ContentHash.SHA256, keyed}) {
            ByteBuffer a = ByteBuffer.wrap(DATA, 0, 10);
            ByteBuffer b = ByteBuffer.allocateDirect(DATA.length - 10).put(DATA, 10, DATA.length - 10).flip();
            assertEquals(h.of(DATA, 0, DATA.length), h.of(a, b));
            assertEquals(h.of(DATA, 3, 5), h.of(ByteBuffer.wrap(DATA, 3, 5)));
        }
        assertEquals(64, HexFormat.of().formatHex(keyed.of(DATA, 0, 0).toBytes()).length());
    }

    @Test
    void summedIdsAreTheSameIdsWithTheSumOfEveryBlock() {
        int block = Response.ChunkRange.BLOCK;
        byte[] data = new byte[3 * block + 17];
        new java.util.Random(5).nextBytes(data);
        for (ContentHash h : new ContentHash[] {ContentHash.SHA256, ClusterKey.generate().contentIds()}) {
            for (int[] span : new int[][] {{0, 0}, {0, 1}, {0, block}, {0, block + 1}, {0, data.length}, {7, 2 * block}}) {
                int offset = span[0];
                int length = span[1];
                ContentHash.Summed summed = h.summed(data, offset, length);
                assertEquals(h.of(data, offset, length), summed.id(), "offset " + offset + ", length " + length);
                assertEquals(Response.ChunkRange.blocks(length), summed.sums().length);
                for (int i = 0; i < summed.sums().length; i++) {
                    int from = offset + i * block;
                    assertEquals(Response.ChunkRange.sum(data, from, Math.min(block, offset + length - from)),
                            summed.sums()[i], "block " + i + " of length " + length);
                }
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> ContentHash.SHA256.summed(data, 1, data.length));
    }
}
