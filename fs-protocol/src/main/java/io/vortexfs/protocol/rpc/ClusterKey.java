package io.vortexfs.protocol.rpc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret every member of a cluster and every client of it holds: 32 random bytes, kept in hex in
 * a file only its owner may read. A connection starts with each side proving it holds the key,
 * without sending it, over nonces both sides chose for this connection (see
 * {@code RpcClient#authenticate} and the node's gate).
 */
public final class ClusterKey {
    /** The key's file name in a data directory. */
    public static final String FILE = "cluster.key";
    /** The roles proofs are made for: a node answering a connection, and whoever opened it. */
    public static final String NODE = "vortex-node";
    public static final String CLIENT = "vortex-client";
    private static final int BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] key;

    private ClusterKey(byte[] key) {
        this.key = key;
    }

    public static ClusterKey generate() {
        byte[] k = new byte[BYTES];
        RANDOM.nextBytes(k);
        return new ClusterKey(k);
    }

    /** Reads a key file. The message of an IOException is fit for a user. */
    public static ClusterKey load(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            throw new IOException("no cluster key file " + file);
        }
        if (text.length() != BYTES * 2) {
            throw new IOException("cluster key file " + file + " does not hold a key (" + BYTES * 2 + " hex digits)");
        }
        try {
            return new ClusterKey(HexFormat.of().parseHex(text));
        } catch (IllegalArgumentException e) {
            throw new IOException("cluster key file " + file + " does not hold a key: " + e.getMessage());
        }
    }

    /** The key in {@code file}; a new one, written there, when there is no such file. */
    public static ClusterKey loadOrCreate(Path file) throws IOException {
        if (Files.exists(file)) {
            return load(file);
        }
        ClusterKey k = generate();
        try {
            k.save(file);
        } catch (FileAlreadyExistsException raced) {
            return load(file);
        }
        return k;
    }

    /**
     * Writes the key to {@code file}, readable by its owner only; never replaces an existing file.
     * Written whole under a temporary name and moved into place, so a crash leaves no half key.
     */
    public void save(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, FILE, ".tmp",
                PosixFilePermissions.asFileAttribute(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
        try {
            Files.writeString(tmp, HexFormat.of().formatHex(key) + "\n", StandardCharsets.US_ASCII);
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            if (Files.exists(file)) {
                throw new FileAlreadyExistsException(file.toString());
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A fresh random nonce, in hex. */
    public static String nonce() {
        byte[] n = new byte[BYTES];
        RANDOM.nextBytes(n);
        return HexFormat.of().formatHex(n);
    }

    /** A proof over a connection without TLS: {@link #proof(String, String, String, String)} bound to nothing. */
    public String proof(String role, String firstNonce, String secondNonce) {
        return proof(role, firstNonce, secondNonce, "");
    }

    /**
     * HMAC-SHA256 over the role, the two nonces and the binding, in hex. The role keeps a proof made
     * by one side from being reflected as the other's; the nonces tie it to this connection; the
     * binding, the fingerprint of the node's TLS certificate as each side sees it, ties it to this
     * TLS session, so that nobody can end TLS in the middle and relay the handshake.
     */
    public String proof(String role, String firstNonce, String secondNonce, String binding) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((role + "\n" + firstNonce + "\n" + secondNonce + "\n" + binding).getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }

    /**
     * A key of its own for {@code purpose}: HMAC-SHA256 of the purpose's name under the cluster key.
     * Keys for different purposes (content ids, encryption at rest) are unrelated to each other and
     * to the handshake's proofs, so one use cannot be turned against another.
     */
    public byte[] derive(String purpose) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(("vortexfs derived key\n" + purpose).getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }

    /** How a cluster that encrypts at rest names chunks: by an HMAC under a key derived from this one. */
    public io.vortexfs.protocol.ContentHash contentIds() {
        return io.vortexfs.protocol.ContentHash.keyed(derive("content ids"));
    }

    /**
     * What a client of a node's REST file API sends as its bearer token: derived from the key, so
     * the key itself never travels in an HTTP header.
     */
    public String apiToken() {
        return HexFormat.of().formatHex(derive("rest api token"));
    }

    /** Whether {@code other} is the same key. */
    public boolean sameAs(ClusterKey other) {
        return MessageDigest.isEqual(key, other.key);
    }

    /** Compares two proofs in time independent of where they differ. */
    public static boolean same(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
    }
}
