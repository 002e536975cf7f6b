package io.vortexfs.node.cluster;

import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.vortexfs.node.metadata.MetadataStore;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.Topology;
import io.vortexfs.protocol.placement.Chains;
import io.vortexfs.protocol.placement.Quorum;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.rpc.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicates metadata partitions between their owners.
 *
 * <p>As coordinator: before it serves a partition for the first time since the membership last
 * changed, a node takes it over — it asks the live members which version they hold (a majority of
 * the owners must answer), fetches a snapshot from whoever is ahead, and starts a new epoch. Thereafter every change it logs is shipped
 * to the other live owners, in parallel (all-to-all) or down a chain (ring), and acknowledged once
 * the write quorum holds it.
 *
 * <p>As replica: changes of a partition are applied strictly in order on one thread. A replica that
 * is behind (after a restart, or a change it missed) fetches the partition's snapshot from the
 * coordinator, installs it, and then goes on; a change from an epoch it has moved past is refused,
 * which fences off a former coordinator.
 */
public final class PartitionReplicator implements MetadataStore.Replication {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionReplicator.class);

    private final Membership membership;
    private final Peers peers;
    private final MetadataStore store;
    private final ExecutorService applier;
    private final java.util.concurrent.ScheduledExecutorService takeovers;
    private static final Duration TAKEOVER_RETRY = Duration.ofSeconds(1);
    private static final Duration FETCH_RETRY = Duration.ofMillis(250);
    private static final long EPOCH_SLOTS = 1024;
    private final Duration timeout;
    /** Bumped on every membership change; a take-over holds only for the view it was made under. */
    private final java.util.concurrent.atomic.AtomicLong view = new java.util.concurrent.atomic.AtomicLong();
    /** Per partition, the view under which this node last took it over. */
    private final Map<Integer, Long> confirmed = new ConcurrentHashMap<>();
    private final Map<Integer, Object> takeoverLocks = new ConcurrentHashMap<>();
    /** Changes waiting, per partition, for a snapshot being fetched; touched only on the applier thread. */
    private final Map<Integer, List<Waiting>> waiting = new HashMap<>();

    private record Waiting(Request.Replicate request, byte[] change, CompletableFuture<Void> done) {
    }

    /**
     * @param applier a single thread: replicated changes must be applied in the order they arrive
     */
    public PartitionReplicator(Membership membership, Peers peers, MetadataStore store, ExecutorService applier,
            Duration timeout) {
        this.membership = membership;
        this.peers = peers;
        this.store = store;
        this.applier = applier;
        this.timeout = timeout;
        this.takeovers = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("vortex-takeover", true));
        membership.onChange(this::membershipChanged);
    }

    /**
     * The coordinator of a partition may have changed, or an owner come back: every partition this
     * node now coordinates is taken over at once, in the background, which also brings a returning
     * owner up to date (the new epoch reaches it, it finds itself behind, and fetches a snapshot).
     */
    private void membershipChanged() {
        view.incrementAndGet();
        scheduleTakeovers(0);
    }

    /** Takes over, in the background, every partition this node coordinates; retries those that fail. */
    private void scheduleTakeovers(long delayMs) {
        try {
            takeovers.schedule(() -> {
                boolean retry = false;
                for (int p = 0; p < membership.settings().partitions(); p++) {
                    MemberInfo c = membership.coordinator(p);
                    if (c != null && membership.isSelf(c)) {
                        try {
                            ensureCoordinator(p);
                        } catch (FsException e) {
                            LOG.info("cannot take over metadata partition {} yet: {}", p, e.getMessage());
                            retry = true;
                        } catch (RuntimeException e) {
                            LOG.warn("taking over metadata partition {} failed", p, e);
                            retry = true;
                        }
                    }
                }
                if (retry) {
                    scheduleTakeovers(TAKEOVER_RETRY.toMillis());
                }
            }, delayMs, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // Shutting down.
        }
    }

    public void close() {
        takeovers.shutdownNow();
    }

    // ---- coordinator ----

    /**
     * Returns when this node may serve {@code partition}: it is the partition's first live owner and
     * has taken it over. Throws NOT_COORDINATOR when another node coordinates it.
     */
    public void ensureCoordinator(int partition) throws FsException {
        MemberInfo c = membership.coordinator(partition);
        if (c == null) {
            throw new FsException(ErrorCode.UNAVAILABLE, "no owner of metadata partition " + partition + " is alive");
        }
        if (!membership.isSelf(c)) {
            throw new FsException(ErrorCode.NOT_COORDINATOR, "metadata partition " + partition + " is coordinated by "
                    + c.address());
        }
        if (!membership.inTouchWithMajority(membership.partitionOwners(partition))) {
            throw new FsException(ErrorCode.NOT_COORDINATOR, "this node has not heard from most owners of metadata "
                    + "partition " + partition + " lately and may be cut off from them");
        }
        if (isConfirmed(partition)) {
            return;
        }
        synchronized (takeoverLocks.computeIfAbsent(partition, p -> new Object())) {
            if (!isConfirmed(partition)) {
                // Read before asking the members: a change that lands during the take-over (a member
                // arriving) leaves it unconfirmed, so the next call takes over again and reaches the newcomer.
                long under = view.get();
                takeOver(partition);
                confirmed.put(partition, under);
            }
        }
    }

    private boolean isConfirmed(int partition) {
        Long under = confirmed.get(partition);
        return under != null && under == view.get();
    }

    /** A take-over found a member at, or promised to, an epoch past the one it chose. */
    private static final class EpochTooOld extends Exception {
        EpochTooOld(String message) {
            super(message, null, false, false);
        }
    }

    private void takeOver(int partition) throws FsException {
        for (int attempt = 1;; attempt++) {
            try {
                takeOverOnce(partition);
                return;
            } catch (EpochTooOld e) {
                // The epoch to beat is now known (and promised here): the next attempt starts past it.
                if (attempt == 3) {
                    throw new FsException(ErrorCode.UNAVAILABLE, e.getMessage());
                }
            }
        }
    }

    private void takeOverOnce(int partition) throws FsException, EpochTooOld {
        // The epoch is chosen first and every member asked promises it: from the moment a member has
        // answered, a former coordinator can get nothing more acknowledged by it, so the state
        // collected below cannot be overtaken by a change it does not include.
        long epoch = nextEpoch(Math.max(store.version(partition)[0], store.promised(partition)));
        long[] mine = store.promise(partition, epoch);
        if (mine[2] != epoch) {
            throw new EpochTooOld("metadata partition " + partition + " is being taken over by another node at epoch "
                    + mine[2]);
        }
        long[] best = {mine[0], mine[1]};
        MemberInfo ahead = null;
        List<MemberInfo> owners = membership.partitionOwners(partition);
        int answered = 1;
        // Every live member is asked, not only the owners: when the ring changes, the latest state may
        // still be on a node that owned the partition before (the founder, in a cluster that grew).
        for (MemberInfo m : membership.members()) {
            if (membership.isSelf(m) || !membership.isAlive(m.nodeId())) {
                continue;
            }
            Response.PartitionVersion v;
            try (Reply r = peers.pool().get(Peers.address(m)).callSync(new Request.GetPartitionVersion(partition, epoch),
                    null, timeout)) {
                v = (Response.PartitionVersion) r.response();
            } catch (FsException | ClassCastException e) {
                // A live member may hold the newest state (ownership moves as the ring changes): without
                // its answer the take-over would be a guess. It is starting, slow, or dead and not yet
                // known to be: within the death timeout it answers or is no longer asked, so the
                // client is told to ask again (as of a coordinator that is changing), not that it failed.
                throw new FsException(ErrorCode.NOT_COORDINATOR, "cannot take over metadata partition " + partition
                        + " yet: " + m.address() + " did not say which version it holds (" + e.getMessage() + ")");
            }
            if (v.promised() != epoch) {
                // It holds or was promised a newer epoch: another take-over is ahead of this one. The
                // next attempt starts past it.
                long newer = Math.max(v.epoch(), v.promised());
                store.promise(partition, newer);
                throw new EpochTooOld(m.address() + " holds or was promised epoch " + newer + " of metadata partition "
                        + partition);
            }
            if (owners.stream().anyMatch(o -> o.nodeId().equals(m.nodeId()))) {
                answered++;
            }
            if (newer(v.epoch(), v.seq(), best)) {
                best = new long[] {v.epoch(), v.seq()};
                ahead = m;
            }
        }
        // Every acknowledged change is on a majority of the owners; asking a majority finds it.
        if (answered < owners.size() / 2 + 1) {
            throw new FsException(ErrorCode.UNAVAILABLE, "only " + answered + " of " + owners.size()
                    + " owners of metadata partition " + partition + " answered; a majority is needed to take it over");
        }
        if (best[0] == 0 && best[1] == 0) {
            // A partition always begins with a logged change (the root's with the root): nobody alive
            // holds it. Starting it empty would bury, under a newer epoch, what a member that is down holds.
            throw new FsException(ErrorCode.UNAVAILABLE, "no live member holds metadata partition " + partition
                    + "; waiting for one that does");
        }
        if (ahead != null) {
            store.installSnapshot(fetchSnapshot(Peers.address(ahead), partition));
        }
        store.beginEpoch(partition, epoch);
        LOG.info("coordinating metadata partition {} from epoch {}", partition, epoch);
    }

    /**
     * The first epoch past {@code maxEpoch} that is this node's own: epochs are numbered in blocks of
     * 1024 and each node takes the slot its id hashes to, so two nodes that take a partition over at
     * the same moment (their views briefly disagreeing) start different epochs, and replicas, which
     * accept one and refuse the other, fence one of them off.
     */
    private long nextEpoch(long maxEpoch) {
        long slot = Math.floorMod(membership.self().nodeId().hashCode(), EPOCH_SLOTS);
        return (maxEpoch / EPOCH_SLOTS + 1) * EPOCH_SLOTS + slot;
    }

    private static boolean newer(long epoch, long seq, long[] than) {
        return epoch > than[0] || (epoch == than[0] && seq > than[1]);
    }

    private MetadataStore.Snapshot fetchSnapshot(HostPort from, int partition) throws FsException {
        try (Reply r = peers.pool().get(from).callSync(new Request.GetPartitionSnapshot(partition), null, timeout)) {
            Response.PartitionSnapshot s = (Response.PartitionSnapshot) r.response();
            byte[] bytes = new byte[r.payload().readableBytes()];
            r.payload().getBytes(r.payload().readerIndex(), bytes);
            return new MetadataStore.Snapshot(partition, s.epoch(), s.seq(), bytes);
        } catch (ClassCastException e) {
            throw new FsException(ErrorCode.PROTOCOL, from + " did not answer with a snapshot");
        }
    }

    /** Ships a change to the other live owners; runs under the store's monitor, so changes leave in order. */
    @Override
    public CompletableFuture<Void> ship(int partition, long epoch, long seq, byte[] change) {
        List<MemberInfo> owners = membership.partitionOwners(partition);
        List<HostPort> others = new ArrayList<>();
        for (MemberInfo m : owners) {
            if (!membership.isSelf(m) && membership.isAlive(m.nodeId())) {
                others.add(Peers.address(m));
            }
        }
        int required = Quorum.required(membership.settings().writeQuorum(), owners.size()) - 1;
        String what = "metadata partition " + partition + " change " + epoch + "/" + seq;
        if (others.isEmpty()) {
            return required <= 0 ? CompletableFuture.completedFuture(null)
                    : CompletableFuture.failedFuture(new FsException(ErrorCode.UNAVAILABLE, what
                            + ": no other owner is alive to hold a copy"));
        }
        String self = membership.self().address();
        List<CompletableFuture<Integer>> acks = new ArrayList<>();
        if (membership.settings().topology() == Topology.RING) {
            acks.add(Chains.along(others, c -> sendChain(c, r -> new Request.Replicate(partition, epoch, seq, self, r), change)));
        } else {
            for (HostPort o : others) {
                acks.add(sendChain(List.of(o), r -> new Request.Replicate(partition, epoch, seq, self, r), change));
            }
        }
        CompletableFuture<Void> done = Chains.quorum(acks, required, what);
        done.whenComplete((v, e) -> {
            if (e != null && Chains.unwrap(e).code() == ErrorCode.NOT_COORDINATOR) {
                // A replica has seen a newer epoch: another node took over. Take over afresh before serving again.
                confirmed.remove(partition);
            }
        });
        return done;
    }

    /**
     * Sends to the first of {@code chain}, asking it to forward along the rest. Used both by a
     * coordinator and by a replica passing a change on. Completes with the copies the chain made.
     */
    CompletableFuture<Integer> sendChain(List<HostPort> chain, java.util.function.Function<List<String>, Request> request,
            byte[] payload) {
        List<String> rest = new ArrayList<>();
        for (HostPort h : chain.subList(1, chain.size())) {
            rest.add(h.toString());
        }
        return Chains.copies(peers.call(chain.get(0), request.apply(rest), Unpooled.wrappedBuffer(payload), timeout));
    }

    // ---- replica ----

    /** A replicated change arrives; runs on the applier thread, in arrival order. */
    public CompletableFuture<Integer> onReplicate(Request.Replicate r, byte[] change) {
        CompletableFuture<Integer> downstream = r.forward().isEmpty() ? CompletableFuture.completedFuture(0)
                : forward(r, change);
        store.maybeCheckpoint();
        CompletableFuture<Void> local = applyInOrder(r, change);
        return local.handle((v, e) -> e).thenCombine(downstream.exceptionally(e -> 0), (localError, down) -> {
            if (localError != null && down == 0) {
                throw localError instanceof java.util.concurrent.CompletionException ce ? ce
                        : new java.util.concurrent.CompletionException(localError);
            }
            return (localError == null ? 1 : 0) + down;
        });
    }

    private CompletableFuture<Integer> forward(Request.Replicate r, byte[] change) {
        List<HostPort> chain = new ArrayList<>();
        for (String a : r.forward()) {
            chain.add(HostPort.parse(a));
        }
        return Chains.along(chain, c -> sendChain(c,
                rest -> new Request.Replicate(r.partition(), r.epoch(), r.seq(), r.coordinator(), rest), change));
    }

    private CompletableFuture<Void> applyInOrder(Request.Replicate r, byte[] change) {
        List<Waiting> queue = waiting.get(r.partition());
        if (queue != null) {
            // A snapshot is on its way; this change is applied (or found included) after it.
            Waiting w = new Waiting(r, change, new CompletableFuture<>());
            queue.add(w);
            return w.done();
        }
        try {
            return onceDurable(store.applyReplicated(r.partition(), r.epoch(), r.seq(), change));
        } catch (FsException e) {
            if (e.code() != ErrorCode.STALE) {
                return CompletableFuture.failedFuture(e);
            }
        }
        LOG.info("partition {} is behind its coordinator {}; fetching a snapshot", r.partition(), r.coordinator());
        List<Waiting> q = new ArrayList<>();
        Waiting first = new Waiting(r, change, new CompletableFuture<>());
        q.add(first);
        waiting.put(r.partition(), q);
        HostPort from = HostPort.parse(r.coordinator());
        CompletableFuture.supplyAsync(() -> fetchSnapshotPatiently(from, r.partition()), peers.blockingPool())
                .whenCompleteAsync((snap, err) -> installAndDrain(r.partition(), snap, err), applier);
        return first.done();
    }

    /**
     * Fetches a snapshot, asking again while the coordinator cannot be reached yet, until the peer
     * timeout: the change that showed this replica behind often arrives just as a link comes back,
     * before this node's own connection to the coordinator is open again. A replica that gave up
     * would stay behind until the partition's next change.
     */
    private MetadataStore.Snapshot fetchSnapshotPatiently(HostPort from, int partition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                return fetchSnapshot(from, partition);
            } catch (FsException e) {
                if (!Quorum.unreachable(e) || System.nanoTime() - deadline > 0) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }
            try {
                Thread.sleep(FETCH_RETRY.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.util.concurrent.CompletionException(new FsException(ErrorCode.TIMEOUT, "interrupted"));
            }
        }
    }

    private void installAndDrain(int partition, MetadataStore.Snapshot snap, Throwable err) {
        List<Waiting> queue = waiting.remove(partition);
        if (err == null) {
            try {
                store.installSnapshot(snap);
            } catch (FsException e) {
                err = e;
            }
        }
        if (err != null) {
            LOG.warn("partition {} stays behind until its next change: no snapshot ({})", partition,
                    Chains.unwrap(err).getMessage());
        }
        for (Waiting w : queue) {
            if (err != null) {
                w.done().completeExceptionally(err instanceof java.util.concurrent.CompletionException ce ? ce.getCause() : err);
                continue;
            }
            try {
                onceDurable(store.applyReplicated(partition, w.request().epoch(), w.request().seq(), w.change()))
                        .whenComplete((v, e) -> {
                            if (e == null) {
                                w.done().complete(null);
                            } else {
                                w.done().completeExceptionally(e);
                            }
                        });
            } catch (FsException e) {
                w.done().completeExceptionally(e);
            }
        }
    }

    private static CompletableFuture<Void> onceDurable(CompletableFuture<Long> durable) {
        return durable.thenApply(lsn -> null);
    }

    /**
     * This node's version of a partition, for a peer taking it over, after promising the peer's
     * epoch (when it asks for a promise). A promise to another node's epoch ends this node's own
     * coordination of the partition until it takes it over again.
     */
    public Response.PartitionVersion version(int partition, long promise) {
        long[] v = promise > 0 ? store.promise(partition, promise) : store.version(partition);
        if (promise > 0 && v[2] == promise) {
            confirmed.remove(partition);
        }
        return new Response.PartitionVersion(partition, v[0], v[1], v.length > 2 ? v[2] : store.promised(partition));
    }
}
