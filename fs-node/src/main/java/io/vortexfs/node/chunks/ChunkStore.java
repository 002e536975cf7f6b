package io.vortexfs.node.chunks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.FileRegion;
import io.vortexfs.node.crypto.Sealer;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ContentHash;
import io.vortexfs.protocol.DirectIo;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Response;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
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
 *
 * <p>Where the data directory's filesystem allows it, chunk files are written with direct I/O
 * ({@code O_DIRECT}), around the page cache: a chunk is written once and read seldom, and filling
 * the page cache with it cost the kernel several times the CPU of the write itself (on the VM of
 * docs/BENCHMARKS.md, 1.8–2.9 s of system time per GiB against 0.2 s direct). Reads still go
 * through the page cache.
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
    /** Block sums of chunks stored or read lately, for reads of part of a chunk (plain stores only). */
    private final BlockSums blockSums = new BlockSums(16_384);
    /**
     * The alignment of direct writes (offsets, lengths and buffer addresses) in bytes, or 0 when the
     * data directory's filesystem does not take them (some network and FUSE filesystems).
     */
    private final int directAlignment;
    /** Bytes a direct write stages at a time. */
    static final int STAGING_BYTES = 1 << 20;
    /**
     * Each writing thread's buffer that a chunk passes through on its way to a direct write, shared by
     * every store in the process; aligned for each write with {@link ByteBuffer#alignedSlice}.
     */
    private static final ThreadLocal<ByteBuffer> STAGING =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(STAGING_BYTES + DirectIo.MAX_ALIGNMENT));

    /** A store of plain chunks named by their SHA-256. */
    public ChunkStore(Path dataDir) throws IOException {
        this(dataDir, ContentHash.SHA256, null);
    }

    /** A store whose chunks are named by {@code ids} and, unless {@code sealer} is null, sealed on disk. */
    public ChunkStore(Path dataDir, ContentHash ids, Sealer sealer) throws IOException {
        this(dataDir, ids, sealer, true);
    }

    /** As above; with {@code tryDirect} false chunk files are written through the page cache even where direct I/O works. */
    ChunkStore(Path dataDir, ContentHash ids, Sealer sealer, boolean tryDirect) throws IOException {
        this.root = dataDir.resolve("chunks");
        this.ids = ids;
        this.sealer = sealer;
        this.tmp = root.resolve("tmp");
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new Object();
        }
        Files.createDirectories(tmp);
        clearStaging(Long.MAX_VALUE); // whatever a writer left there before this start
        scan();
        this.directAlignment = tryDirect ? probeDirectWrites(tmp) : 0;
    }

    /**
     * Whether chunk files are written with direct I/O. False on a filesystem that refuses it, where
     * they go through the page cache.
     */
    public boolean writesDirect() {
        return directAlignment > 0;
    }

    /** The alignment direct writes into {@code dir} need, or 0 when its filesystem refuses them. */
    private static int probeDirectWrites(Path dir) {
        try {
            return DirectIo.alignment(dir);
        } catch (IOException e) {
            LOG.info("chunk files in {} are written through the page cache: direct I/O is refused there ({})", dir,
                    e.getMessage());
            return 0;
        }
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
            blockSums.forget(id);
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
        storeChecked(id, data, sealer == null ? BlockSums.of(data) : null);
    }

    /**
     * Stores the readable bytes of {@code data} as chunk {@code id}, after checking each block against
     * {@code sums}, the CRC-32C a writer took of it in the same pass as the id
     * ({@link io.vortexfs.protocol.ContentHash#summed}). This proves the bytes are the ones the
     * writer hashed, damaged neither on the way nor in memory since, at the cost of a CRC instead of
     * a SHA-256; it does not prove the writer hashed them right, which a writer holding the cluster
     * key is trusted to do (see ARCHITECTURE.md, "The path of a write"). Returns once the chunk is
     * durable. Does not release {@code data}.
     *
     * <p>Trust stops at the writer's own file. When the chunk is already stored, this writer's file
     * will hold the bytes already here, not the ones it sent; if those came from another writer and
     * were never hashed, they are hashed now, and replaced by these (hashed) if they are not what the
     * id names, so one faulty writer's chunk cannot reach another's file through deduplication. A
     * sealed store, which keeps no sums to tell where its bytes came from, hashes every put.
     */
    public void putSummed(ChunkId id, ByteBuf data, int[] sums) throws FsException {
        if (sealer != null || data.readableBytes() == 0) {
            put(id, data);
            return;
        }
        BlockSums.Sums actual = BlockSums.of(data, false);
        int bad = Arrays.mismatch(actual.blocks(), sums);
        if (bad >= 0) {
            throw new FsException(ErrorCode.CORRUPT, actual.blocks().length != sums.length
                    ? "chunk " + id + " has " + actual.blocks().length + " blocks, its writer summed " + sums.length
                    : "block " + bad + " of chunk " + id + " does not match its writer's sum: damaged on the way");
        }
        if (!storeChecked(id, data, actual) && !keepStoredIfGood(id)) {
            put(id, data); // stored again, hashed
        }
    }

    /**
     * Stores as chunk {@code id} the file {@code temp} in this store's staging directory, which a
     * writer on this machine wrote and fsynced there with the bytes it summed as {@code sums} (a
     * short-circuit write, see {@link io.vortexfs.protocol.Request.AdoptChunk}). The file is put in
     * place as the store's own would be; when the chunk is stored already, the stored bytes are kept
     * on the terms of {@link #putSummed} and the file is used only if they turn out bad. The writer
     * is trusted for the file as for a summed put's bytes, and its sums are kept to check the
     * chunk's later reads; nothing here reads the file's bytes back, which would cost a read of the
     * disk as large as the write. {@code temp} is gone when this returns, whatever the outcome, unless it is not in the
     * staging directory at all (refused without being touched). {@code sums} null
     * stands for sums that did not arrive whole.
     */
    public void adopt(ChunkId id, Path temp, int length, int[] sums) throws FsException {
        if (!tmp.equals(temp.getParent())) {
            throw new FsException(ErrorCode.INVALID, temp + " is not in the staging directory " + tmp);
        }
        try {
            if (sealer != null) {
                throw new FsException(ErrorCode.INVALID, "chunk files here are sealed: none is taken from a writer");
            }
            if (sums == null || sums.length != Response.ChunkRange.blocks(length)) {
                throw new FsException(ErrorCode.INVALID, "the block sums sent do not fit " + length + " bytes");
            }
            checkStaged(temp, length, id);
            BlockSums.Sums claimed = new BlockSums.Sums(length, sums.clone(), false);
            if (install(id, temp, pathOf(id), length, false)) {
                blockSums.put(id, claimed);
                return;
            }
            if (!keepStoredIfGood(id) && install(id, temp, pathOf(id), length, false)) {
                blockSums.put(id, claimed);
            }
        } finally {
            deleteQuietly(temp);
        }
    }

    /**
     * Refuses a staged file that is not a regular file of {@code length} bytes with one link, owned
     * by the owner of the staging directory. A file of another owner (a writer running as root
     * beside a node running as a service account) could not be touched by the node later, as a
     * stored chunk is on every put of it.
     */
    private void checkStaged(Path temp, int length, ChunkId id) throws FsException {
        String name = temp.getFileName().toString();
        java.util.Map<String, Object> a;
        Object dirOwner;
        try {
            a = Files.readAttributes(temp, "unix:isRegularFile,size,nlink,uid", LinkOption.NOFOLLOW_LINKS);
            dirOwner = Files.getAttribute(tmp, "unix:uid");
        } catch (NoSuchFileException e) {
            throw new FsException(ErrorCode.NOT_FOUND, "no staged file " + name + " for chunk " + id);
        } catch (IOException | UnsupportedOperationException e) {
            throw new FsException(ErrorCode.INVALID, "cannot check staged file " + name + ": " + e.getMessage());
        }
        if (!Boolean.TRUE.equals(a.get("isRegularFile")) || !Integer.valueOf(1).equals(a.get("nlink"))) {
            throw new FsException(ErrorCode.INVALID, name + " is not a regular file with one link");
        }
        if (!dirOwner.equals(a.get("uid"))) {
            throw new FsException(ErrorCode.INVALID, name + " belongs to uid " + a.get("uid") + ", not to the store's owner");
        }
        if (!Long.valueOf(length).equals(a.get("size"))) {
            throw new FsException(ErrorCode.INVALID, "staged file " + name + " holds " + a.get("size")
                    + " bytes, not chunk " + id + "'s " + length);
        }
    }

    /**
     * Whether the stored copy of chunk {@code id}, which a writer's put found in place, may stand for
     * it: yes if its bytes were checked against the id, or are now; no if it has gone since, or is
     * damaged (then moved aside), so the caller stores its writer's bytes.
     */
    private boolean keepStoredIfGood(ChunkId id) throws FsException {
        BlockSums.Sums kept = knownSums(id);
        if (kept != null && kept.checkedAgainstId()) {
            return true;
        }
        try {
            get(id, PooledByteBufAllocator.DEFAULT).release(); // hashes the stored bytes, and keeps their sums as checked
            return true;
        } catch (FsException e) {
            if (e.code() == ErrorCode.NOT_FOUND) {
                return false; // removed since it was found here
            }
            if (e.code() != ErrorCode.CORRUPT) {
                throw e;
            }
            LOG.warn("chunk {} is stored with bytes that are not the id's; storing a writer's that are", id);
            try {
                quarantine(id);
            } catch (IOException q) {
                throw new FsException(ErrorCode.IO, "cannot move damaged chunk " + id + " aside: " + q.getMessage(), q);
            }
            return false;
        }
    }

    /**
     * Stores bytes already checked as chunk {@code id}'s, unless it is stored already, and keeps
     * {@code sums} (if not null) when it stored them or when they were checked against the id.
     * Returns whether it stored them.
     */
    private boolean storeChecked(ChunkId id, ByteBuf data, BlockSums.Sums sums) throws FsException {
        Path target = pathOf(id);
        boolean stored = false;
        if (!refreshIfPresent(id, target)) {
            ByteBuf sealed = sealer == null ? null : sealer.seal(data, id.toBytes(), PooledByteBufAllocator.DEFAULT);
            try {
                stored = store(id, sealed == null ? data : sealed, target);
            } finally {
                if (sealed != null) {
                    sealed.release();
                }
            }
        }
        if (sums != null && (stored || sums.checkedAgainstId())) {
            blockSums.put(id, sums);
        }
        return stored;
    }

    /** Keeps the block sums of chunk {@code id}'s bytes, just checked against the id (plain stores only). */
    private void keepSums(ChunkId id, ByteBuf checked) {
        if (sealer == null) {
            blockSums.put(id, BlockSums.of(checked));
        }
    }

    /**
     * The block sums of chunk {@code id} if this node has them at hand (from bytes it checked against
     * the id, or from the writer's summed put that stored the chunk, since it started, and not found
     * damaged since), else null. Never for a sealed store.
     */
    public BlockSums.Sums knownSums(ChunkId id) {
        return sealer == null ? blockSums.get(id) : null;
    }

    /**
     * Writes {@code file}'s readable bytes durably as chunk {@code id}'s file, unless another writer
     * did first. Returns whether this call wrote it.
     */
    private boolean store(ChunkId id, ByteBuf file, Path target) throws FsException {
        Path temp = tmp.resolve(UUID.randomUUID() + ".part");
        try {
            if (directAlignment > 0) {
                writeDirect(temp, file);
            } else {
                writeCached(temp, file);
            }
            fsyncs.incrementAndGet();
        } catch (IOException e) {
            deleteQuietly(temp);
            throw failure(id, e);
        }
        // The temporary file is written outside the lock; only the final check-and-rename is inside.
        return install(id, temp, target, file.readableBytes(), true);
    }

    /**
     * Renames the fsynced file {@code temp} to {@code target}, chunk {@code id}'s file, and makes the
     * rename durable, unless the chunk is stored already: then its file is refreshed and, with
     * {@code dropIfStored}, {@code temp} removed. Returns whether it put {@code temp} in place.
     */
    private boolean install(ChunkId id, Path temp, Path target, long size, boolean dropIfStored) throws FsException {
        try {
            synchronized (stripeOf(id)) {
                if (Files.exists(target)) {
                    if (dropIfStored) {
                        deleteQuietly(temp);
                    }
                    touch(target);
                    return false;
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
                bytes.addAndGet(size);
                return true;
            }
        } catch (IOException e) {
            deleteQuietly(temp);
            throw failure(id, e);
        }
    }

    private static FsException failure(ChunkId id, IOException e) {
        if (e.getMessage() != null && e.getMessage().contains("No space")) {
            return new FsException(ErrorCode.NO_SPACE, "no space left for chunk " + id, e);
        }
        return new FsException(ErrorCode.IO, "storing chunk " + id + " failed: " + e.getMessage(), e);
    }

    /** Writes {@code file}'s readable bytes to the new file {@code temp} through the page cache, and fsyncs it. */
    private static void writeCached(Path temp, ByteBuf file) throws IOException {
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer[] parts = file.nioBuffers(file.readerIndex(), file.readableBytes());
            long left = file.readableBytes();
            while (left > 0) {
                left -= ch.write(parts);
            }
            ch.force(true);
        }
    }

    /**
     * Writes {@code file}'s readable bytes to the new file {@code temp} with direct I/O, through this
     * thread's aligned staging buffer, and fsyncs it. The last piece is padded with zeros to the
     * alignment and the file then cut back to the bytes' length. The fsync is still needed: a direct
     * write leaves the file's size and the device's cache to it.
     */
    private void writeDirect(Path temp, ByteBuf file) throws IOException {
        ByteBuffer stage = STAGING.get().clear().alignedSlice(directAlignment);
        int length = file.readableBytes();
        try (FileChannel ch = FileChannel.open(temp, DirectIo.CREATE_DIRECT)) {
            for (int done = 0; done < length; ) {
                int n = Math.min(STAGING_BYTES, length - done);
                stage.clear();
                file.getBytes(file.readerIndex() + done, stage.limit(n));
                DirectIo.writeFully(ch, DirectIo.pad(stage, n, directAlignment), done);
                done += n;
            }
            if (length % directAlignment != 0) {
                ch.truncate(length);
            }
            ch.force(true);
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
            blockSums.forget(id);
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

    /** True when chunk files hold the chunks' bytes as they are (not sealed), so they can be sent as they lie. */
    public boolean sendsFiles() {
        return sealer == null;
    }

    /**
     * Chunk {@code id}'s file as a region for a channel to send straight from the page cache, without
     * reading it here: the receiver checks the bytes against the id (and tells this node when they do
     * not match, see {@code HasChunks}). The caller releases the region, which closes the file. Only
     * for a store that {@link #sendsFiles()}.
     */
    public FileRegion region(ChunkId id) throws FsException {
        if (sealer != null) {
            throw new IllegalStateException("a sealed chunk must be opened before it is sent");
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(pathOf(id), StandardOpenOption.READ);
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw new FsException(ErrorCode.CORRUPT, "chunk file " + id + " is too large: " + size);
            }
            FileRegion region = new DefaultFileRegion(ch, 0, size);
            ch = null;
            return region;
        } catch (NoSuchFileException e) {
            throw new FsException(ErrorCode.NOT_FOUND, "no chunk " + id);
        } catch (IOException e) {
            throw new FsException(ErrorCode.IO, "opening chunk " + id + " failed: " + e.getMessage(), e);
        } finally {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // Nothing was sent from it.
                }
            }
        }
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
                blockSums.forget(id);
                LOG.error("chunk {} is corrupt on disk (its bytes hash to {})", id, actual);
                throw new FsException(ErrorCode.CORRUPT, "chunk " + id + " is corrupt on disk");
            }
            keepSums(id, buf);
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

    /** Part of a chunk: which blocks, and the payload {@link Response.ChunkRange} describes. */
    public record Range(Response.ChunkRange header, ByteBuf payload) {
    }

    /**
     * Reads the blocks of chunk {@code id} that cover {@code [offset, offset + length)} into a new
     * buffer (the caller releases it). The first such read of a chunk reads and verifies all of it, as
     * {@link #get} does, and keeps its block sums; later ones read only the covering blocks and check
     * each against its sum, so a random read costs a block, not a chunk. A sealed chunk is opened
     * whole every time: its tag covers the file, not blocks.
     */
    public Range readRange(ChunkId id, int offset, int length, ByteBufAllocator alloc) throws FsException {
        BlockSums.Sums sums = knownSums(id);
        if (sums == null) {
            ByteBuf whole = get(id, alloc);
            try {
                sums = knownSums(id); // get() kept them, unless sealed
                if (sums == null) {
                    sums = BlockSums.of(whole);
                }
                Response.ChunkRange span = span(id, sums.length(), offset, length);
                ByteBuf payload = alloc.directBuffer(span.payloadBytes());
                int first = span.start() / BlockSums.BLOCK;
                for (int i = 0; i < span.blocks(); i++) {
                    payload.writeInt(sums.blocks()[first + i]);
                }
                payload.writeBytes(whole, whole.readerIndex() + span.start(), span.length());
                return new Range(span, payload);
            } finally {
                whole.release();
            }
        }
        Response.ChunkRange span = span(id, sums.length(), offset, length);
        int blocks = span.blocks();
        ByteBuf payload = alloc.directBuffer(span.payloadBytes());
        boolean done = false;
        try (FileChannel ch = FileChannel.open(pathOf(id), StandardOpenOption.READ)) {
            if (ch.size() != sums.length()) {
                throw corruptBlocks(id, "its file is " + ch.size() + " bytes, not " + sums.length());
            }
            payload.writerIndex(blocks * Integer.BYTES);
            long pos = span.start();
            long end = (long) span.start() + span.length();
            while (pos < end) {
                int n = payload.writeBytes(ch, pos, (int) (end - pos));
                if (n < 0) {
                    throw corruptBlocks(id, "its file ended early");
                }
                pos += n;
            }
            int first = span.start() / BlockSums.BLOCK;
            int data = blocks * Integer.BYTES;
            for (int i = 0; i < blocks; i++) {
                int from = data + i * BlockSums.BLOCK;
                int sum = Response.ChunkRange.sum(payload, from, Math.min(BlockSums.BLOCK, span.length() - i * BlockSums.BLOCK));
                if (sum != sums.blocks()[first + i]) {
                    throw corruptBlocks(id, "block " + (first + i) + " fails its CRC-32C");
                }
                payload.setInt(i * Integer.BYTES, sum);
            }
            done = true;
            return new Range(span, payload);
        } catch (NoSuchFileException e) {
            blockSums.forget(id);
            throw new FsException(ErrorCode.NOT_FOUND, "no chunk " + id);
        } catch (IOException e) {
            throw new FsException(ErrorCode.IO, "reading chunk " + id + " failed: " + e.getMessage(), e);
        } finally {
            if (!done) {
                payload.release();
            }
        }
    }

    /** The blocks covering a range of chunk {@code id}, of {@code size} bytes. */
    private static Response.ChunkRange span(ChunkId id, int size, int offset, int length) throws FsException {
        if (offset >= size) {
            throw new FsException(ErrorCode.INVALID, "offset " + offset + " is past the chunk's end (" + size + " bytes)");
        }
        int start = offset / BlockSums.BLOCK * BlockSums.BLOCK;
        long end = Math.min(size, ((long) offset + length + BlockSums.BLOCK - 1) / BlockSums.BLOCK * BlockSums.BLOCK);
        return new Response.ChunkRange(id, start, (int) (end - start));
    }

    private FsException corruptBlocks(ChunkId id, String why) {
        blockSums.forget(id);
        LOG.error("chunk {} is corrupt on disk ({})", id, why);
        return new FsException(ErrorCode.CORRUPT, "chunk " + id + " is corrupt on disk");
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

    /**
     * The directory chunk files are written in before they are put in place: by this store, and by
     * writers on this machine for {@link #adopt}.
     */
    public Path staging() {
        return tmp;
    }

    /**
     * Removes the files in the staging directory last changed before {@code cutoffMillis}: left by a
     * writer on this machine that stopped between writing one and asking for it to be adopted (the
     * store's own are renamed or removed at once). Returns how many it removed.
     */
    public int clearStaging(long cutoffMillis) throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
            for (Path p : files) {
                try {
                    if (Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() < cutoffMillis && Files.deleteIfExists(p)) {
                        removed++;
                    }
                } catch (IOException e) {
                    LOG.debug("cannot remove staged file {}: {}", p, e.toString());
                }
            }
        }
        return removed;
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
