package io.vortexfs.mount.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vortexfs.protocol.ContentHash;
import io.vortexfs.protocol.DirectIo;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Response;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Short-circuit writes: a chunk's copy for a node on this machine is written by the mount itself,
 * straight into the node's staging directory ({@code <chunk root>/tmp}, the root being where
 * {@link LocalChunks} reads), with direct I/O and an fsync, and the node is then asked to put that
 * file in place ({@code AdoptChunk}) instead of being sent the bytes. On a machine that runs the
 * mount beside its nodes this saves each such copy two crossings of the loopback (a kernel copy
 * into the socket and one out of it), the node's receiving and its copy into an aligned buffer for
 * its own direct write: in a profile of a three-copy write on the VM of docs/BENCHMARKS.md those
 * took over a third of the samples.
 *
 * <p>The node owns the file from the moment it is asked: it checks it is there and whole, renames
 * it and fsyncs the directory as for a chunk it wrote itself, keeps the writer's block sums to
 * check later reads with, and removes the file whatever the outcome; a file that no one asked about
 * (the mount stopped in between) is swept by the node's collector after its grace. Anything that
 * goes wrong short of an unreachable node (the directory is not this machine's, not writable here,
 * the node no longer has the file) is written over the network instead, and a node whose directory
 * cannot be written is not tried again for a while. Only plain chunk files are offered, never sealed
 * ones, so an encrypted store is always written over the network.
 */
final class LocalWrites implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalWrites.class);
    /** How long a node whose staging directory could not be written is written over the network. */
    private static final long RETRY_NANOS = 30_000_000_000L;

    /** A chunk's block sums, then its bytes, in one direct buffer, the bytes at an address fit for direct I/O. */
    static final class Outgoing {
        private final ByteBuf whole;
        private final int sumsAt;
        private final int sumBytes;
        private final int length;

        private Outgoing(ByteBuf whole, int sumsAt, int sumBytes, int length) {
            this.whole = whole;
            this.sumsAt = sumsAt;
            this.sumBytes = sumBytes;
            this.length = length;
        }

        /**
         * Copies {@code length} bytes of {@code data}, with their sums, into a new direct buffer of
         * {@code alloc}. The bytes start at an address aligned to {@link DirectIo#MAX_ALIGNMENT} and are
         * followed by zeros to the next multiple of it, so any filesystem's direct write can take them.
         */
        static Outgoing of(ContentHash.Summed chunk, byte[] data, int length, ByteBufAllocator alloc) {
            int sumBytes = chunk.sums().length * Integer.BYTES;
            if (sumBytes != Response.ChunkRange.blocks(length) * Integer.BYTES) {
                throw new IllegalArgumentException(chunk.sums().length + " sums for " + length + " bytes");
            }
            int align = DirectIo.MAX_ALIGNMENT;
            int capacity = sumBytes + (int) DirectIo.padded(length, align) + align;
            ByteBuf whole = alloc.directBuffer(capacity, capacity);
            try {
                int misaligned = whole.nioBuffer(sumBytes, align).alignmentOffset(0, align);
                int sumsAt = misaligned == 0 ? 0 : align - misaligned;
                whole.setIndex(sumsAt, sumsAt);
                Response.ChunkRange.writeSums(whole, chunk.sums());
                whole.writeBytes(data, 0, length);
                DirectIo.pad(whole.nioBuffer(sumsAt + sumBytes, (int) DirectIo.padded(length, align)), length, align);
                return new Outgoing(whole, sumsAt, sumBytes, length);
            } catch (RuntimeException e) {
                whole.release();
                throw e;
            }
        }

        /** What a summed {@code PutChunk} sends: the sums, then the bytes. A new reference, released by its user. */
        ByteBuf putPayload() {
            return whole.retainedSlice(sumsAt, sumBytes + length);
        }

        /** What {@code AdoptChunk} sends: the sums. A new reference, released by its user. */
        ByteBuf sums() {
            return whole.retainedSlice(sumsAt, sumBytes);
        }

        int length() {
            return length;
        }

        /** The bytes, followed by zeros up to a multiple of {@code alignment} (0 for no padding); valid while this is. */
        ByteBuffer bytes(int alignment) {
            return whole.nioBuffer(sumsAt + sumBytes, alignment == 0 ? length : (int) DirectIo.padded(length, alignment));
        }

        void release() {
            whole.release();
        }
    }

    private final LocalChunks offers;
    private final ThreadPoolExecutor writers;
    /**
     * How each staging directory is written: the alignment of direct writes into it, 0 where they are
     * refused, {@link #NOT_OURS} where this mount's user does not own it (see {@link #examine}).
     */
    private final Map<Path, Integer> directories = new ConcurrentHashMap<>();
    private static final int NOT_OURS = -1;
    /** Nodes whose staging directory could not be written, and until when they are not tried ({@link System#nanoTime}). */
    private final Map<String, Long> offUntil = new ConcurrentHashMap<>();
    private final LongAdder written = new LongAdder();
    /** Nodes whose staging directory could not be written at least once (told at INFO once each). */
    private final java.util.Set<String> warned = ConcurrentHashMap.newKeySet();

    /** Writes into the staging directories of the nodes whose chunk files {@code offers} finds on this machine. */
    LocalWrites(LocalChunks offers) {
        this.offers = offers;
        AtomicLong threads = new AtomicLong();
        // Bounded: when more tasks wait than this holds (far more than the uploads in flight can
        // make), the thread that hands one over runs it itself.
        this.writers = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), r -> {
            Thread t = new Thread(r, "vortex-local-write-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, (task, pool) -> task.run()); // also once closed: a refused continuation would leave its future undone
        writers.allowCoreThreadTimeOut(true);
    }

    /** How many chunk files were written into nodes' staging directories. */
    long written() {
        return written.sum();
    }

    /** {@code member}'s staging directory if a chunk for it is to be written there, else null. */
    Path stagingOf(MemberInfo member) {
        Long until = offUntil.get(member.nodeId());
        if (until != null) {
            if (System.nanoTime() - until < 0) {
                return null;
            }
            offUntil.remove(member.nodeId(), until);
        }
        Path root = offers.directoryOf(member);
        if (root == null) {
            return null;
        }
        Path staging = root.resolve("tmp");
        return directories.computeIfAbsent(staging, LocalWrites::examine) == NOT_OURS ? null : staging;
    }

    /**
     * How {@code staging} is to be written (see {@link #directories}). Only a directory this
     * process's user owns, as the node that made it does: files a mount of another user wrote there
     * would belong to that user, which the node refuses to take.
     */
    private static int examine(Path staging) {
        try {
            long uid = new com.sun.security.auth.module.UnixSystem().getUid();
            Object owner = Files.getAttribute(staging, "unix:uid");
            if (!(owner instanceof Integer o && o == uid)) {
                LOG.info("{} belongs to uid {}, this mount runs as uid {}: chunks for its node go over the network",
                        staging, owner, uid);
                return NOT_OURS;
            }
        } catch (IOException | RuntimeException | LinkageError e) {
            LOG.info("cannot tell who owns {} ({}): chunks for its node go over the network", staging, e.toString());
            return NOT_OURS;
        }
        try {
            return DirectIo.alignment(staging);
        } catch (IOException e) {
            LOG.debug("chunk files in {} are written through the page cache: {}", staging, e.getMessage());
            return 0;
        }
    }

    /**
     * Where the steps after a file is written run (asking the node, and what a refusal leads to):
     * never on the event loop that completes the node's answer, as they may block.
     */
    Executor continuations() {
        return writers;
    }

    /**
     * Writes {@code chunk}'s bytes durably to a new file in {@code staging}, on a thread of this
     * writer's; completes with the file's name, or fails with an {@link FsException} after which
     * nothing is left behind. {@code chunk} must stay valid until the result completes.
     */
    CompletableFuture<String> write(MemberInfo member, Path staging, Outgoing chunk) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                String name = writeNow(staging, chunk);
                written.increment();
                return name;
            } catch (IOException | RuntimeException e) {
                backOff(member, "cannot write chunk files into " + staging + " (" + e + ")");
                throw new java.util.concurrent.CompletionException(
                        new FsException(ErrorCode.IO, "cannot write a chunk file into " + staging + ": " + e, e));
            }
        }, writers);
    }

    /**
     * Stops writing files for {@code member} for {@link #RETRY_NANOS}, after a file could not be
     * written or the node did not take one: its copies go over the network meanwhile, rather than
     * each being written twice.
     */
    void backOff(MemberInfo member, String why) {
        offUntil.put(member.nodeId(), System.nanoTime() + RETRY_NANOS);
        if (warned.add(member.nodeId())) {
            LOG.info("{} for {}; sending its chunks over the network, and trying again every {} s", why,
                    member.address(), RETRY_NANOS / 1_000_000_000L);
        } else {
            LOG.debug("{} for {}", why, member.address());
        }
    }

    private String writeNow(Path staging, Outgoing chunk) throws IOException {
        int alignment = directories.computeIfAbsent(staging, LocalWrites::examine);
        if (alignment == NOT_OURS) {
            throw new IOException(staging + " is not this mount's user's");
        }
        String name = UUID.randomUUID() + ".part";
        Path file = staging.resolve(name);
        ByteBuffer bytes = chunk.bytes(alignment);
        try (FileChannel ch = alignment > 0 ? FileChannel.open(file, DirectIo.CREATE_DIRECT)
                : FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            DirectIo.writeFully(ch, bytes, 0);
            if (ch.size() != chunk.length()) {
                ch.truncate(chunk.length());
            }
            ch.force(true);
            return name;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
    }

    /** Removes a staged file the node was not asked about, or failed to take; quietly, as it may be gone. */
    static void discard(Path staging, String name) {
        try {
            Files.deleteIfExists(staging.resolve(name));
        } catch (IOException e) {
            LOG.debug("cannot remove staged chunk file {}: {}", name, e.toString());
        }
    }

    @Override
    public void close() {
        writers.shutdown();
    }
}
