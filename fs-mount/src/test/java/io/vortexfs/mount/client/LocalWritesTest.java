package io.vortexfs.mount.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.vortexfs.node.Node;
import io.vortexfs.node.NodeConfig;
import io.vortexfs.protocol.BootId;
import io.vortexfs.protocol.ContentHash;
import io.vortexfs.protocol.DirectIo;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.HostPort;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Short-circuit writes; the offers of chunk directories they use are those of {@link LocalChunksTest}. */
class LocalWritesTest {
    private static final String BOOT = LocalChunksTest.BOOT;
    private static final MemberInfo MEMBER = LocalChunksTest.MEMBER;

    @TempDir
    Path dir;

    private static byte[] random(int n, long seed) {
        return LocalChunksTest.random(n, seed);
    }

    private static LocalChunks offering(Path root, String boot) {
        return new LocalChunks(m -> CompletableFuture.completedFuture(new Response.LocalStore(boot, root.toString())),
                LocalChunks.NO_SUMS, BOOT);
    }

    private static List<Path> filesIn(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.toList();
        }
    }

    /** The buffer every copy shares: the sums then the bytes, as a summed put sends them, the bytes aligned and padded. */
    @ParameterizedTest
    @ValueSource(ints = {1, 4096, 65_536 * 3 + 77, 4 << 20})
    void theSharedBufferHoldsThePutPayloadWithTheBytesAligned(int length) {
        byte[] bytes = random(length, length);
        ContentHash.Summed summed = ContentHash.SHA256.summed(bytes, 0, length);
        LocalWrites.Outgoing out = LocalWrites.Outgoing.of(summed, bytes, length, PooledByteBufAllocator.DEFAULT);
        ByteBuf expected = Request.PutChunk.summedPayload(summed, bytes, length, PooledByteBufAllocator.DEFAULT);
        ByteBuf payload = out.putPayload();
        ByteBuf sums = out.sums();
        try {
            assertTrue(ByteBufUtil.equals(expected, payload));
            assertTrue(ByteBufUtil.equals(expected.slice(0, summed.sums().length * Integer.BYTES), sums));
            for (int alignment : new int[] {512, 4096, DirectIo.MAX_ALIGNMENT}) {
                ByteBuffer b = out.bytes(alignment);
                assertEquals(0, b.alignmentOffset(0, alignment));
                assertEquals(DirectIo.padded(length, alignment), b.remaining());
                byte[] all = new byte[b.remaining()];
                b.get(all);
                assertArrayEquals(bytes, Arrays.copyOf(all, length));
                assertTrue(Arrays.equals(new byte[all.length - length], Arrays.copyOfRange(all, length, all.length)), "padding not zero");
            }
            assertEquals(length, out.bytes(0).remaining());
        } finally {
            expected.release();
            payload.release();
            sums.release();
            out.release();
        }
        assertEquals(0, payload.refCnt());
    }

    /** A chunk is written whole under a name a node takes, in the staging directory of the node's offer. */
    @ParameterizedTest
    @ValueSource(ints = {1, 65_536, 65_536 * 2 + 5})
    void aChunkIsWrittenWholeIntoTheNodesStagingDirectory(int length) throws Exception {
        Path root = Files.createDirectories(dir.resolve("chunks"));
        Path staging = Files.createDirectories(root.resolve("tmp"));
        LocalWrites writes = new LocalWrites(offering(root, BOOT));
        byte[] bytes = random(length, 7);
        LocalWrites.Outgoing out = LocalWrites.Outgoing.of(ContentHash.SHA256.summed(bytes, 0, length), bytes, length,
                PooledByteBufAllocator.DEFAULT);
        try {
            assertEquals(staging, writes.stagingOf(MEMBER));
            String name = writes.write(MEMBER, staging, out).join();
            assertTrue(Request.AdoptChunk.isStagingName(name), name);
            assertArrayEquals(bytes, Files.readAllBytes(staging.resolve(name)));
            assertEquals(1, writes.written());
            assertEquals(List.of(staging.resolve(name)), filesIn(staging), "a probe file was left behind");
        } finally {
            out.release();
            writes.close();
        }
    }

    /** A directory that cannot be written fails the write, leaves nothing, and is not tried again for a while. */
    @Test
    void aStagingDirectoryThatCannotBeWrittenIsLeftAloneForAWhile() throws Exception {
        Path root = Files.createDirectories(dir.resolve("chunks"));
        Path tmp = Files.createDirectories(root.resolve("tmp"));
        LocalWrites writes = new LocalWrites(offering(root, BOOT));
        byte[] bytes = random(1000, 8);
        LocalWrites.Outgoing out = LocalWrites.Outgoing.of(ContentHash.SHA256.summed(bytes, 0, bytes.length), bytes,
                bytes.length, PooledByteBufAllocator.DEFAULT);
        try {
            Path staging = writes.stagingOf(MEMBER);
            assertEquals(tmp, staging);
            Files.delete(tmp); // gone by the time a chunk is written there
            CompletionException e = assertThrows(CompletionException.class, () -> writes.write(MEMBER, staging, out).join());
            assertEquals(ErrorCode.IO, assertInstanceOf(FsException.class, e.getCause()).code());
            assertNull(writes.stagingOf(MEMBER));
            assertEquals(0, writes.written());
            assertEquals(List.of(), filesIn(root));
        } finally {
            out.release();
            writes.close();
        }
        assertNull(new LocalWrites(offering(root, "another-machine")).stagingOf(MEMBER), "a node on another machine");
    }

    /** Stores {@code bytes} as a chunk through {@code client}; returns what it was summed as. */
    private static ContentHash.Summed put(ClusterClient client, byte[] bytes) throws FsException {
        ContentHash.Summed summed = ContentHash.SHA256.summed(bytes, 0, bytes.length);
        client.putChunk(summed, bytes, bytes.length);
        return summed;
    }

    /** A node running as another user than the mount: its directory is not written, as it would not take the files. */
    @Test
    void aStagingDirectoryOfAnotherUserIsNotWritten() throws Exception {
        Path root = Files.createDirectories(dir.resolve("chunks"));
        Path staging = Files.createDirectories(root.resolve("tmp"));
        try {
            Files.setAttribute(staging, "unix:uid", 4321);
        } catch (java.nio.file.FileSystemException e) {
            assumeTrue(false, "changing a directory's owner needs root");
        }
        LocalWrites writes = new LocalWrites(offering(root, BOOT));
        try {
            assertNull(writes.stagingOf(MEMBER));
        } finally {
            writes.close();
        }
    }

    private static long stagedFiles(Path nodeDir) throws Exception {
        try (Stream<Path> s = Files.walk(nodeDir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".part")).count();
        }
    }

    /** Against a real node: its copy is written by the mount and taken by the node; without local writes it is sent. */
    @Test
    void aMountBesideANodeWritesItsChunkFilesAndTheNodeTakesThem() throws Exception {
        assumeTrue(!BootId.current().isEmpty(), "this machine has no boot id");
        Path nodeDir = dir.resolve("node");
        Node node = Node.start(NodeConfig.defaults(nodeDir, "127.0.0.1", 0));
        List<HostPort> seeds = List.of(new HostPort("127.0.0.1", node.port()));
        try (ClusterClient client = ClusterClient.connect(seeds, ClientConfig.DEFAULT, "test");
                ClusterClient remote = ClusterClient.connect(seeds,
                        ClientConfig.DEFAULT.withLocalReads(false).withLocalWrites(false), "test")) {
            byte[] bytes = random((1 << 20) + 3, 9);
            ContentHash.Summed summed = put(client, bytes);
            assertEquals(1, client.localChunkWrites());
            assertEquals(1, node.metrics().served("AdoptChunk"));
            assertEquals(0, node.metrics().served("PutChunk"));
            assertEquals(0, stagedFiles(nodeDir));
            assertArrayEquals(bytes, remote.getChunk(summed.id()), "the node's copy is not the bytes written");

            byte[] more = random(5000, 10);
            ContentHash.Summed moreSummed = put(remote, more);
            assertEquals(0, remote.localChunkWrites());
            assertEquals(1, node.metrics().served("PutChunk"));
            assertArrayEquals(more, client.getChunk(moreSummed.id()));
        } finally {
            node.close();
        }
    }

    /**
     * A directory that looks like the node's but is not (as in a container that shares the machine's
     * boot id but not its files): the node has no such file, and the chunk goes over the network.
     */
    @Test
    void aCopyTheNodeCannotTakeIsSentOverTheNetwork() throws Exception {
        assumeTrue(!BootId.current().isEmpty(), "this machine has no boot id");
        Path nodeDir = dir.resolve("node");
        Path lookalike = Files.createDirectories(dir.resolve("lookalike").resolve("tmp")).getParent();
        Node node = Node.start(NodeConfig.defaults(nodeDir, "127.0.0.1", 0));
        List<HostPort> seeds = List.of(new HostPort("127.0.0.1", node.port()));
        try (ClusterClient client = ClusterClient.connect(seeds, ClientConfig.DEFAULT.withLocalReads(false), "test",
                m -> CompletableFuture.completedFuture(new Response.LocalStore(BootId.current(), lookalike.toString())))) {
            byte[] bytes = random(300_000, 11);
            ContentHash.Summed summed = put(client, bytes);
            assertEquals(1, client.localChunkWrites());
            assertEquals(1, node.metrics().served("AdoptChunk"));
            assertEquals(1, node.metrics().served("PutChunk"));
            assertEquals(List.of(), filesIn(lookalike.resolve("tmp")), "the mount left its staged file");
            assertArrayEquals(bytes, client.getChunk(summed.id()));

            // For a while the node's copies go straight over the network, not written twice.
            byte[] next = random(300_000, 12);
            ContentHash.Summed nextSummed = put(client, next);
            assertEquals(1, client.localChunkWrites());
            assertEquals(1, node.metrics().served("AdoptChunk"));
            assertEquals(2, node.metrics().served("PutChunk"));
            assertArrayEquals(next, client.getChunk(nextSummed.id()));
        } finally {
            node.close();
        }
    }
}
