package io.vortexfs.node.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.vortexfs.node.chunks.ChunkStore;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.RepairProgress;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.placement.HashRing;
import io.vortexfs.protocol.rpc.Reply;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps every chunk this node holds on all of the chunk's current owners, and gives up the copies
 * this node holds without owning them once the owners have theirs.
 *
 * <p>Three things make a chunk's owners lack it: an owner was down while it was written (hinted
 * hand-off), a member went OUT and the ring gave its keys to new owners (re-replication), or a member
 * joined or returned and now owns keys others held (rebalancing). One pass covers all three: it walks
 * the chunks this node holds, asks each chunk's other live owners — a batch of ids per request — which
 * of them they hold, and sends them the ones they lack. Every holder does this, so a chunk is repaired
 * as long as one copy is left; two holders sending the same chunk cost bandwidth, never correctness,
 * as storing a chunk is idempotent.
 *
 * <p>A copy this node holds but does not own is deleted only when every owner has confirmed, in this
 * pass, that it holds the chunk durably, all of them are alive, and the ring has not changed for a
 * while (so that nodes whose views still differ cannot each drop a copy the other counts on).
 *
 * <p>A pass runs after every arrival and every change of the ring, and every few minutes anyway, as
 * anti-entropy. Passes run on a thread of their own and never overlap; the bytes they send are
 * limited to a rate, so that user I/O goes on.
 */
public final class ChunkRepair implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkRepair.class);
    /** Lets views settle after a change before a pass asks who is alive. */
    private static final Duration SETTLE = Duration.ofSeconds(1);
    /**
     * When the next pass starts after one that could not reach an owner it holds alive: just after a
     * link comes back, the first calls over it can still fail, and the periodic pass is minutes away.
     */
    static final Duration RETRY = Duration.ofSeconds(5);

    private final Membership membership;
    private final ChunkStore chunks;
    private final Peers peers;
    private final Duration timeout;
    private final Duration period;
    private final Duration stableAfter;
    private final LongSupplier nanoTime;
    private final ScheduledExecutorService runner;
    private final AtomicBoolean queued = new AtomicBoolean();
    private Set<String> lastAlive = Set.of(); // guarded by this
    private Set<String> lastPlaced = Set.of(); // guarded by this
    private long placedSinceNanos; // guarded by this

    // Progress, written by the pass thread only.
    private volatile boolean running;
    private volatile long checked;
    private volatile long total;
    private volatile long lacking;
    private volatile long copied;
    private volatile long copiedBytes;
    private volatile long dropped;
    private volatile long passes;
    /** Paces what passes send; used by the pass thread only. */
    private final Pacer pacer;
    /** Owners held alive that the current pass could not ask or give a copy to; pass thread only. */
    private final Set<String> missed = new HashSet<>();

    /**
     * @param bytesPerSecond most bytes a pass sends per second; 0 for no limit
     * @param stableAfter    how long the ring must have stayed the same before surplus copies are dropped
     */
    public ChunkRepair(Membership membership, ChunkStore chunks, Peers peers, Duration timeout, Duration period,
            long bytesPerSecond, Duration stableAfter, LongSupplier nanoTime) {
        this.membership = membership;
        this.chunks = chunks;
        this.peers = peers;
        this.timeout = timeout;
        this.period = period;
        this.pacer = new Pacer(bytesPerSecond, nanoTime);
        this.stableAfter = stableAfter;
        this.nanoTime = nanoTime;
        this.runner = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("vortex-repair", true));
    }

    public void start() {
        synchronized (this) {
            lastAlive = aliveOthers();
            lastPlaced = membership.placed();
            placedSinceNanos = nanoTime.getAsLong();
        }
        membership.onChange(this::membershipChanged);
        runner.scheduleWithFixedDelay(this::requestPass, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    public RepairProgress progress() {
        return new RepairProgress(running, checked, total, copied, copiedBytes, dropped, lacking, passes, queued.get());
    }

    private void membershipChanged() {
        Set<String> alive = aliveOthers();
        Set<String> placed = membership.placed();
        boolean pass;
        synchronized (this) {
            pass = !lastAlive.containsAll(alive) || !placed.equals(lastPlaced);
            if (!placed.equals(lastPlaced)) {
                placedSinceNanos = nanoTime.getAsLong();
            }
            lastAlive = alive;
            lastPlaced = placed;
        }
        if (pass) {
            requestPass();
        }
    }

    /**
     * The live peers, each with its generation: a member restarted faster than the others could call
     * it dead arrives as a new generation, and it too may have missed chunks.
     */
    private Set<String> aliveOthers() {
        Set<String> out = new HashSet<>();
        for (MemberInfo m : membership.members()) {
            if (!membership.isSelf(m) && membership.isAlive(m.nodeId())) {
                out.add(m.nodeId() + "#" + m.generation());
            }
        }
        return out;
    }

    /** Queues a pass unless one is already waiting to run. */
    public void requestPass() {
        schedulePass(SETTLE);
    }

    private void schedulePass(Duration delay) {
        if (queued.compareAndSet(false, true)) {
            try {
                runner.schedule(this::pass, delay.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                queued.set(false);
            }
        }
    }

    /** How long until the ring has stayed the same for {@code stableAfter}; 0 when it has. */
    private synchronized long unsettledNanos() {
        return Math.max(0, placedSinceNanos + stableAfter.toNanos() - nanoTime.getAsLong());
    }

    private boolean allOnRingAlive() {
        for (String id : membership.placed()) {
            if (!membership.isAlive(id)) {
                return false;
            }
        }
        return true;
    }

    private void pass() {
        queued.set(false);
        running = true;
        checked = 0;
        lacking = 0;
        missed.clear();
        total = chunks.count();
        long copiedBefore = copied;
        long droppedBefore = dropped;
        long[] kept = {0};
        try {
            List<ChunkId> group = new ArrayList<>(Request.HasChunks.MAX_IDS);
            chunks.forEachId(id -> {
                group.add(id);
                if (group.size() == Request.HasChunks.MAX_IDS) {
                    kept[0] += repair(group);
                    group.clear();
                }
            });
            kept[0] += repair(group);
            passes++;
        } catch (IOException | RuntimeException e) {
            LOG.warn("chunk repair pass stopped: {}", e.toString());
        } finally {
            running = false;
        }
        if (copied > copiedBefore || dropped > droppedBefore) {
            LOG.info("chunk repair: copied {} chunks to owners that lacked them, dropped {} copies no longer owned",
                    copied - copiedBefore, dropped - droppedBefore);
        }
        if (kept[0] > 0) {
            // Copies it could have dropped but for a ring not yet settled: look again once it is.
            schedulePass(Duration.ofNanos(unsettledNanos()).plus(SETTLE));
        }
        if (!missed.isEmpty()) {
            LOG.info("chunk repair could not reach {} live owner(s) ({}); trying again in {} s", missed.size(),
                    String.join(", ", missed), RETRY.toSeconds());
            schedulePass(RETRY);
        }
    }

    /**
     * Gives the owners of {@code ids} the ones they lack, and drops those this node need not keep.
     * Returns how many copies it holds without owning them and kept only because the ring changed
     * too recently.
     */
    private long repair(List<ChunkId> ids) {
        if (ids.isEmpty()) {
            return 0;
        }
        boolean settled = unsettledNanos() == 0;
        boolean allAlive = allOnRingAlive();
        Map<ChunkId, List<MemberInfo>> ownersOf = new HashMap<>();
        Map<String, MemberInfo> peersById = new HashMap<>();
        Map<String, List<ChunkId>> toAsk = new HashMap<>();
        for (ChunkId id : ids) {
            List<MemberInfo> owners = membership.owners(HashRing.pointOf(id));
            ownersOf.put(id, owners);
            for (MemberInfo owner : owners) {
                if (!membership.isSelf(owner) && membership.isAlive(owner.nodeId())) {
                    peersById.put(owner.nodeId(), owner);
                    toAsk.computeIfAbsent(owner.nodeId(), k -> new ArrayList<>()).add(id);
                }
            }
        }
        Map<String, Set<ChunkId>> held = new HashMap<>();
        for (Map.Entry<String, List<ChunkId>> e : toAsk.entrySet()) {
            MemberInfo owner = peersById.get(e.getKey());
            try (Reply r = peers.pool().get(Peers.address(owner)).callSync(new Request.HasChunks(List.copyOf(e.getValue()), false),
                    null, timeout)) {
                held.put(e.getKey(), new HashSet<>(((Response.ChunksHeld) r.response()).held()));
            } catch (FsException | ClassCastException ex) {
                LOG.debug("cannot ask {} which chunks it holds: {}", owner.address(), ex.toString());
                missed.add(owner.address());
            }
        }
        Set<String> unreachable = new HashSet<>();
        long kept = 0;
        for (ChunkId id : ids) {
            List<MemberInfo> owners = ownersOf.get(id);
            boolean mine = false;
            int confirmed = 0;
            for (MemberInfo owner : owners) {
                if (membership.isSelf(owner)) {
                    mine = true;
                    continue;
                }
                Set<ChunkId> has = held.get(owner.nodeId());
                if (has == null || unreachable.contains(owner.nodeId())) {
                    continue; // Dead, or did not answer: nothing is known of its copy.
                }
                if (has.contains(id)) {
                    confirmed++;
                    continue;
                }
                lacking++;
                if (send(owner, id)) {
                    confirmed++;
                } else {
                    unreachable.add(owner.nodeId());
                    missed.add(owner.address());
                }
            }
            if (!mine && allAlive && confirmed == owners.size()) {
                if (settled) {
                    drop(id);
                } else {
                    kept++;
                }
            }
            checked++;
        }
        return kept;
    }

    /** Sends one chunk to an owner that lacks it, within the rate; false when the owner cannot take it. */
    private boolean send(MemberInfo owner, ChunkId id) {
        ByteBuf data;
        try {
            data = chunks.get(id, PooledByteBufAllocator.DEFAULT);
        } catch (FsException e) {
            return true; // Gone or damaged here: another holder will send it; the owner is not at fault.
        }
        int length = data.readableBytes();
        pacer.pace(length);
        try (Reply r = peers.pool().get(Peers.address(owner)).callSync(new Request.PutChunk(id, length), data, timeout)) {
            copied++;
            copiedBytes += length;
            return true;
        } catch (FsException e) {
            LOG.debug("cannot give chunk {} to {}: {}", id, owner.address(), e.toString());
            return false;
        }
    }

    private void drop(ChunkId id) {
        try {
            if (chunks.remove(id)) {
                dropped++;
            }
        } catch (IOException e) {
            LOG.warn("cannot drop surplus chunk {}: {}", id, e.toString());
        }
    }

    @Override
    public void close() {
        runner.shutdownNow();
    }
}
