package io.vortexfs.node.cluster;

import io.netty.util.concurrent.DefaultThreadFactory;
import io.vortexfs.node.chunks.ChunkStore;
import io.vortexfs.node.metadata.MetadataStore;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.Reply;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node leaving the cluster on purpose (decommissioning): it stops owning keys at once, keeps
 * answering while it hands over what it holds, and stops when nothing is left that only it has.
 *
 * <p>Chunks: the chunk repair does the work. The node owns none of its chunks any more, so a pass
 * sends each to the owners that lack it and drops the copy once every owner confirms theirs. The
 * chunks are handed over when the store is empty.
 *
 * <p>Metadata: the partitions this node coordinated get new coordinators, which take them over and
 * fetch this node's state if it is the newest. A partition is handed over when its coordinator holds
 * a version at least as new as this node's.
 *
 * <p>When both are done, the node's heartbeats say LEFT for a few intervals, so that nobody takes
 * its silence for a death, and then {@code onLeft} runs (the node process exits).
 */
public final class Departure implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Departure.class);
    private static final Duration CHECK = Duration.ofSeconds(1);
    /** A pass is asked for again at most this often while chunks are left. */
    private static final Duration REPASS = Duration.ofSeconds(10);

    private final Membership membership;
    private final ChunkStore chunks;
    private final MetadataStore store;
    private final ChunkRepair repair;
    private final Peers peers;
    private final Duration timeout;
    private final Duration farewell;
    private final Runnable onLeft;
    private final ScheduledExecutorService runner;
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile Response.Drain last;
    /**
     * Partitions whose coordinator was seen holding this node's state. This node owns nothing while
     * it leaves, so its own version of a partition no longer changes: once handed over, always.
     */
    private final java.util.BitSet handedOver = new java.util.BitSet();
    private long lastPassNanos;

    /**
     * @param farewell how long the node keeps heartbeating LEFT before {@code onLeft} runs
     */
    public Departure(Membership membership, ChunkStore chunks, MetadataStore store, ChunkRepair repair, Peers peers,
            Duration timeout, Duration farewell, Runnable onLeft) {
        this.membership = membership;
        this.chunks = chunks;
        this.store = store;
        this.repair = repair;
        this.peers = peers;
        this.timeout = timeout;
        this.farewell = farewell;
        this.onLeft = onLeft;
        this.runner = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("vortex-departure", true));
        this.last = new Response.Drain(membership.self().nodeId(), false, 0, 0, false);
    }

    /** Starts leaving, or goes on leaving after a restart. */
    public void leave() throws FsException {
        membership.leave();
        if (started.compareAndSet(false, true)) {
            lastPassNanos = System.nanoTime();
            runner.scheduleWithFixedDelay(this::check, CHECK.toMillis(), CHECK.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Resumes a departure that a restart interrupted. */
    public void resumeIfLeaving() throws FsException {
        if (membership.leaving()) {
            leave();
        }
    }

    public Response.Drain status() {
        return last;
    }

    private void check() {
        try {
            long chunksLeft = chunks.count();
            int behind = 0;
            for (int p = 0; p < membership.settings().partitions(); p++) {
                if (handedOver.get(p) || handedOver(p)) {
                    handedOver.set(p);
                } else {
                    behind++;
                }
            }
            boolean done = chunksLeft == 0 && behind == 0;
            last = new Response.Drain(membership.self().nodeId(), true, chunksLeft, behind, done);
            if (done) {
                LOG.info("everything this node held is with its new owners; leaving the cluster");
                membership.left();
                runner.schedule(onLeft, farewell.toMillis(), TimeUnit.MILLISECONDS);
                throw new Finished();
            }
            if (chunksLeft > 0 && !repair.progress().running() && System.nanoTime() - lastPassNanos > REPASS.toNanos()) {
                lastPassNanos = System.nanoTime();
                repair.requestPass();
            }
        } catch (Finished f) {
            throw f; // Ends the fixed-delay schedule.
        } catch (RuntimeException e) {
            LOG.warn("checking the hand-over failed: {}", e.toString());
        }
    }

    /** Ends the periodic check once the node has left. */
    private static final class Finished extends RuntimeException {
        Finished() {
            super("left", null, false, false);
        }
    }

    /** True when partition {@code p}'s coordinator holds at least what this node holds of it. */
    private boolean handedOver(int p) {
        long[] mine = store.version(p);
        if (mine[0] == 0 && mine[1] == 0) {
            return true; // Never held here.
        }
        MemberInfo c = membership.coordinator(p);
        if (c == null || membership.isSelf(c)) {
            return false;
        }
        try (Reply r = peers.pool().get(Peers.address(c)).callSync(new Request.GetPartitionVersion(p, 0), null, timeout)) {
            Response.PartitionVersion v = (Response.PartitionVersion) r.response();
            return v.epoch() > mine[0] || (v.epoch() == mine[0] && v.seq() >= mine[1]);
        } catch (FsException | ClassCastException e) {
            return false;
        }
    }

    @Override
    public void close() {
        runner.shutdownNow();
    }
}
