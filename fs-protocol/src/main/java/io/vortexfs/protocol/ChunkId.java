package io.vortexfs.protocol;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The content address of a chunk: a 256-bit hash of its bytes (see {@link ContentHash}), held as four
 * longs so that the record has value semantics (equals, hashCode) and a compact encoding.
 */
public record ChunkId(long w0, long w1, long w2, long w3) implements Comparable<ChunkId> {
    public static final int BYTES = 32;

    public static ChunkId ofDigest(byte[] digest) {
        if (digest.length != BYTES) {
            throw new IllegalArgumentException("digest.length != 32: " + digest.length);
        }
        return new ChunkId(getLong(digest, 0), getLong(digest, 8), getLong(digest, 16), getLong(digest, 24));
    }

    /** The SHA-256 id of {@code length} bytes of {@code data} from {@code offset}: a cluster without encryption at rest. */
    public static ChunkId of(byte[] data, int offset, int length) {
        return ContentHash.SHA256.of(data, offset, length);
    }

    public static ChunkId of(byte[] data) {
        return of(data, 0, data.length);
    }

    public static ChunkId parse(String hex) {
        if (hex.length() != BYTES * 2) {
            throw new IllegalArgumentException("chunk id must have 64 hex digits: " + hex);
        }
        return ofDigest(HexFormat.of().parseHex(hex));
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    public byte[] toBytes() {
        byte[] out = new byte[BYTES];
        putLong(out, 0, w0);
        putLong(out, 8, w1);
        putLong(out, 16, w2);
        putLong(out, 24, w3);
        return out;
    }

    public String hex() {
        return HexFormat.of().formatHex(toBytes());
    }

    @Override
    public int compareTo(ChunkId o) {
        int c = Long.compareUnsigned(w0, o.w0);
        if (c == 0) c = Long.compareUnsigned(w1, o.w1);
        if (c == 0) c = Long.compareUnsigned(w2, o.w2);
        if (c == 0) c = Long.compareUnsigned(w3, o.w3);
        return c;
    }

    @Override
    public String toString() {
        return hex().substring(0, 16);
    }

    private static long getLong(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[at + i] & 0xff);
        }
        return v;
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int i = 7; i >= 0; i--) {
            b[at + i] = (byte) v;
            v >>>= 8;
        }
    }
}
