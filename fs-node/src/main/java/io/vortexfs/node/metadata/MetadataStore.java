package io.vortexfs.node.metadata;

import io.vortexfs.node.crypto.NameCipher;
import io.vortexfs.node.crypto.Sealer;
import io.vortexfs.node.wal.WriteAheadLog;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ChunkRef;
import io.vortexfs.protocol.ChunkSlot;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Names;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.XattrNames;
import io.vortexfs.protocol.placement.Partitions;
import io.vortexfs.protocol.rpc.ClusterKey;
import io.vortexfs.protocol.wire.MessageCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.mapdb.Atomic;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;
import org.mapdb.serializer.GroupSerializer;
import org.mapdb.serializer.SerializerArrayTuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The filesystem namespace kept by a node: inodes, directory entries and file layouts, in MapDB
 * under {@code DIR/meta}, behind the node's write-ahead log under {@code DIR/wal}.
 *
 * <p>A mutation is checked against the current state, applied to MapDB, and appended to
 * the log as one record, all under the store's monitor; the call returns once that record is
 * durable (concurrent mutations share the fsync). Everything a mutation decides — the time, a new
 * inode number — is in its record, so replaying the log reproduces the state exactly. An operation
 * that touches several keys, such as a rename across directories, is one record: after a crash it
 * is either wholly replayed or wholly absent. MapDB writes its file in place, which a crash can
 * leave half-written; a checkpoint copies that file, with the last LSN it includes, and a start
 * opens a copy of the last checkpoint and replays what followed (see {@link StoreFiles}).
 *
 * <p>Invariant of every mutation body: it throws (an FsException) only before it has changed
 * anything, so a refused request leaves no trace.
 *
 * <p>Three maps:
 * <ul>
 *   <li>{@code inodes}: ino &rarr; {@link Attr}</li>
 *   <li>{@code dirents}: (parent ino, name) &rarr; child ino, ordered, so a directory is a prefix range</li>
 *   <li>{@code chunks}: (ino, chunk index) &rarr; chunk ref (32-byte id, 4-byte length); absent means hole</li>
 *   <li>{@code xattrs}: (ino, attribute name) &rarr; value</li>
 * </ul>
 * Directories keep their parent's ino in {@link Attr#parent()}, which makes the subtree check of a
 * directory rename a walk up the tree.
 */
public final class MetadataStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataStore.class);

    public static final long ROOT = 1;
    private static final byte[] NO_BYTES = new byte[0];
    private static final int MAX_LINKS = 65000;

    private final DB db;
    /** Where {@link StoreFiles} keeps the working file and the checkpoint. */
    private final Path dir;
    private final HTreeMap<Long, Attr> inodes;
    private final BTreeMap<Object[], Long> dirents;
    private final BTreeMap<Object[], byte[]> chunks;
    private final BTreeMap<Object[], byte[]> xattrs;
    /** (partition, intent) &rarr; plan of a namespace operation spanning partitions that is not finished. */
    private final BTreeMap<Object[], byte[]> intents;
    /** (partition, intent, step index) &rarr; time: the steps of such operations that were applied here. */
    private final BTreeMap<Object[], Long> applied;
    private final Atomic.Long checkpointLsn;
    /** partition &rarr; {epoch, seq} of the last change applied to it. */
    private final HTreeMap<Integer, long[]> versions;
    private final int partitionCount;
    /**
     * partition &rarr; the newest epoch promised to a node taking it over; changes of older epochs
     * are refused from then on. Kept in memory: a restart is itself a membership change, after
     * which the partition is taken over again.
     */
    private final Map<Integer, Long> promised = new java.util.HashMap<>();
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Duration walTimeout = Duration.ofSeconds(30);
    private WriteAheadLog wal;
    /** Seals map values and log records on disk; null when the cluster does not encrypt at rest. */
    private final Sealer sealer;
    /** Seals the names in the keys of directory entries and extended attributes; null with {@link #sealer}. */
    private final NameCipher nameCipher;
    private volatile Replication replication = Replication.LOCAL;
    private long sinceCheckpoint;
    private volatile boolean failed;

    /**
     * Mutations between checkpoints, at least; bounds the log a start replays. A checkpoint copies
     * the whole store, so a larger store waits for one mutation per {@link #STORE_BYTES_PER_MUTATION}
     * of its file, which bounds the copying per mutation.
     */
    private static final int CHECKPOINT_EVERY = 20_000;
    private static final int STORE_BYTES_PER_MUTATION = 4096;
    private long checkpointEvery = CHECKPOINT_EVERY;
    /** The associated data of a sealed log record. */
    private static final byte[] WAL_RECORD = "metadata write-ahead log record".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    private MetadataStore(DB db, Path dir, Clock clock, int partitionCount, ClusterKey encryptUnder) {
        this.db = db;
        this.dir = dir;
        this.clock = clock;
        this.partitionCount = partitionCount;
        this.sealer = encryptUnder == null ? null : Sealer.of(encryptUnder, "metadata values");
        this.nameCipher = encryptUnder == null ? null : NameCipher.of(encryptUnder, "metadata names");
        this.checkpointLsn = db.atomicLong("checkpointLsn").createOrOpen();
        this.versions = db.hashMap("partitionVersions", Serializer.INTEGER, values("partitionVersions", Serializer.LONG_ARRAY))
                .createOrOpen();
        this.inodes = db.hashMap("inodes", Serializer.LONG, values("inodes", new AttrSerializer())).createOrOpen();
        this.dirents = db.treeMap("dirents")
                .keySerializer(new SerializerArrayTuple(Serializer.LONG, Serializer.STRING))
                .valueSerializer(values("dirents", Serializer.LONG))
                .createOrOpen();
        this.chunks = db.treeMap("chunks")
                .keySerializer(new SerializerArrayTuple(Serializer.LONG, Serializer.LONG))
                .valueSerializer(values("chunks", Serializer.BYTE_ARRAY))
                .createOrOpen();
        this.xattrs = db.treeMap("xattrs")
                .keySerializer(new SerializerArrayTuple(Serializer.LONG, Serializer.STRING))
                .valueSerializer(values("xattrs", Serializer.BYTE_ARRAY))
                .createOrOpen();
        this.intents = db.treeMap("intents")
                .keySerializer(new SerializerArrayTuple(Serializer.INTEGER, Serializer.LONG))
                .valueSerializer(values("intents", Serializer.BYTE_ARRAY))
                .createOrOpen();
        this.applied = db.treeMap("appliedSteps")
                .keySerializer(new SerializerArrayTuple(Serializer.INTEGER, Serializer.LONG, Serializer.INTEGER))
                .valueSerializer(values("appliedSteps", Serializer.LONG))
                .createOrOpen();
    }

    /** How map {@code name} keeps its values: sealed when the store encrypts, else as {@code plain} writes them. */
    private <T> GroupSerializer<T> values(String name, GroupSerializer<T> plain) {
        return sealer == null ? plain : new SealedSerializer<>(name, plain, sealer);
    }

    /** Opens a store on its own, as the founder of a one-partition namespace: with a root directory. */
    public static MetadataStore open(Path dataDir, Clock clock) throws IOException {
        MetadataStore store = open(dataDir, clock, WriteAheadLog.Options.DEFAULT, 1, null);
        try {
            store.createRootIfMissing();
        } catch (FsException e) {
            store.close();
            throw new IOException(e.getMessage(), e);
        }
        return store;
    }

    /**
     * Opens the store at its last checkpoint and replays the write-ahead log on top of it. A new store
     * is empty, without even a root: the node that founds a cluster makes one, the others receive it
     * from the partition's coordinator.
     *
     * @param encryptUnder the cluster key under whose derived keys map values, names in map keys and log
     *                     records are encrypted; null keeps them plain
     */
    public static MetadataStore open(Path dataDir, Clock clock, WriteAheadLog.Options walOptions, int partitionCount,
            ClusterKey encryptUnder) throws IOException {
        Path dir = dataDir.resolve("meta");
        Files.createDirectories(dir);
        UnpackedLibraries.loadAndForget();
        DB db;
        try {
            db = StoreFiles.openFromCheckpoint(dir);
        } catch (RuntimeException e) {
            throw new IOException("cannot open the metadata in " + dir + ": " + firstMessage(e), e);
        }
        MetadataStore store;
        try {
            store = new MetadataStore(db, dir, clock, partitionCount, encryptUnder);
        } catch (RuntimeException e) {
            db.close();
            throw new IOException("cannot open the metadata in " + dir + ": " + firstMessage(e), e);
        }
        try {
            store.versionLegacyRoot();
            store.countXattrsOnce();
            long[] replayed = {0};
            synchronized (store) {
                store.wal = WriteAheadLog.open(dataDir.resolve("wal"), store.checkpointLsn.get(), walOptions, r -> {
                    store.replay(r);
                    replayed[0]++;
                });
            }
            if (replayed[0] > 0) {
                LOG.info("replayed {} metadata changes from the write-ahead log", replayed[0]);
            }
            store.checkpoint();
            return store;
        } catch (IOException | RuntimeException e) {
            if (store.wal != null) {
                store.wal.close();
            }
            db.close();
            if (e instanceof RuntimeException) {
                throw new IOException("cannot open the metadata in " + dir + ": " + firstMessage(e), e);
            }
            throw e;
        }
    }

    /**
     * The first message of a cause of {@code e}, past MapDB's wrappers of what a value's serializer
     * threw (which sometimes keep neither its message nor the exception).
     */
    private static String firstMessage(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getClass().getName().startsWith("org.mapdb.")) {
                return t.getMessage();
            }
        }
        return e instanceof org.mapdb.DBException.SerializationError
                ? "a stored value cannot be read: it is damaged, or it fails its authentication (encrypted under another key)"
                : e.toString();
    }

    /**
     * Founds every partition, as the founder of a cluster does once: a logged change like any other
     * (the root partition's also creates the root directory), so each partition starts at sequence 1
     * and a member that has nothing is behind.
     */
    public void createRootIfMissing() throws FsException {
        for (int p = 0; p < partitionCount; p++) {
            synchronized (this) {
                if (versions.containsKey(p) || (p == partitionOf(ROOT) && inodes.containsKey(ROOT))) {
                    continue;
                }
            }
            logged(Change.KIND_ROOT, null, NO_BYTES, false, 0, p);
        }
    }

    private Attr doCreateRoot(long now) {
        Attr root = new Attr(ROOT, FileType.S_IFDIR | 0755, 2, 0, 0, 0, now, now, now, 0, ROOT, null, 1, 0, 0);
        inodes.put(ROOT, root);
        return root;
    }

    /** A store from before partitions has a root but no version: it counts as the root change, sequence 1. */
    private synchronized void versionLegacyRoot() {
        int p = partitionOf(ROOT);
        if (inodes.containsKey(ROOT) && !versions.containsKey(p)) {
            versions.put(p, new long[] {0, 1});
            db.commit();
        }
    }

    /**
     * Inode records written before format 3 read with an attribute count of 0, though their inodes
     * may have attributes; count them once from the attribute map, before the log replays.
     */
    private synchronized void countXattrsOnce() {
        Atomic.Boolean counted = db.atomicBoolean("xattrCountsKnown").createOrOpen();
        if (counted.get()) {
            return;
        }
        Map<Long, Integer> counts = new java.util.HashMap<>();
        for (Object[] k : xattrs.keySet()) {
            counts.merge((Long) k[0], 1, Integer::sum);
        }
        for (Map.Entry<Long, Integer> e : counts.entrySet()) {
            Attr a = inodes.get(e.getKey());
            if (a != null && a.xattrCount() != e.getValue()) {
                inodes.put(a.ino(), a.withXattrCount(e.getValue()));
            }
        }
        counted.set(true);
        db.commit();
    }

    /**
     * A change as the log records it and as a coordinator ships it to replicas: which partition it
     * belongs to and its place there (epoch, sequence), then what it does. A mutation carries the
     * request, the time it happened, the inode number it allocated (0 if none) and extra bytes (an
     * xattr value); an epoch change carries the version it follows; a root change only its time.
     * Records from before partitions (no marker) decode as partition 0, epoch 0, sequence 0.
     */
    record Change(int kind, Request request, long nowNs, long ino, byte[] extra, int partition, long epoch, long seq,
            long prevEpoch, long prevSeq) {
        static final int KIND_MUTATION = 0;
        static final int KIND_EPOCH = 1;
        static final int KIND_ROOT = 2;
        private static final short MARKER = (short) 0xFFFF;
        private static final byte FORMAT = 2;

        byte[] encode() {
            byte[] body = request == null ? NO_BYTES : MessageCodec.encode(request, WriteAheadLog.MAX_RECORD_BYTES / 2);
            ByteBuffer b = ByteBuffer.allocate(2 + 1 + 1 + 4 + 8 + 8 + 8 + 8 + 2 + 8 + 8 + 4 + body.length + extra.length);
            b.putShort(MARKER).put(FORMAT).put((byte) kind).putInt(partition).putLong(epoch).putLong(seq)
                    .putLong(prevEpoch).putLong(prevSeq)
                    .putShort((short) (request == null ? 0 : MessageCodec.kindOf(request))).putLong(nowNs).putLong(ino)
                    .putInt(body.length).put(body).put(extra);
            return b.array();
        }

        static Change decode(byte[] record) {
            ByteBuffer b = ByteBuffer.wrap(record);
            int kind = KIND_MUTATION;
            int partition = 0;
            long epoch = 0;
            long seq = 0;
            long prevEpoch = 0;
            long prevSeq = 0;
            if (b.getShort(0) == MARKER) {
                b.getShort();
                if (b.get() != FORMAT) {
                    throw new IllegalStateException("change record of an unknown format");
                }
                kind = b.get();
                partition = b.getInt();
                epoch = b.getLong();
                seq = b.getLong();
                prevEpoch = b.getLong();
                prevSeq = b.getLong();
            }
            int requestKind = b.getShort() & 0xffff;
            long now = b.getLong();
            long ino = b.getLong();
            byte[] body = new byte[b.getInt()];
            b.get(body);
            byte[] extra = new byte[b.remaining()];
            b.get(extra);
            Request request = kind == KIND_MUTATION ? (Request) MessageCodec.decode(requestKind, body) : null;
            return new Change(kind, request, now, ino, extra, partition, epoch, seq, prevEpoch, prevSeq);
        }
    }

    /**
     * Where a coordinator's changes go besides its own log. Called under the store's monitor, right
     * after a change is applied and queued for the log, so changes leave in sequence order; the
     * future completes once enough replicas hold the change, or fails when they cannot.
     */
    public interface Replication {
        Replication LOCAL = (partition, epoch, seq, change) -> CompletableFuture.completedFuture(null);

        CompletableFuture<Void> ship(int partition, long epoch, long seq, byte[] change);
    }

    public void replicateWith(Replication r) {
        this.replication = r;
    }

    public int partitionOf(long ino) {
        return Partitions.of(ino, partitionCount);
    }

    /** The partition a mutation belongs to: that of the inode it is routed by. */
    private int partitionOf(Request r) {
        long ino = Request.routingInode(r);
        if (ino <= 0) {
            throw new IllegalArgumentException("not a metadata mutation: " + r);
        }
        return partitionOf(ino);
    }

    /**
     * Promises a node taking {@code partition} over with {@code epoch} to accept no change of an
     * older epoch any more — neither from a former coordinator nor, if this node was that, from
     * itself. A node that has promised a newer epoch, or holds one, does not promise an older one.
     * Returns {epoch, seq, promised} as they are after the promise.
     */
    public synchronized long[] promise(int partition, long epoch) {
        long[] v = version(partition);
        long before = promised.getOrDefault(partition, 0L);
        if (epoch > v[0] && epoch >= before) {
            promised.put(partition, epoch);
        }
        return new long[] {v[0], v[1], promised.getOrDefault(partition, 0L)};
    }

    /** The newest epoch promised for {@code partition}, 0 if none. */
    public synchronized long promised(int partition) {
        return promised.getOrDefault(partition, 0L);
    }

    private void checkPromise(int partition, long epoch) throws FsException {
        long p = promised.getOrDefault(partition, 0L);
        if (epoch < p) {
            throw new FsException(ErrorCode.NOT_COORDINATOR, "partition " + partition + " is being taken over at epoch "
                    + p + "; a change of epoch " + epoch + " comes from a former coordinator");
        }
    }

    /** {epoch, seq} of the last change applied to {@code partition}; {0, 0} for one never changed. */
    public synchronized long[] version(int partition) {
        long[] v = versions.get(partition);
        return v == null ? new long[] {0, 0} : v.clone();
    }

    private Object logged(Request request, byte[] extra, boolean allocatesIno) throws FsException {
        return logged(Change.KIND_MUTATION, request, extra, allocatesIno, 0, 0);
    }

    /**
     * Applies a change as the coordinator of its partition and makes it durable: check and apply
     * under the monitor, queue its log record and ship it to the replicas, then wait — outside the
     * monitor, so others can join the same fsync — until it is on disk here and on a quorum there.
     * A change that did not reach the quorum stays applied here but is reported as failed; the
     * caller may not rely on it either way, as with any write that timed out.
     */
    private Object logged(int kind, Request request, byte[] extra, boolean allocatesIno, long newEpoch, int forPartition)
            throws FsException {
        java.util.concurrent.CompletableFuture<Long> durable;
        CompletableFuture<Void> shipped;
        Object result;
        synchronized (this) {
            if (failed) {
                throw new FsException(ErrorCode.IO, "metadata store failed earlier; restart the node");
            }
            int p = switch (kind) {
                case Change.KIND_MUTATION -> request instanceof Request.PartitionStep s ? s.partition() : partitionOf(request);
                default -> forPartition;
            };
            long[] v = version(p);
            checkPromise(p, kind == Change.KIND_EPOCH ? newEpoch : v[0]);
            long ino = allocatesIno ? newIno(partitionOf(request)) : 0;
            Change c = kind == Change.KIND_EPOCH
                    ? new Change(kind, null, nowNs(), 0, NO_BYTES, p, newEpoch, v[1] + 1, v[0], v[1])
                    : new Change(kind, request, nowNs(), ino, extra, p, v[0], v[1] + 1, 0, 0);
            byte[] bytes;
            try {
                bytes = c.encode();
            } catch (IllegalArgumentException e) {
                throw new FsException(ErrorCode.TOO_BIG, "metadata change too large to log: " + e.getMessage());
            }
            result = applyOrFail(c);
            durable = append(bytes);
            shipped = replication.ship(p, c.epoch(), c.seq(), bytes);
        }
        try {
            WriteAheadLog.await(durable, walTimeout);
        } catch (IOException e) {
            failed = true;
            throw new FsException(ErrorCode.IO, "metadata change not durable: " + e.getMessage(), e);
        }
        awaitReplicas(shipped);
        maybeCheckpoint();
        return result;
    }

    private void awaitReplicas(CompletableFuture<Void> shipped) throws FsException {
        try {
            shipped.get(walTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof FsException f ? f
                    : new FsException(ErrorCode.IO, "replicating a change failed: " + e.getCause(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new FsException(ErrorCode.TIMEOUT, "replicas did not confirm a change within " + walTimeout.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(ErrorCode.TIMEOUT, "interrupted while replicating");
        }
    }

    /** Checkpoints when enough changes have accumulated since the last one. */
    public void maybeCheckpoint() {
        if (sinceCheckpoint >= checkpointEvery) {
            try {
                checkpoint();
            } catch (IOException | RuntimeException e) {
                LOG.warn("checkpoint failed; the write-ahead log keeps the changes: {}", e.toString());
            }
        }
    }

    /**
     * Starts a new epoch of a partition this node now coordinates: a logged change that replicas
     * holding exactly the state it follows accept, and that fences off the old coordinator, whose
     * changes carry the older epoch.
     */
    public void beginEpoch(int partition, long epoch) throws FsException {
        logged(Change.KIND_EPOCH, null, NO_BYTES, false, epoch, partition);
    }

    /**
     * Applies a change shipped by a partition's coordinator and returns when it will be durable.
     * Refused with STALE when this replica is not exactly one change behind (it needs a snapshot),
     * and with NOT_COORDINATOR when the change is from an epoch this replica has moved past.
     */
    public CompletableFuture<Long> applyReplicated(int partition, long epoch, long seq, byte[] bytes) throws FsException {
        Change c;
        try {
            c = Change.decode(bytes);
        } catch (RuntimeException e) {
            throw new FsException(ErrorCode.INVALID, "undecodable change: " + e.getMessage());
        }
        if (c.partition() != partition || c.epoch() != epoch || c.seq() != seq) {
            throw new FsException(ErrorCode.INVALID, "change does not match its envelope");
        }
        synchronized (this) {
            if (failed) {
                throw new FsException(ErrorCode.IO, "metadata store failed earlier; restart the node");
            }
            long[] v = version(partition);
            checkPromise(partition, epoch);
            boolean next;
            if (c.kind() == Change.KIND_EPOCH) {
                next = v[0] == c.prevEpoch() && v[1] == c.prevSeq();
            } else {
                next = epoch == v[0] && seq == v[1] + 1;
            }
            if (!next) {
                if (epoch < v[0]) {
                    throw new FsException(ErrorCode.NOT_COORDINATOR, "partition " + partition + " is at epoch " + v[0]
                            + "; a change of epoch " + epoch + " comes from a former coordinator");
                }
                if (epoch == v[0] && seq <= v[1]) {
                    return wal.barrier(); // Already applied; durable once what is queued is.
                }
                throw new FsException(ErrorCode.STALE, "partition " + partition + " is at " + v[0] + "/" + v[1]
                        + ", change is " + epoch + "/" + seq);
            }
            try {
                applyOrFail(c);
            } catch (FsException e) {
                if (failed) {
                    throw e;
                }
                // Replicas apply what their coordinator applied to the same state: this one has drifted.
                throw new FsException(ErrorCode.STALE, "change " + epoch + "/" + seq + " does not apply here: " + e.getMessage());
            }
            return append(bytes);
        }
    }

    /**
     * Applies a change; a failure other than the change's own refusal (which comes before anything
     * changed) may have left MapDB half-changed, so it fails the store: the node must restart from
     * its checkpoint and log. Under the monitor.
     */
    private Object applyOrFail(Change c) throws FsException {
        try {
            return apply(c);
        } catch (FsException e) {
            throw e;
        } catch (RuntimeException | Error e) {
            failed = true;
            LOG.error("a metadata change failed half-way; the store stops taking changes until the node restarts", e);
            throw new FsException(ErrorCode.IO, "metadata store failed: " + e, e);
        }
    }

    /** Queues an applied change for the log; a log that cannot take it fails the store. Under the monitor. */
    private CompletableFuture<Long> append(byte[] change) throws FsException {
        try {
            CompletableFuture<Long> durable = wal.append(sealer == null ? change : sealer.seal(change, WAL_RECORD));
            sinceCheckpoint++;
            return durable;
        } catch (RuntimeException e) {
            failed = true;
            throw new FsException(ErrorCode.IO, "cannot log a metadata change: " + e.getMessage(), e);
        }
    }

    private void replay(WriteAheadLog.Record record) {
        byte[] payload = record.payload();
        if (sealer != null) {
            try {
                payload = sealer.open(payload, WAL_RECORD);
            } catch (javax.crypto.AEADBadTagException e) {
                // The record's CRC was good, so this is no torn write: a key change or tampering.
                throw new IllegalStateException("write-ahead log record " + record.lsn() + " fails its authentication: "
                        + "it was sealed under another key, or changed on purpose", e);
            }
        }
        Change c = Change.decode(payload);
        try {
            apply(c);
        } catch (FsException e) {
            // A logged change was valid when logged; on the same state it must be valid again.
            throw new IllegalStateException("replaying LSN " + record.lsn() + " (" + c.request() + ") failed: " + e, e);
        }
    }

    /** Runs one change on MapDB. Deterministic: it uses only what the change carries. */
    private Object apply(Change c) throws FsException {
        Object result = applyBody(c);
        if (c.seq() > 0) {
            versions.put(c.partition(), new long[] {c.epoch(), c.seq()});
        }
        return result;
    }

    private Object applyBody(Change c) throws FsException {
        Request r = c.request();
        long now = c.nowNs();
        if (c.kind() == Change.KIND_EPOCH) {
            return null;
        } else if (c.kind() == Change.KIND_ROOT) {
            if (c.partition() != partitionOf(ROOT)) {
                return null;
            }
            LOG.info("created the root directory");
            return doCreateRoot(now);
        } else if (r instanceof Request.PartitionStep s) {
            return doStep(s, c.extra());
        } else if (r instanceof Request.MakeNode m) {
            return doMakeNode(m, c.ino(), now);
        } else if (r instanceof Request.Link l) {
            requireLocal(c.partition(), l.ino());
            return doLink(l.ino(), l.newParent(), l.newName(), now);
        } else if (r instanceof Request.Remove rm) {
            requireLocal(c.partition(), dirents.get(key(rm.parent(), rm.name())));
            doRemove(rm.parent(), rm.name(), rm.directory(), now);
            return null;
        } else if (r instanceof Request.Rename rn) {
            requireLocal(c.partition(), dirents.get(key(rn.srcParent(), rn.srcName())));
            requireLocal(c.partition(), rn.dstParent());
            requireLocal(c.partition(), dirents.get(key(rn.dstParent(), rn.dstName())));
            doRename(rn.srcParent(), rn.srcName(), rn.dstParent(), rn.dstName(), now);
            return null;
        } else if (r instanceof Request.SetAttr sa) {
            return doSetAttr(sa, now);
        } else if (r instanceof Request.CommitWrite cw) {
            return doCommitWrite(cw, now);
        } else if (r instanceof Request.SetXattr x) {
            return doSetXattr(x.ino(), x.name(), c.extra(), x.flags(), now);
        } else if (r instanceof Request.RemoveXattr x) {
            return doRemoveXattr(x.ino(), x.name(), now);
        }
        throw new IllegalArgumentException("not a metadata mutation: " + r);
    }

    /**
     * Makes everything applied so far durable in a copy of MapDB's file (see {@link StoreFiles}) and
     * drops the log before it. Waits for the log first, so the checkpoint never claims an LSN the log
     * does not hold.
     */
    public void checkpoint() throws IOException {
        long lsn;
        synchronized (this) {
            if (failed) {
                // MapDB may hold a change the log does not: a checkpoint would make it permanent.
                throw new IOException("metadata store failed earlier; restart the node");
            }
            lsn = WriteAheadLog.await(wal.barrier(), walTimeout);
            try {
                checkpointLsn.set(lsn);
                db.commit();
            } catch (RuntimeException e) {
                failed = true;
                throw new IOException("committing MapDB failed: " + e, e);
            }
            // A checkpoint that fails is tried again after as many changes, not at every change.
            sinceCheckpoint = 0;
            long bytes = StoreFiles.saveCheckpoint(dir);
            checkpointEvery = Math.max(CHECKPOINT_EVERY, bytes / STORE_BYTES_PER_MUTATION);
        }
        wal.checkpoint(lsn);
    }

    /** Fsyncs of the write-ahead log so far. */
    public long walFsyncs() {
        return wal.fsyncCount();
    }

    /** Time spent in those fsyncs. */
    public long walFsyncNanos() {
        return wal.fsyncNanos();
    }

    public synchronized Attr getAttr(long ino) throws FsException {
        Attr a = inodes.get(ino);
        if (a == null) {
            throw new FsException(ErrorCode.NOT_FOUND, "no inode " + ino);
        }
        return a;
    }

    public synchronized Attr lookup(long parent, String name) throws FsException {
        directory(parent);
        Long child = dirents.get(key(parent, name));
        if (child == null) {
            throw new FsException(ErrorCode.NOT_FOUND, "no entry '" + name + "' in " + parent);
        }
        return getAttr(child);
    }

    public synchronized List<DirEntry> readDir(long ino) throws FsException {
        directory(ino);
        List<DirEntry> out = new ArrayList<>();
        for (Map.Entry<Object[], Long> e : dirents.prefixSubMap(new Object[] {ino}).entrySet()) {
            Attr child = inodes.get(e.getValue());
            if (child == null) {
                LOG.warn("directory {} names '{}' -> {}, which does not exist", ino, name(e.getKey()), e.getValue());
                continue;
            }
            out.add(new DirEntry(name(e.getKey()), child));
        }
        return out;
    }

    public Attr makeNode(Request.MakeNode r) throws FsException {
        Names.validate(r.name());
        if (FileType.isRegular(r.mode()) && r.chunkSize() <= 0) {
            // A layout is cut in chunkSize pieces: without one, truncate divides by zero and no mount can open the file.
            throw new FsException(ErrorCode.INVALID, "a regular file needs a positive chunk size");
        }
        return (Attr) logged(r, NO_BYTES, true);
    }

    private Attr doMakeNode(Request.MakeNode r, long ino, long now) throws FsException {
        {
            Attr parent = directory(r.parent());
            if (dirents.containsKey(key(r.parent(), r.name()))) {
                throw new FsException(ErrorCode.EXISTS, "'" + r.name() + "' exists");
            }
            boolean dir = FileType.isDirectory(r.mode());
            int mode = r.mode();
            int gid = r.gid();
            // A setgid directory hands its group down, and its setgid bit to subdirectories, as ext4 does.
            if ((parent.mode() & 02000) != 0) {
                gid = parent.gid();
                if (dir) {
                    mode |= 02000;
                }
            }
            long size = r.linkTarget() == null ? 0 : r.linkTarget().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            Attr attr = new Attr(ino, mode, dir ? 2 : 1, r.uid(), gid, size, now, now, now,
                    FileType.isRegular(mode) ? r.chunkSize() : 0, dir ? r.parent() : 0, r.linkTarget(), 1, 0, 0);
            inodes.put(ino, attr);
            dirents.put(key(r.parent(), r.name()), ino);
            touchDirectory(parent, dir ? 1 : 0, now);
            return attr;
        }
    }

    public Attr link(long ino, long newParent, String newName) throws FsException {
        Names.validate(newName);
        return (Attr) logged(new Request.Link(ino, newParent, newName), NO_BYTES, false);
    }

    private Attr doLink(long ino, long newParent, String newName, long now) throws FsException {
        {
            Attr target = getAttr(ino);
            if (target.isDirectory()) {
                throw new FsException(ErrorCode.PERMISSION, "hard links to directories are not allowed");
            }
            if (target.nlink() >= MAX_LINKS) {
                throw new FsException(ErrorCode.TOO_MANY_LINKS, "too many links to " + ino);
            }
            Attr parent = directory(newParent);
            if (dirents.containsKey(key(newParent, newName))) {
                throw new FsException(ErrorCode.EXISTS, "'" + newName + "' exists");
            }
            dirents.put(key(newParent, newName), ino);
            Attr linked = changed(target, target.mode(), target.nlink() + 1, target.uid(), target.gid(), target.size(),
                    target.atimeNs(), target.mtimeNs(), now, target.parent());
            inodes.put(ino, linked);
            touchDirectory(parent, 0, now);
            return linked;
        }
    }

    public void remove(long parentIno, String name, boolean directory) throws FsException {
        Names.validate(name);
        logged(new Request.Remove(parentIno, name, directory), NO_BYTES, false);
    }

    private void doRemove(long parentIno, String name, boolean directory, long now) throws FsException {
        {
            Attr parent = directory(parentIno);
            Long childIno = dirents.get(key(parentIno, name));
            if (childIno == null) {
                throw new FsException(ErrorCode.NOT_FOUND, "no entry '" + name + "'");
            }
            Attr child = getAttr(childIno);
            if (directory) {
                if (!child.isDirectory()) {
                    throw new FsException(ErrorCode.NOT_DIRECTORY, "'" + name + "' is not a directory");
                }
                if (!isEmpty(childIno)) {
                    throw new FsException(ErrorCode.NOT_EMPTY, "directory '" + name + "' is not empty");
                }
            } else if (child.isDirectory()) {
                throw new FsException(ErrorCode.IS_DIRECTORY, "'" + name + "' is a directory");
            }
            dirents.remove(key(parentIno, name));
            dropLink(child, now);
            touchDirectory(parent, child.isDirectory() ? -1 : 0, now);
        }
    }

    public void rename(long srcParentIno, String srcName, long dstParentIno, String dstName) throws FsException {
        Names.validate(srcName);
        Names.validate(dstName);
        logged(new Request.Rename(srcParentIno, srcName, dstParentIno, dstName), NO_BYTES, false);
    }

    private void doRename(long srcParentIno, String srcName, long dstParentIno, String dstName, long now)
            throws FsException {
        {
            directory(srcParentIno);
            directory(dstParentIno);
            Long srcIno = dirents.get(key(srcParentIno, srcName));
            if (srcIno == null) {
                throw new FsException(ErrorCode.NOT_FOUND, "no entry '" + srcName + "'");
            }
            Attr src = getAttr(srcIno);
            Long dstIno = dirents.get(key(dstParentIno, dstName));
            if (dstIno != null && dstIno.longValue() == srcIno.longValue()) {
                return; // Both names are links to one inode: POSIX says do nothing.
            }
            if (src.isDirectory() && isAncestorOrSelf(srcIno, dstParentIno)) {
                throw new FsException(ErrorCode.INVALID, "cannot move a directory into itself");
            }
            if (dstIno != null) {
                Attr dst = getAttr(dstIno);
                if (src.isDirectory() && !dst.isDirectory()) {
                    throw new FsException(ErrorCode.NOT_DIRECTORY, "'" + dstName + "' is not a directory");
                }
                if (!src.isDirectory() && dst.isDirectory()) {
                    throw new FsException(ErrorCode.IS_DIRECTORY, "'" + dstName + "' is a directory");
                }
                if (dst.isDirectory() && !isEmpty(dstIno)) {
                    throw new FsException(ErrorCode.NOT_EMPTY, "directory '" + dstName + "' is not empty");
                }
                dropLink(dst, now);
                if (dst.isDirectory()) {
                    touchDirectory(getAttr(dstParentIno), -1, now);
                }
            }
            dirents.remove(key(srcParentIno, srcName));
            dirents.put(key(dstParentIno, dstName), srcIno);
            int moved = src.isDirectory() && srcParentIno != dstParentIno ? 1 : 0;
            touchDirectory(getAttr(srcParentIno), -moved, now);
            if (dstParentIno != srcParentIno) {
                touchDirectory(getAttr(dstParentIno), moved, now);
            }
            Attr current = getAttr(srcIno);
            inodes.put(srcIno, changed(current, current.mode(), current.nlink(), current.uid(), current.gid(),
                    current.size(), current.atimeNs(), current.mtimeNs(), now,
                    current.isDirectory() ? dstParentIno : current.parent()));
        }
    }

    public Attr setAttr(Request.SetAttr r) throws FsException {
        return (Attr) logged(r, NO_BYTES, false);
    }

    private Attr doSetAttr(Request.SetAttr r, long now) throws FsException {
        {
            Attr a = getAttr(r.ino());
            int mode = a.mode();
            int uid = a.uid();
            int gid = a.gid();
            long size = a.size();
            long atime = a.atimeNs();
            long mtime = a.mtimeNs();
            if ((r.valid() & Request.SetAttr.SET_MODE) != 0) {
                mode = (a.mode() & FileType.S_IFMT) | (r.mode() & FileType.PERMISSION_BITS);
            }
            if ((r.valid() & Request.SetAttr.SET_UID) != 0) {
                uid = r.uid();
            }
            if ((r.valid() & Request.SetAttr.SET_GID) != 0) {
                gid = r.gid();
            }
            if ((r.valid() & Request.SetAttr.SET_SIZE) != 0) {
                if (a.isDirectory()) {
                    throw new FsException(ErrorCode.IS_DIRECTORY, "cannot truncate a directory");
                }
                if (!a.isRegular()) {
                    throw new FsException(ErrorCode.INVALID, "cannot truncate this file type");
                }
                if (r.size() < a.size()) {
                    a = a.withStoredBytes(a.storedBytes() - cutLayout(a, r.size()));
                }
                size = r.size();
                mtime = now;
            }
            if ((r.valid() & Request.SetAttr.SET_ATIME) != 0) {
                atime = r.atimeNs();
            }
            if ((r.valid() & Request.SetAttr.SET_MTIME) != 0) {
                mtime = r.mtimeNs();
            }
            Attr updated = changed(a, mode, a.nlink(), uid, gid, size, atime, mtime, now, a.parent());
            inodes.put(a.ino(), updated);
            return updated;
        }
    }

    /**
     * A page of the chunks referenced by the files of {@code partition}: those of the slots after
     * {@code (afterIno, afterIndex)}, at most {@code limit} ids, from at most {@code 16 * limit} slots
     * looked at (slots of other partitions share the map and are skipped).
     */
    public synchronized Response.ChunkRefs chunkRefs(int partition, long afterIno, long afterIndex, int limit) {
        List<ChunkId> ids = new ArrayList<>();
        long scanned = 0;
        long lastIno = afterIno;
        long lastIndex = afterIndex;
        for (Map.Entry<Object[], byte[]> e : chunks.tailMap(new Object[] {afterIno, afterIndex}, false).entrySet()) {
            if (ids.size() == limit || scanned == 16L * limit) {
                return new Response.ChunkRefs(ids, lastIno, lastIndex, false);
            }
            scanned++;
            lastIno = (Long) e.getKey()[0];
            lastIndex = (Long) e.getKey()[1];
            if (partitionOf(lastIno) == partition) {
                ids.add(decodeRef(e.getValue()).id());
            }
        }
        return new Response.ChunkRefs(ids, lastIno, lastIndex, true);
    }

    /** The file's attributes and its stored slots in index order, read together. */
    public synchronized Response.Layout getLayout(long ino) throws FsException {
        Attr a = getAttr(ino);
        if (!a.isRegular()) {
            throw new FsException(a.isDirectory() ? ErrorCode.IS_DIRECTORY : ErrorCode.INVALID, "not a regular file");
        }
        List<ChunkSlot> out = new ArrayList<>();
        for (Map.Entry<Object[], byte[]> e : chunks.prefixSubMap(new Object[] {ino}).entrySet()) {
            out.add(new ChunkSlot((Long) e.getKey()[1], decodeRef(e.getValue())));
        }
        return new Response.Layout(a, out);
    }

    public Attr commitWrite(Request.CommitWrite r) throws FsException {
        return (Attr) logged(r, NO_BYTES, false);
    }

    private Attr doCommitWrite(Request.CommitWrite r, long now) throws FsException {
        {
            Attr a = getAttr(r.ino());
            if (!a.isRegular()) {
                throw new FsException(a.isDirectory() ? ErrorCode.IS_DIRECTORY : ErrorCode.INVALID, "not a regular file");
            }
            for (ChunkSlot slot : r.slots()) {
                if (slot.ref() != null && slot.ref().length() > a.chunkSize()) {
                    throw new FsException(ErrorCode.INVALID, "slot longer than the file's chunk size");
                }
            }
            long stored = a.storedBytes();
            for (ChunkSlot slot : r.slots()) {
                byte[] old = slot.ref() == null
                        ? chunks.remove(chunkKey(r.ino(), slot.index()))
                        : chunks.put(chunkKey(r.ino(), slot.index()), encodeRef(slot.ref()));
                stored += (slot.ref() == null ? 0 : slot.ref().length()) - (old == null ? 0 : decodeRef(old).length());
            }
            a = a.withStoredBytes(stored);
            long mtime = r.mtimeNs();
            Attr updated = changed(a, a.mode(), a.nlink(), a.uid(), a.gid(), Math.max(a.size(), r.minSize()),
                    a.atimeNs(), mtime, Math.max(now, mtime), a.parent());
            inodes.put(a.ino(), updated);
            return updated;
        }
    }

    public Attr setXattr(long ino, String name, byte[] value, int flags) throws FsException {
        XattrNames.check(name);
        Xattrs.checkValue(value);
        return (Attr) logged(new Request.SetXattr(ino, name, flags), value, false);
    }

    private Attr doSetXattr(long ino, String name, byte[] value, int flags, long now) throws FsException {
        {
            Attr a = getAttr(ino);
            Object[] key = key(ino, name);
            boolean exists = xattrs.containsKey(key);
            if ((flags & Request.SetXattr.XATTR_CREATE) != 0 && exists) {
                throw new FsException(ErrorCode.EXISTS, "attribute " + name + " exists");
            }
            if ((flags & Request.SetXattr.XATTR_REPLACE) != 0 && !exists) {
                throw new FsException(ErrorCode.NO_DATA, "no attribute " + name);
            }
            if (!exists && xattrs.prefixSubMap(new Object[] {ino}).size() >= Xattrs.MAX_COUNT) {
                throw new FsException(ErrorCode.NO_SPACE, "too many extended attributes on inode " + ino);
            }
            xattrs.put(key, value);
            Attr updated = changed(a, a.mode(), a.nlink(), a.uid(), a.gid(), a.size(), a.atimeNs(), a.mtimeNs(), now,
                    a.parent()).withXattrCount(a.xattrCount() + (exists ? 0 : 1));
            inodes.put(ino, updated);
            return updated;
        }
    }

    public synchronized byte[] getXattr(long ino, String name) throws FsException {
        XattrNames.check(name);
        getAttr(ino);
        byte[] v = xattrs.get(key(ino, name));
        if (v == null) {
            throw new FsException(ErrorCode.NO_DATA, "no attribute " + name);
        }
        return v;
    }

    public synchronized List<String> listXattrs(long ino) throws FsException {
        getAttr(ino);
        List<String> names = new ArrayList<>();
        for (Object[] k : xattrs.prefixSubMap(new Object[] {ino}).keySet()) {
            names.add(name(k));
        }
        return names;
    }

    public Attr removeXattr(long ino, String name) throws FsException {
        XattrNames.check(name);
        return (Attr) logged(new Request.RemoveXattr(ino, name), NO_BYTES, false);
    }

    private Attr doRemoveXattr(long ino, String name, long now) throws FsException {
        Attr a = getAttr(ino);
        if (xattrs.remove(key(ino, name)) == null) {
            throw new FsException(ErrorCode.NO_DATA, "no attribute " + name);
        }
        Attr updated = changed(a, a.mode(), a.nlink(), a.uid(), a.gid(), a.size(), a.atimeNs(), a.mtimeNs(), now,
                a.parent()).withXattrCount(Math.max(0, a.xattrCount() - 1));
        inodes.put(ino, updated);
        return updated;
    }

    // ---- operations that span partitions ----

    /**
     * Applies one step of a namespace operation that spans partitions, as the coordinator of the
     * step's partition; the node running the operation sends it. Returns the inode the step made or
     * changed, when there is one.
     */
    public Attr step(Request.PartitionStep step, byte[] plan) throws FsException {
        if (step.op() == Request.PartitionStep.PUT_ENTRY) {
            Names.validate(step.name());
        }
        return (Attr) logged(step, step.op() == Request.PartitionStep.BEGIN ? plan : NO_BYTES, false);
    }

    /**
     * A step applied once is done: run again (a re-driven operation), it changes nothing and
     * answers with the inode as it is now. Steps that fail change nothing and are not remembered.
     */
    private Attr doStep(Request.PartitionStep s, byte[] plan) throws FsException {
        int p = s.partition();
        Object[] done = new Object[] {p, s.intent(), s.index()};
        switch (s.op()) {
            case Request.PartitionStep.BEGIN -> {
                intents.put(new Object[] {p, s.intent()}, plan);
                return null;
            }
            case Request.PartitionStep.END -> {
                // The steps stay remembered: a driver that is late (a former coordinator still running the
                // plan, say) must find them done, not apply them a second time.
                intents.remove(new Object[] {p, s.intent()});
                forgetOldSteps(p, s.nowNs());
                return null;
            }
            default -> {
                if (applied.containsKey(done)) {
                    return inodes.get(s.ino());
                }
            }
        }
        long now = s.nowNs();
        Attr result = switch (s.op()) {
            case Request.PartitionStep.MAKE_DIR -> {
                requireLocal(p, s.ino());
                if (inodes.containsKey(s.ino())) {
                    throw new FsException(ErrorCode.EXISTS, "inode " + s.ino() + " exists");
                }
                Attr dir = new Attr(s.ino(), s.mode(), 2, s.uid(), s.gid(), 0, now, now, now, 0, s.parent(), null, 1, 0, 0);
                inodes.put(s.ino(), dir);
                yield dir;
            }
            case Request.PartitionStep.DROP_DIR -> {
                requireLocal(p, s.ino());
                Attr a = inodes.get(s.ino());
                if (a == null) {
                    yield null; // Gone already, which is what was asked.
                }
                if (!a.isDirectory()) {
                    throw new FsException(ErrorCode.NOT_DIRECTORY, "inode " + s.ino() + " is not a directory");
                }
                if (!isEmpty(s.ino())) {
                    throw new FsException(ErrorCode.NOT_EMPTY, "directory " + s.ino() + " is not empty");
                }
                dropLink(a, now);
                yield null;
            }
            case Request.PartitionStep.ADD_LINKS -> {
                requireLocal(p, s.ino());
                Attr a = inodes.get(s.ino());
                if (a == null && s.delta() < 0) {
                    yield null; // Gone already: nothing left to take a link from.
                }
                a = getAttr(s.ino());
                if (a.isDirectory()) {
                    throw new FsException(ErrorCode.PERMISSION, "hard links to directories are not allowed");
                }
                if (a.nlink() + s.delta() > MAX_LINKS) {
                    throw new FsException(ErrorCode.TOO_MANY_LINKS, "too many links to " + s.ino());
                }
                if (a.nlink() + s.delta() <= 0) {
                    dropLink(a, now);
                    yield null;
                }
                Attr linked = changed(a, a.mode(), a.nlink() + s.delta(), a.uid(), a.gid(), a.size(), a.atimeNs(),
                        a.mtimeNs(), now, a.parent());
                inodes.put(a.ino(), linked);
                yield linked;
            }
            case Request.PartitionStep.SET_PARENT -> {
                requireLocal(p, s.ino());
                Attr a = inodes.get(s.ino());
                if (a == null) {
                    yield null; // Removed meanwhile, under another name.
                }
                Attr moved = changed(a, a.mode(), a.nlink(), a.uid(), a.gid(), a.size(), a.atimeNs(), a.mtimeNs(), now,
                        a.isDirectory() ? s.parent() : a.parent());
                inodes.put(a.ino(), moved);
                yield moved;
            }
            case Request.PartitionStep.PUT_ENTRY -> {
                requireLocal(p, s.parent());
                Attr dir = directory(s.parent());
                Long current = dirents.get(key(s.parent(), s.name()));
                if (current != null && current == s.ino()) {
                    yield null; // Already so.
                }
                if ((current == null ? 0 : current) != s.expect()) {
                    throw s.expect() == 0 ? new FsException(ErrorCode.EXISTS, "'" + s.name() + "' exists")
                            : new FsException(ErrorCode.BUSY, "'" + s.name() + "' changed meanwhile");
                }
                dirents.put(key(s.parent(), s.name()), s.ino());
                touchDirectory(dir, s.delta(), now);
                yield null;
            }
            case Request.PartitionStep.REMOVE_ENTRY -> {
                requireLocal(p, s.parent());
                Attr dir = directory(s.parent());
                Long current = dirents.get(key(s.parent(), s.name()));
                if (current == null || current != s.ino()) {
                    yield null; // Not there any more: removed or replaced meanwhile, which is the same to us.
                }
                dirents.remove(key(s.parent(), s.name()));
                touchDirectory(dir, s.delta(), now);
                yield null;
            }
            default -> throw new FsException(ErrorCode.INVALID, "unknown step " + s.op());
        };
        applied.put(done, now);
        return result;
    }

    /** How long a step is remembered after its operation began; a re-drive comes long before. */
    private static final long REMEMBER_STEPS_NS = Duration.ofDays(1).toNanos();

    /**
     * Forgets the steps of operations that began more than a day before {@code now} (the time of
     * the change that asks, so every replica forgets the same ones). Operation ids begin with
     * their time, so these are at the head of the partition's range.
     */
    private void forgetOldSteps(int partition, long now) {
        long cutoff = intentId(now - REMEMBER_STEPS_NS, 0);
        var old = applied.prefixSubMap(new Object[] {partition}).keySet().iterator();
        for (int n = 0; n < 1024 && old.hasNext(); n++) {
            Object[] k = old.next();
            if ((Long) k[1] >= cutoff) {
                break;
            }
            old.remove();
        }
    }

    /** An operation id: its start time in milliseconds, then 20 random bits. */
    public static long intentId(long nowNs, int random) {
        return ((nowNs / 1_000_000L) << 20) | (random & 0xFFFFF);
    }

    /** The unfinished operations whose plans this partition keeps: intent &rarr; plan. */
    public synchronized Map<Long, byte[]> intents(int partition) {
        Map<Long, byte[]> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<Object[], byte[]> e : intents.prefixSubMap(new Object[] {partition}).entrySet()) {
            out.put((Long) e.getKey()[1], e.getValue());
        }
        return out;
    }

    /**
     * Refuses, with BUSY, a change that would touch an inode of another partition through the
     * single-partition path: the caller looks again and takes the path for operations that span
     * partitions. Deterministic, so a replica refuses exactly what its coordinator refused.
     */
    private void requireLocal(int partition, Long ino) throws FsException {
        if (ino != null && partitionCount > 1 && partitionOf(ino) != partition) {
            throw new FsException(ErrorCode.BUSY, "inode " + ino + " is in partition " + partitionOf(ino)
                    + ", not " + partition);
        }
    }

    /** The inode {@code parent}/{@code name} names, or 0 when there is no such entry. */
    public synchronized long entry(long parent, String name) throws FsException {
        directory(parent);
        Long child = dirents.get(key(parent, name));
        return child == null ? 0 : child;
    }

    /** An entry of a directory: its name and the inode it names. */
    public record Named(String name, long ino) {
    }

    public synchronized List<Named> entries(long dir) throws FsException {
        directory(dir);
        List<Named> out = new ArrayList<>();
        for (Map.Entry<Object[], Long> e : dirents.prefixSubMap(new Object[] {dir}).entrySet()) {
            out.add(new Named(name(e.getKey()), e.getValue()));
        }
        return out;
    }

    /** The attributes of those of {@code inos} that exist. */
    public synchronized List<Attr> getAttrs(List<Long> inos) {
        List<Attr> out = new ArrayList<>(inos.size());
        for (Long ino : inos) {
            Attr a = inodes.get(ino);
            if (a != null) {
                out.add(a);
            }
        }
        return out;
    }

    /** A fresh inode number in {@code partition}, for an operation that creates it there. */
    public synchronized long allocateIno(int partition) {
        return newIno(partition);
    }

    public int partitionCount() {
        return partitionCount;
    }

    /** The time as this store stamps changes, in nanoseconds since the epoch. */
    public long now() {
        return nowNs();
    }

    /** A partition's whole state at a version, as a coordinator sends it to a replica that is behind. */
    public record Snapshot(int partition, long epoch, long seq, byte[] bytes) {
    }

    private static final int SNAPSHOT_FORMAT = 2;

    /**
     * Everything of {@code partition}: its inodes with their layouts and extended attributes, and the
     * entries of its directories, with the version they are at. Taken under the monitor, so it is a
     * state the partition really had.
     */
    public synchronized Snapshot snapshot(int partition) throws FsException {
        long[] v = version(partition);
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(buf)) {
            out.writeInt(SNAPSHOT_FORMAT);
            AttrSerializer attrs = new AttrSerializer();
            for (Attr a : inodes.values()) {
                if (partitionOf(a.ino()) != partition) {
                    continue;
                }
                org.mapdb.DataOutput2 o = new org.mapdb.DataOutput2();
                attrs.serialize(o, a);
                byte[] ab = o.copyBytes();
                out.writeByte('I');
                out.writeInt(ab.length);
                out.write(ab);
                for (Map.Entry<Object[], byte[]> e : chunks.prefixSubMap(new Object[] {a.ino()}).entrySet()) {
                    out.writeByte('C');
                    out.writeLong(a.ino());
                    out.writeLong((Long) e.getKey()[1]);
                    out.writeInt(e.getValue().length);
                    out.write(e.getValue());
                }
                for (Map.Entry<Object[], byte[]> e : xattrs.prefixSubMap(new Object[] {a.ino()}).entrySet()) {
                    out.writeByte('X');
                    out.writeLong(a.ino());
                    out.writeUTF(name(e.getKey()));
                    out.writeInt(e.getValue().length);
                    out.write(e.getValue());
                }
                if (a.isDirectory()) {
                    for (Map.Entry<Object[], Long> e : dirents.prefixSubMap(new Object[] {a.ino()}).entrySet()) {
                        out.writeByte('D');
                        out.writeLong(a.ino());
                        out.writeUTF(name(e.getKey()));
                        out.writeLong(e.getValue());
                    }
                }
                if (buf.size() > io.vortexfs.protocol.wire.FrameFormat.DEFAULT_MAX_PAYLOAD - (1 << 20)) {
                    throw new FsException(ErrorCode.TOO_BIG, "partition " + partition + " is too large to send whole");
                }
            }
            for (Map.Entry<Object[], byte[]> e : intents.prefixSubMap(new Object[] {partition}).entrySet()) {
                out.writeByte('N');
                out.writeLong((Long) e.getKey()[1]);
                out.writeInt(e.getValue().length);
                out.write(e.getValue());
            }
            for (Map.Entry<Object[], Long> e : applied.prefixSubMap(new Object[] {partition}).entrySet()) {
                out.writeByte('A');
                out.writeLong((Long) e.getKey()[1]);
                out.writeInt((Integer) e.getKey()[2]);
                out.writeLong(e.getValue());
            }
            out.writeByte('E');
        } catch (IOException e) {
            throw new FsException(ErrorCode.IO, "cannot write a snapshot: " + e.getMessage(), e);
        }
        return new Snapshot(partition, v[0], v[1], buf.toByteArray());
    }

    /**
     * Replaces this replica's copy of a partition with a snapshot from its coordinator, and makes
     * it durable with a checkpoint before returning. A snapshot older than what is held is refused.
     */
    public void installSnapshot(Snapshot snap) throws FsException {
        synchronized (this) {
            if (failed) {
                throw new FsException(ErrorCode.IO, "metadata store failed earlier; restart the node");
            }
            long[] v = version(snap.partition());
            if (snap.epoch() < v[0]) {
                throw new FsException(ErrorCode.NOT_COORDINATOR, "snapshot of epoch " + snap.epoch()
                        + " is older than this replica's epoch " + v[0]);
            }
            List<Attr> newInodes = new ArrayList<>();
            List<Object[]> newChunks = new ArrayList<>();
            List<Object[]> newXattrs = new ArrayList<>();
            List<Object[]> newDirents = new ArrayList<>();
            List<Object[]> newIntents = new ArrayList<>();
            List<Object[]> newApplied = new ArrayList<>();
            try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(snap.bytes()))) {
                int format = in.readInt();
                if (format != SNAPSHOT_FORMAT && format != 1) {
                    throw new FsException(ErrorCode.INVALID, "snapshot of an unknown format");
                }
                AttrSerializer attrs = new AttrSerializer();
                for (int tag = in.readByte(); tag != 'E'; tag = in.readByte()) {
                    switch (tag) {
                        case 'I' -> {
                            byte[] ab = in.readNBytes(in.readInt());
                            newInodes.add(attrs.deserialize(new org.mapdb.DataInput2.ByteArray(ab), ab.length));
                        }
                        case 'C' -> newChunks.add(new Object[] {in.readLong(), in.readLong(), in.readNBytes(in.readInt())});
                        case 'X' -> newXattrs.add(new Object[] {in.readLong(), in.readUTF(), in.readNBytes(in.readInt())});
                        case 'D' -> newDirents.add(new Object[] {in.readLong(), in.readUTF(), in.readLong()});
                        case 'N' -> newIntents.add(new Object[] {in.readLong(), in.readNBytes(in.readInt())});
                        case 'A' -> newApplied.add(new Object[] {in.readLong(), in.readInt(), in.readLong()});
                        default -> throw new FsException(ErrorCode.INVALID, "bad snapshot record " + tag);
                    }
                }
            } catch (IOException | RuntimeException e) {
                throw new FsException(ErrorCode.INVALID, "damaged snapshot: " + e);
            }
            // Parsed whole before anything changes: a damaged snapshot leaves the old state.
            try {
                for (Long ino : new ArrayList<>(inodes.keySet())) {
                    if (partitionOf(ino) == snap.partition()) {
                        inodes.remove(ino);
                        chunks.prefixSubMap(new Object[] {ino}).clear();
                        xattrs.prefixSubMap(new Object[] {ino}).clear();
                        dirents.prefixSubMap(new Object[] {ino}).clear();
                    }
                }
                intents.prefixSubMap(new Object[] {snap.partition()}).clear();
                applied.prefixSubMap(new Object[] {snap.partition()}).clear();
                for (Object[] n : newIntents) {
                    intents.put(new Object[] {snap.partition(), n[0]}, (byte[]) n[1]);
                }
                for (Object[] a : newApplied) {
                    applied.put(new Object[] {snap.partition(), a[0], a[1]}, (Long) a[2]);
                }
                for (Attr a : newInodes) {
                    inodes.put(a.ino(), a);
                }
                for (Object[] c : newChunks) {
                    chunks.put(new Object[] {c[0], c[1]}, (byte[]) c[2]);
                }
                for (Object[] x : newXattrs) {
                    xattrs.put(key((Long) x[0], (String) x[1]), (byte[]) x[2]);
                }
                for (Object[] d : newDirents) {
                    dirents.put(key((Long) d[0], (String) d[1]), (Long) d[2]);
                }
                versions.put(snap.partition(), new long[] {snap.epoch(), snap.seq()});
            } catch (RuntimeException | Error e) {
                // Not in the log: half a partition replaced must not reach a checkpoint.
                failed = true;
                LOG.error("installing a snapshot of partition {} failed half-way; the store stops taking changes "
                        + "until the node restarts", snap.partition(), e);
                throw new FsException(ErrorCode.IO, "metadata store failed: " + e, e);
            }
        }
        try {
            checkpoint();
        } catch (IOException e) {
            failed = true;
            throw new FsException(ErrorCode.IO, "cannot make a snapshot durable: " + e.getMessage(), e);
        }
        LOG.info("installed partition {} at {}/{}", snap.partition(), snap.epoch(), snap.seq());
    }

    /**
     * What {@link #check} found: problems in words, and the chunks used by the files of the
     * partitions it was asked to list, with the longest length a slot uses of each.
     */
    public record CheckResult(long inodes, long files, List<String> problems, Map<ChunkId, Integer> chunkLengths) {
    }

    /**
     * Checks the namespace for consistency: every name points at an inode; every inode but the root
     * is named (else it is an orphan, left by a crash between the steps of an operation); link
     * counts match the names; directories know their parent; slots fit the file's chunk size.
     * Runs under the monitor: a consistent view, at the price of pausing mutations meanwhile.
     *
     * <p>Only the partitions {@code held} says this node owns are checked (a copy of one it no longer
     * owns may be old). What needs every partition — a name for each inode, link counts — is
     * checked only when this node owns them all; an unfinished operation that spans partitions is
     * itself a problem, since recovery finishes them. The chunks are listed for the partitions
     * {@code listed} says (those this node coordinates, so that each is listed by one node).
     */
    public synchronized CheckResult check(java.util.function.IntPredicate held, java.util.function.IntPredicate listed) {
        List<String> problems = new ArrayList<>();
        boolean whole = true;
        for (int p = 0; p < partitionCount; p++) {
            whole &= held.test(p);
            if (held.test(p)) {
                for (Long intent : intents.prefixSubMap(new Object[] {p}).keySet().stream().map(k -> (Long) k[1]).toList()) {
                    problems.add("operation " + intent + " of metadata partition " + p + " is not finished");
                }
            }
        }
        Map<Long, Integer> names = new java.util.HashMap<>();
        Map<Long, Integer> subdirs = new java.util.HashMap<>();
        for (Map.Entry<Object[], Long> e : dirents.entrySet()) {
            long parent = (Long) e.getKey()[0];
            String name = name(e.getKey());
            long child = e.getValue();
            if (!held.test(partitionOf(parent)) || !held.test(partitionOf(child))) {
                continue;
            }
            Attr c = inodes.get(child);
            if (c == null) {
                problems.add("name '" + name + "' in directory " + parent + " points at missing inode " + child);
                continue;
            }
            names.merge(child, 1, Integer::sum);
            if (c.isDirectory()) {
                subdirs.merge(parent, 1, Integer::sum);
                if (c.parent() != parent) {
                    problems.add("directory " + child + " is named in " + parent + " but records parent " + c.parent());
                }
            }
            if (!inodes.containsKey(parent)) {
                problems.add("name '" + name + "' lives in missing directory " + parent);
            }
        }
        long files = 0;
        long checkedInodes = 0;
        Map<ChunkId, Integer> chunkLengths = new java.util.HashMap<>();
        for (Attr a : inodes.values()) {
            if (!held.test(partitionOf(a.ino()))) {
                continue;
            }
            if (!whole) {
                files += a.isRegular() ? 1 : 0;
                continue;
            }
            int named = names.getOrDefault(a.ino(), 0);
            if (a.ino() != ROOT && named == 0) {
                problems.add("inode " + a.ino() + " is not named anywhere (orphan)");
            }
            if (a.isDirectory()) {
                int want = 2 + subdirs.getOrDefault(a.ino(), 0);
                if (a.nlink() != want) {
                    problems.add("directory " + a.ino() + " has nlink " + a.nlink() + " but " + want + " links");
                }
                if (a.ino() != ROOT && named > 1) {
                    problems.add("directory " + a.ino() + " has " + named + " names");
                }
            } else if (a.nlink() != named && a.ino() != ROOT) {
                problems.add("inode " + a.ino() + " has nlink " + a.nlink() + " but " + named + " names");
            }
            if (a.isRegular()) {
                files++;
            }
        }
        for (Map.Entry<Object[], byte[]> e : chunks.entrySet()) {
            long ino = (Long) e.getKey()[0];
            if (!held.test(partitionOf(ino))) {
                continue;
            }
            Attr a = inodes.get(ino);
            ChunkRef ref = decodeRef(e.getValue());
            if (a == null) {
                problems.add("chunk slot " + e.getKey()[1] + " belongs to missing inode " + ino);
                continue;
            }
            if (ref.length() > a.chunkSize()) {
                problems.add("file " + ino + " slot " + e.getKey()[1] + " is longer than its chunk size");
            }
            if (listed.test(partitionOf(ino))) {
                chunkLengths.merge(ref.id(), ref.length(), Math::max);
            }
        }
        for (Attr a : inodes.values()) {
            checkedInodes += held.test(partitionOf(a.ino())) ? 1 : 0;
        }
        return new CheckResult(checkedInodes, files, problems, chunkLengths);
    }

    /**
     * The files of the partitions {@code listed} says that use any of {@code ids}, each with the
     * ones it uses.
     */
    public synchronized Map<Long, Set<ChunkId>> filesUsing(Set<ChunkId> ids, java.util.function.IntPredicate listed) {
        Map<Long, Set<ChunkId>> out = new java.util.TreeMap<>();
        if (ids.isEmpty()) {
            return out;
        }
        for (Map.Entry<Object[], byte[]> e : chunks.entrySet()) {
            long ino = (Long) e.getKey()[0];
            ChunkId id = decodeRef(e.getValue()).id();
            if (ids.contains(id) && listed.test(partitionOf(ino))) {
                out.computeIfAbsent(ino, k -> new java.util.HashSet<>()).add(id);
            }
        }
        return out;
    }

    public synchronized long inodeCount() {
        return inodes.size();
    }

    public synchronized long keyCount() {
        return (long) inodes.size() + dirents.size() + chunks.size() + xattrs.size();
    }

    @Override
    public void close() {
        if (db.isClosed()) {
            return;
        }
        try {
            if (!failed) {
                checkpoint();
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("final checkpoint failed; the write-ahead log keeps the changes: {}", e.toString());
        }
        try {
            wal.close();
        } catch (IOException e) {
            LOG.warn("closing the write-ahead log: {}", e.toString());
        }
        synchronized (this) {
            db.close();
        }
    }

    // ---- helpers; all run under the store's monitor ----

    private Attr directory(long ino) throws FsException {
        Attr a = getAttr(ino);
        if (!a.isDirectory()) {
            throw new FsException(ErrorCode.NOT_DIRECTORY, "inode " + ino + " is not a directory");
        }
        return a;
    }

    private boolean isEmpty(long dirIno) {
        return dirents.prefixSubMap(new Object[] {dirIno}).isEmpty();
    }

    /**
     * True when {@code ino} is {@code dirIno} or one of its ancestors. The walk stops where the chain
     * leaves {@code ino}'s partition, whose inodes alone are current here; the node running the
     * rename has walked the whole chain before.
     */
    private boolean isAncestorOrSelf(long ino, long dirIno) throws FsException {
        long cur = dirIno;
        for (int depth = 0; depth < 100_000; depth++) {
            if (cur == ino) {
                return true;
            }
            if (cur == ROOT || partitionOf(cur) != partitionOf(ino)) {
                return false;
            }
            cur = getAttr(cur).parent();
        }
        throw new FsException(ErrorCode.IO, "directory parent chain does not reach the root");
    }

    private void touchDirectory(Attr dir, int nlinkDelta, long now) {
        inodes.put(dir.ino(), changed(dir, dir.mode(), dir.nlink() + nlinkDelta, dir.uid(), dir.gid(), dir.size(),
                dir.atimeNs(), now, now, dir.parent()));
    }

    /** Takes one name away from an inode; the last one frees the inode and its layout. */
    private void dropLink(Attr a, long now) {
        int left = a.isDirectory() ? 0 : a.nlink() - 1;
        if (left <= 0) {
            inodes.remove(a.ino());
            chunks.prefixSubMap(new Object[] {a.ino()}).clear();
            xattrs.prefixSubMap(new Object[] {a.ino()}).clear();
        } else {
            inodes.put(a.ino(), changed(a, a.mode(), left, a.uid(), a.gid(), a.size(), a.atimeNs(), a.mtimeNs(), now,
                    a.parent()));
        }
    }

    /** Drops every slot past {@code size} and shortens the one it falls in; returns the stored bytes freed. */
    private long cutLayout(Attr a, long size) {
        long cs = a.chunkSize();
        long firstGone = (size + cs - 1) / cs;
        Map<Object[], byte[]> gone = chunks.tailMap(chunkKey(a.ino(), firstGone), true)
                .headMap(chunkKey(a.ino(), Long.MAX_VALUE), true);
        long freed = 0;
        for (byte[] raw : gone.values()) {
            freed += decodeRef(raw).length();
        }
        gone.clear();
        if (size % cs != 0) {
            long last = size / cs;
            byte[] raw = chunks.get(chunkKey(a.ino(), last));
            if (raw != null) {
                ChunkRef ref = decodeRef(raw);
                int keep = (int) (size - last * cs);
                if (ref.length() > keep) {
                    chunks.put(chunkKey(a.ino(), last), encodeRef(new ChunkRef(ref.id(), keep)));
                    freed += ref.length() - keep;
                }
            }
        }
        return freed;
    }

    private static Attr changed(Attr a, int mode, int nlink, int uid, int gid, long size, long atime, long mtime,
            long ctime, long parent) {
        return new Attr(a.ino(), mode, nlink, uid, gid, size, atime, mtime, ctime, a.chunkSize(), parent,
                a.linkTarget(), a.version() + 1, a.storedBytes(), a.xattrCount());
    }

    /**
     * A fresh inode number in {@code partition}: random 63-bit numbers, so any coordinator can
     * allocate without asking another, made to fall in the partition, and checked for a clash.
     */
    private long newIno(int partition) {
        while (true) {
            long ino = random.nextLong() & Long.MAX_VALUE;
            ino -= Long.remainderUnsigned(ino, partitionCount);
            ino += partition;
            if (ino > ROOT && !inodes.containsKey(ino)) {
                return ino;
            }
        }
    }

    private long nowNs() {
        Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** The key of entry {@code name} of directory {@code parent}, or of attribute {@code name} of inode {@code parent}. */
    private Object[] key(long parent, String name) {
        return new Object[] {parent, nameCipher == null ? name : nameCipher.seal(name)};
    }

    /** The name in a key made by {@link #key}. */
    private String name(Object[] key) {
        if (nameCipher == null) {
            return (String) key[1];
        }
        try {
            return nameCipher.open((String) key[1]);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new IllegalStateException("a name under inode " + key[0] + " fails its authentication: " + e.getMessage());
        }
    }

    private static Object[] chunkKey(long ino, long index) {
        return new Object[] {ino, index};
    }

    private static byte[] encodeRef(ChunkRef ref) {
        return ByteBuffer.allocate(ChunkId.BYTES + 4).put(ref.id().toBytes()).putInt(ref.length()).array();
    }

    private static ChunkRef decodeRef(byte[] raw) {
        ByteBuffer b = ByteBuffer.wrap(raw);
        byte[] id = new byte[ChunkId.BYTES];
        b.get(id);
        return new ChunkRef(ChunkId.ofDigest(id), b.getInt());
    }

}
