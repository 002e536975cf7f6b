package io.vortexfs.node.crypto;

import io.vortexfs.protocol.rpc.ClusterKey;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts names that a map is keyed by: deterministic, so that a name is still found by looking up
 * its sealed form, and authenticated. The construction is SIV's (RFC 5297) with HMAC-SHA256 as its
 * pseudo-random function: the first 16 bytes of the HMAC of the name are both its tag and the counter
 * block of AES-256-CTR over it. A sealed name is the URL-safe base64 of tag and ciphertext. Equal
 * names seal equally, which is what lookups need; nothing else about a name shows but its length.
 */
public final class NameCipher {
    private static final int TAG = 16;
    private static final Base64.Encoder ENCODE = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DECODE = Base64.getUrlDecoder();

    private final SecretKeySpec macKey;
    private final SecretKeySpec encKey;

    private NameCipher(byte[] macKey, byte[] encKey) {
        this.macKey = new SecretKeySpec(macKey, "HmacSHA256");
        this.encKey = new SecretKeySpec(encKey, "AES");
    }

    /** A cipher whose two keys are derived from the cluster key for {@code purpose} alone. */
    public static NameCipher of(ClusterKey clusterKey, String purpose) {
        return new NameCipher(clusterKey.derive("name authentication: " + purpose),
                clusterKey.derive("name encryption: " + purpose));
    }

    public String seal(String name) {
        byte[] plain = name.getBytes(StandardCharsets.UTF_8);
        byte[] tag = tag(plain);
        byte[] out = Arrays.copyOf(tag, TAG + plain.length);
        System.arraycopy(ctr(tag, plain), 0, out, TAG, plain.length);
        return ENCODE.encodeToString(out);
    }

    /** The name {@link #seal} made {@code sealed} from; throws when it was not made so under this key. */
    public String open(String sealed) throws AEADBadTagException {
        byte[] in;
        try {
            in = DECODE.decode(sealed);
        } catch (IllegalArgumentException e) {
            throw new AEADBadTagException("a sealed name is not base64");
        }
        if (in.length < TAG) {
            throw new AEADBadTagException("a sealed name is too short");
        }
        byte[] tag = Arrays.copyOf(in, TAG);
        byte[] plain = ctr(tag, Arrays.copyOfRange(in, TAG, in.length));
        if (!MessageDigest.isEqual(tag, tag(plain))) {
            throw new AEADBadTagException("a sealed name fails its authentication");
        }
        return new String(plain, StandardCharsets.UTF_8);
    }

    private byte[] tag(byte[] plain) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(macKey);
            return Arrays.copyOf(mac.doFinal(plain), TAG);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }

    private byte[] ctr(byte[] counter, byte[] bytes) {
        try {
            Cipher c = Cipher.getInstance("AES/CTR/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, encKey, new IvParameterSpec(counter));
            return c.doFinal(bytes);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CTR is missing from this JVM", e);
        }
    }
}
