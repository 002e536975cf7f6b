package io.vortexfs.node.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.vortexfs.node.metadata.MetadataStore;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Names;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Request.PartitionStep;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.placement.Chains;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.wire.MessageCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The namespace operations a partition's coordinator runs: lookups and listings, which may need
 * the attributes of inodes kept in other partitions, and the changes that span partitions.
 *
 * <p>Where things live: an inode belongs to the partition its number falls in. A file, symlink or
 * device is born in its directory's partition, so creating one is a change of a single partition;
 * a directory is born in a partition picked at random, which is what spreads the namespace over
 * the cluster, and its entries live with it. So mkdir and rmdir always span two partitions, and
 * rename, link and unlink do when the names and inodes involved live in different ones.
 *
 * <p>How such an operation stays crash-safe: the coordinator of the operation's home partition
 * (that of the directory the request names first) writes a plan of idempotent steps into that
 * partition (BEGIN), has each step applied by the coordinator of the step's partition, and then
 * drops the plan (END). Each step is an ordinary logged, replicated change of its partition. A
 * plan still present when its partition changes hands is driven again, from the first step, by the
 * next coordinator: steps already applied answer "done", so the operation finishes exactly once. A
 * step refused for a reason the user should hear (a directory not empty, say) undoes the steps
 * before it, in reverse, and ends the plan. Steps are ordered so that the moments between them
 * look like what the user asked for or like nothing at all: a new directory exists before its
 * name, a removed one is gone before its name.
 *
 * <p>One operation at a time changes the entries of a home partition on this node, so the checks
 * made while planning still hold when the steps run.
 */
public final class NamespaceOps implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NamespaceOps.class);
    /** Index of the step that undoes step i is i + UNDO. */
    private static final int UNDO = 100;
    private static final int ATTEMPTS = 5;
    private static final int MAX_DEPTH = 4096;
    private static final Duration REDRIVE_EVERY = Duration.ofSeconds(2);

    private final MetadataStore store;
    private final Membership membership;
    private final Peers peers;
    private final PartitionReplicator replicator;
    private final Duration timeout;
    private final Map<Integer, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final Set<Long> driving = ConcurrentHashMap.newKeySet();
    private final SecureRandom random = new SecureRandom();
    /** Held here while this node coordinates the root's partition; see {@link MoveLease}. */
    private final MoveLease moveLease = new MoveLease(System::nanoTime);
    private final ScheduledExecutorService redriver;

    public NamespaceOps(MetadataStore store, Membership membership, Peers peers, PartitionReplicator replicator,
            Duration timeout) {
        this.store = store;
        this.membership = membership;
        this.peers = peers;
        this.replicator = replicator;
        this.timeout = timeout;
        this.redriver = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("vortex-redrive", true));
        redriver.scheduleWithFixedDelay(this::redriveAll, REDRIVE_EVERY.toMillis(), REDRIVE_EVERY.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        redriver.shutdownNow();
    }

    // ---- reads ----

    public Attr lookup(long parent, String name) throws FsException {
        long child = store.entry(parent, name);
        Attr a = child == 0 ? null : attrs(List.of(child)).get(child);
        if (a == null) {
            throw new FsException(ErrorCode.NOT_FOUND, "no entry '" + name + "' in " + parent);
        }
        return a;
    }

    public List<DirEntry> readDir(long dir) throws FsException {
        List<MetadataStore.Named> names = store.entries(dir);
        List<Long> inos = new ArrayList<>(names.size());
        for (MetadataStore.Named n : names) {
            inos.add(n.ino());
        }
        Map<Long, Attr> attrs = attrs(inos);
        List<DirEntry> out = new ArrayList<>(names.size());
        for (MetadataStore.Named n : names) {
            Attr a = attrs.get(n.ino());
            if (a != null) {
                out.add(new DirEntry(n.name(), a));
            }
        }
        return out;
    }

    /**
     * The attributes of these inodes, each from its partition's coordinator (this node's own
     * store for the partitions it coordinates), asked in parallel, one batch per partition.
     * Inodes that do not exist are left out.
     */
    private Map<Long, Attr> attrs(Collection<Long> inos) throws FsException {
        Map<Integer, List<Long>> byPartition = new LinkedHashMap<>();
        for (Long ino : inos) {
            byPartition.computeIfAbsent(store.partitionOf(ino), p -> new ArrayList<>()).add(ino);
        }
        Map<Long, Attr> out = new HashMap<>();
        List<Request.GetAttrs> elsewhere = new ArrayList<>();
        for (Map.Entry<Integer, List<Long>> e : byPartition.entrySet()) {
            List<Long> all = e.getValue();
            for (int from = 0; from < all.size(); from += Request.GetAttrs.MAX_INOS) {
                Request.GetAttrs ask = new Request.GetAttrs(e.getKey(),
                        all.subList(from, Math.min(all.size(), from + Request.GetAttrs.MAX_INOS)));
                MemberInfo c = membership.coordinator(e.getKey());
                if (c != null && membership.isSelf(c)) {
                    replicator.ensureCoordinator(e.getKey());
                    for (Attr a : store.getAttrs(ask.inos())) {
                        out.put(a.ino(), a);
                    }
                } else {
                    elsewhere.add(ask);
                }
            }
        }
        if (elsewhere.size() == 1) {
            // A lookup: one question, asked on this thread.
            try (Reply r = call(elsewhere.get(0).partition(), elsewhere.get(0), null)) {
                addAttrs(r, out);
            }
            return out;
        }
        List<CompletableFuture<Reply>> remote = new ArrayList<>();
        for (Request.GetAttrs ask : elsewhere) {
            remote.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return call(ask.partition(), ask, null);
                } catch (FsException ex) {
                    throw new java.util.concurrent.CompletionException(ex);
                }
            }, peers.blockingPool()));
        }
        int read = 0;
        try {
            for (; read < remote.size(); read++) {
                try (Reply r = await(remote.get(read))) {
                    addAttrs(r, out);
                }
            }
        } finally {
            // After a failure, the replies not read are released as they arrive.
            for (int i = read + 1; i < remote.size(); i++) {
                remote.get(i).thenAccept(Reply::close);
            }
        }
        return out;
    }

    private static void addAttrs(Reply r, Map<Long, Attr> out) throws FsException {
        if (!(r.response() instanceof Response.Attrs attrs)) {
            throw new FsException(ErrorCode.PROTOCOL, "a peer did not answer GetAttrs with attributes");
        }
        for (Attr a : attrs.attrs()) {
            out.put(a.ino(), a);
        }
    }

    private Attr attr(long ino) throws FsException {
        return attrs(List.of(ino)).get(ino);
    }

    /** Serves what another node's operation asks of a partition this node coordinates. */
    public Reply serve(Request request, ByteBuf payload) throws FsException {
        if (request instanceof PartitionStep s) {
            replicator.ensureCoordinator(s.partition());
            byte[] plan = new byte[payload == null ? 0 : payload.readableBytes()];
            if (payload != null) {
                payload.getBytes(payload.readerIndex(), plan);
            }
            Attr a = store.step(s, plan);
            return reply(a == null ? new Response.Ok() : new Response.AttrReply(a));
        } else if (request instanceof Request.GetAttrs g) {
            replicator.ensureCoordinator(g.partition());
            return reply(new Response.Attrs(store.getAttrs(g.inos())));
        } else if (request instanceof Request.GetEntry g) {
            replicator.ensureCoordinator(g.partition());
            return reply(new Response.Entry(store.entry(g.parent(), g.name())));
        } else if (request instanceof Request.MoveLease m) {
            replicator.ensureCoordinator(m.partition());
            if (!m.take()) {
                moveLease.giveBack(m.holder());
            } else if (!moveLease.take(m.holder(), moveLeaseLength())) {
                throw new FsException(ErrorCode.BUSY, "another directory is being moved");
            }
            return reply(new Response.Ok());
        }
        throw new FsException(ErrorCode.NOT_SUPPORTED, "not a partition request: " + request.getClass().getSimpleName());
    }

    // ---- changes ----

    public Attr makeNode(Request.MakeNode m) throws FsException {
        int home = store.partitionOf(m.parent());
        int there = FileType.isDirectory(m.mode()) ? random.nextInt(store.partitionCount()) : home;
        if (there == home) {
            return locked(home, () -> store.makeNode(m));
        }
        Names.validate(m.name());
        return locked(home, () -> {
            Attr parent = store.getAttr(m.parent());
            if (store.entry(m.parent(), m.name()) != 0) {
                throw new FsException(ErrorCode.EXISTS, "'" + m.name() + "' exists");
            }
            int mode = m.mode();
            int gid = m.gid();
            if ((parent.mode() & 02000) != 0) {
                // A setgid directory hands down its group and, to directories, its setgid bit, as ext4 does.
                gid = parent.gid();
                mode |= 02000;
            }
            Plan plan = new Plan(home, store.now());
            long ino = store.allocateIno(there);
            plan.add(new PartitionStep(there, plan.intent, 0, PartitionStep.MAKE_DIR, ino, m.parent(), "", 0, 0, mode,
                    m.uid(), gid, plan.now), PartitionStep.of(there, plan.intent, UNDO, PartitionStep.DROP_DIR, ino, plan.now));
            plan.add(PartitionStep.entry(home, plan.intent, 1, PartitionStep.PUT_ENTRY, m.parent(), m.name(), ino, 0, 1,
                    plan.now), null);
            return run(plan).get(0);
        });
    }

    public Attr link(long ino, long newParent, String newName) throws FsException {
        int home = store.partitionOf(newParent);
        int there = store.partitionOf(ino);
        if (there == home) {
            return locked(home, () -> store.link(ino, newParent, newName));
        }
        Names.validate(newName);
        return locked(home, () -> {
            if (store.entry(newParent, newName) != 0) {
                throw new FsException(ErrorCode.EXISTS, "'" + newName + "' exists");
            }
            Plan plan = new Plan(home, store.now());
            plan.add(PartitionStep.entry(there, plan.intent, 0, PartitionStep.ADD_LINKS, 0, "", ino, 0, 1, plan.now),
                    PartitionStep.entry(there, plan.intent, UNDO, PartitionStep.ADD_LINKS, 0, "", ino, 0, -1, plan.now));
            plan.add(PartitionStep.entry(home, plan.intent, 1, PartitionStep.PUT_ENTRY, newParent, newName, ino, 0, 0,
                    plan.now), null);
            return run(plan).get(0);
        });
    }

    public void remove(long parent, String name, boolean directory) throws FsException {
        Names.validate(name);
        int home = store.partitionOf(parent);
        locked(home, () -> {
            for (int attempt = 1;; attempt++) {
                long child = store.entry(parent, name);
                if (child == 0) {
                    throw new FsException(ErrorCode.NOT_FOUND, "no entry '" + name + "'");
                }
                int there = store.partitionOf(child);
                try {
                    if (there == home) {
                        store.remove(parent, name, directory);
                        return null;
                    }
                    Attr c = attr(child);
                    if (c == null) {
                        throw new FsException(ErrorCode.NOT_FOUND, "no entry '" + name + "'");
                    }
                    if (directory && !c.isDirectory()) {
                        throw new FsException(ErrorCode.NOT_DIRECTORY, "'" + name + "' is not a directory");
                    }
                    if (!directory && c.isDirectory()) {
                        throw new FsException(ErrorCode.IS_DIRECTORY, "'" + name + "' is a directory");
                    }
                    Plan plan = new Plan(home, store.now());
                    PartitionStep dropName = PartitionStep.entry(home, plan.intent, directory ? 1 : 0,
                            PartitionStep.REMOVE_ENTRY, parent, name, child, 0, directory ? -1 : 0, plan.now);
                    if (directory) {
                        // The directory goes first: once its name is gone, nothing can reach it to refill it.
                        plan.add(PartitionStep.of(there, plan.intent, 0, PartitionStep.DROP_DIR, child, plan.now), null);
                        plan.add(dropName, null);
                    } else {
                        plan.add(dropName, null);
                        plan.add(PartitionStep.entry(there, plan.intent, 1, PartitionStep.ADD_LINKS, 0, "", child, 0, -1,
                                plan.now), null);
                    }
                    run(plan);
                    return null;
                } catch (FsException e) {
                    if (e.code() != ErrorCode.BUSY || attempt == ATTEMPTS) {
                        throw e;
                    }
                }
            }
        });
    }

    public void rename(long srcParent, String srcName, long dstParent, String dstName) throws FsException {
        Names.validate(srcName);
        Names.validate(dstName);
        int home = store.partitionOf(srcParent);
        // A directory moving to another parent waits for the cluster's move lease before it takes the
        // partition's lock, so the partition's other changes do not queue behind that wait.
        long mover = srcParent != dstParent && isDirectory(store.entry(srcParent, srcName)) ? takeMoveLease() : 0;
        try {
            locked(home, () -> {
                for (int attempt = 1;; attempt++) {
                    try {
                        renameOnce(home, srcParent, srcName, dstParent, dstName, mover);
                        return null;
                    } catch (FsException e) {
                        if (e.code() != ErrorCode.BUSY || attempt == ATTEMPTS) {
                            throw e;
                        }
                    }
                }
            });
        } finally {
            if (mover != 0) {
                giveBackMoveLease(mover);
            }
        }
    }

    private boolean isDirectory(long ino) throws FsException {
        Attr a = ino == 0 ? null : attr(ino);
        return a != null && a.isDirectory();
    }

    /** {@code mover} is the move lease this rename holds, or 0. */
    private void renameOnce(int home, long srcParent, String srcName, long dstParent, String dstName, long mover)
            throws FsException {
        long src = store.entry(srcParent, srcName);
        if (src == 0) {
            throw new FsException(ErrorCode.NOT_FOUND, "no entry '" + srcName + "'");
        }
        int dstHome = store.partitionOf(dstParent);
        long dst;
        if (dstHome == home) {
            dst = store.entry(dstParent, dstName);
        } else {
            try (Reply r = call(dstHome, new Request.GetEntry(dstHome, dstParent, dstName), null)) {
                dst = ((Response.Entry) r.response()).ino();
            }
        }
        if (dst == src) {
            return; // Both names are links to one inode: POSIX says do nothing.
        }
        Attr s = attr(src);
        if (s == null) {
            throw new FsException(ErrorCode.NOT_FOUND, "no entry '" + srcName + "'");
        }
        if (!s.isDirectory() || srcParent == dstParent) {
            moveEntry(home, srcParent, srcName, dstParent, dstName, src, dst, s);
            return;
        }
        // A directory to another parent: one such move in the cluster at a time (see MoveLease), and
        // under it the walk up, which crosses partitions that the store, seeing only its own, cannot.
        // The lease is taken here only when the name became a directory after rename looked.
        long lease = mover != 0 ? mover : takeMoveLease();
        try {
            if (isAncestorOrSelf(src, dstParent)) {
                throw new FsException(ErrorCode.INVALID, "cannot move a directory into itself");
            }
            moveEntry(home, srcParent, srcName, dstParent, dstName, src, dst, s);
        } finally {
            if (lease != mover) {
                giveBackMoveLease(lease);
            }
        }
    }

    /** The rename once checked: one change of the home partition, or a plan across partitions. */
    private void moveEntry(int home, long srcParent, String srcName, long dstParent, String dstName, long src, long dst,
            Attr s) throws FsException {
        int dstHome = store.partitionOf(dstParent);
        if (dstHome == home && store.partitionOf(src) == home && (dst == 0 || store.partitionOf(dst) == home)) {
            store.rename(srcParent, srcName, dstParent, dstName);
            return;
        }
        Attr d = dst == 0 ? null : attr(dst);
        if (d != null) {
            if (s.isDirectory() && !d.isDirectory()) {
                throw new FsException(ErrorCode.NOT_DIRECTORY, "'" + dstName + "' is not a directory");
            }
            if (!s.isDirectory() && d.isDirectory()) {
                throw new FsException(ErrorCode.IS_DIRECTORY, "'" + dstName + "' is a directory");
            }
        }
        int moved = s.isDirectory() && srcParent != dstParent ? 1 : 0;
        int putDelta = moved - (d != null && d.isDirectory() ? 1 : 0);
        Plan plan = new Plan(home, store.now());
        long now = plan.now;
        long intent = plan.intent;
        // The new name first: between the steps the file has both names, never none.
        plan.add(PartitionStep.entry(dstHome, intent, 0, PartitionStep.PUT_ENTRY, dstParent, dstName, src, dst, putDelta, now),
                dst == 0
                        ? PartitionStep.entry(dstHome, intent, UNDO, PartitionStep.REMOVE_ENTRY, dstParent, dstName, src, 0,
                                -putDelta, now)
                        : PartitionStep.entry(dstHome, intent, UNDO, PartitionStep.PUT_ENTRY, dstParent, dstName, dst, src,
                                -putDelta, now));
        if (d != null) {
            int dp = store.partitionOf(dst);
            plan.add(d.isDirectory() ? PartitionStep.of(dp, intent, 1, PartitionStep.DROP_DIR, dst, now)
                    : PartitionStep.entry(dp, intent, 1, PartitionStep.ADD_LINKS, 0, "", dst, 0, -1, now), null);
        }
        plan.add(new PartitionStep(store.partitionOf(src), intent, 2, PartitionStep.SET_PARENT, src, dstParent, "", 0, 0,
                0, 0, 0, now), null);
        plan.add(PartitionStep.entry(home, intent, 3, PartitionStep.REMOVE_ENTRY, srcParent, srcName, src, 0, -moved, now),
                null);
        run(plan);
    }

    /**
     * Takes the cluster's lease on moving a directory, from the coordinator of the root's partition,
     * waiting while another move holds it (moves take milliseconds; a dead holder's lease runs out).
     */
    private long takeMoveLease() throws FsException {
        long holder = random.nextLong() | 1;
        int partition = store.partitionOf(MetadataStore.ROOT);
        long deadline = System.nanoTime() + timeout.toNanos();
        for (long pause = 1; ; pause = Math.min(pause * 2, 50)) {
            try {
                call(partition, new Request.MoveLease(partition, holder, true), null).close();
                return holder;
            } catch (FsException e) {
                if (e.code() != ErrorCode.BUSY) {
                    giveBackMoveLease(holder); // the grant may have been made and its answer lost
                    throw e;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new FsException(ErrorCode.TIMEOUT, "another directory move went on for " + timeout.toSeconds()
                            + " s");
                }
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FsException(ErrorCode.TIMEOUT, "interrupted while waiting to move a directory");
            }
        }
    }

    private void giveBackMoveLease(long holder) {
        int partition = store.partitionOf(MetadataStore.ROOT);
        try {
            call(partition, new Request.MoveLease(partition, holder, false), null).close();
        } catch (FsException e) {
            LOG.debug("could not give back the move lease, which runs out by itself: {}", e.getMessage());
        }
    }

    /**
     * Long enough for a move whose steps wait for a partition changing hands, short enough that a
     * holder that died stops other moves only briefly.
     */
    private Duration moveLeaseLength() {
        return timeout.multipliedBy(2);
    }

    /** True when {@code ino} is {@code dir} or one of its ancestors; walks up across partitions. */
    private boolean isAncestorOrSelf(long ino, long dir) throws FsException {
        long cur = dir;
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            if (cur == ino) {
                return true;
            }
            if (cur == MetadataStore.ROOT) {
                return false;
            }
            Attr a = attr(cur);
            if (a == null) {
                throw new FsException(ErrorCode.NOT_FOUND, "directory " + cur + " is gone");
            }
            cur = a.parent();
        }
        throw new FsException(ErrorCode.IO, "directory parent chain does not reach the root");
    }

    // ---- plans ----

    /** The steps of one operation, each with the step that undoes it (or null). */
    static final class Plan {
        final int home;
        final long now;
        final long intent;
        final List<PartitionStep> steps = new ArrayList<>();
        final List<PartitionStep> undos = new ArrayList<>();

        Plan(int home, long now) {
            this(home, now, MetadataStore.intentId(now, new SecureRandom().nextInt()));
        }

        Plan(int home, long now, long intent) {
            this.home = home;
            this.now = now;
            this.intent = intent;
        }

        void add(PartitionStep step, PartitionStep undo) {
            steps.add(step);
            undos.add(undo);
        }

        byte[] encode() {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(buf)) {
                out.writeLong(now);
                out.writeInt(steps.size());
                for (int i = 0; i < steps.size(); i++) {
                    write(out, steps.get(i));
                    out.writeBoolean(undos.get(i) != null);
                    if (undos.get(i) != null) {
                        write(out, undos.get(i));
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return buf.toByteArray();
        }

        private static void write(DataOutputStream out, PartitionStep s) throws IOException {
            byte[] b = MessageCodec.encode(s, 1 << 16);
            out.writeShort(MessageCodec.kindOf(s));
            out.writeInt(b.length);
            out.write(b);
        }

        static Plan decode(int home, long intent, byte[] bytes) throws FsException {
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
                Plan plan = new Plan(home, in.readLong(), intent);
                int n = in.readInt();
                for (int i = 0; i < n; i++) {
                    PartitionStep step = read(in);
                    plan.add(step, in.readBoolean() ? read(in) : null);
                }
                return plan;
            } catch (IOException | RuntimeException e) {
                throw new FsException(ErrorCode.CORRUPT, "undecodable plan of operation " + intent + ": " + e);
            }
        }

        private static PartitionStep read(DataInputStream in) throws IOException {
            int kind = in.readShort() & 0xffff;
            byte[] b = in.readNBytes(in.readInt());
            return (PartitionStep) MessageCodec.decode(kind, b);
        }
    }

    /** Writes the plan into its home partition, then drives it. Returns what each step answered. */
    private List<Attr> run(Plan plan) throws FsException {
        call(plan.home, PartitionStep.of(plan.home, plan.intent, 0, PartitionStep.BEGIN, 0, plan.now), plan.encode());
        long deadline = System.nanoTime() + timeout.toNanos() * 2;
        try {
            while (true) {
                try {
                    return drive(plan);
                } catch (FsException e) {
                    // A partition changing hands: its next coordinator answers within seconds, and
                    // finishing now beats leaving a half-done operation for the user to trip over.
                    if (!passing(e.code()) || System.nanoTime() > deadline) {
                        throw e;
                    }
                    sleep(200);
                }
            }
        } catch (FsException e) {
            if (passing(e.code())) {
                // Begun, not finished: the client must not take this for "not done" and send it again.
                throw new FsException(ErrorCode.IO, "operation " + plan.intent + " is not finished (" + e.getMessage()
                        + "); its partition's coordinator will finish it", e);
            }
            throw e;
        }
    }

    /**
     * Applies the steps in order. A step refused for a lasting reason undoes the ones before it and
     * ends the plan; one that could not be reached leaves the plan in place, for the next drive.
     */
    private List<Attr> drive(Plan plan) throws FsException {
        if (!driving.add(plan.intent)) {
            throw new FsException(ErrorCode.BUSY, "operation " + plan.intent + " is already running");
        }
        try {
            List<Attr> results = new ArrayList<>();
            for (int i = 0; i < plan.steps.size(); i++) {
                try {
                    results.add(step(plan.steps.get(i)));
                } catch (FsException e) {
                    if (passing(e.code())) {
                        throw e;
                    }
                    for (int j = i - 1; j >= 0; j--) {
                        if (plan.undos.get(j) != null) {
                            undo(plan, plan.undos.get(j));
                        }
                    }
                    end(plan);
                    throw e;
                }
            }
            end(plan);
            return results;
        } finally {
            driving.remove(plan.intent);
        }
    }

    private void undo(Plan plan, PartitionStep undo) throws FsException {
        try {
            step(undo);
        } catch (FsException e) {
            if (passing(e.code())) {
                throw e;
            }
            LOG.error("operation {} could not undo step {} ({}); vortex fsck will show what is left", plan.intent,
                    undo.index(), e.getMessage());
        }
    }

    private void end(Plan plan) throws FsException {
        call(plan.home, PartitionStep.of(plan.home, plan.intent, 0, PartitionStep.END, 0, store.now()), null);
    }

    private Attr step(PartitionStep s) throws FsException {
        try (Reply r = call(s.partition(), s, null)) {
            return r.response() instanceof Response.AttrReply a ? a.attr() : null;
        }
    }

    /** Failures that say nothing about the operation, only that a partition could not be reached now. */
    private static boolean passing(ErrorCode code) {
        return switch (code) {
            case TIMEOUT, UNAVAILABLE, NOT_COORDINATOR, IO, STALE, PROTOCOL -> true;
            default -> false;
        };
    }

    /**
     * Returns once no plan is left unfinished in {@code partition}, finishing those there are: a
     * client request is served only on a settled partition, so nobody works on the state between
     * two steps of an operation whose driver died. Throws NOT_COORDINATOR (the client asks again)
     * when a plan cannot be finished yet. Plans' own steps never wait here, so two partitions
     * settling at once cannot wait for each other.
     */
    public void settle(int partition) throws FsException {
        if (store.intents(partition).isEmpty()) {
            return;
        }
        locked(partition, () -> {
            for (Map.Entry<Long, byte[]> e : store.intents(partition).entrySet()) {
                try {
                    drive(Plan.decode(partition, e.getKey(), e.getValue()));
                } catch (FsException ex) {
                    if (passing(ex.code()) || ex.code() == ErrorCode.BUSY) {
                        throw new FsException(ErrorCode.NOT_COORDINATOR, "metadata partition " + partition
                                + " has an unfinished operation (" + ex.getMessage() + ")");
                    }
                    // Undone: the partition is settled all the same.
                }
            }
            return null;
        });
    }

    private static void sleep(long ms) throws FsException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(ErrorCode.TIMEOUT, "interrupted");
        }
    }

    /**
     * Finishes the plans left in the partitions this node coordinates — by a coordinator that died
     * while running them, or by a run of its own that could not reach a partition.
     */
    private void redriveAll() {
        for (int p = 0; p < store.partitionCount(); p++) {
            try {
                MemberInfo c = membership.coordinator(p);
                if (c == null || !membership.isSelf(c)) {
                    continue;
                }
                Map<Long, byte[]> left = store.intents(p);
                if (left.isEmpty()) {
                    continue;
                }
                replicator.ensureCoordinator(p);
                for (Map.Entry<Long, byte[]> e : left.entrySet()) {
                    if (driving.contains(e.getKey())) {
                        continue;
                    }
                    Plan plan = Plan.decode(p, e.getKey(), e.getValue());
                    int partition = p;
                    try {
                        boolean finished = locked(partition, () -> {
                            // Under the lock no run of this node is half-way; the plan may have ended meanwhile.
                            if (!store.intents(partition).containsKey(plan.intent)) {
                                return true;
                            }
                            drive(plan);
                            return false;
                        });
                        if (finished) {
                            continue;
                        }
                        LOG.info("finished operation {} of metadata partition {}", e.getKey(), partition);
                    } catch (FsException ex) {
                        if (passing(ex.code()) || ex.code() == ErrorCode.BUSY) {
                            LOG.info("operation {} of metadata partition {} waits: {}", e.getKey(), partition, ex.getMessage());
                        } else {
                            LOG.info("operation {} of metadata partition {} was undone: {}", e.getKey(), partition,
                                    ex.getMessage());
                        }
                    }
                }
            } catch (FsException e) {
                LOG.debug("cannot finish the operations of partition {} yet: {}", p, e.getMessage());
            } catch (RuntimeException e) {
                LOG.warn("finishing the operations of partition {} failed", p, e);
            }
        }
    }

    // ---- plumbing ----

    private interface Body<T> {
        T run() throws FsException;
    }

    /** Runs {@code body} as the only namespace change of {@code partition} on this node. */
    private <T> T locked(int partition, Body<T> body) throws FsException {
        ReentrantLock lock = locks.computeIfAbsent(partition, p -> new ReentrantLock());
        try {
            if (!lock.tryLock(timeout.toMillis() * 2, TimeUnit.MILLISECONDS)) {
                throw new FsException(ErrorCode.TIMEOUT, "metadata partition " + partition + " is busy");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(ErrorCode.TIMEOUT, "interrupted");
        }
        try {
            return body.run();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends a request to the coordinator of {@code partition} — this node's own store when that is
     * this node — and waits, within the deadline, following the coordinator when it moves.
     */
    private Reply call(int partition, Request request, byte[] payload) throws FsException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                MemberInfo c = membership.coordinator(partition);
                if (c == null) {
                    throw new FsException(ErrorCode.UNAVAILABLE, "no owner of metadata partition " + partition + " is alive");
                }
                if (membership.isSelf(c)) {
                    return serve(request, payload == null ? null : Unpooled.wrappedBuffer(payload));
                }
                long left = Math.max(1, deadline - System.nanoTime());
                return await(peers.call(Peers.address(c), request, payload == null ? null : Unpooled.wrappedBuffer(payload),
                        Duration.ofNanos(left)));
            } catch (FsException e) {
                boolean again = e.code() == ErrorCode.NOT_COORDINATOR || e.code() == ErrorCode.UNAVAILABLE;
                if (!again || System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private Reply await(CompletableFuture<Reply> f) throws FsException {
        try {
            return f.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw Chains.unwrap(e);
        } catch (java.util.concurrent.TimeoutException e) {
            f.thenAccept(Reply::close);
            throw new FsException(ErrorCode.TIMEOUT, "no answer within " + timeout.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(ErrorCode.TIMEOUT, "interrupted");
        }
    }

    private static Reply reply(Response r) {
        return new Reply(r, Unpooled.EMPTY_BUFFER);
    }
}
