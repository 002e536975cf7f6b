package io.vortexfs.protocol.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.esotericsoftware.kryo.util.Pool;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ChunkRef;
import io.vortexfs.protocol.ChunkSlot;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.GcProgress;
import io.vortexfs.protocol.Heartbeat;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Message;
import io.vortexfs.protocol.RepairProgress;
import io.vortexfs.protocol.ScrubProgress;
import io.vortexfs.protocol.ThinFile;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns message records into bytes and back with Kryo. Registration is required and every class has
 * an explicit id: ids are part of the wire format and are never renumbered or reused. Kryo instances
 * are not thread-safe, so they come from one shared pool.
 *
 * <p>Decoding is defensive: strings and lists are bounded by the bytes actually present, nesting is
 * capped, and every record re-runs its compact-constructor checks, so hostile bytes end in a
 * {@link CorruptFrameException} rather than an allocation storm or a half-valid object.
 */
public final class MessageCodec {
    /** Ids 0-9 are Kryo's own (primitives and String); ours start at 20. */
    private static final int STRING_ID = 1;

    private static final int MAX_DEPTH = 16;

    private static final Pool<Kryo> POOL = new Pool<>(true, false, 64) {
        @Override
        protected Kryo create() {
            return newKryo();
        }
    };

    private MessageCodec() {
    }

    static Kryo newKryo() {
        Kryo kryo = new Kryo(new IdOnlyClassResolver(), null);
        kryo.setRegistrationRequired(true);
        kryo.setReferences(false);
        kryo.setMaxDepth(MAX_DEPTH);

        kryo.register(String.class, new BoundedStringSerializer(), STRING_ID);
        BoundedListSerializer lists = new BoundedListSerializer();
        kryo.register(immutableListClass("ListN"), lists, 20);
        kryo.register(immutableListClass("List12"), lists, 21);
        kryo.register(ArrayList.class, lists, 22);

        kryo.register(ChunkId.class, new ChunkIdSerializer(), 30);
        kryo.register(ChunkRef.class, 31);
        kryo.register(ChunkSlot.class, 32);
        kryo.register(Attr.class, 33);
        kryo.register(DirEntry.class, 34);
        kryo.register(MemberInfo.class, 35);
        kryo.register(MemberState.class, new MemberStateSerializer(), 36);
        kryo.register(ErrorCode.class, new ErrorCodeSerializer(), 37);
        kryo.register(Heartbeat.class, 38);
        kryo.register(RepairProgress.class, 39);
        kryo.register(ScrubProgress.class, 40);
        kryo.register(GcProgress.class, 41);
        kryo.register(ThinFile.class, 42);

        kryo.register(Request.Hello.class, 100);
        kryo.register(Request.GetStats.class, 101);
        kryo.register(Request.PutChunk.class, 102);
        kryo.register(Request.GetChunk.class, 103);
        kryo.register(Request.GetAttr.class, 104);
        kryo.register(Request.Lookup.class, 105);
        kryo.register(Request.ReadDir.class, 106);
        kryo.register(Request.MakeNode.class, 107);
        kryo.register(Request.Link.class, 108);
        kryo.register(Request.Remove.class, 109);
        kryo.register(Request.Rename.class, 110);
        kryo.register(Request.SetAttr.class, 111);
        kryo.register(Request.GetLayout.class, 112);
        kryo.register(Request.CommitWrite.class, 113);
        kryo.register(Request.StatFs.class, 114);
        kryo.register(Request.SetXattr.class, 115);
        kryo.register(Request.GetXattr.class, 116);
        kryo.register(Request.ListXattr.class, 117);
        kryo.register(Request.RemoveXattr.class, 118);
        kryo.register(Request.Fsck.class, 119);
        kryo.register(Request.Join.class, 120);
        kryo.register(Request.Gossip.class, 121);
        kryo.register(Request.Replicate.class, 122);
        kryo.register(Request.GetPartitionVersion.class, 123);
        kryo.register(Request.GetPartitionSnapshot.class, 124);
        kryo.register(Request.HasChunks.class, 125);
        kryo.register(Request.Forwarded.class, 126);
        kryo.register(Request.PartitionStep.class, 127);
        kryo.register(Request.GetAttrs.class, 128);
        kryo.register(Request.GetEntry.class, 129);
        kryo.register(Request.ListChunkRefs.class, 130);
        kryo.register(Request.Decommission.class, 131);
        kryo.register(Request.GetDrain.class, 132);
        kryo.register(Request.Authenticate.class, 133);
        kryo.register(Request.Prove.class, 134);
        kryo.register(Request.ReadChunk.class, 135);
        kryo.register(Request.MoveLease.class, 136);
        kryo.register(Request.GetLocalStore.class, 137);
        kryo.register(Request.GetBlockSums.class, 138);
        kryo.register(Request.AdoptChunk.class, 139);

        kryo.register(Response.ClusterView.class, 200);
        kryo.register(Response.NodeStats.class, 201);
        kryo.register(Response.Ok.class, 202);
        kryo.register(Response.ChunkData.class, 203);
        kryo.register(Response.AttrReply.class, 204);
        kryo.register(Response.DirListing.class, 205);
        kryo.register(Response.Layout.class, 206);
        kryo.register(Response.FsStats.class, 207);
        kryo.register(Response.Error.class, 208);
        kryo.register(Response.XattrValue.class, 209);
        kryo.register(Response.XattrNames.class, 210);
        kryo.register(Response.FsckReport.class, 211);
        kryo.register(Response.Stored.class, 212);
        kryo.register(Response.PartitionVersion.class, 213);
        kryo.register(Response.PartitionSnapshot.class, 214);
        kryo.register(Response.ChunksHeld.class, 215);
        kryo.register(Response.Attrs.class, 216);
        kryo.register(Response.Entry.class, 217);
        kryo.register(Response.ChunkRefs.class, 218);
        kryo.register(Response.Drain.class, 219);
        kryo.register(Response.Challenge.class, 220);
        kryo.register(Response.ChunkRange.class, 221);
        kryo.register(Response.LocalStore.class, 222);
        kryo.register(Response.BlockSums.class, 223);
        return kryo;
    }

    /** The wire kind of a message: its registration id. */
    public static int kindOf(Message message) {
        Kryo kryo = POOL.obtain();
        try {
            return kryo.getRegistration(message.getClass()).getId();
        } finally {
            POOL.free(kryo);
        }
    }

    /** The message class registered under {@code kind}, or null when the kind is not a message. */
    public static Class<? extends Message> messageClass(int kind) {
        Kryo kryo = POOL.obtain();
        try {
            Registration r = kryo.getRegistration(kind);
            if (r == null || !Message.class.isAssignableFrom(r.getType())) {
                return null;
            }
            return r.getType().asSubclass(Message.class);
        } finally {
            POOL.free(kryo);
        }
    }

    /** Encodes a message body; fails when it would exceed {@code maxBytes}. */
    public static byte[] encode(Message message, int maxBytes) {
        Kryo kryo = POOL.obtain();
        try (Output out = new Output(Math.min(256, maxBytes), maxBytes)) {
            kryo.writeObject(out, message);
            return out.toBytes();
        } catch (KryoException e) {
            throw new IllegalArgumentException("cannot encode " + message.getClass().getSimpleName() + ": " + e.getMessage(), e);
        } finally {
            POOL.free(kryo);
        }
    }

    /** Decodes a body of the given kind, consuming exactly all of {@code body}. */
    public static Message decode(int kind, byte[] body) {
        Class<? extends Message> type = messageClass(kind);
        if (type == null) {
            throw new CorruptFrameException("unknown message kind " + kind);
        }
        Kryo kryo = POOL.obtain();
        try (Input in = new Input(body)) {
            Message m = kryo.readObject(in, type);
            if (in.position() != body.length) {
                throw new CorruptFrameException(body.length - in.position() + " stray bytes after "
                        + type.getSimpleName());
            }
            return m;
        } catch (CorruptFrameException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            // KryoException, IllegalArgumentException from a record's checks, ClassCastException, ...
            throw new CorruptFrameException("undecodable " + type.getSimpleName() + ": " + e, e);
        } finally {
            POOL.free(kryo);
        }
    }

    private static Class<?> immutableListClass(String simpleName) {
        try {
            return Class.forName("java.util.ImmutableCollections$" + simpleName);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("this Java runtime lacks ImmutableCollections." + simpleName, e);
        }
    }

    private static int remaining(Input in) {
        return in.limit() - in.position();
    }

    /**
     * Resolves classes by registration id only. Kryo's default resolver also accepts a class written
     * by name (class id 1): it would read a name of any claimed length (allocating a char array of
     * that size before the bytes are there), load the named class, and remember the name in a map
     * that lives as long as the pooled Kryo. Registration-required writers never send names, so a
     * name on the wire is always hostile.
     */
    static final class IdOnlyClassResolver extends DefaultClassResolver {
        @Override
        protected Registration readName(Input input) {
            throw new KryoException("a class name instead of a registered class id");
        }
    }

    /** UTF-8 with a byte count; the count is checked against the bytes present before allocating. */
    static final class BoundedStringSerializer extends Serializer<String> {
        BoundedStringSerializer() {
            super(true, true);
        }

        @Override
        public void write(Kryo kryo, Output output, String s) {
            if (s == null) {
                output.writeVarInt(0, true);
                return;
            }
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            output.writeVarInt(bytes.length + 1, true);
            output.writeBytes(bytes);
        }

        @Override
        public String read(Kryo kryo, Input input, Class<? extends String> type) {
            int n = input.readVarInt(true);
            if (n == 0) {
                return null;
            }
            int length = n - 1;
            if (length < 0 || length > remaining(input)) {
                throw new KryoException("string length " + length + " exceeds the frame");
            }
            return new String(input.readBytes(length), StandardCharsets.UTF_8);
        }
    }

    /** Lists of registered elements; always read back as an immutable list. */
    static final class BoundedListSerializer extends Serializer<List<?>> {
        BoundedListSerializer() {
            super(false, true);
        }

        @Override
        public void write(Kryo kryo, Output output, List<?> list) {
            output.writeVarInt(list.size(), true);
            for (Object o : list) {
                kryo.writeClassAndObject(output, o);
            }
        }

        @Override
        public List<?> read(Kryo kryo, Input input, Class<? extends List<?>> type) {
            int n = input.readVarInt(true);
            // Every element takes at least one byte, so a count above the bytes left is a lie.
            if (n < 0 || n > remaining(input)) {
                throw new KryoException("list length " + n + " exceeds the frame");
            }
            Object[] items = new Object[n];
            for (int i = 0; i < n; i++) {
                items[i] = kryo.readClassAndObject(input);
                if (items[i] == null) {
                    throw new KryoException("null list element");
                }
            }
            return List.of(items);
        }
    }

    static final class ChunkIdSerializer extends Serializer<ChunkId> {
        ChunkIdSerializer() {
            super(false, true);
        }

        @Override
        public void write(Kryo kryo, Output output, ChunkId id) {
            output.writeLong(id.w0());
            output.writeLong(id.w1());
            output.writeLong(id.w2());
            output.writeLong(id.w3());
        }

        @Override
        public ChunkId read(Kryo kryo, Input input, Class<? extends ChunkId> type) {
            return new ChunkId(input.readLong(), input.readLong(), input.readLong(), input.readLong());
        }
    }

    static final class ErrorCodeSerializer extends Serializer<ErrorCode> {
        ErrorCodeSerializer() {
            super(false, true);
        }

        @Override
        public void write(Kryo kryo, Output output, ErrorCode code) {
            output.writeVarInt(code.code(), true);
        }

        @Override
        public ErrorCode read(Kryo kryo, Input input, Class<? extends ErrorCode> type) {
            return ErrorCode.ofCode(input.readVarInt(true));
        }
    }

    static final class MemberStateSerializer extends Serializer<MemberState> {
        MemberStateSerializer() {
            super(false, true);
        }

        @Override
        public void write(Kryo kryo, Output output, MemberState state) {
            output.writeVarInt(state.code(), true);
        }

        @Override
        public MemberState read(Kryo kryo, Input input, Class<? extends MemberState> type) {
            return MemberState.ofCode(input.readVarInt(true));
        }
    }
}
