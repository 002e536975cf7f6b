package io.vortexfs.node.chunks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.vortexfs.node.crypto.Sealer;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ContentHash;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import javax.crypto.AEADBadTagException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Content-addressed chunk files under {@code DIR/chunks}. A chunk named by the hash of its bytes
 * (see {@link ContentHash}) lives at {@code chunks/<first two hex digits>/<64 hex digits>}; identical
 * content is therefore stored once. In a cluster that encrypts at rest the file holds the chunk sealed
 * by a {@link Sealer}, with its id as associated data, so a file changed on disk, or moved under
 * another chunk's name, fails to open.
 *
 * <p>Invariants: a file under its final name always holds complete bytes that were fsynced before
 * the rename, and the rename itself is made durable by an fsync of the directory; readers never see
 * a partial chunk. Every read re-hashes the bytes and refuses a mismatch. File names are built only
 * from a {@link ChunkId}'s hex digits, so nothing from the network can name a path outside the store.
 */
public final class ChunkStore {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkStore.class);

    private final Path root;
    private final Path tmp;
    private final ContentHash ids;
    /** Seals chunk files; null when they hold the chunks as they are. */
    private final Sealer sealer;
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong fsyncs = new AtomicLong();
    /**
     * Locks striped by chunk id. A rename replaces an existing file silently, so without them two
     * writers of the same new chunk would both see it absent, both rename, and both count it.
     */
    private final Object[] stripes = new Object[64];

    /** A store of plain chunks named by their SHA-256. */
    public ChunkStore(Path dataDir) throws IOException {
        this(dataDir, ContentHash.SHA256, null);
    }

    /** A store whose chunks are named by {@code ids} and, unless {@code sealer} is null, sealed on disk. */
    public ChunkStore(Path dataDir, ContentHash ids, Sealer sealer) throws IOException {
        this.root = dataDir.resolve("chunks");
        this.ids = ids;
        this.sealer = sealer;
        this.tmp = root.resolve("tmp");
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new Object();
        }
        Files.createDirectories(tmp);
        clearTemporaries();
        scan();
    }

    /** Chunks stored. */
    public long count() {
        return count.get();
    }

    /** Bytes of chunk files stored (a sealed chunk's file is {@link Sealer#OVERHEAD} bytes longer). */
    public long bytes() {
        return bytes.get();
    }

    /** Fsyncs of chunk files and chunk directories since the store opened. */
    public long fsyncs() {
        return fsyncs.get();
    }

    public Path root() {
        return root;
    }

    public Path pathOf(ChunkId id) {
        String hex = id.hex();
        return root.resolve(hex.substring(0, 2)).resolve(hex);
    }

    /** True when the chunk is stored durably (see {@link #existsDurably}). */
    public boolean contains(ChunkId id) {
        return existsDurably(id, pathOf(id));
    }

    /**
     * Moves a damaged copy of chunk {@code id} out of the store, to {@code DIR/damaged-chunks/}, where
     * an operator can look at it and nothing serves it. Returns false when it was not stored.
     */
    public boolean quarantine(ChunkId id) throws IOException {
        Path target = pathOf(id);
        Path damaged = root.resolveSibling("damaged-chunks");
        Files.createDirectories(damaged);
        synchronized (stripeOf(id)) {
            long size;
            try {
                size = Files.size(target);
            } catch (NoSuchFileException e) {
                return false;
            }
            Files.move(target, damaged.resolve(id.hex()), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            fsyncDirectory(damaged);
            fsyncs.incrementAndGet();
            gone(target, size);
            return true;
        }
    }

    /**
     * Deletes chunk {@code id} durably (the directory is fsynced). Returns false when it was not
     * stored. The caller decides that the copy is not needed; nothing here checks who else holds it.
     */
    public boolean remove(ChunkId id) throws IOException {
        return removeIfOlder(id, Long.MAX_VALUE) >= 0;
    }

    /**
     * Stores the readable bytes of {@code data} as chunk {@code id}, after checking that they hash to
     * it. Returns once the chunk is durable. Does not release {@code data}.
     */
    public void put(ChunkId id, ByteBuf data) throws FsException {
        ChunkId actual = idOf(data);
        if (!actual.equals(id)) {
            throw new FsException(ErrorCode.CORRUPT, "chunk bytes hash to " + actual + ", not " + id);
        }
        Path target = pathOf(id);
        if (refreshIfPresent(id, target)) {
            return;
        }
        ByteBuf sealed = sealer == null ? null : sealer.seal(data, id.toBytes(), PooledByteBufAllocator.DEFAULT);
        try {
            store(id, sealed == null ? data : sealed, target);
        } finally {
            if (sealed != null) {
                sealed.release();
            }
        }
    }

    /** Writes {@code file}'s readable bytes durably as chunk {@code id}'s file, unless another writer did first. */
    private void store(ChunkId id, ByteBuf file, Path target) throws FsException {
        Path temp = tmp.resolve(UUID.randomUUID() + ".part");
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer[] parts = file.nioBuffers(file.readerIndex(), file.readableBytes());
                long left = file.readableBytes();
                while (left > 0) {
                    left -= ch.write(parts);
                }
                ch.force(true);
                fsyncs.incrementAndGet();
            }
            // The temporary file is written outside the lock; only the final check-and-rename is inside.
            synchronized (stripeOf(id)) {
                if (Files.exists(target)) {
                    deleteQuietly(temp);
                    touch(target);
                    return;
                }
                Path dir = target.getParent();
                boolean newDir = !Files.isDirectory(dir);
                Files.createDirectories(dir);
                if (newDir) {
                    fsyncDirectory(root);
                    fsyncs.incrementAndGet();
                }
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("the data directory does not support atomic rename", e);
                }
                fsyncDirectory(dir);
                fsyncs.incrementAndGet();
                count.incrementAndGet();
                bytes.addAndGet(file.readableBytes());
            }
        } catch (IOException e) {
            deleteQuietly(temp);
            if (e.getMessage() != null && e.getMessage().contains("No space")) {
                throw new FsException(ErrorCode.NO_SPACE, "no space left for chunk " + id, e);
            }
            throw new FsException(ErrorCode.IO, "storing chunk " + id + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * True when the chunk is stored. Checked under the chunk's stripe lock, so a chunk that another
     * thread has renamed into place but whose directory it has not yet fsynced is not reported as
     * stored until it is durable.
     */
    private boolean existsDurably(ChunkId id, Path target) {
        synchronized (stripeOf(id)) {
            return Files.exists(target);
        }
    }

    /**
     * True when the chunk is stored durably, in which case its file's modification time is set to
     * now: a chunk stored again (a writer deduplicated against it) is young again, so the garbage
     * collection's grace protects it until the writer's commit references it. Under the chunk's
     * stripe lock, as {@link #removeIfOlder} checks the time.
     */
    private boolean refreshIfPresent(ChunkId id, Path target) throws FsException {
        synchronized (stripeOf(id)) {
            if (!Files.exists(target)) {
                return false;
            }
            touch(target);
            return true;
        }
    }

    private static void touch(Path target) throws FsException {
        try {
            Files.setLastModifiedTime(target, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
        } catch (NoSuchFileException e) {
            throw new FsException(ErrorCode.IO, "chunk file " + target.getFileName() + " vanished while being stored");
        } catch (IOException e) {
            throw new FsException(ErrorCode.IO, "cannot refresh chunk file " + target.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /** When chunk {@code id} was last stored (its file's modification time), or -1 when it is not stored. */
    public long storedAtMillis(ChunkId id) {
        try {
            return Files.getLastModifiedTime(pathOf(id)).toMillis();
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * Deletes chunk {@code id} if it was last stored before {@code cutoffMillis}; returns its size, or
     * -1 when it was younger or absent. Under the stripe lock, so a writer storing it again at the same
     * moment either makes it young first or, coming second, finds it gone and writes it anew.
     */
    public long removeIfOlder(ChunkId id, long cutoffMillis) throws IOException {
        Path target = pathOf(id);
        synchronized (stripeOf(id)) {
            long size;
            try {
                if (Files.getLastModifiedTime(target).toMillis() >= cutoffMillis) {
                    return -1;
                }
                size = Files.size(target);
            } catch (NoSuchFileException e) {
                return -1;
            }
            Files.delete(target);
            gone(target, size);
            return size;
        }
    }

    /** The lock that orders every check-and-change of chunk {@code id}'s file. */
    private Object stripeOf(ChunkId id) {
        return stripes[(int) (id.w3() & (stripes.length - 1))];
    }

    /** Makes the departure of a chunk file of {@code size} bytes durable and counts it; under its stripe lock. */
    private void gone(Path target, long size) throws IOException {
        fsyncDirectory(target.getParent());
        fsyncs.incrementAndGet();
        count.decrementAndGet();
        bytes.addAndGet(-size);
    }

    /**
     * Reads chunk {@code id} into a new buffer (the caller releases it), verifying its hash, and first
     * its tag when it is sealed.
     */
    public ByteBuf get(ChunkId id, ByteBufAllocator alloc) throws FsException {
        Path path = pathOf(id);
        ByteBuf buf = null;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw new FsException(ErrorCode.CORRUPT, "chunk file " + id + " is too large: " + size);
            }
            buf = alloc.directBuffer((int) size);
            long pos = 0;
            while (pos < size) {
                int n = buf.writeBytes(ch, pos, (int) (size - pos));
                if (n < 0) {
                    break;
                }
                pos += n;
            }
            if (sealer != null) {
                ByteBuf sealed = buf;
                buf = null;
                try {
                    buf = sealer.open(sealed, id.toBytes(), alloc);
                } catch (AEADBadTagException e) {
                    LOG.error("chunk {} is corrupt on disk (it fails its authentication: {})", id, e.getMessage());
                    throw new FsException(ErrorCode.CORRUPT, "chunk " + id + " is corrupt on disk");
                } finally {
                    sealed.release();
                }
            }
            ChunkId actual = idOf(buf);
            if (!actual.equals(id)) {
                LOG.error("chunk {} is corrupt on disk (its bytes hash to {})", id, actual);
                throw new FsException(ErrorCode.CORRUPT, "chunk " + id + " is corrupt on disk");
            }
            ByteBuf out = buf;
            buf = null;
            return out;
        } catch (NoSuchFileException e) {
            throw new FsException(ErrorCode.NOT_FOUND, "no chunk " + id);
        } catch (IOException e) {
            throw new FsException(ErrorCode.IO, "reading chunk " + id + " failed: " + e.getMessage(), e);
        } finally {
            if (buf != null) {
                buf.release();
            }
        }
    }

    /** The SHA-256 of a buffer's readable bytes, without copying them. */
    public static ChunkId hash(ByteBuf data) {
        return ContentHash.SHA256.of(data.nioBuffers(data.readerIndex(), data.readableBytes()));
    }

    /** The id this store gives a buffer's readable bytes, without copying them. */
    public ChunkId idOf(ByteBuf data) {
        return ids.of(data.nioBuffers(data.readerIndex(), data.readableBytes()));
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private void clearTemporaries() throws IOException {
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(tmp)) {
            for (Path p : leftovers) {
                deleteQuietly(p);
            }
        }
    }

    /** Calls {@code each} with the id of every stored chunk; the store may change meanwhile. */
    public void forEachId(java.util.function.Consumer<ChunkId> each) throws IOException {
        try (Stream<Path> files = Files.walk(root, 2)) {
            files.filter(p -> !p.startsWith(tmp) && isChunkName(p.getFileName().toString()))
                    .forEach(p -> each.accept(ChunkId.parse(p.getFileName().toString())));
        }
    }

    private void scan() throws IOException {
        try (Stream<Path> files = Files.walk(root, 2)) {
            files.filter(p -> !p.startsWith(tmp) && isChunkName(p.getFileName().toString()) && Files.isRegularFile(p))
                    .forEach(p -> {
                        count.incrementAndGet();
                        try {
                            bytes.addAndGet(Files.size(p));
                        } catch (IOException e) {
                            LOG.warn("cannot size chunk file {}: {}", p, e.toString());
                        }
                    });
        }
    }

    private static boolean isChunkName(String name) {
        if (name.length() != ChunkId.BYTES * 2) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (Character.digit(name.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", p, e.toString());
        }
    }
}
