package io.vortexfs.protocol.rpc;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import javax.net.ssl.SSLException;

/**
 * TLS for the cluster's connections. Trust does not come from certificates: a node makes a
 * self-signed one when it starts, a client accepts any, and the cluster-key handshake that follows
 * binds the certificate the client saw into both proofs (see {@link ClusterKey#proof}). A man in the
 * middle who ends TLS with a certificate of his own shows the client another fingerprint than the
 * node proves over, so the client refuses him; without the key he cannot make a proof of his own.
 */
public final class Tls {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Tls() {
    }

    /** A node's side of TLS: its context and the fingerprint of its certificate. */
    public record Server(SslContext context, String fingerprint) {
    }

    /** Makes a fresh key pair and self-signed certificate, and a server context around them. */
    public static Server server() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            KeyPair pair = g.generateKeyPair();
            X509Certificate cert = selfSigned(pair, "vortexfs-node");
            return new Server(SslContextBuilder.forServer(pair.getPrivate(), cert).build(), fingerprint(cert));
        } catch (GeneralSecurityException | SSLException e) {
            throw new IllegalStateException("cannot make the node's TLS certificate: " + e.getMessage(), e);
        }
    }

    /** A client's context: any certificate is accepted here, and bound by the handshake instead. */
    public static SslContext client() {
        try {
            return SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** Hex SHA-256 of a certificate's encoding. */
    public static String fingerprint(Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot fingerprint a certificate", e);
        }
    }

    // ---- a minimal X.509 v3 certificate, DER-encoded by hand (RFC 5280 section 4.1) ----

    private static final byte[] ECDSA_WITH_SHA256 = {0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02};
    private static final byte[] COMMON_NAME = {0x06, 0x03, 0x55, 0x04, 0x03};

    static X509Certificate selfSigned(KeyPair pair, String commonName) throws GeneralSecurityException {
        byte[] algorithm = der(0x30, ECDSA_WITH_SHA256);
        byte[] name = der(0x30, der(0x31, der(0x30, COMMON_NAME, der(0x0c, commonName.getBytes(StandardCharsets.UTF_8)))));
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        byte[] validity = der(0x30, time(now.minusDays(1)), time(now.plusYears(20)));
        byte[] serial = der(0x02, new BigInteger(63, RANDOM).add(BigInteger.ONE).toByteArray());
        byte[] version = der(0xa0, der(0x02, new byte[] {2}));
        byte[] tbs = der(0x30, version, serial, algorithm, name, validity, name, pair.getPublic().getEncoded());
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(pair.getPrivate(), RANDOM);
        s.update(tbs);
        byte[] sig = s.sign();
        byte[] bits = new byte[sig.length + 1]; // no unused bits
        System.arraycopy(sig, 0, bits, 1, sig.length);
        byte[] cert = der(0x30, tbs, algorithm, der(0x03, bits));
        X509Certificate parsed = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(cert));
        parsed.verify(pair.getPublic());
        return parsed;
    }

    private static byte[] time(ZonedDateTime t) {
        // GeneralizedTime works for every year; RFC 5280 wants UTCTime before 2050.
        if (t.getYear() < 2050) {
            return der(0x17, t.format(DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'")).getBytes(StandardCharsets.US_ASCII));
        }
        return der(0x18, t.format(DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'")).getBytes(StandardCharsets.US_ASCII));
    }

    /** One DER element: tag, length, and the contents concatenated. */
    private static byte[] der(int tag, byte[]... contents) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] c : contents) {
            body.writeBytes(c);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = body.size();
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else if (n < 0x10000) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        } else {
            throw new IllegalArgumentException("DER element too long: " + n);
        }
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }
}
