package io.vortexfs.protocol;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How a chunk's bytes become its {@link ChunkId}. A cluster that stores chunks as they are names them
 * by their SHA-256. One that encrypts them at rest names them by an HMAC-SHA256 under a key derived
 * from the cluster key: someone holding a copy of the disks then cannot confirm that a file they know
 * is stored by hashing it. Either way equal bytes get equal ids, so deduplication works the same.
 */
public final class ContentHash {
    public static final ContentHash SHA256 = new ContentHash(null);

    /** The HMAC key; null for plain SHA-256. */
    private final SecretKeySpec key;

    private ContentHash(SecretKeySpec key) {
        this.key = key;
    }

    /** Ids keyed by {@code key}, which must be 32 bytes that only the cluster's members hold. */
    public static ContentHash keyed(byte[] key) {
        if (key.length != 32) {
            throw new IllegalArgumentException("a content id key has 32 bytes, not " + key.length);
        }
        return new ContentHash(new SecretKeySpec(key, "HmacSHA256"));
    }

    public boolean isKeyed() {
        return key != null;
    }

    public ChunkId of(byte[] data, int offset, int length) {
        return of(ByteBuffer.wrap(data, offset, length));
    }

    /** The id of the remaining bytes of {@code parts}, in order; their positions move to their limits. */
    public ChunkId of(ByteBuffer... parts) {
        if (key == null) {
            var sha = ChunkId.sha256();
            for (ByteBuffer p : parts) {
                sha.update(p);
            }
            return ChunkId.ofDigest(sha.digest());
        }
        Mac mac = newMac();
        for (ByteBuffer p : parts) {
            mac.update(p);
        }
        return ChunkId.ofDigest(mac.doFinal());
    }

    /**
     * A chunk's id and the CRC-32C of each of its {@link Response.ChunkRange#BLOCK}-sized blocks (the
     * last perhaps short), as a writer sends them in a summed {@link Request.PutChunk}.
     */
    public record Summed(ChunkId id, int[] sums) {
    }

    /**
     * The id of {@code length} bytes of {@code data} from {@code offset}, with the sum of each block,
     * taken in one pass: each block is summed right after it is hashed, while it is still in the CPU's
     * cache, so the sums describe the very bytes the id was computed from. A node that finds the
     * bytes it received match the sums therefore holds the bytes the id names, as far as CRC-32C can
     * tell (any damage but a deliberate forgery).
     */
    public Summed summed(byte[] data, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, data.length);
        MessageDigest sha = key == null ? ChunkId.sha256() : null;
        Mac mac = key == null ? null : newMac();
        int[] sums = new int[Response.ChunkRange.blocks(length)];
        for (int i = 0; i < sums.length; i++) {
            int from = offset + i * Response.ChunkRange.BLOCK;
            int n = Math.min(Response.ChunkRange.BLOCK, offset + length - from);
            if (sha != null) {
                sha.update(data, from, n);
            } else {
                mac.update(data, from, n);
            }
            sums[i] = Response.ChunkRange.sum(data, from, n);
        }
        return new Summed(ChunkId.ofDigest(sha != null ? sha.digest() : mac.doFinal()), sums);
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }
}
