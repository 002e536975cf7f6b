package io.vortexfs.protocol;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
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
        Mac mac;
        try {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
        for (ByteBuffer p : parts) {
            mac.update(p);
        }
        return ChunkId.ofDigest(mac.doFinal());
    }
}
