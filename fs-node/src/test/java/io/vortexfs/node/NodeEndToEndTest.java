package io.vortexfs.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.vortexfs.protocol.testing.LeakCheck;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ChunkRef;
import io.vortexfs.protocol.ChunkSlot;
import io.vortexfs.protocol.ContentHash;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.testing.ClientLoop;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.rpc.RpcClient;
import io.vortexfs.protocol.wire.FrameFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A real node on an ephemeral port, spoken to over TCP by the same RpcClient a mount uses. */
@ExtendWith(LeakCheck.class)
class NodeEndToEndTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final long ROOT = 1;

    @RegisterExtension
    static final ClientLoop LOOP = new ClientLoop(1);

    @TempDir
    Path dir;

    private Node node;
    private RpcClient client;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
    }

    private void start() throws Exception {
        node = Node.start(NodeConfig.defaults(dir, "127.0.0.1", 0));
        client = RpcClient.connect(LOOP.group(), new HostPort("127.0.0.1", node.port()), TIMEOUT, 64);
    }

    private void restart() throws Exception {
        client.close();
        node.close();
        client = null;
        node = null;
        start();
    }

    private Response call(Request r) throws FsException {
        try (Reply reply = client.callSync(r, null, TIMEOUT)) {
            assertEquals(0, reply.payload().readableBytes());
            return reply.response();
        }
    }

    private ErrorCode failure(Request r, ByteBuf payload) {
        return assertThrows(FsException.class, () -> client.callSync(r, payload, TIMEOUT).close()).code();
    }

    private Attr attrOf(Request r) throws FsException {
        return ((Response.AttrReply) call(r)).attr();
    }

    private void put(byte[] data) throws FsException {
        try (Reply reply = client.callSync(new Request.PutChunk(ChunkId.of(data), data.length),
                Unpooled.wrappedBuffer(data), TIMEOUT)) {
            assertEquals(new Response.Stored(1), reply.response());
        }
    }

    private byte[] get(ChunkId id) throws FsException {
        try (Reply reply = client.callSync(new Request.GetChunk(id), null, TIMEOUT)) {
            Response.ChunkData data = (Response.ChunkData) reply.response();
            assertEquals(id, data.id());
            assertEquals(data.length(), reply.payload().readableBytes());
            return ByteBufUtil.getBytes(reply.payload());
        }
    }

    @Test
    void helloReturnsAClusterViewWithThisNodeAlone() throws Exception {
        start();
        Response.ClusterView view = (Response.ClusterView) call(new Request.Hello(FrameFormat.VERSION, "test"));
        assertEquals(1, view.members().size());
        MemberInfo self = view.members().get(0);
        assertEquals(node.identity().nodeId(), self.nodeId());
        assertEquals(node.membership().settings().clusterId(), view.clusterId());
        assertEquals("all-to-all", view.topology());
        assertEquals("127.0.0.1", self.host());
        assertEquals(node.port(), self.port());
        assertEquals(MemberState.ALIVE, self.state());
        assertEquals(node.identity().generation(), self.generation());
        assertEquals(3, view.replicas(), "the default; one member holds the only copy");

        assertEquals(ErrorCode.PROTOCOL, failure(new Request.Hello(99, "future"), null));
    }

    @Test
    void putChunkThenGetChunkRoundTrips() throws Exception {
        start();
        byte[] data = new byte[1 << 20];
        new Random(1).nextBytes(data);
        put(data);
        put(data);
        assertArrayEquals(data, get(ChunkId.of(data)));
        byte[] empty = new byte[0];
        put(empty);
        assertArrayEquals(empty, get(ChunkId.of(empty)));

        Response.NodeStats stats = (Response.NodeStats) call(new Request.GetStats());
        assertEquals(2, stats.chunkCount());
        assertEquals(data.length, stats.chunkBytes());
        assertEquals(node.identity().nodeId(), stats.nodeId());
    }

    @Test
    void badChunksAreRefused() throws Exception {
        start();
        byte[] data = {1, 2, 3};
        assertEquals(ErrorCode.CORRUPT, failure(new Request.PutChunk(ChunkId.of(new byte[] {9}), 3),
                Unpooled.wrappedBuffer(data)));
        assertEquals(ErrorCode.INVALID, failure(new Request.PutChunk(ChunkId.of(data), 4),
                Unpooled.wrappedBuffer(data)));
        assertEquals(ErrorCode.NOT_FOUND, failure(new Request.GetChunk(ChunkId.of(data)), null));
        assertEquals(0, ((Response.NodeStats) call(new Request.GetStats())).chunkCount());
    }

    /** A writer's put with block sums before the bytes, as a mount sends every chunk. */
    @Test
    void summedPutsAreCheckedAgainstTheirSums() throws Exception {
        start();
        byte[] data = new byte[200_000];
        new Random(2).nextBytes(data);
        ContentHash.Summed summed = ContentHash.SHA256.summed(data, 0, data.length);
        Request.PutChunk put = new Request.PutChunk(summed.id(), data.length, List.of(), true);

        ByteBuf damaged = Request.PutChunk.summedPayload(summed, data, data.length, UnpooledByteBufAllocator.DEFAULT);
        damaged.setByte(put.sumBytes() + 70_000, damaged.getByte(put.sumBytes() + 70_000) ^ 1);
        assertEquals(ErrorCode.CORRUPT, failure(put, damaged));
        assertEquals(ErrorCode.INVALID, failure(put, Unpooled.wrappedBuffer(data)), "a summed put without its sums");
        assertEquals(0, ((Response.NodeStats) call(new Request.GetStats())).chunkCount());

        try (Reply reply = client.callSync(put, Request.PutChunk.summedPayload(summed, data, data.length,
                UnpooledByteBufAllocator.DEFAULT), TIMEOUT)) {
            assertEquals(new Response.Stored(1), reply.response());
        }
        try (Reply reply = client.callSync(new Request.GetBlockSums(summed.id()), null, TIMEOUT)) {
            assertEquals(new Response.BlockSums(summed.id(), data.length), reply.response());
            assertArrayEquals(summed.sums(), Response.ChunkRange.readSums(reply.payload(), reply.payload().readerIndex(),
                    summed.sums().length), "the node keeps the writer's sums for readers of its files");
        }
        assertArrayEquals(data, get(summed.id()));
    }

    @Test
    void makeNodeLookupAndReadDir() throws Exception {
        start();
        Attr d = attrOf(new Request.MakeNode(ROOT, "docs", FileType.S_IFDIR | 0755, 1000, 1000, null, 0));
        Attr f = attrOf(new Request.MakeNode(d.ino(), "a.txt", FileType.S_IFREG | 0644, 1000, 1000, null, 4096));
        Attr l = attrOf(new Request.MakeNode(d.ino(), "link", FileType.S_IFLNK | 0777, 1000, 1000, "a.txt", 0));
        assertEquals(f, attrOf(new Request.Lookup(d.ino(), "a.txt")));
        assertEquals(d.ino(), attrOf(new Request.Lookup(ROOT, "docs")).ino());
        Response.DirListing listing = (Response.DirListing) call(new Request.ReadDir(d.ino()));
        assertEquals(List.of(new DirEntry("a.txt", f), new DirEntry("link", l)), listing.entries());
        assertEquals(ErrorCode.EXISTS,
                failure(new Request.MakeNode(d.ino(), "a.txt", FileType.S_IFREG | 0644, 0, 0, null, 4096), null));
        assertEquals(ErrorCode.NOT_FOUND, failure(new Request.Lookup(d.ino(), "missing"), null));
        assertEquals(ErrorCode.NOT_EMPTY, failure(new Request.Remove(ROOT, "docs", true), null));
    }

    @Test
    void writtenFileReadsBackThroughItsLayout() throws Exception {
        start();
        Attr f = attrOf(new Request.MakeNode(ROOT, "f", FileType.S_IFREG | 0644, 0, 0, null, 4096));
        byte[] data = new byte[4096];
        new Random(2).nextBytes(data);
        ChunkId id = ChunkId.of(data);
        ChunkSlot slot = new ChunkSlot(0, new ChunkRef(id, 4096));
        put(data);
        Attr written = attrOf(new Request.CommitWrite(f.ino(), List.of(slot), 4096, 1));
        assertEquals(4096, written.size());
        Response.Layout layout = (Response.Layout) call(new Request.GetLayout(f.ino()));
        assertEquals(List.of(slot), layout.slots());
        assertArrayEquals(data, get(layout.slots().get(0).ref().id()));
    }

    @Test
    void extendedAttributeValuesTravelAsPayload() throws Exception {
        start();
        Attr f = attrOf(new Request.MakeNode(ROOT, "f", FileType.S_IFREG | 0644, 0, 0, null, 4096));
        byte[] value = "text/plain".getBytes(StandardCharsets.UTF_8);
        try (Reply r = client.callSync(new Request.SetXattr(f.ino(), "user.mime", 0), Unpooled.wrappedBuffer(value),
                TIMEOUT)) {
            assertEquals(new Response.Ok(), r.response());
        }
        try (Reply r = client.callSync(new Request.GetXattr(f.ino(), "user.mime"), null, TIMEOUT)) {
            assertEquals(new Response.XattrValue(value.length), r.response());
            assertArrayEquals(value, ByteBufUtil.getBytes(r.payload()));
        }
        assertEquals(new Response.XattrNames(List.of("user.mime")), call(new Request.ListXattr(f.ino())));
        assertEquals(ErrorCode.NO_DATA, failure(new Request.GetXattr(f.ino(), "user.other"), null));
    }

    @Test
    void restartOnTheSameDirectoryKeepsTheData() throws Exception {
        start();
        String nodeId = node.identity().nodeId();
        long generation = node.identity().generation();
        Attr d = attrOf(new Request.MakeNode(ROOT, "d", FileType.S_IFDIR | 0755, 0, 0, null, 0));
        Attr f = attrOf(new Request.MakeNode(d.ino(), "f", FileType.S_IFREG | 0644, 0, 0, null, 4096));
        byte[] data = "hello, restart".getBytes(StandardCharsets.UTF_8);
        put(data);
        attrOf(new Request.CommitWrite(f.ino(), List.of(new ChunkSlot(0, new ChunkRef(ChunkId.of(data), data.length))),
                data.length, 5));
        call(new Request.Rename(d.ino(), "f", ROOT, "moved"));

        restart();
        assertEquals(nodeId, node.identity().nodeId());
        assertEquals(generation + 1, node.identity().generation());
        Response.ClusterView view = (Response.ClusterView) call(new Request.Hello(FrameFormat.VERSION, "again"));
        assertEquals(generation + 1, view.members().get(0).generation());
        Attr moved = attrOf(new Request.Lookup(ROOT, "moved"));
        assertEquals(f.ino(), moved.ino());
        assertEquals(data.length, moved.size());
        Response.Layout layout = (Response.Layout) call(new Request.GetLayout(f.ino()));
        assertArrayEquals(data, get(layout.slots().get(0).ref().id()));
        assertEquals(List.of(), ((Response.DirListing) call(new Request.ReadDir(d.ino()))).entries());
        assertEquals(1, ((Response.NodeStats) call(new Request.GetStats())).chunkCount());
    }

    @Test
    void aSecondNodeCannotOpenADirectoryInUse() throws Exception {
        start();
        IOException e = assertThrows(IOException.class, () -> Node.start(NodeConfig.defaults(dir, "127.0.0.1", 0)));
        assertTrue(e.getMessage().contains("in use"), e.getMessage());
        // The first node is unaffected.
        call(new Request.GetStats());
    }
}
