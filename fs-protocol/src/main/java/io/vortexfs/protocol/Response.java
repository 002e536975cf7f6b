package io.vortexfs.protocol;

import io.netty.buffer.ByteBuf;
import io.vortexfs.protocol.wire.FrameFormat;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;

/** Answers to {@link Request}s. */
public sealed interface Response extends Message {

    /**
     * The cluster as the answering node sees it: its fixed settings (topology, replicas per key,
     * virtual nodes per member, write quorum where 0 means the default rule, and the number of
     * metadata partitions, whether chunks and metadata are encrypted at rest, which also means that
     * chunk ids are keyed) and every member with its state as this node's failure detector judges it.
     */
    record ClusterView(String clusterId, String topology, int replicas, int vnodes, int writeQuorum, int partitions,
            boolean encrypted,
            List<MemberInfo> members) implements Response {
        public ClusterView {
            members = Lists.checked(members, MemberInfo.class);
        }
    }

    /** How many copies of a chunk or change the chain stored durably, the answering node's included. */
    record Stored(int copies) implements Response {
    }

    /**
     * The state of a metadata partition a node holds: epoch and sequence of its last change, and
     * the newest epoch it has promised to a node taking the partition over (0 if none).
     */
    record PartitionVersion(int partition, long epoch, long seq, long promised) implements Response {
    }

    /** Those of the asked chunks the node holds (with {@code verify}: whose bytes match their id). */
    record ChunksHeld(List<ChunkId> held) implements Response {
        public ChunksHeld {
            held = Lists.checked(held, ChunkId.class);
        }
    }

    /**
     * How far a node's decommissioning has come: {@code leaving} once it was asked to; the chunks it
     * still holds and the metadata partitions whose coordinator does not yet have its state;
     * {@code done} when both are zero and the node is about to stop.
     */
    record Drain(String nodeId, boolean leaving, long chunksLeft, int partitionsBehind, boolean done)
            implements Response {
    }

    /**
     * A page of the chunks a partition's files reference (an id may repeat). When {@code done} is
     * false, the next page starts after {@code (nextIno, nextIndex)}.
     */
    record ChunkRefs(List<ChunkId> ids, long nextIno, long nextIndex, boolean done) implements Response {
        public ChunkRefs {
            ids = Lists.checked(ids, ChunkId.class);
        }
    }

    /** The attributes asked for with {@link Request.GetAttrs}, of those inodes that exist. */
    record Attrs(List<Attr> attrs) implements Response {
        public Attrs {
            attrs = Lists.checked(attrs, Attr.class);
        }
    }

    /** The inode an entry names; 0 when there is no such entry. */
    record Entry(long ino) implements Response {
    }

    /** A whole metadata partition at {@code (epoch, seq)}; its snapshot follows as payload. */
    record PartitionSnapshot(int partition, long epoch, long seq) implements Response {
    }

    /**
     * A node's storage figures. {@code walFsyncs} and {@code chunkFsyncs} count the fsyncs the node
     * has made since it started (of its write-ahead log; of chunk files and their directories).
     * {@code repair} is where its chunk repair stands, {@code scrub} what its scrubbing found,
     * {@code gc} what its garbage collection reclaimed.
     */
    record NodeStats(String nodeId, long chunkCount, long chunkBytes, long metadataKeys, long totalBytes, long freeBytes,
            long walFsyncs, long chunkFsyncs, RepairProgress repair, ScrubProgress scrub, GcProgress gc)
            implements Response {
        public NodeStats {
            if (repair == null || scrub == null || gc == null) {
                throw new IllegalArgumentException("repair, scrub and gc must be given");
            }
        }
    }

    /** Success with nothing more to say. */
    record Ok() implements Response {
    }

    /**
     * A node's answer to {@link Request.Authenticate}: its own fresh nonce, and its proof that it
     * holds the cluster key over the client's nonce and its own.
     */
    record Challenge(String nonce, String proof) implements Response {
        public Challenge {
            Request.requireNonce(nonce);
            Request.requireNonce(proof);
        }
    }

    /**
     * Part of a chunk, from byte {@code start} (a multiple of {@link #BLOCK}) for {@code length}
     * bytes: whole blocks, the last one cut at the chunk's end. The payload holds {@link #blocks()}
     * big-endian CRC-32C values, one per block, then the bytes. The node checked the blocks against
     * sums it took from a read verified against the chunk's id; the reader checks them again.
     */
    record ChunkRange(ChunkId id, int start, int length) implements Response {
        public static final int BLOCK = 64 * 1024;

        public ChunkRange {
            if (id == null || start < 0 || start % BLOCK != 0 || length < 0
                    || length > Request.ReadChunk.MAX_LENGTH + 2 * BLOCK) {
                throw new IllegalArgumentException("bad chunk range header");
            }
        }

        public int blocks() {
            return blocks(length);
        }

        /** How many blocks {@code length} bytes make, the last one perhaps short. */
        public static int blocks(int length) {
            return (length + BLOCK - 1) / BLOCK;
        }

        /** The CRC-32C of {@code length} bytes of {@code bytes} from index {@code from}. */
        public static int sum(byte[] bytes, int from, int length) {
            CRC32C crc = new CRC32C();
            crc.update(bytes, from, length);
            return (int) crc.getValue();
        }

        /** The CRC-32C of {@code length} bytes of {@code buf} from index {@code from}, without copying them. */
        public static int sum(ByteBuf buf, int from, int length) {
            CRC32C crc = new CRC32C();
            for (ByteBuffer part : buf.nioBuffers(from, length)) {
                crc.update(part);
            }
            return (int) crc.getValue();
        }

        /** Writes {@code sums} to {@code out}, each a 4-byte big-endian int, in order. */
        public static void writeSums(ByteBuf out, int[] sums) {
            for (int sum : sums) {
                out.writeInt(sum);
            }
        }

        /** Reads {@code count} sums written by {@link #writeSums} from index {@code from} of {@code in}. */
        public static int[] readSums(ByteBuf in, int from, int count) {
            int[] sums = new int[count];
            for (int i = 0; i < count; i++) {
                sums[i] = in.getInt(from + i * Integer.BYTES);
            }
            return sums;
        }

        /** The payload's size: the sums, then the bytes. */
        public int payloadBytes() {
            return blocks() * Integer.BYTES + length;
        }
    }

    /**
     * Where a node's chunk files are, for a reader on the same machine: {@code bootId} names the
     * machine's running kernel ({@code /proc/sys/kernel/random/boot_id}), {@code chunkRoot} is the
     * absolute directory holding {@code <first two hex digits>/<64 hex digits>} files of plain chunk
     * bytes. Either is empty when the node cannot offer its files (its chunks are sealed, or its
     * machine has no boot id).
     */
    record LocalStore(String bootId, String chunkRoot) implements Response {
        public LocalStore {
            if (bootId == null || chunkRoot == null) {
                throw new IllegalArgumentException("bad local store answer");
            }
        }

        /** Whether a reader whose machine has boot id {@code readerBootId} may read these files. */
        public boolean sharedWith(String readerBootId) {
            return !bootId.isEmpty() && !chunkRoot.isEmpty() && bootId.equals(readerBootId);
        }
    }

    /**
     * The block sums of chunk {@code id}, of {@code length} bytes: the payload holds the CRC-32C of
     * each {@link ChunkRange#BLOCK}-sized block (the last perhaps short) as a 4-byte big-endian
     * int, in order. {@code length} is {@link #UNKNOWN}, with no payload, when the node has none at
     * hand: it keeps them only for chunks whose bytes it has checked since it started.
     */
    record BlockSums(ChunkId id, int length) implements Response {
        public static final int UNKNOWN = -1;

        public BlockSums {
            if (id == null || length < UNKNOWN || length > FrameFormat.DEFAULT_MAX_PAYLOAD) {
                throw new IllegalArgumentException("bad block sums header");
            }
        }

        /** The payload's size. */
        public int payloadBytes() {
            return length == UNKNOWN ? 0 : ChunkRange.blocks(length) * Integer.BYTES;
        }
    }

    /** A chunk's bytes follow as payload; {@code length} is their count. */
    record ChunkData(ChunkId id, int length) implements Response {
        public ChunkData {
            if (id == null || length < 0) {
                throw new IllegalArgumentException("bad chunk data header");
            }
        }
    }

    record AttrReply(Attr attr) implements Response {
        public AttrReply {
            if (attr == null) {
                throw new IllegalArgumentException("attr == null");
            }
        }
    }

    record DirListing(List<DirEntry> entries) implements Response {
        public DirListing {
            entries = Lists.checked(entries, DirEntry.class);
        }
    }

    /** A file's attributes and the non-empty slots of its layout, in index order. */
    record Layout(Attr attr, List<ChunkSlot> slots) implements Response {
        public Layout {
            if (attr == null) {
                throw new IllegalArgumentException("attr == null");
            }
            slots = Lists.checked(slots, ChunkSlot.class);
        }
    }

    /** An extended attribute's value follows as payload, {@code length} bytes. */
    record XattrValue(int length) implements Response {
        public XattrValue {
            if (length < 0) {
                throw new IllegalArgumentException("length < 0");
            }
        }
    }

    record XattrNames(List<String> names) implements Response {
        public XattrNames {
            names = Lists.checked(names, String.class);
        }
    }

    /** What a node's check found; an empty problem list means consistent. */
    /**
     * What one node's part of {@code vortex fsck} found: the namespace it holds checked, the copies
     * of the chunks used by the partitions it coordinates counted and re-hashed on every live member
     * that should hold them.
     */
    record FsckReport(String nodeId, long inodes, long files, long chunksChecked, List<String> problems,
            List<ThinFile> thinFiles) implements Response {
        public FsckReport {
            problems = Lists.checked(problems, String.class);
            thinFiles = Lists.checked(thinFiles, ThinFile.class);
        }
    }

    record FsStats(long totalBytes, long freeBytes, long files) implements Response {
    }

    /** The request failed; {@code code} says why in terms a filesystem understands. */
    record Error(ErrorCode code, String message) implements Response {
        /** What a node answers while it opens its data: nothing was run, and it is worth asking again. */
        public static final String STARTING = "node is starting";

        /** Whether {@code e} is a node's answer that it is still starting. */
        public static boolean starting(FsException e) {
            return e.code() == ErrorCode.UNAVAILABLE && e.getMessage().equals(STARTING);
        }

        public Error {
            if (code == null) {
                throw new IllegalArgumentException("code == null");
            }
            message = message == null ? "" : message;
        }

        public FsException toException() {
            return new FsException(code, message);
        }
    }
}
