package io.vortexfs.node.crypto;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vortexfs.protocol.rpc.ClusterKey;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts what a node keeps on disk with AES-256-GCM. A sealed value is
 * <pre>
 *   offset  size  field
 *   0       1     format, 1
 *   1       12    nonce, fresh from a SecureRandom for every seal
 *   13      n     ciphertext
 *   13+n    16    GCM tag over the ciphertext and the associated data
 * </pre>
 * The associated data is not stored: the caller gives the same bytes to seal and to open (a chunk's
 * id, a map's name), so a sealed value moved to another place fails to open, as does one with any bit
 * changed. Random 96-bit nonces stay clear of a collision for far more values than one node writes
 * under a key (NIST SP 800-38D allows 2^32 of them).
 */
public final class Sealer {
    private static final byte FORMAT = 1;
    private static final int NONCE = 12;
    private static final int TAG = 16;
    /** Bytes a sealed value has beyond its plain one. */
    public static final int OVERHEAD = 1 + NONCE + TAG;
    private static final ThreadLocal<Cipher> CIPHERS = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is missing from this JVM", e);
        }
    });

    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();

    private Sealer(byte[] key) {
        if (key.length != 32) {
            throw new IllegalArgumentException("an AES-256 key has 32 bytes, not " + key.length);
        }
        this.key = new SecretKeySpec(key, "AES");
    }

    /** A sealer whose key is derived from the cluster key for {@code purpose} alone. */
    public static Sealer of(ClusterKey clusterKey, String purpose) {
        return new Sealer(clusterKey.derive("encryption at rest: " + purpose));
    }

    public byte[] seal(byte[] plain, byte[] aad) {
        byte[] out = new byte[plain.length + OVERHEAD];
        Cipher c = start(Cipher.ENCRYPT_MODE, out, aad);
        try {
            int n = c.doFinal(plain, 0, plain.length, out, 1 + NONCE);
            assert n == plain.length + TAG;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to encrypt: " + e, e);
        }
        return out;
    }

    /** The plain bytes of {@code sealed}; throws when they were changed or were sealed with other data or key. */
    public byte[] open(byte[] sealed, byte[] aad) throws AEADBadTagException {
        checkHeader(sealed.length, sealed[0]);
        Cipher c = start(Cipher.DECRYPT_MODE, sealed, aad);
        try {
            return c.doFinal(sealed, 1 + NONCE, sealed.length - 1 - NONCE);
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to decrypt: " + e, e);
        }
    }

    /** Seals the readable bytes of {@code plain} (left as they are) into a new buffer the caller releases. */
    public ByteBuf seal(ByteBuf plain, byte[] aad, ByteBufAllocator alloc) {
        int length = plain.readableBytes();
        ByteBuf out = alloc.directBuffer(length + OVERHEAD);
        try {
            byte[] header = new byte[1 + NONCE];
            Cipher c = start(Cipher.ENCRYPT_MODE, header, aad);
            out.writeBytes(header);
            ByteBuffer target = out.nioBuffer(out.writerIndex(), length + TAG);
            for (ByteBuffer part : plain.nioBuffers(plain.readerIndex(), length)) {
                c.update(part, target);
            }
            c.doFinal(ByteBuffer.allocate(0), target);
            out.writerIndex(out.writerIndex() + length + TAG);
            ByteBuf done = out;
            out = null;
            return done;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to encrypt: " + e, e);
        } finally {
            if (out != null) {
                out.release();
            }
        }
    }

    /** Opens the readable bytes of {@code sealed} (left as they are) into a new buffer the caller releases. */
    public ByteBuf open(ByteBuf sealed, byte[] aad, ByteBufAllocator alloc) throws AEADBadTagException {
        int length = sealed.readableBytes();
        checkHeader(length, length == 0 ? 0 : sealed.getByte(sealed.readerIndex()));
        byte[] header = new byte[1 + NONCE];
        sealed.getBytes(sealed.readerIndex(), header);
        Cipher c = start(Cipher.DECRYPT_MODE, header, aad);
        int plainLength = length - OVERHEAD;
        ByteBuf out = alloc.directBuffer(Math.max(plainLength, 1));
        try {
            ByteBuffer source = sealed.nioBuffer(sealed.readerIndex() + header.length, length - header.length);
            int n = c.doFinal(source, out.nioBuffer(0, plainLength));
            out.writerIndex(n);
            ByteBuf done = out;
            out = null;
            return done;
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to decrypt: " + e, e);
        } finally {
            if (out != null) {
                out.release();
            }
        }
    }

    /**
     * A cipher of this thread, set up for one value. Sealing writes the format and a fresh nonce into
     * {@code header}; opening reads the nonce from it.
     */
    private Cipher start(int mode, byte[] header, byte[] aad) {
        if (mode == Cipher.ENCRYPT_MODE) {
            header[0] = FORMAT;
            byte[] nonce = new byte[NONCE];
            random.nextBytes(nonce);
            System.arraycopy(nonce, 0, header, 1, NONCE);
        }
        Cipher c = CIPHERS.get();
        try {
            c.init(mode, key, new GCMParameterSpec(TAG * 8, header, 1, NONCE));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM refused its key or nonce: " + e, e);
        }
        c.updateAAD(aad);
        return c;
    }

    private static void checkHeader(int length, byte format) throws AEADBadTagException {
        if (length < OVERHEAD) {
            throw new AEADBadTagException("a sealed value has at least " + OVERHEAD + " bytes, not " + length);
        }
        if (format != FORMAT) {
            throw new AEADBadTagException("unknown sealed format " + format);
        }
    }
}
