package io.vortexfs.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.io.Output;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ChunkSlot;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Message;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.Samples;
import io.vortexfs.protocol.testing.Allocations;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class MessageCodecTest {
    private static final HexFormat HEX = HexFormat.of();
    /** Refusing a hostile body may cost an exception and its message, never a buffer of the claimed size. */
    private static final long MAX_ALLOCATION_PER_REFUSAL = 1 << 20;

    @BeforeAll
    static void warmUpThePool() {
        // The first use builds a Kryo instance; keep that out of the allocation measurements.
        for (Message m : Samples.all()) {
            MessageCodec.decode(MessageCodec.kindOf(m), MessageCodec.encode(m, 1 << 20));
        }
    }

    static List<Message> samples() {
        return Samples.all();
    }

    private static Map<Class<?>, Integer> registeredMessageKinds() {
        Map<Class<?>, Integer> kinds = new HashMap<>();
        for (int kind = 0; kind <= 0xffff; kind++) {
            Class<? extends Message> type = MessageCodec.messageClass(kind);
            if (type != null) {
                Integer previous = kinds.put(type, kind);
                assertNull(previous, type + " registered twice");
            }
        }
        return kinds;
    }

    private static List<Class<?>> concreteMessageRecords() {
        List<Class<?>> out = new ArrayList<>();
        for (Class<?> sealed : List.of(Request.class, Response.class)) {
            for (Class<?> c : sealed.getPermittedSubclasses()) {
                assertTrue(c.isRecord(), c + " is not a record");
                out.add(c);
            }
        }
        return out;
    }

    @Test
    void everyRequestAndResponseRecordIsRegistered() {
        Map<Class<?>, Integer> kinds = registeredMessageKinds();
        for (Class<?> c : concreteMessageRecords()) {
            assertTrue(kinds.containsKey(c), c.getName() + " has no kind in MessageCodec");
        }
        assertEquals(concreteMessageRecords().size(), kinds.size(), "a kind maps to a class that is no message record");
    }

    @Test
    void samplesCoverEveryRecord() {
        Set<Class<?>> sampled = new HashSet<>();
        for (Message m : Samples.all()) {
            sampled.add(m.getClass());
        }
        assertEquals(new HashSet<>(concreteMessageRecords()), sampled, "add a sample for each new record");
    }

    @Test
    void kindIdsNeverChange() {
        Map<Class<?>, Integer> expected = new LinkedHashMap<>();
        expected.put(Request.Hello.class, 100);
        expected.put(Request.GetStats.class, 101);
        expected.put(Request.PutChunk.class, 102);
        expected.put(Request.GetChunk.class, 103);
        expected.put(Request.GetAttr.class, 104);
        expected.put(Request.Lookup.class, 105);
        expected.put(Request.ReadDir.class, 106);
        expected.put(Request.MakeNode.class, 107);
        expected.put(Request.Link.class, 108);
        expected.put(Request.Remove.class, 109);
        expected.put(Request.Rename.class, 110);
        expected.put(Request.SetAttr.class, 111);
        expected.put(Request.GetLayout.class, 112);
        expected.put(Request.CommitWrite.class, 113);
        expected.put(Request.StatFs.class, 114);
        expected.put(Request.SetXattr.class, 115);
        expected.put(Request.GetXattr.class, 116);
        expected.put(Request.ListXattr.class, 117);
        expected.put(Request.RemoveXattr.class, 118);
        expected.put(Request.Fsck.class, 119);
        expected.put(Request.Join.class, 120);
        expected.put(Request.Gossip.class, 121);
        expected.put(Request.Replicate.class, 122);
        expected.put(Request.GetPartitionVersion.class, 123);
        expected.put(Request.GetPartitionSnapshot.class, 124);
        expected.put(Request.HasChunks.class, 125);
        expected.put(Request.PartitionStep.class, 127);
        expected.put(Request.GetAttrs.class, 128);
        expected.put(Request.GetEntry.class, 129);
        expected.put(Request.ListChunkRefs.class, 130);
        expected.put(Request.Decommission.class, 131);
        expected.put(Request.GetDrain.class, 132);
        expected.put(Request.Authenticate.class, 133);
        expected.put(Request.Prove.class, 134);
        expected.put(Request.ReadChunk.class, 135);
        expected.put(Request.MoveLease.class, 136);
        expected.put(Request.GetLocalStore.class, 137);
        expected.put(Request.GetBlockSums.class, 138);
        expected.put(Request.AdoptChunk.class, 139);
        expected.put(Request.Forwarded.class, 126);
        expected.put(Response.ClusterView.class, 200);
        expected.put(Response.NodeStats.class, 201);
        expected.put(Response.Ok.class, 202);
        expected.put(Response.ChunkData.class, 203);
        expected.put(Response.AttrReply.class, 204);
        expected.put(Response.DirListing.class, 205);
        expected.put(Response.Layout.class, 206);
        expected.put(Response.FsStats.class, 207);
        expected.put(Response.Error.class, 208);
        expected.put(Response.XattrValue.class, 209);
        expected.put(Response.XattrNames.class, 210);
        expected.put(Response.FsckReport.class, 211);
        expected.put(Response.Stored.class, 212);
        expected.put(Response.PartitionVersion.class, 213);
        expected.put(Response.PartitionSnapshot.class, 214);
        expected.put(Response.ChunksHeld.class, 215);
        expected.put(Response.Attrs.class, 216);
        expected.put(Response.Entry.class, 217);
        expected.put(Response.ChunkRefs.class, 218);
        expected.put(Response.Drain.class, 219);
        expected.put(Response.Challenge.class, 220);
        expected.put(Response.ChunkRange.class, 221);
        expected.put(Response.LocalStore.class, 222);
        expected.put(Response.BlockSums.class, 223);
        assertEquals(expected, registeredMessageKinds());
    }

    @Test
    void bodyEncodingIsStable() {
        // Golden bytes: a change here breaks every peer of an older build.
        assertEquals("0461626302", HEX.formatHex(MessageCodec.encode(new Request.Hello(1, "abc"), 1024)));
        assertEquals("0a0e121600", HEX.formatHex(MessageCodec.encode(new Request.CommitWrite(5, List.of(), 7, 9), 1024)));
        assertEquals("1600", HEX.formatHex(MessageCodec.encode(new Response.DirListing(List.of()), 1024)));
        assertEquals("", HEX.formatHex(MessageCodec.encode(new Response.Ok(), 1024)));
    }

    @ParameterizedTest
    @MethodSource("samples")
    void roundTripsThroughTheCodec(Message m) {
        byte[] body = MessageCodec.encode(m, FrameFormat.DEFAULT_MAX_BODY);
        assertEquals(m, MessageCodec.decode(MessageCodec.kindOf(m), body));
    }

    @Test
    void listsComeBackImmutable() {
        Request.CommitWrite m = (Request.CommitWrite) MessageCodec.decode(113,
                MessageCodec.encode(new Request.CommitWrite(3, List.of(new ChunkSlot(0, null), new ChunkSlot(1, null),
                        new ChunkSlot(2, null)), 0, 0), 1024));
        assertThrows(UnsupportedOperationException.class, () -> m.slots().clear());
    }

    @Test
    void encodingPastTheBodyLimitFails() {
        Request.Hello big = new Request.Hello(1, "x".repeat(1000));
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.encode(big, 100));
    }

    @Test
    void smallBodyLimitStillEncodesSmallMessages() {
        byte[] body = MessageCodec.encode(new Request.GetAttr(1), 16);
        assertEquals(new Request.GetAttr(1), MessageCodec.decode(104, body));
        assertEquals(0, MessageCodec.encode(new Response.Ok(), 1).length);
    }

    @Test
    void unknownErrorCodeFromANewerPeerDecodesAsIo() {
        assertEquals("010104616263", HEX.formatHex(MessageCodec.encode(new Response.Error(ErrorCode.NOT_FOUND, "abc"), 64)));
        Output out = new Output(32);
        out.writeByte(1); // not null
        out.writeVarInt(999, true); // code
        out.writeVarInt(3, true); // message: "ab"
        out.writeBytes(new byte[] {'a', 'b'});
        Response.Error e = (Response.Error) MessageCodec.decode(208, out.toBytes());
        assertEquals(ErrorCode.IO, e.code());
        assertEquals("ab", e.message());
    }

    // ---- hostile bodies ----

    private static CorruptFrameException refused(int kind, byte[] body) {
        long before = Allocations.current();
        CorruptFrameException e = assertThrows(CorruptFrameException.class, () -> MessageCodec.decode(kind, body));
        long allocated = Allocations.current() - before;
        Allocations.assertNoVmError(e);
        assertTrue(allocated < MAX_ALLOCATION_PER_REFUSAL,
                "refusing " + body.length + " hostile bytes allocated " + allocated + " bytes");
        return e;
    }

    private static byte[] varint(int v) {
        Output out = new Output(8);
        out.writeVarInt(v, true);
        return out.toBytes();
    }

    private static byte[] concat(byte[]... parts) {
        Output out = new Output(64, -1);
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toBytes();
    }

    @Test
    void stringClaimingTwoGigabytesIsRefusedWithoutAllocating() {
        // Hello's body is clientName (length + 1, then UTF-8), then protocolVersion.
        refused(100, concat(varint(Integer.MIN_VALUE), new byte[] {'a', 'b', 2}));
        refused(100, concat(varint(Integer.MAX_VALUE), new byte[] {'a', 'b', 2}));
        refused(100, concat(varint(-1), new byte[] {'a', 'b', 2}));
        refused(100, concat(varint(1 << 26), new byte[] {'a', 'b', 2}));
    }

    @Test
    void stringOneBytePastTheBodyIsRefused() {
        byte[] good = MessageCodec.encode(new Request.Lookup(1, "abc"), 1024);
        // Lookup's body: name (length + 1 = 4, "abc"), then parent.
        assertEquals(4, good[0]);
        byte[] bad = good.clone();
        bad[0] = 6; // claims 5 bytes; 4 are left
        refused(105, bad);
    }

    @Test
    void listClaimingTwoGigabytesIsRefusedWithoutAllocating() {
        byte[] commit = MessageCodec.encode(new Request.CommitWrite(5, List.of(), 7, 9), 1024);
        byte[] withoutCount = java.util.Arrays.copyOf(commit, commit.length - 1);
        refused(113, concat(withoutCount, varint(Integer.MAX_VALUE)));
        refused(113, concat(withoutCount, varint(Integer.MIN_VALUE)));
        refused(205, concat(new byte[] {0x16}, varint(Integer.MAX_VALUE), new byte[8]));
        refused(205, concat(new byte[] {0x16}, varint(1 << 26), new byte[8]));
    }

    @Test
    void classNamedInsteadOfRegisteredIsRefusedWithoutAllocating() {
        // Kryo's class id 1 means "a class name follows": a peer must never make us load or name classes.
        Output out = new Output(64);
        out.writeVarInt(1, true);
        out.writeVarInt(5, true);
        out.writeString("java.util.ArrayList");
        out.writeVarInt(0, true);
        refused(205, out.toBytes());

        // The same with a name that claims 2^26 UTF-16 chars: Kryo would allocate them before reading.
        refused(205, HEX.parseHex("0105ffffff3f"));
        refused(205, HEX.parseHex("0105ffffffff0f"));
    }

    @Test
    void deeplyNestedListsAreRefused() {
        // DirListing whose entries list holds a list holding a list ... 100,000 levels deep.
        Output out = new Output(1 << 20, -1);
        for (int i = 0; i < 100_000; i++) {
            out.writeVarInt(22, true);
            out.writeVarInt(1, true);
        }
        out.writeVarInt(22, true);
        out.writeVarInt(0, true);
        refused(205, out.toBytes());
    }

    @Test
    void listElementOfTheWrongTypeIsRefused() {
        // DirListing holding a Hello instead of DirEntries.
        Output out = new Output(64);
        out.writeVarInt(22, true);
        out.writeVarInt(1, true);
        out.writeVarInt(100 + 2, true);
        out.writeBytes(MessageCodec.encode(new Request.Hello(1, "x"), 64));
        refused(205, out.toBytes());
    }

    @Test
    void nullListElementIsRefused() {
        refused(205, concat(new byte[] {0x16}, varint(1), varint(0)));
    }

    @Test
    void recordChecksRunOnDecode() {
        byte[] body = MessageCodec.encode(new Request.GetAttr(1), 64);
        Output zero = new Output(16);
        zero.writeVarLong(0, false);
        assertEquals(body.length, zero.toBytes().length);
        CorruptFrameException e = refused(104, zero.toBytes());
        assertTrue(e.getMessage().contains("GetAttr"), e.getMessage());
    }

    /** A staged chunk file is named by a plain name in the node's staging directory, never a path out of it. */
    @Test
    void aStagedFileNamedOutsideTheStagingDirectoryIsRefusedOnDecode() {
        ChunkId id = ChunkId.of(new byte[] {1});
        byte[] body = MessageCodec.encode(new Request.AdoptChunk(id, 5, "aaaaaaaaaa.part"), 256);
        String text = new String(body, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = text.indexOf("aaaaaaaaaa");
        assertTrue(at > 0);
        System.arraycopy("../../etc/".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, body, at, 10);
        CorruptFrameException e = refused(139, body);
        assertTrue(e.getMessage().contains("AdoptChunk"), e.getMessage());
        for (String bad : List.of("", ".part", "x", "a/b.part", "a.part/", "..part", "a b.part", "x".repeat(81) + ".part")) {
            assertFalse(Request.AdoptChunk.isStagingName(bad), bad);
        }
        assertTrue(Request.AdoptChunk.isStagingName(java.util.UUID.randomUUID() + ".part"));
    }

    @Test
    void unknownMemberStateIsRefused() {
        MemberInfo alive = new MemberInfo("n", "h", 1, MemberState.ALIVE, 1);
        MemberInfo suspect = new MemberInfo("n", "h", 1, MemberState.SUSPECT, 1);
        byte[] a = MessageCodec.encode(new Response.ClusterView("c", "t", 1, 1, 0, 1, false, List.of(alive)), 1024);
        byte[] s = MessageCodec.encode(new Response.ClusterView("c", "t", 1, 1, 0, 1, false, List.of(suspect)), 1024);
        assertEquals(a.length, s.length);
        int at = java.util.Arrays.mismatch(a, s);
        assertEquals(-1, java.util.Arrays.mismatch(a, at + 1, a.length, s, at + 1, s.length), "one byte holds the state");
        a[at] = 99;
        refused(200, a);
    }

    @Test
    void strayBytesAfterTheBodyAreRefused() {
        byte[] body = MessageCodec.encode(new Request.GetAttr(7), 64);
        CorruptFrameException e = refused(104, concat(body, new byte[] {0}));
        assertTrue(e.getMessage().contains("stray"), e.getMessage());
        refused(202, new byte[] {0}); // Ok has no fields at all
    }

    @Test
    void truncatedBodyIsRefused() {
        for (Message m : Samples.all()) {
            byte[] body = MessageCodec.encode(m, 1 << 20);
            for (int cut = 0; cut < body.length; cut++) {
                byte[] part = java.util.Arrays.copyOf(body, cut);
                try {
                    Message decoded = MessageCodec.decode(MessageCodec.kindOf(m), part);
                    throw new AssertionError("a prefix of " + cut + "/" + body.length + " bytes of " + m
                            + " decoded as " + decoded);
                } catch (CorruptFrameException expected) {
                    Allocations.assertNoVmError(expected);
                }
            }
        }
    }

    @Test
    void unknownKindIsRefused() {
        refused(1, new byte[] {1});
        refused(30, new byte[32]);
        refused(999, new byte[0]);
    }
}
