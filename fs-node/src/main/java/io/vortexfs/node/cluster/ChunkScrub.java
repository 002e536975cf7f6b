package io.vortexfs.node.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.vortexfs.node.chunks.ChunkStore;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.ScrubProgress;
import io.vortexfs.protocol.placement.HashRing;
import io.vortexfs.protocol.rpc.Reply;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds chunk copies that rotted on disk and replaces them from a good copy.
 *
 * <p>A pass re-reads every chunk this node holds, at a limited rate, and re-hashes it. A copy whose
 * bytes no longer match its name is moved out of the store (to {@code damaged-chunks/}, for the
 * operator to look at) and fetched again from another owner; the store checks the new bytes against
 * the name before it keeps them. A read that finds a damaged copy sends it here at once, so a copy a
 * user tripped over is healed without waiting for the next pass; the user's read meanwhile takes the
 * next owner's copy.
 *
 * <p>A damaged copy is moved out before anything else: while it sits under its name, the store
 * believes it holds the chunk and would refuse a fresh copy as already present. Once it is out, the
 * chunk repair of any other holder also sees this node lacking it and sends it, so a chunk nobody can
 * send right now is restored later.
 */
public final class ChunkScrub implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkScrub.class);
    /** Damaged copies waiting to be healed, at most; more are left to the next pass. */
    private static final int MAX_PENDING = 1024;

    private final Membership membership;
    private final ChunkStore chunks;
    private final Peers peers;
    private final Duration timeout;
    private final Duration every;
    private final ScheduledExecutorService runner;
    private final Set<ChunkId> pending = ConcurrentHashMap.newKeySet();
    /** Paces what passes read; used by the runner thread only. */
    private final Pacer pacer;

    private volatile long scrubbed;
    private volatile long damaged;
    private volatile long healed;

    /**
     * @param every          pause between the end of one pass and the start of the next
     * @param bytesPerSecond most bytes a pass reads per second; 0 for no limit
     */
    public ChunkScrub(Membership membership, ChunkStore chunks, Peers peers, Duration timeout, Duration every,
            long bytesPerSecond, LongSupplier nanoTime) {
        this.membership = membership;
        this.chunks = chunks;
        this.peers = peers;
        this.timeout = timeout;
        this.every = every;
        this.pacer = new Pacer(bytesPerSecond, nanoTime);
        this.runner = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("vortex-scrub", true));
    }

    public void start() {
        runner.scheduleWithFixedDelay(this::pass, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    public ScrubProgress progress() {
        return new ScrubProgress(scrubbed, damaged, healed);
    }

    /** A read found {@code id} damaged here: heal it soon, on the scrub thread. */
    public void damaged(ChunkId id) {
        if (pending.size() < MAX_PENDING && pending.add(id)) {
            try {
                runner.execute(() -> heal(id));
            } catch (RejectedExecutionException closed) {
                pending.remove(id);
            }
        }
    }

    private void pass() {
        long before = damaged;
        try {
            chunks.forEachId(id -> {
                try {
                    ByteBuf data = chunks.get(id, PooledByteBufAllocator.DEFAULT);
                    int length = data.readableBytes();
                    data.release();
                    scrubbed++;
                    pacer.pace(length); // Never reading faster than the rate, chunk after chunk.
                } catch (FsException e) {
                    if (e.code() == ErrorCode.CORRUPT) {
                        pending.add(id);
                        heal(id);
                    }
                    // NOT_FOUND: dropped since the walk listed it.
                }
            });
        } catch (IOException | RuntimeException e) {
            LOG.warn("scrub pass stopped: {}", e.toString());
        }
        if (damaged > before) {
            LOG.warn("scrub pass found {} damaged chunk copies", damaged - before);
        }
    }

    /** Moves a damaged copy out of the store and fetches a good one from another owner. */
    private void heal(ChunkId id) {
        pending.remove(id);
        try {
            chunks.get(id, PooledByteBufAllocator.DEFAULT).release();
            return; // Healed already, or the read that reported it raced with a repair.
        } catch (FsException e) {
            if (e.code() != ErrorCode.CORRUPT) {
                return;
            }
        }
        damaged++;
        try {
            if (!chunks.quarantine(id)) {
                return;
            }
        } catch (IOException e) {
            LOG.error("cannot move damaged chunk {} out of the store: {}", id, e.toString());
            return;
        }
        for (MemberInfo owner : membership.owners(HashRing.pointOf(id))) {
            if (membership.isSelf(owner) || !membership.isAlive(owner.nodeId())) {
                continue;
            }
            try (Reply r = peers.pool().get(Peers.address(owner)).callSync(new Request.GetChunk(id), null, timeout)) {
                ByteBuf data = r.payload();
                if (data == null) {
                    continue;
                }
                chunks.put(id, data); // Checks the bytes against the id.
                healed++;
                LOG.warn("chunk {} was damaged on disk here; replaced it with the copy of {}", id, owner.address());
                return;
            } catch (FsException e) {
                LOG.debug("{} cannot give chunk {}: {}", owner.address(), id, e.toString());
            }
        }
        LOG.error("chunk {} was damaged on disk here and no other owner could send it now; the chunk repair of "
                + "a node that holds it will", id);
    }

    @Override
    public void close() {
        runner.shutdownNow();
    }
}
