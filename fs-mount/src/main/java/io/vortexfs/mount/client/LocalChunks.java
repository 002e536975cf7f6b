package io.vortexfs.mount.client;

import io.netty.buffer.ByteBuf;
import io.vortexfs.protocol.BootId;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ContentHash;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.wire.FrameFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Short-circuit reads: whole chunks read straight from the files of a node that runs on this machine,
 * rather than sent by it over a connection (HDFS reads a local block the same way). The node is asked
 * once, per incarnation, where its chunk files are ({@code GetLocalStore}); it offers them only when
 * they hold plain bytes, and the mount uses them only when the node's boot id is its own.
 *
 * <p>The bytes are checked before use. While the file is read, the node is asked for the chunk's block
 * sums ({@code GetBlockSums}): the CRC-32C of each 64 KiB block, which it took from bytes it had just
 * checked against the id (when it read all of the chunk since it started, or stored it from an
 * unsummed put), or which came with the writer's summed put that stored the chunk (taken in the same
 * pass as the id; see ARCHITECTURE.md, "The path of a write", for why that is trusted for the
 * writer's own files only). A file whose blocks all match them is taken as the bytes the id names,
 * as in a node's own reads of part of a chunk: CRC-32C catches accidental damage (bits flipped, a
 * block torn, cut or misplaced), though not a file forged on purpose by someone who can write the
 * node's files, and the node is trusted for its sums as it is for its bytes. It costs far less CPU
 * than hashing the chunk. When the node has no sums at hand or does not answer in time, the bytes
 * are hashed and checked against the id. Anything short of a matching whole
 * chunk (no file, a damaged one, an unreadable directory) returns null, and the caller asks the node
 * over the network as before: the node then reports what it holds, and a damaged copy is handed to
 * its scrub the usual way. Chunk files are immutable and appear under their names only complete, so
 * a file read here is never half-written; one the collector deletes while it is read stays readable
 * until closed.
 */
final class LocalChunks {
    private static final Logger LOG = LoggerFactory.getLogger(LocalChunks.class);
    /**
     * Bytes read per call (the JDK stages each through a direct buffer of this size). Small reads let
     * the kernel's read-ahead run while the last one is copied: reading cold chunk files in 128 KiB
     * steps went 1,881–2,010 MB/s here, in 1 MiB steps 940–1,220, in 4 MiB steps 775.
     */
    private static final int READ_STEP = 128 << 10;
    /** How long a node that could not be asked is read over the network before it is asked again. */
    private static final long RETRY_NANOS = 10_000_000_000L;
    /** How long after a node is asked readers wait for its answer; after that they read over the network until it comes. */
    private static final long ASK_WAIT_MILLIS = 2_000;

    /**
     * How long a reader that has read a chunk's file waits for the node's block sums, after reading
     * it, before it hashes the bytes instead (which takes a few milliseconds of CPU).
     */
    private static final long SUMS_WAIT_MILLIS = 250;

    interface Asker {
        /** The node's answer to {@code GetLocalStore}, under a deadline of its own. */
        CompletableFuture<Response.LocalStore> ask(MemberInfo member);
    }

    /** A chunk's length and the CRC-32C of each of its blocks, as a node keeps them (see above). */
    record Sums(int length, int[] blocks) {
        /**
         * The sums a node's answer to {@code GetBlockSums(id)} carries: empty when it has none at
         * hand, null when it is not such an answer (another chunk's, or a payload of the wrong size).
         */
        static Optional<Sums> in(ChunkId id, Response response, ByteBuf payload) {
            if (!(response instanceof Response.BlockSums b) || !b.id().equals(id) || payload.readableBytes() != b.payloadBytes()) {
                return null;
            }
            if (b.length() == Response.BlockSums.UNKNOWN) {
                return Optional.empty();
            }
            int[] sums = Response.ChunkRange.readSums(payload, payload.readerIndex(), b.payloadBytes() / Integer.BYTES);
            return Optional.of(new Sums(b.length(), sums));
        }

        /** Whether bytes of length {@code n} whose blocks sum to {@code sums} are the chunk these sums describe. */
        boolean match(int n, int[] sums) {
            return n == length && Arrays.equals(blocks, sums);
        }
    }

    interface SumsAsker {
        /** The node's block sums of chunk {@code id}, or null when it has none at hand; under a deadline of its own. */
        CompletableFuture<Sums> sums(MemberInfo member, ChunkId id);
    }

    /** For a node that never has sums at hand: every chunk read is hashed. */
    static final SumsAsker NO_SUMS = (member, id) -> CompletableFuture.completedFuture(null);

    /**
     * What the node of {@code generation} offered, once it answers: its chunk directory, or null for
     * nothing. Failed when it could not be asked, which is tried again after {@link #RETRY_NANOS}.
     */
    private record Offer(long generation, CompletableFuture<Path> dir, long askedAtNanos) {
        boolean askAgain(long gen) {
            return generation < gen || (generation == gen && dir.isCompletedExceptionally()
                    && System.nanoTime() - askedAtNanos > RETRY_NANOS);
        }
    }

    private final Asker asker;
    private final SumsAsker sumsAsker;
    private final String bootId;
    private final Map<String, Offer> offers = new ConcurrentHashMap<>();
    private final LongAdder served = new LongAdder();
    private final LongAdder checkedBySums = new LongAdder();
    /** When each node that let a reader wait out {@link #SUMS_WAIT_MILLIS} may be asked for sums again ({@link System#nanoTime}). */
    private final Map<String, Long> sumsSlowUntil = new ConcurrentHashMap<>();

    /**
     * Reads the files of nodes whose boot id is {@code bootId}, where {@code asker} finds them, and
     * checks them with the block sums {@code sumsAsker} gets.
     */
    LocalChunks(Asker asker, SumsAsker sumsAsker, String bootId) {
        this.asker = asker;
        this.sumsAsker = sumsAsker;
        this.bootId = bootId;
    }

    LocalChunks(Asker asker, SumsAsker sumsAsker) {
        this(asker, sumsAsker, BootId.current());
    }

    /** How many chunks were read from local files. */
    long served() {
        return served.sum();
    }

    /** How many of those were checked with the node's block sums rather than hashed. */
    long checkedBySums() {
        return checkedBySums.sum();
    }

    /** Chunk {@code id}'s bytes from {@code member}'s files on this machine, checked (see above); null if not to be had so. */
    byte[] read(MemberInfo member, ChunkId id, ContentHash ids) {
        Path dir = directoryOf(member);
        if (dir == null) {
            return null;
        }
        String hex = id.hex();
        Path file = dir.resolve(hex.substring(0, 2)).resolve(hex);
        byte[] bytes;
        int[] blockSums;
        try {
            // Only a regular file: opening a FIFO put there would block for good.
            if (!Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isRegularFile()) {
                return null;
            }
        } catch (IOException e) {
            return null; // not there (not yet repaired, moved aside as damaged, collected)
        }
        CompletableFuture<Sums> sums = askSums(member, id); // answered while the file is read
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            long size = ch.size();
            if (size > FrameFormat.DEFAULT_MAX_PAYLOAD) {
                LOG.debug("local chunk file {} holds {} bytes, more than a chunk", file, size);
                return null;
            }
            bytes = new byte[(int) size];
            blockSums = new int[Response.ChunkRange.blocks(bytes.length)];
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            int summed = 0;
            while (buf.position() < bytes.length) {
                buf.limit(Math.min(bytes.length, buf.position() + READ_STEP));
                if (ch.read(buf) < 0) {
                    return null;
                }
                summed = sumBlocks(bytes, buf.position(), summed, blockSums);
            }
        } catch (IOException e) {
            return null; // gone since, or not readable here
        }
        Sums known = await(member, sums);
        boolean good = known != null ? known.match(bytes.length, blockSums) : ids.of(bytes, 0, bytes.length).equals(id);
        if (!good) {
            LOG.debug("local chunk file {} does not match {}; reading it from {} instead", file,
                    known != null ? "its block sums" : "its name", member.address());
            return null;
        }
        if (known != null) {
            checkedBySums.increment();
        }
        served.increment();
        return bytes;
    }

    /**
     * Sums the whole blocks of {@code bytes} read so far ({@code read} bytes, the last block also when
     * it is the chunk's end) from block {@code from} on, into {@code sums}; returns the next block to
     * sum. Each block is summed right after it is read, while it is still in the CPU's cache.
     */
    private static int sumBlocks(byte[] bytes, int read, int from, int[] sums) {
        int block = Response.ChunkRange.BLOCK;
        int next = from;
        while (next < sums.length && (next + 1) * block <= read || next == sums.length - 1 && read == bytes.length) {
            int start = next * block;
            sums[next] = Response.ChunkRange.sum(bytes, start, Math.min(block, bytes.length - start));
            next++;
        }
        return next;
    }

    private CompletableFuture<Sums> askSums(MemberInfo member, ChunkId id) {
        Long until = sumsSlowUntil.get(member.nodeId());
        if (until != null) {
            if (System.nanoTime() - until < 0) {
                return CompletableFuture.completedFuture(null); // slow lately: hash rather than wait again
            }
            sumsSlowUntil.remove(member.nodeId(), until);
        }
        try {
            return sumsAsker.sums(member, id);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * The node's sums, or null when it has none, failed to answer, or is slow to: the bytes are then
     * hashed. A node that is slow is not asked again for {@link #RETRY_NANOS}, so a stalled node
     * costs one wait, not one per chunk.
     */
    private Sums await(MemberInfo member, CompletableFuture<Sums> sums) {
        try {
            return sums.get(SUMS_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException e) {
            return null;
        } catch (TimeoutException e) {
            LOG.debug("{} did not send block sums within {} ms; hashing its chunks for a while", member.address(), SUMS_WAIT_MILLIS);
            sumsSlowUntil.put(member.nodeId(), System.nanoTime() + RETRY_NANOS);
            return null;
        }
    }

    /**
     * The member's chunk directory, when it runs on this machine and offered it; else null (also
     * used by {@link LocalWrites}). One reader asks a node (once per incarnation); every
     * reader waits for the answer until {@link #ASK_WAIT_MILLIS} after the ask, and reads over the
     * network after that, so a node slow to answer costs the readers of its first moments one wait.
     */
    Path directoryOf(MemberInfo member) {
        Offer known = offers.get(member.nodeId());
        if (known == null || known.askAgain(member.generation())) {
            Offer fresh = new Offer(member.generation(), new CompletableFuture<>(), System.nanoTime());
            known = offers.compute(member.nodeId(),
                    (id, old) -> old == null || old.askAgain(member.generation()) ? fresh : old);
            if (known == fresh) {
                ask(member, fresh.dir());
            }
        }
        if (known.generation() != member.generation()) {
            return null;
        }
        long leftMillis = ASK_WAIT_MILLIS - (System.nanoTime() - known.askedAtNanos()) / 1_000_000;
        try {
            return known.dir().isDone() ? known.dir().getNow(null)
                    : leftMillis > 0 ? known.dir().get(leftMillis, TimeUnit.MILLISECONDS) : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException | TimeoutException | java.util.concurrent.CompletionException e) {
            return null;
        }
    }

    private void ask(MemberInfo member, CompletableFuture<Path> dir) {
        CompletableFuture<Response.LocalStore> answer;
        try {
            answer = asker.ask(member);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((store, e) -> {
            if (e != null) {
                LOG.debug("cannot ask {} where its chunk files are: {}", member.address(), e.toString());
                dir.completeExceptionally(e);
                return;
            }
            Path d = store.sharedWith(bootId) ? pathOrNull(store.chunkRoot()) : null;
            if (d != null && !(d.isAbsolute() && Files.isDirectory(d))) {
                LOG.info("{} stores chunks in {}, which this mount cannot see", member.address(), d);
                d = null;
            }
            if (d != null) {
                LOG.info("reading {}'s chunks from its files in {}", member.address(), d);
            }
            dir.complete(d);
        });
    }

    private static Path pathOrNull(String s) {
        try {
            return Path.of(s);
        } catch (InvalidPathException e) {
            return null;
        }
    }
}
