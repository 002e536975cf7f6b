package io.vortexfs.node.cluster;

import io.netty.util.concurrent.DefaultThreadFactory;
import io.vortexfs.node.chunks.ChunkStore;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.GcProgress;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.Reply;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.BitSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reclaims the chunks this node holds that no file references any more (after an overwrite, a
 * truncate or an unlink), by mark and sweep.
 *
 * <ol>
 *   <li>Candidates: the chunks here last stored before {@code now - grace}. A writer stores a chunk
 *       and then commits it to its file; the mount commits what it uploaded within 30 seconds even
 *       while the file stays open, so a chunk whose commit may still come is younger than the grace.
 *       Storing an existing chunk again (deduplication) makes it young again.</li>
 *   <li>Mark: every partition's coordinator lists the chunks its files reference; each one among the
 *       candidates is marked. If any partition cannot be listed, the pass stops and nothing is
 *       deleted.</li>
 *   <li>Sweep: an unmarked candidate is deleted if it is still older than the cutoff, checked under
 *       the chunk store's lock, so one stored again meanwhile is kept.</li>
 * </ol>
 *
 * <p>Candidates are held as the first 64 bits of their ids, sorted: 8 bytes a chunk. Two ids that
 * share those bits are both kept when either is referenced, which errs on the safe side.
 */
public final class ChunkCollector implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkCollector.class);
    private static final int PAGE = 4096;

    private final Membership membership;
    private final ChunkStore chunks;
    private final Peers peers;
    private final Duration timeout;
    private final Duration every;
    private final Duration grace;
    private final LongSupplier wallMillis;
    private final ScheduledExecutorService runner;

    private volatile long passes;
    private volatile long reclaimed;
    private volatile long reclaimedBytes;

    public ChunkCollector(Membership membership, ChunkStore chunks, Peers peers, Duration timeout, Duration every,
            Duration grace, LongSupplier wallMillis) {
        this.membership = membership;
        this.chunks = chunks;
        this.peers = peers;
        this.timeout = timeout;
        this.every = every;
        this.grace = grace;
        this.wallMillis = wallMillis;
        this.runner = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("vortex-gc", true));
    }

    public void start() {
        runner.scheduleWithFixedDelay(this::pass, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    public GcProgress progress() {
        return new GcProgress(passes, reclaimed, reclaimedBytes);
    }

    private void pass() {
        try {
            collect();
        } catch (IOException | RuntimeException e) {
            LOG.warn("garbage collection pass stopped: {}", e.toString());
        }
    }

    /** One pass; returns without deleting anything when some partition cannot be listed. */
    void collect() throws IOException {
        long cutoff = wallMillis.getAsLong() - grace.toMillis();
        int staged = chunks.clearStaging(cutoff);
        if (staged > 0) {
            LOG.info("removed {} staged chunk file(s) older than the grace, which no writer asked to be stored", staged);
        }
        long[] keys = candidates(cutoff);
        if (keys.length == 0) {
            passes++;
            return;
        }
        BitSet referenced = new BitSet(keys.length);
        int partitions = membership.settings().partitions();
        for (int p = 0; p < partitions; p++) {
            String failure = mark(p, keys, referenced);
            if (failure != null) {
                LOG.info("garbage collection skipped: metadata partition {} cannot be listed now ({})", p, failure);
                return;
            }
        }
        long[] before = {reclaimed, reclaimedBytes};
        chunks.forEachId(id -> {
            int i = Arrays.binarySearch(keys, id.w0());
            if (i < 0 || referenced.get(i)) {
                return;
            }
            try {
                long size = chunks.removeIfOlder(id, cutoff);
                if (size >= 0) {
                    reclaimed++;
                    reclaimedBytes += size;
                }
            } catch (IOException e) {
                LOG.warn("cannot delete unreferenced chunk {}: {}", id, e.toString());
            }
        });
        passes++;
        if (reclaimed > before[0]) {
            LOG.info("garbage collection deleted {} chunks no file references ({} bytes)", reclaimed - before[0],
                    reclaimedBytes - before[1]);
        }
    }

    /** The first 64 bits of the ids of the chunks last stored before {@code cutoff}, sorted. */
    private long[] candidates(long cutoff) throws IOException {
        long[][] out = {new long[1024]};
        int[] n = {0};
        chunks.forEachId(id -> {
            long at = chunks.storedAtMillis(id);
            if (at >= 0 && at < cutoff) {
                if (n[0] == out[0].length) {
                    out[0] = Arrays.copyOf(out[0], n[0] * 2);
                }
                out[0][n[0]++] = id.w0();
            }
        });
        long[] keys = Arrays.copyOf(out[0], n[0]);
        Arrays.sort(keys);
        return keys;
    }

    /** Marks the candidates partition {@code p}'s files reference; returns why it could not, or null. */
    private String mark(int p, long[] keys, BitSet referenced) {
        long afterIno = 0;
        long afterIndex = -1;
        while (true) {
            MemberInfo coordinator = membership.coordinator(p);
            if (coordinator == null) {
                return "no owner alive";
            }
            Response.ChunkRefs page;
            try (Reply r = peers.pool().get(Peers.address(coordinator)).callSync(
                    new Request.ListChunkRefs(p, afterIno, afterIndex, PAGE), null, timeout)) {
                page = (Response.ChunkRefs) r.response();
            } catch (FsException | ClassCastException e) {
                return e.getMessage();
            }
            for (ChunkId id : page.ids()) {
                int i = Arrays.binarySearch(keys, id.w0());
                if (i >= 0) {
                    markAll(keys, referenced, i);
                }
            }
            if (page.done()) {
                return null;
            }
            afterIno = page.nextIno();
            afterIndex = page.nextIndex();
        }
    }

    /** Marks every candidate whose key equals {@code keys[i]}, so that any of them found by a search is marked. */
    private static void markAll(long[] keys, BitSet referenced, int i) {
        for (int j = i; j >= 0 && keys[j] == keys[i]; j--) {
            referenced.set(j);
        }
        for (int j = i + 1; j < keys.length && keys[j] == keys[i]; j++) {
            referenced.set(j);
        }
    }

    @Override
    public void close() {
        runner.shutdownNow();
    }
}
