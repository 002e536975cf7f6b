package io.vortexfs.mount.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vortexfs.node.Node;
import io.vortexfs.node.NodeConfig;
import io.vortexfs.protocol.BootId;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ContentHash;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.HostPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalChunksTest {
    static final String BOOT = "0b4f2a3e-6c1d-4e0f-9a8b-7c6d5e4f3a2b";
    static final MemberInfo MEMBER = new MemberInfo("n1", "127.0.0.1", 7000, MemberState.ALIVE, 1);

    @TempDir
    Path dir;

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Writes {@code bytes} where a node's store keeps them, as it names them. */
    private ChunkId store(Path root, byte[] bytes) throws Exception {
        ChunkId id = ContentHash.SHA256.of(bytes, 0, bytes.length);
        Path file = fileOf(root, id);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        return id;
    }

    private Path fileOf(Path root, ChunkId id) {
        return root.resolve(id.hex().substring(0, 2)).resolve(id.hex());
    }

    /** Reads chunks from the files under {@code root}, which a node on this machine offers at once. */
    private static LocalChunks offering(Path root) {
        return offering(root, LocalChunks.NO_SUMS);
    }

    /** The same, with block sums from {@code sums}. */
    private static LocalChunks offering(Path root, LocalChunks.SumsAsker sums) {
        return new LocalChunks(m -> CompletableFuture.completedFuture(new Response.LocalStore(BOOT, root.toString())), sums, BOOT);
    }

    /** Reads chunks where a node answers {@code answer} when asked, counting the asks in {@code asked}. */
    private static LocalChunks answering(CompletableFuture<Response.LocalStore> answer, AtomicInteger asked) {
        return new LocalChunks(m -> {
            asked.incrementAndGet();
            return answer;
        }, LocalChunks.NO_SUMS, BOOT);
    }

    @Test
    void readsAWholeChunkFromTheNodesFileAndAsksTheNodeOncePerIncarnation() throws Exception {
        Path root = dir.resolve("chunks");
        byte[] bytes = random(300_000, 1);
        ChunkId id = store(root, bytes);
        AtomicInteger asked = new AtomicInteger();
        LocalChunks local = new LocalChunks(m -> {
            asked.incrementAndGet();
            return CompletableFuture.completedFuture(new Response.LocalStore(BOOT, root.toString()));
        }, LocalChunks.NO_SUMS, BOOT);

        assertArrayEquals(bytes, local.read(MEMBER, id, ContentHash.SHA256));
        assertArrayEquals(bytes, local.read(MEMBER, id, ContentHash.SHA256));
        assertEquals(1, asked.get());
        assertEquals(2, local.served());

        MemberInfo restarted = new MemberInfo("n1", "127.0.0.1", 7000, MemberState.ALIVE, 2);
        assertArrayEquals(bytes, local.read(restarted, id, ContentHash.SHA256));
        assertEquals(2, asked.get());
    }

    @Test
    void anythingButAMatchingWholeChunkIsLeftToTheNetwork() throws Exception {
        Path root = dir.resolve("chunks");
        byte[] bytes = random(70_000, 2);
        ChunkId id = store(root, bytes);
        LocalChunks local = offering(root);

        // The file changed on disk: its bytes no longer match the name.
        byte[] damaged = bytes.clone();
        damaged[12_345] ^= 1;
        Files.write(fileOf(root, id), damaged);
        assertNull(local.read(MEMBER, id, ContentHash.SHA256));
        // Cut short.
        Files.write(fileOf(root, id), java.util.Arrays.copyOf(bytes, 69_999));
        assertNull(local.read(MEMBER, id, ContentHash.SHA256));
        // Gone (collected, moved aside, not yet repaired).
        Files.delete(fileOf(root, id));
        assertNull(local.read(MEMBER, id, ContentHash.SHA256));
        // Named by another hash: a cluster with keyed chunk ids.
        Files.write(fileOf(root, id), bytes);
        assertNull(local.read(MEMBER, id, ContentHash.keyed(new byte[32])));
        assertEquals(0, local.served());
        assertArrayEquals(bytes, local.read(MEMBER, id, ContentHash.SHA256));
    }

    @Test
    void filesOfAnotherMachineOrOfNoMachineAreNotRead() throws Exception {
        Path root = dir.resolve("chunks");
        ChunkId id = store(root, random(5_000, 3));
        AtomicInteger asked = new AtomicInteger();
        for (Response.LocalStore offer : List.of(
                new Response.LocalStore("ffffffff-6c1d-4e0f-9a8b-7c6d5e4f3a2b", root.toString()),
                new Response.LocalStore(BOOT, ""), // a sealed store
                new Response.LocalStore("", root.toString()),
                new Response.LocalStore(BOOT, "chunks"), // not absolute
                new Response.LocalStore(BOOT, root.resolve("missing").toString()))) {
            LocalChunks local = new LocalChunks(m -> {
                asked.incrementAndGet();
                return CompletableFuture.completedFuture(offer);
            }, LocalChunks.NO_SUMS, BOOT);
            assertNull(local.read(MEMBER, id, ContentHash.SHA256), offer.toString());
            assertNull(local.read(MEMBER, id, ContentHash.SHA256), offer.toString());
        }
        assertEquals(5, asked.get()); // each answer is kept for the incarnation
        // A mount on a machine without a boot id reads nothing locally, even from an offer of "".
        assertNull(new LocalChunks(m -> CompletableFuture.completedFuture(new Response.LocalStore("", root.toString())), LocalChunks.NO_SUMS, "")
                .read(MEMBER, id, ContentHash.SHA256));
    }

    @Test
    void aNodeThatCannotBeAskedIsNotAskedAgainAtOnce() throws Exception {
        Path root = dir.resolve("chunks");
        ChunkId id = store(root, random(5_000, 4));
        AtomicInteger asked = new AtomicInteger();
        LocalChunks local = new LocalChunks(m -> {
            asked.incrementAndGet();
            return CompletableFuture.failedFuture(new FsException(ErrorCode.TIMEOUT, "no answer"));
        }, LocalChunks.NO_SUMS, BOOT);
        for (int i = 0; i < 10; i++) {
            assertNull(local.read(MEMBER, id, ContentHash.SHA256));
        }
        assertEquals(1, asked.get());
    }

    /** A node slow to answer costs its first reader a short wait, and the readers meanwhile none. */
    @Test
    void readersDoNotWaitLongForANodesAnswer() throws Exception {
        Path root = dir.resolve("chunks");
        byte[] bytes = random(5_000, 6);
        ChunkId id = store(root, bytes);
        CompletableFuture<Response.LocalStore> answer = new CompletableFuture<>();
        AtomicInteger asked = new AtomicInteger();
        LocalChunks local = answering(answer, asked);
        long start = System.nanoTime();
        assertNull(local.read(MEMBER, id, ContentHash.SHA256));
        long firstMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(firstMillis >= 1_900 && firstMillis < 10_000, "the first reader waited " + firstMillis + " ms");
        start = System.nanoTime();
        assertNull(local.read(MEMBER, id, ContentHash.SHA256));
        assertTrue(System.nanoTime() - start < 1_000_000_000L, "a later reader waited for the answer");
        assertEquals(1, asked.get());
        answer.complete(new Response.LocalStore(BOOT, root.toString()));
        assertArrayEquals(bytes, local.read(MEMBER, id, ContentHash.SHA256));
        assertEquals(1, asked.get());
    }

    /** The node's block sums stand in for the hash: matching blocks are read, a changed block is not. */
    @Test
    void blockSumsOfTheNodeCheckTheFileInsteadOfItsHash() throws Exception {
        Path root = dir.resolve("chunks");
        byte[] bytes = random(200_000, 8); // three whole blocks and a short one
        ChunkId id = store(root, bytes);
        int[] blocks = new int[4];
        for (int i = 0; i < 4; i++) {
            blocks[i] = Response.ChunkRange.sum(bytes, i * 65_536, Math.min(65_536, bytes.length - i * 65_536));
        }
        AtomicInteger asked = new AtomicInteger();
        CompletableFuture<LocalChunks.Sums> answer = new CompletableFuture<>();
        LocalChunks local = offering(root, (m, chunk) -> {
                    asked.incrementAndGet();
                    assertEquals(id, chunk);
                    return answer;
                });
        answer.complete(new LocalChunks.Sums(bytes.length, blocks));
        // Keyed ids: a hash would not match this id, but the blocks do.
        assertArrayEquals(bytes, local.read(MEMBER, id, ContentHash.keyed(new byte[32])));
        assertEquals(1, local.checkedBySums());

        byte[] damaged = bytes.clone();
        damaged[199_999] ^= 1; // in the short last block
        Files.write(fileOf(root, id), damaged);
        assertNull(local.read(MEMBER, id, ContentHash.SHA256));
        Files.write(fileOf(root, id), java.util.Arrays.copyOf(bytes, 196_608)); // cut at a block's end
        assertNull(local.read(MEMBER, id, ContentHash.SHA256));
        Files.write(fileOf(root, id), bytes);
        int[] wrong = blocks.clone();
        wrong[2] ^= 1;
        assertNull(offering(root, (m, chunk) -> CompletableFuture.completedFuture(new LocalChunks.Sums(bytes.length, wrong)))
                .read(MEMBER, id, ContentHash.SHA256));
        assertEquals(1, local.checkedBySums());
        assertEquals(1, local.served());
        assertEquals(3, asked.get());
    }

    /** A node's answer is used only when it is for the chunk asked about and carries a sum for each block. */
    @Test
    void onlyAnAnswerForTheChunkWithASumPerBlockIsTaken() {
        ChunkId id = ContentHash.SHA256.of(new byte[] {1}, 0, 1);
        ChunkId other = ContentHash.SHA256.of(new byte[] {2}, 0, 1);
        io.netty.buffer.ByteBuf two = io.netty.buffer.Unpooled.buffer().writeInt(7).writeInt(-9);
        LocalChunks.Sums sums = LocalChunks.Sums.in(id, new Response.BlockSums(id, 65_537), two).orElseThrow();
        assertEquals(65_537, sums.length());
        assertArrayEquals(new int[] {7, -9}, sums.blocks());
        assertTrue(LocalChunks.Sums.in(id, new Response.BlockSums(id, Response.BlockSums.UNKNOWN),
                io.netty.buffer.Unpooled.EMPTY_BUFFER).isEmpty());
        assertNull(LocalChunks.Sums.in(id, new Response.BlockSums(other, 65_537), two), "another chunk's sums");
        assertNull(LocalChunks.Sums.in(id, new Response.BlockSums(id, 65_536), two), "a sum too many");
        assertNull(LocalChunks.Sums.in(id, new Response.BlockSums(id, 200_000), two), "sums missing");
        assertNull(LocalChunks.Sums.in(id, new Response.BlockSums(id, Response.BlockSums.UNKNOWN), two));
        assertNull(LocalChunks.Sums.in(id, new Response.Ok(), io.netty.buffer.Unpooled.EMPTY_BUFFER));
    }

    /** Without sums (none at hand, no answer, a slow one) the bytes are hashed, as before. */
    @Test
    void withoutBlockSumsTheFileIsHashed() throws Exception {
        Path root = dir.resolve("chunks");
        byte[] bytes = random(100_000, 9);
        ChunkId id = store(root, bytes);
        for (LocalChunks.SumsAsker sums : List.<LocalChunks.SumsAsker>of(
                LocalChunks.NO_SUMS,
                (m, chunk) -> CompletableFuture.failedFuture(new FsException(ErrorCode.TIMEOUT, "no answer")),
                (m, chunk) -> new CompletableFuture<>())) {
            LocalChunks local = offering(root, sums);
            assertArrayEquals(bytes, local.read(MEMBER, id, ContentHash.SHA256));
            assertNull(local.read(MEMBER, id, ContentHash.keyed(new byte[32])));
            assertEquals(0, local.checkedBySums());
        }
    }

    /** A node slow to send sums costs one wait; meanwhile its chunks are hashed without asking. */
    @Test
    void aNodeSlowToSendSumsIsNotAskedAgainAtOnce() throws Exception {
        Path root = dir.resolve("chunks");
        byte[] bytes = random(100_000, 10);
        ChunkId id = store(root, bytes);
        AtomicInteger asked = new AtomicInteger();
        LocalChunks local = offering(root, (m, chunk) -> {
                    asked.incrementAndGet();
                    return new CompletableFuture<>();
                });
        long start = System.nanoTime();
        assertArrayEquals(bytes, local.read(MEMBER, id, ContentHash.SHA256));
        long firstMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(firstMillis >= 200, "the first reader waited only " + firstMillis + " ms");
        start = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(bytes, local.read(MEMBER, id, ContentHash.SHA256));
        }
        long laterMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(laterMillis < 200 * 5, "later readers waited " + laterMillis + " ms in all");
        assertEquals(1, asked.get());
        assertEquals(0, local.checkedBySums());
    }

    /** Readers that come while a node is being asked wait for the same answer rather than read over the network. */
    @Test
    void readersThatComeWhileANodeIsAskedWaitForTheAnswer() throws Exception {
        Path root = dir.resolve("chunks");
        byte[] bytes = random(50_000, 11);
        ChunkId id = store(root, bytes);
        CompletableFuture<Response.LocalStore> answer = new CompletableFuture<>();
        AtomicInteger asked = new AtomicInteger();
        LocalChunks local = answering(answer, asked);
        java.util.concurrent.ExecutorService readers = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<byte[]>> reads = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                reads.add(readers.submit(() -> local.read(MEMBER, id, ContentHash.SHA256)));
            }
            Thread.sleep(300);
            answer.complete(new Response.LocalStore(BOOT, root.toString()));
            for (java.util.concurrent.Future<byte[]> read : reads) {
                assertArrayEquals(bytes, read.get(10, java.util.concurrent.TimeUnit.SECONDS));
            }
        } finally {
            readers.shutdownNow();
        }
        assertEquals(1, asked.get());
        assertEquals(3, local.served());
    }

    /** A FIFO or a symbolic link under a chunk's name is not opened (a FIFO would block the reader for good). */
    @Test
    void onlyRegularFilesAreRead() throws Exception {
        Path root = dir.resolve("chunks");
        byte[] bytes = random(5_000, 7);
        ChunkId id = store(root, bytes);
        LocalChunks local = offering(root);
        Path file = fileOf(root, id);
        Path elsewhere = dir.resolve("elsewhere");
        Files.move(file, elsewhere);
        Files.createSymbolicLink(file, elsewhere);
        assertNull(local.read(MEMBER, id, ContentHash.SHA256));
        Files.delete(file);
        assertEquals(0, new ProcessBuilder("mkfifo", file.toString()).start().waitFor());
        assertNull(local.read(MEMBER, id, ContentHash.SHA256));
        Files.delete(file);
        Files.move(elsewhere, file);
        assertArrayEquals(bytes, local.read(MEMBER, id, ContentHash.SHA256));
    }

    /** Against a real node: whole chunks come from its files, parts and damaged copies over the network. */
    @Test
    void aMountBesideANodeReadsItsFilesAndFallsBackToTheNetwork() throws Exception {
        assumeTrue(!BootId.current().isEmpty(), "this machine has no boot id");
        Node node = Node.start(NodeConfig.defaults(dir.resolve("node"), "127.0.0.1", 0));
        List<HostPort> seeds = List.of(new HostPort("127.0.0.1", node.port()));
        try (ClusterClient client = ClusterClient.connect(seeds, ClientConfig.DEFAULT, "test");
                ClusterClient remote = ClusterClient.connect(seeds, ClientConfig.DEFAULT.withLocalReads(false), "test")) {
            byte[] bytes = random(1 << 20, 5);
            ContentHash.Summed summed = ContentHash.SHA256.summed(bytes, 0, bytes.length);
            ChunkId id = summed.id();
            client.putChunk(summed, bytes, bytes.length);

            long served = node.metrics().served("GetChunk");
            assertArrayEquals(bytes, client.getChunk(id));
            assertEquals(1, client.localChunkReads());
            assertEquals(1, client.localChunkReadsCheckedBySums(), "the node kept no sums when it stored the chunk");
            assertEquals(served, node.metrics().served("GetChunk"), "a local read went to the node");

            assertArrayEquals(bytes, remote.getChunk(id));
            assertEquals(0, remote.localChunkReads());
            assertEquals(served + 1, node.metrics().served("GetChunk"));

            // A damaged file is read over the network too, which reports it as corrupt (and has the node check it).
            Path file;
            try (Stream<Path> files = Files.walk(dir.resolve("node"))) {
                file = files.filter(p -> p.getFileName().toString().equals(id.hex())).findFirst().orElseThrow();
            }
            byte[] damaged = bytes.clone();
            damaged[77] ^= 0x40;
            Files.write(file, damaged);
            assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> client.getChunk(id)).code());
            assertEquals(1, client.localChunkReads());
            assertEquals(1, client.localChunkReadsCheckedBySums());
            assertTrue(node.metrics().served("GetChunk") >= served + 2, "the damaged file was not read over the network");
        } finally {
            node.close();
        }
    }
}
