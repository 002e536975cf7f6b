package io.vortexfs.protocol;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** One or more non-trivial instances of every wire record, for round-trip tests. */
public final class Samples {
    private Samples() {
    }

    public static ChunkId chunkId(String content) {
        return ChunkId.of(content.getBytes(StandardCharsets.UTF_8));
    }

    public static Attr fileAttr(long ino) {
        return new Attr(ino, FileType.S_IFREG | 0644, 1, 1000, 1000, 123_456_789L, 1L, Long.MAX_VALUE, -5L,
                1 << 20, 0, null, 7, 4096, 2);
    }

    public static Attr dirAttr(long ino) {
        return new Attr(ino, FileType.S_IFDIR | 02775, 3, 0, 100, 0, 10, 20, 30, 0, 1, null, 1, 0, 0);
    }

    public static Attr symlinkAttr(long ino) {
        return new Attr(ino, FileType.S_IFLNK | 0777, 1, -1, -2, 9, 0, 0, 0, 0, 0, "../tärget", Long.MIN_VALUE, 0, 0);
    }

    public static List<Request> requests() {
        ChunkSlot slot0 = new ChunkSlot(0, new ChunkRef(chunkId("a"), 4096));
        ChunkSlot hole = new ChunkSlot(1, null);
        ChunkSlot slot9 = new ChunkSlot(Long.MAX_VALUE, new ChunkRef(chunkId("b"), 0));
        return List.of(
                new Request.Hello(1, "mount@host-ü"),
                new Request.GetStats(),
                new Request.PutChunk(chunkId("payload"), 7),
                new Request.PutChunk(chunkId("payload"), 7, List.of("10.0.0.2:7400", "[::1]:7401")),
                new Request.PutChunk(chunkId("payload"), 70_000, List.of("10.0.0.2:7400"), true),
                new Request.GetChunk(chunkId("x")),
                new Request.ReadChunk(chunkId("x"), 70000, 4096),
                new Request.GetAttr(Long.MAX_VALUE),
                new Request.Lookup(1, "naïve file.txt"),
                new Request.ReadDir(42),
                new Request.MakeNode(1, "f", FileType.S_IFREG | 0600, 1000, 1000, null, 1 << 20),
                new Request.MakeNode(1, "l", FileType.S_IFLNK | 0777, 0, 0, "/a/b/ç", 0),
                new Request.MakeNode(7, "d", FileType.S_IFDIR | 0755, 0, 0, null, 0),
                new Request.MakeNode(7, "p", FileType.S_IFIFO | 0644, 0, 0, null, 0),
                new Request.Link(5, 6, "other"),
                new Request.Remove(1, "gone", true),
                new Request.Remove(1, "gone", false),
                new Request.Rename(1, "from", 2, "to"),
                new Request.SetAttr(9, Request.SetAttr.SET_MODE | Request.SetAttr.SET_SIZE, 0755, -1, -1, 1L << 40,
                        Long.MIN_VALUE, Long.MAX_VALUE),
                new Request.GetLayout(3),
                new Request.CommitWrite(3, List.of(), 0, 0),
                new Request.CommitWrite(3, List.of(slot0), 4096, 17),
                new Request.CommitWrite(3, List.of(slot0, hole), 4096, 17),
                new Request.CommitWrite(3, List.of(slot0, hole, slot9), Long.MAX_VALUE, -1),
                new Request.SetXattr(3, "user.mime_type", Request.SetXattr.XATTR_CREATE),
                new Request.GetXattr(3, "security.selinux"),
                new Request.ListXattr(3),
                new Request.RemoveXattr(3, "trusted.x"),
                new Request.Fsck(),
                new Request.StatFs(),
                new Request.Join("", "", 0, 0, new MemberInfo("n", "h", 1, MemberState.ALIVE, 1)),
                new Request.Join("cluster-1", "ring", 3, 1024, new MemberInfo("n", "h", 1, MemberState.ALIVE, 9)),
                new Request.Gossip("cluster-1", List.of()),
                new Request.Gossip("cluster-1", List.of(new Heartbeat(new MemberInfo("n", "h", 1, MemberState.ALIVE, 2), 77),
                        new Heartbeat(new MemberInfo("m", "g", 2, MemberState.DEAD, 1), Long.MAX_VALUE))),
                new Request.Replicate(0, 0, 1, "h:1", List.of()),
                new Request.Replicate(4095, Long.MAX_VALUE, Long.MAX_VALUE, "h:1", List.of("a:1", "b:2")),
                new Request.GetPartitionVersion(7),
                new Request.GetPartitionVersion(7, Long.MAX_VALUE),
                new Request.GetPartitionSnapshot(7),
                new Request.HasChunks(List.of(), false),
                new Request.HasChunks(List.of(chunkId("h1"), chunkId("h2")), false),
                new Request.HasChunks(List.of(chunkId("h3")), true),
                new Request.ListChunkRefs(0, 0, 0, 1),
                new Request.Decommission("node-b"),
                new Request.GetDrain(),
                new Request.GetLocalStore(),
                new Request.GetBlockSums(chunkId("b")),
                new Request.AdoptChunk(chunkId("c"), 5_000, "0f3c-9a.part"),
                new Request.Authenticate("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
                new Request.Prove("fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"),
                new Request.ListChunkRefs(4095, Long.MAX_VALUE, 12, Request.ListChunkRefs.MAX_LIMIT),
                new Request.Forwarded(new Request.GetAttr(5)),
                new Request.Forwarded(new Request.CommitWrite(3, List.of(slot0, hole), 4096, 17)),
                Request.PartitionStep.of(3, 1L << 40, 0, Request.PartitionStep.DROP_DIR, 99, 5),
                new Request.PartitionStep(63, Long.MAX_VALUE, 4, Request.PartitionStep.MAKE_DIR, 7, 1, "日本語", -1, -1,
                        040755, 1000, 1000, Long.MAX_VALUE),
                new Request.GetAttrs(0, List.of()),
                new Request.GetAttrs(5, List.of(5L, Long.MAX_VALUE)),
                new Request.GetEntry(2, 1, "name"),
                new Request.MoveLease(0, Long.MIN_VALUE, true),
                new Request.MoveLease(4095, 1, false));
    }

    public static List<Response> responses() {
        MemberInfo a = new MemberInfo("node-a", "10.0.0.1", 7400, MemberState.ALIVE, 1);
        MemberInfo b = new MemberInfo("node-b", "::1", 65535, MemberState.SUSPECT, Long.MAX_VALUE);
        MemberInfo c = new MemberInfo("node-c", "host.example", 1, MemberState.LEFT, 0);
        MemberInfo d = new MemberInfo("node-d", "10.0.0.4", 7401, MemberState.OUT, 3);
        MemberInfo e = new MemberInfo("node-e", "10.0.0.5", 7402, MemberState.DRAINING, 2);
        return List.of(
                new Response.ClusterView("cluster-1", "all-to-all", 1, 1024, 0, 1, false, List.of(a)),
                new Response.ClusterView(null, null, 3, 1, 2, 4096, true, List.of(a, b, c, d, e)),
                new Response.Stored(3),
                new Response.PartitionVersion(5, 2, Long.MAX_VALUE, 0),
                new Response.PartitionVersion(5, 2, 3, 1025),
                new Response.PartitionSnapshot(5, 0, 0),
                new Response.ChunksHeld(List.of()),
                new Response.ChunkRefs(List.of(), 0, 0, true),
                new Response.Drain("node-a", false, 0, 0, false),
                new Response.Drain("node-b", true, Long.MAX_VALUE, 4096, true),
                new Response.ChunkRefs(List.of(chunkId("r1"), chunkId("r1"), chunkId("r2")), Long.MAX_VALUE, 7, false),
                new Response.ChunksHeld(List.of(chunkId("h2"))),
                new Response.Attrs(List.of()),
                new Response.Entry(0),
                new Response.Entry(Long.MAX_VALUE),
                new Response.Attrs(List.of(fileAttr(2), dirAttr(3))),
                new Response.NodeStats("node-a", 1, 2, 3, Long.MAX_VALUE, 0, 17, 4, RepairProgress.NONE, ScrubProgress.NONE,
                        GcProgress.NONE),
                new Response.NodeStats("node-b", 1, 2, 3, 4, 5, 6, 7,
                        new RepairProgress(true, 10, 4096, 3, 12 << 20, 1, 2, Long.MAX_VALUE, true), new ScrubProgress(9, 1, 1),
                        new GcProgress(3, 40, 40L << 22)),
                new Response.Ok(),
                new Response.Challenge("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"),
                new Response.ChunkData(chunkId("c"), 3),
                new Response.ChunkRange(chunkId("c"), 65536, 70000),
                new Response.LocalStore("0b4f2a3e-6c1d-4e0f-9a8b-7c6d5e4f3a2b", "/var/lib/vortex/chunks"),
                new Response.LocalStore("", ""),
                new Response.BlockSums(chunkId("b"), 4 << 20),
                new Response.BlockSums(chunkId("b"), Response.BlockSums.UNKNOWN),
                new Response.AttrReply(fileAttr(2)),
                new Response.AttrReply(symlinkAttr(3)),
                new Response.DirListing(List.of()),
                new Response.DirListing(List.of(new DirEntry("a", fileAttr(2)), new DirEntry("b", dirAttr(3)),
                        new DirEntry("日本語", symlinkAttr(4)))),
                new Response.Layout(fileAttr(2), List.of()),
                new Response.Layout(fileAttr(2), List.of(new ChunkSlot(0, new ChunkRef(chunkId("a"), 1)),
                        new ChunkSlot(5, new ChunkRef(chunkId("b"), 1 << 20)))),
                new Response.XattrValue(17),
                new Response.XattrNames(List.of()),
                new Response.XattrNames(List.of("user.a", "user.ü")),
                new Response.XattrNames(List.of("user.a", "user.b", "trusted.c")),
                new Response.FsckReport("node-a", 10, 7, 20, List.of(), List.of()),
                new Response.FsckReport("node-a", 10, 7, 20, List.of("orphan inode 5", "file 6 slot 2 is longer"),
                        List.of(new ThinFile(9, 3, 1, 3), new ThinFile(12, 1, 0, 2))),
                new Response.FsStats(1L << 50, 1L << 40, 12345),
                new Response.Error(ErrorCode.NOT_EMPTY, "directory 'x' is not empty"),
                new Response.Error(ErrorCode.PROTOCOL, ""));
    }

    public static List<Message> all() {
        List<Message> all = new java.util.ArrayList<>(requests());
        all.addAll(responses());
        return all;
    }
}
