package io.vortexfs.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vortexfs.protocol.wire.FrameFormat;
import java.util.List;
import java.util.Objects;

/**
 * Requests a client (a mount, the CLI, or another node) sends to a node. Each is answered by exactly
 * one {@link Response}, or by {@link Response.Error}. Metadata requests name the inode they are
 * about first, so a client can route them to that inode's owner.
 */
public sealed interface Request extends Message {

    /** First request on a connection: the node answers with the cluster as it sees it. */
    record Hello(int protocolVersion, String clientName) implements Request {
        public Hello {
            requireText(clientName, "clientName");
        }
    }

    /**
     * The first request on a connection to a node that holds a cluster key: the client's fresh
     * nonce, answered with {@link Response.Challenge}. See {@code ClusterKey}.
     */
    record Authenticate(String nonce) implements Request {
        public Authenticate {
            requireNonce(nonce);
        }
    }

    /** The client's proof that it holds the cluster key, over both nonces; answered with {@link Response.Ok}. */
    record Prove(String proof) implements Request {
        public Prove {
            requireNonce(proof);
        }
    }

    /** A nonce or proof: 64 lower-case hex digits. */
    static void requireNonce(String hex) {
        require(hex != null && hex.length() == 64 && hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')),
                "not 64 hex digits");
    }

    /** Asks a node for its own storage figures. */
    record GetStats() implements Request {
    }

    /**
     * Stores a chunk whose bytes follow as the frame payload. When {@code forward} names further
     * owners ("host:port"), the node passes the chunk on to the first of them, with the rest, once
     * its own copy is durable: chain replication. The answer is {@link Response.Stored}, counting the
     * copies made along the chain.
     *
     * <p>When {@code summed}, the payload starts with the writer's CRC-32C of each
     * {@link Response.ChunkRange#BLOCK}-sized block of the bytes (4-byte big-endian ints, see
     * {@link Response.ChunkRange#writeSums}), taken in the same pass over the bytes as the id
     * ({@link ContentHash#summed}); the node checks the bytes against those sums instead of hashing
     * them. Otherwise the node checks them against the id.
     */
    record PutChunk(ChunkId id, int length, List<String> forward, boolean summed) implements Request {
        public PutChunk {
            require(id != null, "id == null");
            require(length >= 0 && length <= FrameFormat.DEFAULT_MAX_PAYLOAD, "length outside [0, max payload]");
            forward = Lists.checked(forward, String.class);
        }

        public PutChunk(ChunkId id, int length) {
            this(id, length, List.of(), false);
        }

        public PutChunk(ChunkId id, int length, List<String> forward) {
            this(id, length, forward, false);
        }

        /** How many bytes of the payload are sums, before the chunk's bytes. */
        public int sumBytes() {
            return summed ? Response.ChunkRange.blocks(length) * Integer.BYTES : 0;
        }

        /** A summed put's payload, in a new direct buffer of {@code alloc}: the sums, then {@code length} bytes of {@code data}. */
        public static ByteBuf summedPayload(ContentHash.Summed chunk, byte[] data, int length, ByteBufAllocator alloc) {
            Objects.checkFromIndexSize(0, length, data.length);
            if (chunk.sums().length != Response.ChunkRange.blocks(length)) {
                throw new IllegalArgumentException(chunk.sums().length + " sums for " + length + " bytes");
            }
            int size = chunk.sums().length * Integer.BYTES + length;
            ByteBuf payload = alloc.directBuffer(size, size);
            Response.ChunkRange.writeSums(payload, chunk.sums());
            return payload.writeBytes(data, 0, length);
        }
    }

    /**
     * Stores a chunk whose file a mount on the node's own machine has already written and fsynced
     * in the node's staging directory ({@code <chunk root>/tmp}, the root being what
     * {@link Response.LocalStore} names), under the plain name {@code file}: a short-circuit write.
     * The node checks that the file is there, regular and {@code length} bytes long, then puts it in
     * place under the chunk's name as it does a chunk it wrote itself, and answers with
     * {@link Response.Stored}. The payload is the writer's block sums, as a summed {@link PutChunk}'s
     * start; the node keeps them for the chunk's later reads. Refused by a node whose chunk files are
     * sealed (it offers no local store). The file is the node's from the moment this is sent: it
     * removes it whatever the answer.
     */
    record AdoptChunk(ChunkId id, int length, String file) implements Request {
        public AdoptChunk {
            require(id != null, "id == null");
            require(length >= 0 && length <= FrameFormat.DEFAULT_MAX_PAYLOAD, "length outside [0, max payload]");
            require(file != null && isStagingName(file), "not a staging file's name: " + file);
        }

        /** How many bytes of the payload are sums. */
        public int sumBytes() {
            return Response.ChunkRange.blocks(length) * Integer.BYTES;
        }

        /** Whether {@code name} can be a staged chunk file's: 1 to 80 letters, digits and dashes, then ".part". */
        public static boolean isStagingName(String name) {
            int stem = name.length() - ".part".length();
            return stem > 0 && stem <= 80 && name.endsWith(".part") && name.substring(0, stem).chars()
                    .allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-');
        }
    }

    /** Reads a whole chunk; the answer carries its bytes as payload. */
    record GetChunk(ChunkId id) implements Request {
        public GetChunk {
            require(id != null, "id == null");
        }
    }

    /**
     * Asks for the CRC-32C of each {@link Response.ChunkRange#BLOCK}-sized block of a chunk, as the
     * node took them from bytes it had just checked against the chunk's id or received them with the
     * writer's summed {@link PutChunk} that stored it; answered with
     * {@link Response.BlockSums}. A reader on the node's machine checks the chunk's file with them
     * instead of hashing all of it.
     */
    record GetBlockSums(ChunkId id) implements Request {
        public GetBlockSums {
            require(id != null, "id == null");
        }
    }

    /**
     * Reads part of a chunk: the answer ({@link Response.ChunkRange}) carries the
     * {@link Response.ChunkRange#BLOCK}-aligned blocks that cover {@code [offset, offset + length)},
     * each with its CRC-32C, so a random read need not move the whole chunk.
     */
    record ReadChunk(ChunkId id, int offset, int length) implements Request {
        public static final int MAX_LENGTH = 4 << 20;

        public ReadChunk {
            require(id != null, "id == null");
            require(offset >= 0, "offset < 0");
            require(length > 0 && length <= MAX_LENGTH, "length out of range: " + length);
        }
    }

    record GetAttr(long ino) implements Request {
        public GetAttr {
            requireIno(ino);
        }
    }

    record Lookup(long parent, String name) implements Request {
        public Lookup {
            requireIno(parent);
            requireText(name, "name");
        }
    }

    /** Lists a directory with the attributes of every entry, in one round trip. */
    record ReadDir(long ino) implements Request {
        public ReadDir {
            requireIno(ino);
        }
    }

    /**
     * Creates a file, directory, symlink or FIFO named {@code name} in {@code parent}. The type is in
     * the mode's S_IFMT bits; {@code linkTarget} is set for symlinks only.
     */
    record MakeNode(long parent, String name, int mode, int uid, int gid, String linkTarget, int chunkSize)
            implements Request {
        public MakeNode {
            requireIno(parent);
            requireText(name, "name");
            require(FileType.isSupported(mode), "unsupported file type");
            require(FileType.isSymlink(mode) == (linkTarget != null), "linkTarget must be set for symlinks only");
            require(chunkSize >= 0, "chunkSize < 0");
        }
    }

    /** Adds another name for an existing inode (a hard link). */
    record Link(long ino, long newParent, String newName) implements Request {
        public Link {
            requireIno(ino);
            requireIno(newParent);
            requireText(newName, "newName");
        }
    }

    /** Removes a name: unlink(2) when {@code directory} is false, rmdir(2) when true. */
    record Remove(long parent, String name, boolean directory) implements Request {
        public Remove {
            requireIno(parent);
            requireText(name, "name");
        }
    }

    record Rename(long srcParent, String srcName, long dstParent, String dstName) implements Request {
        public Rename {
            requireIno(srcParent);
            requireText(srcName, "srcName");
            requireIno(dstParent);
            requireText(dstName, "dstName");
        }
    }

    /**
     * Changes the attributes whose bit is set in {@code valid} (see the SET_* constants). A size
     * change truncates or extends the file; extended bytes read as zeros.
     */
    record SetAttr(long ino, int valid, int mode, int uid, int gid, long size, long atimeNs, long mtimeNs)
            implements Request {
        public static final int SET_MODE = 1;
        public static final int SET_UID = 1 << 1;
        public static final int SET_GID = 1 << 2;
        public static final int SET_SIZE = 1 << 3;
        public static final int SET_ATIME = 1 << 4;
        public static final int SET_MTIME = 1 << 5;

        public SetAttr {
            requireIno(ino);
            require(size >= 0, "size < 0");
        }
    }

    /** Fetches a file's attributes and its whole chunk layout. */
    record GetLayout(long ino) implements Request {
        public GetLayout {
            requireIno(ino);
        }
    }

    /**
     * Points chunk slots of a file at newly stored chunks and grows its size to at least
     * {@code minSize}. Sent after every chunk in {@code slots} is stored.
     */
    record CommitWrite(long ino, List<ChunkSlot> slots, long minSize, long mtimeNs) implements Request {
        public CommitWrite {
            requireIno(ino);
            slots = Lists.checked(slots, ChunkSlot.class);
            require(minSize >= 0, "minSize < 0");
        }
    }

    /**
     * Sets extended attribute {@code name} to the frame's payload. {@code flags} is 0, or
     * {@link #XATTR_CREATE} (fail if it exists) or {@link #XATTR_REPLACE} (fail if it does not).
     */
    record SetXattr(long ino, String name, int flags) implements Request {
        public static final int XATTR_CREATE = 1;
        public static final int XATTR_REPLACE = 2;

        public SetXattr {
            requireIno(ino);
            requireText(name, "name");
            require(flags >= 0 && flags <= 3, "bad xattr flags: " + flags);
        }
    }

    /** Reads one extended attribute; the value comes back as payload. */
    record GetXattr(long ino, String name) implements Request {
        public GetXattr {
            requireIno(ino);
            requireText(name, "name");
        }
    }

    record ListXattr(long ino) implements Request {
        public ListXattr {
            requireIno(ino);
        }
    }

    record RemoveXattr(long ino, String name) implements Request {
        public RemoveXattr {
            requireIno(ino);
            requireText(name, "name");
        }
    }

    /**
     * Asks a node to check everything it stores: names point at inodes, link counts match names,
     * every inode is reachable, and every chunk a file uses is present and hashes to its id.
     */
    record Fsck() implements Request {
    }

    /** Capacity and usage, for statfs(2). */
    record StatFs() implements Request {
    }

    /**
     * A node asks a member to let it in. Empty or zero fields mean "take the cluster's"; a field that
     * is set and differs from the cluster's is refused, so a cluster never mixes topologies.
     */
    record Join(String clusterId, String topology, int replicas, int vnodes, MemberInfo self) implements Request {
        public Join {
            require(clusterId != null && topology != null, "clusterId and topology may be empty, not null");
            require(replicas >= 0 && vnodes >= 0, "replicas and vnodes must not be negative");
            require(self != null, "self == null");
        }
    }

    /** Membership news: the sender's table of members with their heartbeat counters. */
    record Gossip(String clusterId, List<Heartbeat> members) implements Request {
        public Gossip {
            requireText(clusterId, "clusterId");
            members = Lists.checked(members, Heartbeat.class);
        }
    }

    /**
     * A metadata partition's coordinator (at {@code coordinator}, "host:port") ships one logged
     * change, the payload, to a replica. A replica applies the changes of a partition strictly in
     * sequence; one that is behind fetches a snapshot from the coordinator first, and one that has
     * seen a newer epoch refuses the change. {@code forward} chains the change on, as for
     * {@link PutChunk}; the answer is {@link Response.Stored}.
     */
    record Replicate(int partition, long epoch, long seq, String coordinator, List<String> forward) implements Request {
        public Replicate {
            require(partition >= 0, "partition < 0");
            require(epoch >= 0 && seq > 0, "bad epoch or sequence");
            requireText(coordinator, "coordinator");
            forward = Lists.checked(forward, String.class);
        }
    }

    /**
     * Asks which state of a metadata partition a node holds. With {@code promise} above 0 the asker
     * is taking the partition over with that epoch, and the node promises to accept no change of an
     * older epoch from then on (unless it has promised a newer one already, which its answer shows):
     * the former coordinator can get nothing acknowledged after its state was read.
     */
    record GetPartitionVersion(int partition, long promise) implements Request {
        public GetPartitionVersion {
            require(partition >= 0, "partition < 0");
            require(promise >= 0, "promise < 0");
        }

        public GetPartitionVersion(int partition) {
            this(partition, 0);
        }
    }

    /** Asks for a whole metadata partition; the answer's payload is its snapshot. */
    record GetPartitionSnapshot(int partition) implements Request {
        public GetPartitionSnapshot {
            require(partition >= 0, "partition < 0");
        }
    }

    /**
     * Asks which of these chunks a node holds (at most {@link #MAX_IDS}); answered with
     * {@link Response.ChunksHeld}. Owners use it to find the chunks a returning peer missed. With
     * {@code verify} the node re-reads and re-hashes each copy and counts only those that match, so
     * fewer ids are allowed ({@link #MAX_VERIFIED}): fsck uses it to count good copies.
     */
    record HasChunks(List<ChunkId> ids, boolean verify) implements Request {
        public static final int MAX_IDS = 4096;
        public static final int MAX_VERIFIED = 32;

        public HasChunks {
            ids = Lists.checked(ids, ChunkId.class);
            require(ids.size() <= (verify ? MAX_VERIFIED : MAX_IDS), "too many chunk ids: " + ids.size());
        }
    }

    /**
     * Tells node {@code nodeId} (the node that receives it, no other) to leave the cluster: it stops
     * owning keys, hands what it holds to their owners, and stops once they hold all of it.
     * Answered with {@link Response.Drain}.
     */
    record Decommission(String nodeId) implements Request {
        public Decommission {
            requireText(nodeId, "node id");
        }
    }

    /** Asks a node how far its decommissioning has come; answered with {@link Response.Drain}. */
    record GetDrain() implements Request {
    }

    /**
     * Asks a node where its chunk files can be read on its own machine; answered with
     * {@link Response.LocalStore}. A mount on the same machine reads whole chunks from them itself.
     */
    record GetLocalStore() implements Request {
    }

    /**
     * Asks the coordinator of {@code partition} for the chunks its files reference, a page at a time:
     * the slots after {@code (afterIno, afterIndex)} in inode and index order. Answered with
     * {@link Response.ChunkRefs}. Nodes use it to find the chunks nothing references any more.
     */
    record ListChunkRefs(int partition, long afterIno, long afterIndex, int limit) implements Request {
        public static final int MAX_LIMIT = 8192;

        public ListChunkRefs {
            require(partition >= 0, "partition < 0");
            require(limit > 0 && limit <= MAX_LIMIT, "limit out of range: " + limit);
        }
    }

    /**
     * One step of a namespace operation that spans metadata partitions, sent by the node running the
     * operation to the coordinator of {@code partition}, which logs and replicates it like any other
     * change. Every step is idempotent, so an operation interrupted by a crash is finished by running
     * its steps again: a link count change is remembered under {@code (intent, index)}, the others
     * find their work already done. What the fields mean depends on {@code op}:
     * <ul>
     *   <li>{@link #BEGIN}: the operation's plan (its steps, encoded) follows as payload; it is kept in
     *       the partition until {@link #END}, so that whoever coordinates the partition next finishes it.</li>
     *   <li>{@link #MAKE_DIR}: creates directory {@code ino} in {@code parent} with {@code mode},
     *       {@code uid} and {@code gid}; already there counts as done.</li>
     *   <li>{@link #DROP_DIR}: removes the empty directory {@code ino}; already gone counts as done.</li>
     *   <li>{@link #ADD_LINKS}: adds {@code delta} to the link count of non-directory {@code ino}; the
     *       last link gone frees it.</li>
     *   <li>{@link #SET_PARENT}: records that {@code ino} now lives in {@code parent} (ctime, and the
     *       parent of a directory).</li>
     *   <li>{@link #PUT_ENTRY}: points {@code parent}/{@code name} at {@code ino}, if it points at
     *       {@code expect} (0: absent), and adds {@code delta} to the directory's link count.</li>
     *   <li>{@link #REMOVE_ENTRY}: removes {@code parent}/{@code name} if it points at {@code ino}, and
     *       adds {@code delta} to the directory's link count.</li>
     * </ul>
     */
    record PartitionStep(int partition, long intent, int index, int op, long ino, long parent, String name,
            long expect, int delta, int mode, int uid, int gid, long nowNs) implements Request {
        public static final int BEGIN = 1;
        public static final int END = 2;
        public static final int MAKE_DIR = 3;
        public static final int DROP_DIR = 4;
        public static final int ADD_LINKS = 5;
        public static final int SET_PARENT = 6;
        public static final int PUT_ENTRY = 7;
        public static final int REMOVE_ENTRY = 8;

        public PartitionStep {
            require(partition >= 0, "partition < 0");
            require(op >= BEGIN && op <= REMOVE_ENTRY, "unknown step " + op);
            require(name != null, "name == null");
        }

        /** A step of the operation {@code intent} that needs only an inode. */
        public static PartitionStep of(int partition, long intent, int index, int op, long ino, long nowNs) {
            return new PartitionStep(partition, intent, index, op, ino, 0, "", 0, 0, 0, 0, 0, nowNs);
        }

        /** A step on the entry {@code parent}/{@code name}. */
        public static PartitionStep entry(int partition, long intent, int index, int op, long parent, String name, long ino,
                long expect, int delta, long nowNs) {
            return new PartitionStep(partition, intent, index, op, ino, parent, name, expect, delta, 0, 0, 0, nowNs);
        }
    }

    /**
     * The attributes of several inodes of one partition, asked of its coordinator by a node that
     * lists or looks up a directory whose entries name them; answered with {@link Response.Attrs},
     * which leaves out inodes that do not exist.
     */
    record GetAttrs(int partition, List<Long> inos) implements Request {
        public static final int MAX_INOS = 4096;

        public GetAttrs {
            require(partition >= 0, "partition < 0");
            inos = Lists.checked(inos, Long.class);
            require(inos.size() <= MAX_INOS, "too many inodes: " + inos.size());
        }
    }

    /**
     * Which inode {@code parent}/{@code name} names, asked of the coordinator of the directory's
     * partition by a node running an operation that spans partitions; answered with
     * {@link Response.Entry}, 0 when there is no such entry.
     */
    record GetEntry(int partition, long parent, String name) implements Request {
        public GetEntry {
            require(partition >= 0, "partition < 0");
            requireIno(parent);
            requireText(name, "name");
        }
    }

    /**
     * Takes ({@code take}) or gives back the cluster's one lease on moving a directory to another
     * parent, asked of the coordinator of the root's partition by the node running such a rename;
     * answered with {@link Response.Ok}, or refused with BUSY while another holder's lease runs.
     */
    record MoveLease(int partition, long holder, boolean take) implements Request {
        public MoveLease {
            require(partition >= 0, "partition < 0");
            require(holder != 0, "holder 0");
        }
    }

    /**
     * A metadata request a node passes, with its payload, to the coordinator of the request's
     * partition, so that any node can take any request. The coordinator serves it or refuses it; it
     * never passes it on again, so a request makes at most one extra hop.
     */
    record Forwarded(Request request) implements Request {
        public Forwarded {
            require(request != null && !(request instanceof Forwarded) && routingInode(request) > 0,
                    "only a metadata request may be forwarded");
        }
    }

    /**
     * The inode a metadata request is about, whose partition decides where it goes: the parent
     * directory for requests that name an entry (lookup, create, link, remove, rename), otherwise the
     * inode itself. 0 for requests that are not about metadata.
     */
    static long routingInode(Request r) {
        if (r instanceof GetAttr g) {
            return g.ino();
        } else if (r instanceof Lookup l) {
            return l.parent();
        } else if (r instanceof ReadDir d) {
            return d.ino();
        } else if (r instanceof MakeNode m) {
            return m.parent();
        } else if (r instanceof Link l) {
            return l.newParent();
        } else if (r instanceof Remove rm) {
            return rm.parent();
        } else if (r instanceof Rename rn) {
            return rn.srcParent();
        } else if (r instanceof SetAttr sa) {
            return sa.ino();
        } else if (r instanceof GetLayout g) {
            return g.ino();
        } else if (r instanceof CommitWrite c) {
            return c.ino();
        } else if (r instanceof SetXattr x) {
            return x.ino();
        } else if (r instanceof GetXattr x) {
            return x.ino();
        } else if (r instanceof ListXattr x) {
            return x.ino();
        } else if (r instanceof RemoveXattr x) {
            return x.ino();
        }
        return 0;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    private static void requireIno(long ino) {
        if (ino <= 0) {
            throw new IllegalArgumentException("inode number must be positive: " + ino);
        }
    }

    private static void requireText(String value, String what) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
    }
}
