package io.vortexfs.node.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.vortexfs.node.chunks.ChunkStore;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives live owners the chunks they should hold and do not. A member that was down missed the chunks
 * written meanwhile; with this it gets them back as soon as it returns, and every few minutes a pass
 * runs anyway, as anti-entropy.
 *
 * <p>A pass walks the chunks this node holds, asks each chunk's other live owners — a batch of ids
 * per request — which of them they hold, and sends them the ones they lack. Every holder does this,
 * so a chunk is repaired as long as one live owner has it; two holders sending the same chunk cost
 * bandwidth, never correctness, as storing a chunk is idempotent. Passes run on a thread of their own
 * and never overlap.
 */
public final class ChunkHandOff implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkHandOff.class);
    /** Lets views settle after a change before a pass asks who is alive. */
    private static final Duration SETTLE = Duration.ofSeconds(1);

    private final Membership membership;
    private final ChunkStore chunks;
    private final Peers peers;
    private final Duration timeout;
    private final Duration period;
    private final ScheduledExecutorService runner;
    private final AtomicBoolean queued = new AtomicBoolean();
    private Set<String> lastAlive = Set.of(); // guarded by this

    public ChunkHandOff(Membership membership, ChunkStore chunks, Peers peers, Duration timeout, Duration period) {
        this.membership = membership;
        this.chunks = chunks;
        this.peers = peers;
        this.timeout = timeout;
        this.period = period;
        this.runner = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("vortex-handoff", true));
    }

    public void start() {
        lastAlive = aliveOthers();
        membership.onChange(this::membershipChanged);
        runner.scheduleWithFixedDelay(this::requestPass, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void membershipChanged() {
        Set<String> now = aliveOthers();
        boolean someoneArrived;
        synchronized (this) {
            someoneArrived = !lastAlive.containsAll(now);
            lastAlive = now;
        }
        if (someoneArrived) {
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
    private void requestPass() {
        if (queued.compareAndSet(false, true)) {
            try {
                runner.schedule(this::pass, SETTLE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                queued.set(false);
            }
        }
    }

    private void pass() {
        queued.set(false);
        Map<String, List<ChunkId>> batches = new HashMap<>();
        Map<String, MemberInfo> byId = new HashMap<>();
        long[] sent = {0};
        try {
            chunks.forEachId(id -> {
                for (MemberInfo owner : membership.owners(HashRing.pointOf(id))) {
                    if (membership.isSelf(owner) || !membership.isAlive(owner.nodeId())) {
                        continue;
                    }
                    byId.put(owner.nodeId(), owner);
                    List<ChunkId> batch = batches.computeIfAbsent(owner.nodeId(), k -> new ArrayList<>());
                    batch.add(id);
                    if (batch.size() == Request.HasChunks.MAX_IDS) {
                        sent[0] += handOff(owner, batch);
                        batch.clear();
                    }
                }
            });
            for (Map.Entry<String, List<ChunkId>> e : batches.entrySet()) {
                if (!e.getValue().isEmpty()) {
                    sent[0] += handOff(byId.get(e.getKey()), e.getValue());
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("chunk hand-off pass stopped: {}", e.toString());
        }
        if (sent[0] > 0) {
            LOG.info("handed {} chunks to peers that lacked them", sent[0]);
        }
    }

    /** Sends {@code owner} those of {@code ids} it lacks; returns how many. */
    private long handOff(MemberInfo owner, List<ChunkId> ids) {
        Set<ChunkId> held;
        try (Reply r = peers.pool().get(Peers.address(owner)).callSync(new Request.HasChunks(List.copyOf(ids)), null,
                timeout)) {
            held = new HashSet<>(((Response.ChunksHeld) r.response()).held());
        } catch (FsException | ClassCastException e) {
            LOG.debug("cannot ask {} which chunks it holds: {}", owner.address(), e.toString());
            return 0;
        }
        long sent = 0;
        for (ChunkId id : ids) {
            if (held.contains(id)) {
                continue;
            }
            ByteBuf data;
            try {
                data = chunks.get(id, PooledByteBufAllocator.DEFAULT);
            } catch (FsException e) {
                continue; // Gone or damaged here: another holder will send it.
            }
            int length = data.readableBytes();
            try (Reply r = peers.pool().get(Peers.address(owner)).callSync(new Request.PutChunk(id, length), data, timeout)) {
                sent++;
            } catch (FsException e) {
                LOG.debug("cannot hand chunk {} to {}: {}", id, owner.address(), e.toString());
                return sent;
            }
        }
        return sent;
    }

    @Override
    public void close() {
        runner.shutdownNow();
    }
}
