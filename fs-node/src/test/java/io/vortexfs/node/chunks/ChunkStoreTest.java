package io.vortexfs.node.chunks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.vortexfs.node.crypto.Sealer;
import io.vortexfs.protocol.rpc.ClusterKey;
import io.vortexfs.protocol.testing.LeakCheck;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ContentHash;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Response;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(LeakCheck.class)
class ChunkStoreTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    @TempDir
    Path dir;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void put(ChunkStore store, byte[] data) throws FsException {
        put(store, ChunkId.of(data), data);
    }

    private static void put(ChunkStore store, ChunkId id, byte[] data) throws FsException {
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        try {
            store.put(id, buf);
        } finally {
            buf.release();
        }
    }

    private static byte[] get(ChunkStore store, ChunkId id) throws FsException {
        ByteBuf buf = store.get(id, ALLOC);
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    private long filesUnder(Path p) throws Exception {
        try (Stream<Path> s = Files.walk(p)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 4096, 1 << 20})
    void putThenGetRoundTrips(int size) throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] data = random(size, size);
        put(store, data);
        ChunkId id = ChunkId.of(data);
        assertTrue(store.contains(id));
        assertArrayEquals(data, get(store, id));
        assertEquals(1, store.count());
        assertEquals(size, store.bytes());
        assertEquals(id.hex(), store.pathOf(id).getFileName().toString());
        assertEquals(id.hex().substring(0, 2), store.pathOf(id).getParent().getFileName().toString());
    }

    /**
     * Sizes around the alignment of direct writes and the staging buffer, stored to the byte, by a
     * store that writes directly (where the test directory allows it) and by one that does not.
     */
    @ParameterizedTest
    @ValueSource(ints = {511, 513, 4095, 4097, ChunkStore.STAGING_BYTES - 1, ChunkStore.STAGING_BYTES + 1,
            3 * ChunkStore.STAGING_BYTES + 17})
    void chunksOfAnySizeAreStoredToTheByte(int size) throws Exception {
        ChunkStore direct = new ChunkStore(dir.resolve("direct"));
        ChunkStore cached = new ChunkStore(dir.resolve("cached"), ContentHash.SHA256, null, false);
        for (ChunkStore store : direct.writesDirect() ? List.of(direct, cached) : List.of(cached)) {
            byte[] data = random(size, size);
            ByteBuf scattered = Unpooled.wrappedBuffer(Arrays.copyOfRange(data, 0, size / 3),
                    Arrays.copyOfRange(data, size / 3, size));
            try {
                store.put(ChunkId.of(data), scattered);
            } finally {
                scattered.release();
            }
            assertEquals(size, Files.size(store.pathOf(ChunkId.of(data))));
            assertArrayEquals(data, get(store, ChunkId.of(data)));
        }
    }

    /** How many of the file's 4 KiB pages are in the page cache (MappedByteBuffer#isLoaded asks mincore). */
    private static int residentPages(Path file) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            int resident = 0;
            for (long at = 0; at < ch.size(); at += 4096) {
                if (ch.map(FileChannel.MapMode.READ_ONLY, at, Math.min(4096, ch.size() - at)).isLoaded()) {
                    resident++;
                }
            }
            return resident;
        }
    }

    /** On a disk filesystem a chunk file is written around the page cache: none of its pages are in memory after the write. */
    @Test
    void chunkFilesAreWrittenAroundThePageCache() throws Exception {
        String type = Files.getFileStore(dir).type();
        assumeTrue(List.of("ext4", "xfs", "btrfs").contains(type), "direct I/O is known on ext4, xfs and btrfs, not " + type);
        ChunkStore store = new ChunkStore(dir);
        assertTrue(store.writesDirect());
        byte[] data = random(4 << 20, 9);
        put(store, data);
        assertEquals(0, residentPages(store.pathOf(ChunkId.of(data))), "pages of the chunk in the page cache");
        assertArrayEquals(data, get(store, ChunkId.of(data)));
    }

    /**
     * Where direct I/O is refused, chunk files go through the page cache and are stored as well; their
     * pages are then in memory, which shows that the test above can tell the two apart.
     */
    @Test
    void withoutDirectIoChunkFilesGoThroughThePageCache() throws Exception {
        ChunkStore store = new ChunkStore(dir, ContentHash.SHA256, null, false);
        assertFalse(store.writesDirect());
        byte[] data = random(4 << 20, 10);
        put(store, data);
        int resident = residentPages(store.pathOf(ChunkId.of(data)));
        assertTrue(resident > 900, "pages of the chunk in the page cache: " + resident + " of 1024");
        assertArrayEquals(data, get(store, ChunkId.of(data)));
    }

    /** A plain store hands out a chunk's file to send as it lies; a sealed one must open it first. */
    @Test
    void aPlainStoreSendsChunkFilesAsTheyLie() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        assertTrue(store.sendsFiles());
        byte[] data = random(100_000, 3);
        put(store, data);
        io.netty.channel.FileRegion region = store.region(ChunkId.of(data));
        try {
            assertEquals(data.length, region.count());
            java.io.ByteArrayOutputStream sent = new java.io.ByteArrayOutputStream();
            java.nio.channels.WritableByteChannel out = java.nio.channels.Channels.newChannel(sent);
            while (region.transferred() < region.count()) {
                region.transferTo(out, region.transferred());
            }
            assertArrayEquals(data, sent.toByteArray());
        } finally {
            region.release();
        }
        assertEquals(ErrorCode.NOT_FOUND,
                assertThrows(FsException.class, () -> store.region(ChunkId.of(new byte[] {1}))).code());
        assertFalse(sealedStore(dir.resolve("sealed"), ClusterKey.generate()).sendsFiles());
    }

    @Test
    void removeDeletesOnceAndKeepsTheCountsRight() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] a = random(7000, 11);
        byte[] b = random(300, 12);
        put(store, a);
        put(store, b);
        assertTrue(store.remove(ChunkId.of(a)));
        assertFalse(store.remove(ChunkId.of(a)));
        assertFalse(store.contains(ChunkId.of(a)));
        assertEquals(1, store.count());
        assertEquals(300, store.bytes());
        FsException gone = assertThrows(FsException.class, () -> get(store, ChunkId.of(a)));
        assertEquals(ErrorCode.NOT_FOUND, gone.code());
        assertEquals(1, new ChunkStore(dir).count(), "a reopened store finds what is left");
        put(store, a);
        assertArrayEquals(a, get(store, ChunkId.of(a)));
    }

    @Test
    void aDamagedCopyIsMovedOutOfTheStoreAndAGoodOneTakesItsPlace() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] a = random(9000, 13);
        ChunkId id = ChunkId.of(a);
        put(store, a);
        byte[] rotten = a.clone();
        rotten[4000] ^= 0x10;
        Files.write(store.pathOf(id), rotten);
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> get(store, id)).code());
        put(store, a);
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> get(store, id)).code(),
                "a damaged copy under its name makes the store believe it holds the chunk");

        assertTrue(store.quarantine(id));
        assertFalse(store.contains(id));
        assertEquals(0, store.count());
        assertArrayEquals(rotten, Files.readAllBytes(dir.resolve("damaged-chunks").resolve(id.hex())));
        put(store, a);
        assertArrayEquals(a, get(store, id));
        assertEquals(1, new ChunkStore(dir).count(), "the damaged copy is not taken for a chunk on reopening");
        assertFalse(store.quarantine(ChunkId.of(random(10, 14))));
    }

    /** Bytes {@code [offset, offset + length)} as a reader gets them from {@link ChunkStore#readRange}, sums checked. */
    private static byte[] readRange(ChunkStore store, ChunkId id, int offset, int length) throws FsException {
        ChunkStore.Range range = store.readRange(id, offset, length, ALLOC);
        Response.ChunkRange r = range.header();
        try {
            ByteBuf p = range.payload();
            int blocks = (r.length() + BlockSums.BLOCK - 1) / BlockSums.BLOCK;
            assertEquals(blocks * 4 + r.length(), p.readableBytes());
            assertEquals(0, r.start() % BlockSums.BLOCK);
            for (int i = 0; i < blocks; i++) {
                int from = blocks * 4 + i * BlockSums.BLOCK;
                assertEquals(p.getInt(i * 4), Response.ChunkRange.sum(p, from, Math.min(BlockSums.BLOCK, r.length() - i * BlockSums.BLOCK)));
            }
            byte[] out = new byte[Math.min(length, r.start() + r.length() - offset)];
            p.getBytes(blocks * 4 + offset - r.start(), out);
            return out;
        } finally {
            range.payload().release();
        }
    }

    @Test
    void partsOfAChunkAreReadInWholeBlocksEachWithItsSum() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] a = random(5 * BlockSums.BLOCK + 1234, 21);
        ChunkId id = ChunkId.of(a);
        put(store, a);
        // The first read verifies the whole chunk and keeps its sums; the others read only their blocks.
        for (int[] r : new int[][] {{0, 4096}, {BlockSums.BLOCK - 10, 20}, {70_000, 200_000}, {a.length - 5, 4096},
                {5 * BlockSums.BLOCK, 1234}, {3, a.length}}) {
            assertArrayEquals(Arrays.copyOfRange(a, r[0], Math.min(a.length, r[0] + r[1])),
                    readRange(store, id, r[0], r[1]), r[0] + "+" + r[1]);
        }
        ChunkStore.Range one = store.readRange(id, BlockSums.BLOCK + 5, 10, ALLOC);
        assertEquals(BlockSums.BLOCK, one.header().start());
        assertEquals(BlockSums.BLOCK, one.header().length());
        one.payload().release();
        assertEquals(ErrorCode.INVALID, assertThrows(FsException.class, () -> store.readRange(id, a.length, 1, ALLOC)).code());
        assertEquals(ErrorCode.NOT_FOUND,
                assertThrows(FsException.class, () -> store.readRange(ChunkId.of(random(5, 22)), 0, 1, ALLOC)).code());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aRottenBlockFailsItsSumWhetherOrNotTheSumsAreAtHand(boolean restarted) throws Exception {
        ChunkStore first = new ChunkStore(dir);
        byte[] a = random(3 * BlockSums.BLOCK, 23);
        ChunkId id = ChunkId.of(a);
        put(first, a);
        // The store that took the chunk keeps its sums; a restarted one has none until it reads it whole.
        ChunkStore store = restarted ? new ChunkStore(dir) : first;
        byte[] rotten = a.clone();
        rotten[2 * BlockSums.BLOCK + 7] ^= 0x01;
        Files.write(store.pathOf(id), rotten);
        if (!restarted) {
            assertArrayEquals(Arrays.copyOfRange(a, 0, 100), readRange(store, id, 0, 100),
                    "the blocks that kept their sums still read");
        } else {
            assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> store.readRange(id, 0, 100, ALLOC)).code(),
                    "a first read verifies the whole chunk");
        }
        assertEquals(ErrorCode.CORRUPT,
                assertThrows(FsException.class, () -> store.readRange(id, 2 * BlockSums.BLOCK, 10, ALLOC)).code());
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> store.readRange(id, 0, 10, ALLOC)).code(),
                "once a block failed, the chunk is verified whole again");
        Files.write(store.pathOf(id), Arrays.copyOf(a, a.length - 1));
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> store.readRange(id, 0, 10, ALLOC)).code());
    }

    /** The sums a reader of chunk files on this machine asks for: kept from checked bytes, dropped with damage. */
    @Test
    void storedAndCheckedChunksKeepTheirBlockSums() throws Exception {
        byte[] a = random(2 * BlockSums.BLOCK + 99, 25);
        ChunkId id = ChunkId.of(a);
        put(new ChunkStore(dir), a);
        ChunkStore store = new ChunkStore(dir);
        assertNull(store.knownSums(id), "sums at hand after a restart");
        get(store, id);
        BlockSums.Sums sums = store.knownSums(id);
        assertEquals(a.length, sums.length());
        assertEquals(3, sums.blocks().length);
        assertEquals(Response.ChunkRange.sum(a, 2 * BlockSums.BLOCK, 99), sums.blocks()[2]);

        byte[] rotten = a.clone();
        rotten[5] ^= 0x01;
        Files.write(store.pathOf(id), rotten);
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> store.get(id, ALLOC)).code());
        assertNull(store.knownSums(id), "sums kept for a chunk found damaged");
        put(store, a);
        assertArrayEquals(sums.blocks(), store.knownSums(id).blocks());
        assertTrue(store.quarantine(id));
        assertNull(store.knownSums(id), "sums kept for a chunk moved aside");
        put(store, a);
        assertTrue(store.remove(id));
        assertNull(store.knownSums(id), "sums kept for a chunk removed");

        ClusterKey key = ClusterKey.generate();
        ChunkStore sealed = sealedStore(dir.resolve("sealed"), key);
        putKeyed(sealed, key, a);
        assertNull(sealed.knownSums(key.contentIds().of(a, 0, a.length)), "a sealed store offers sums of its files");
    }

    @Test
    void aSealedStoreReadsPartsOfAChunkToo() throws Exception {
        ClusterKey key = ClusterKey.generate();
        ChunkStore store = sealedStore(dir, key);
        byte[] a = random(2 * BlockSums.BLOCK + 99, 24);
        putKeyed(store, key, a);
        ChunkId id = key.contentIds().of(a, 0, a.length);
        assertArrayEquals(Arrays.copyOfRange(a, BlockSums.BLOCK, BlockSums.BLOCK + 150),
                readRange(store, id, BlockSums.BLOCK, 150));
        byte[] sealed = Files.readAllBytes(store.pathOf(id));
        sealed[sealed.length / 2] ^= 0x01;
        Files.write(store.pathOf(id), sealed);
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> store.readRange(id, 0, 10, ALLOC)).code());
    }

    @Test
    void putReadsAScatteredBufferWithoutConsumingIt() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] a = random(1000, 1);
        byte[] b = random(3000, 2);
        CompositeByteBuf buf = Unpooled.compositeBuffer().addComponents(true, Unpooled.wrappedBuffer(a),
                Unpooled.wrappedBuffer(b));
        byte[] all = ByteBufUtil.getBytes(buf);
        try {
            store.put(ChunkId.of(all), buf);
            assertEquals(0, buf.readerIndex());
            assertEquals(1, buf.refCnt());
        } finally {
            buf.release();
        }
        assertArrayEquals(all, get(store, ChunkId.of(all)));
    }

    @Test
    void identicalContentIsStoredOnce() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] data = random(5000, 3);
        put(store, data);
        put(store, data.clone());
        put(store, data);
        assertEquals(1, store.count());
        assertEquals(5000, store.bytes());
        assertEquals(1, filesUnder(store.root()));
    }

    @Test
    void concurrentPutsOfTheSameContentStoreItOnce() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        int threads = 8;
        int chunks = 40;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            long expectedBytes = 0;
            for (int c = 0; c < chunks; c++) {
                byte[] data = random(2000 + c, 100 + c);
                expectedBytes += data.length;
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    done.add(pool.submit(() -> {
                        start.await(5, TimeUnit.SECONDS);
                        put(store, data);
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(10, TimeUnit.SECONDS);
                }
            }
            assertEquals(chunks, store.count(), "a chunk stored by several writers at once was counted more than once");
            assertEquals(expectedBytes, store.bytes());
            assertEquals(chunks, new ChunkStore(dir).count());
        } finally {
            pool.shutdownNow();
        }
    }

    private static void putSummed(ChunkStore store, ChunkId id, byte[] data, int[] sums) throws FsException {
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        try {
            store.putSummed(id, buf, sums);
        } finally {
            buf.release();
        }
    }

    /** A writer's put with its block sums: every block is checked against its sum, and the sums are kept. */
    @Test
    void aSummedPutChecksEveryBlockAgainstItsWritersSum() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] a = random(2 * BlockSums.BLOCK + 99, 26);
        ContentHash.Summed summed = ContentHash.SHA256.summed(a, 0, a.length);
        ChunkId id = summed.id();

        byte[] damaged = a.clone();
        damaged[BlockSums.BLOCK + 3] ^= 0x10;
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class,
                () -> putSummed(store, id, damaged, summed.sums())).code());
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class,
                () -> putSummed(store, id, a, Arrays.copyOf(summed.sums(), 2))).code());
        assertEquals(0, store.count());
        assertEquals(0, filesUnder(store.root()));

        putSummed(store, id, a, summed.sums());
        assertArrayEquals(summed.sums(), store.knownSums(id).blocks());
        assertEquals(a.length, store.knownSums(id).length());
        assertFalse(store.knownSums(id).checkedAgainstId());
        putSummed(store, id, a, summed.sums());
        assertTrue(store.knownSums(id).checkedAgainstId(), "a second put of a writer's chunk does not hash it");
        assertArrayEquals(a, get(store, id));
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class,
                () -> putSummed(store, ChunkId.of(new byte[] {1}), new byte[0], new int[0])).code(), "an empty chunk is hashed");
    }

    /** A writer's word is taken for its own chunk, never for a chunk another writer's file will share. */
    @Test
    void aWronglyNamedChunkIsReplacedWhenAnotherWriterStoresTheSameName() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] right = random(3 * BlockSums.BLOCK, 27);
        byte[] wrong = random(3 * BlockSums.BLOCK, 28);
        ChunkId id = ChunkId.of(right);
        putSummed(store, id, wrong, ContentHash.SHA256.summed(wrong, 0, wrong.length).sums());
        assertTrue(store.contains(id), "the store does not hash a writer's summed chunk");

        // A writer whose bytes are the id's: the stored ones are hashed, found wrong, moved aside and replaced.
        putSummed(store, id, right, ContentHash.SHA256.summed(right, 0, right.length).sums());
        assertTrue(store.knownSums(id).checkedAgainstId());
        assertArrayEquals(right, get(store, id));
        assertArrayEquals(ContentHash.SHA256.summed(right, 0, right.length).sums(), store.knownSums(id).blocks());
        assertTrue(Files.exists(dir.resolve("damaged-chunks").resolve(id.hex())));
        assertEquals(1, store.count());

        // A faulty writer's put of a chunk checked already changes neither the bytes nor the sums kept.
        putSummed(store, id, wrong, ContentHash.SHA256.summed(wrong, 0, wrong.length).sums());
        assertArrayEquals(right, get(store, id));
        assertArrayEquals(ContentHash.SHA256.summed(right, 0, right.length).sums(), store.knownSums(id).blocks(),
                "a faulty writer replaced the sums of a checked chunk");

        // Two faulty puts of one name: the second finds the first's bytes wrong, moves them aside,
        // and is refused as its own bytes are not the id's either.
        byte[] right2 = random(2 * BlockSums.BLOCK, 29);
        byte[] wrong2 = random(2 * BlockSums.BLOCK, 30);
        ChunkId id2 = ChunkId.of(right2);
        putSummed(store, id2, wrong2, ContentHash.SHA256.summed(wrong2, 0, wrong2.length).sums());
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> putSummed(store, id2, wrong2,
                ContentHash.SHA256.summed(wrong2, 0, wrong2.length).sums())).code());
        assertFalse(store.contains(id2));
        assertTrue(Files.exists(dir.resolve("damaged-chunks").resolve(id2.hex())));
        assertEquals(1, store.count());

        ClusterKey key = ClusterKey.generate();
        ChunkStore sealed = sealedStore(dir.resolve("sealed"), key);
        ContentHash.Summed misnamed = key.contentIds().summed(wrong, 0, wrong.length);
        ChunkId keyedRight = key.contentIds().of(right, 0, right.length);
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class,
                () -> putSummed(sealed, keyedRight, wrong, misnamed.sums())).code(), "a sealed store hashes every put");
    }

    // ---- short-circuit writes ----

    /** A writer on this machine stages a chunk file, as a mount does; returns the file. */
    private static Path stage(ChunkStore store, byte[] data) throws Exception {
        Path file = store.staging().resolve(java.util.UUID.randomUUID() + ".part");
        Files.write(file, data);
        return file;
    }

    /** A staged file is put in place as the store's own, counted, and its writer's sums kept for reads. */
    @Test
    void aStagedFileIsAdoptedAsTheChunkItNames() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] a = random(2 * BlockSums.BLOCK + 17, 40);
        ContentHash.Summed summed = ContentHash.SHA256.summed(a, 0, a.length);
        Path file = stage(store, a);

        store.adopt(summed.id(), file, a.length, summed.sums());
        assertFalse(Files.exists(file));
        assertTrue(store.contains(summed.id()));
        assertEquals(1, store.count());
        assertEquals(a.length, store.bytes());
        assertArrayEquals(summed.sums(), store.knownSums(summed.id()).blocks());
        assertFalse(store.knownSums(summed.id()).checkedAgainstId(), "the store hashed a writer's file");
        assertArrayEquals(a, get(store, summed.id()));
        assertArrayEquals(Arrays.copyOfRange(a, 5, 105), readRange(store, summed.id(), 5, 100));
        assertEquals(1, new ChunkStore(dir).count());
    }

    /** A staged file that is missing, of the wrong length or not a regular file is refused, and removed. */
    @Test
    void aStagedFileThatIsNotWholeIsRefusedAndRemoved() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] a = random(BlockSums.BLOCK + 5, 41);
        ContentHash.Summed summed = ContentHash.SHA256.summed(a, 0, a.length);
        ChunkId id = summed.id();

        Path cut = stage(store, Arrays.copyOf(a, a.length - 1));
        assertEquals(ErrorCode.INVALID, assertThrows(FsException.class, () -> store.adopt(id, cut, a.length, summed.sums())).code());
        assertFalse(Files.exists(cut));

        Path wrongSums = stage(store, a);
        assertEquals(ErrorCode.INVALID, assertThrows(FsException.class,
                () -> store.adopt(id, wrongSums, a.length, Arrays.copyOf(summed.sums(), 1))).code());
        assertEquals(ErrorCode.INVALID, assertThrows(FsException.class,
                () -> store.adopt(id, stage(store, a), a.length, null)).code());
        assertFalse(Files.exists(wrongSums));

        Path elsewhere = dir.resolve("elsewhere");
        Files.write(elsewhere, a);
        Path link = store.staging().resolve("link.part");
        Files.createSymbolicLink(link, elsewhere);
        assertEquals(ErrorCode.INVALID, assertThrows(FsException.class, () -> store.adopt(id, link, a.length, summed.sums())).code());
        assertTrue(Files.exists(elsewhere), "the link's target was touched");
        assertEquals(ErrorCode.INVALID, assertThrows(FsException.class,
                () -> store.adopt(id, elsewhere, a.length, summed.sums())).code(), "a file outside the staging directory");
        assertTrue(Files.exists(elsewhere), "a file outside the staging directory was removed");
        Path hardLink = Files.createLink(store.staging().resolve("hard.part"), elsewhere);
        assertEquals(ErrorCode.INVALID, assertThrows(FsException.class, () -> store.adopt(id, hardLink, a.length, summed.sums())).code(),
                "a second link to a file elsewhere");
        assertArrayEquals(a, Files.readAllBytes(elsewhere));

        Path foreign = stage(store, a);
        try {
            Files.setAttribute(foreign, "unix:uid", 4321); // root only
            assertEquals(ErrorCode.INVALID, assertThrows(FsException.class,
                    () -> store.adopt(id, foreign, a.length, summed.sums())).code(), "a file of another owner");
        } catch (java.nio.file.FileSystemException notRoot) {
            Files.delete(foreign);
        }

        assertEquals(ErrorCode.NOT_FOUND, assertThrows(FsException.class,
                () -> store.adopt(id, store.staging().resolve("gone.part"), a.length, summed.sums())).code());
        assertEquals(0, store.count());
        assertFalse(store.contains(id));
        try (Stream<Path> left = Files.list(store.staging())) {
            assertEquals(0, left.count());
        }
    }

    /** Adopting a chunk stored already keeps the stored bytes if they are the id's, and the staged ones if not. */
    @Test
    void aStagedFileOfAStoredChunkIsUsedOnlyIfTheStoredBytesAreBad() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] right = random(3 * BlockSums.BLOCK, 42);
        byte[] wrong = random(3 * BlockSums.BLOCK, 43);
        ContentHash.Summed summed = ContentHash.SHA256.summed(right, 0, right.length);
        ChunkId id = summed.id();
        putSummed(store, id, wrong, ContentHash.SHA256.summed(wrong, 0, wrong.length).sums());

        Path file = stage(store, right);
        store.adopt(id, file, right.length, summed.sums());
        assertFalse(Files.exists(file));
        assertArrayEquals(right, get(store, id));
        assertTrue(Files.exists(dir.resolve("damaged-chunks").resolve(id.hex())));
        assertEquals(1, store.count());

        Path again = stage(store, wrong);
        store.adopt(id, again, wrong.length, ContentHash.SHA256.summed(wrong, 0, wrong.length).sums());
        assertFalse(Files.exists(again));
        assertArrayEquals(right, get(store, id), "a staged file replaced bytes checked against the id");
        assertArrayEquals(summed.sums(), store.knownSums(id).blocks());
    }

    @Test
    void aSealedStoreAdoptsNothing() throws Exception {
        ClusterKey key = ClusterKey.generate();
        ChunkStore sealed = sealedStore(dir, key);
        byte[] a = random(1000, 44);
        ContentHash.Summed summed = key.contentIds().summed(a, 0, a.length);
        Path file = stage(sealed, a);
        assertEquals(ErrorCode.INVALID, assertThrows(FsException.class, () -> sealed.adopt(summed.id(), file, a.length, summed.sums())).code());
        assertFalse(Files.exists(file));
        assertEquals(0, sealed.count());
    }

    /** Staged files nobody asked about are swept once older than the cutoff; younger ones stay. */
    @Test
    void staleStagedFilesAreSwept() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        Path old = stage(store, random(10, 45));
        Path young = stage(store, random(10, 46));
        Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        assertEquals(1, store.clearStaging(System.currentTimeMillis() - 60_000));
        assertFalse(Files.exists(old));
        assertTrue(Files.exists(young));
    }

    @Test
    void putWithWrongIdIsCorruptAndStoresNothing() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] data = random(100, 4);
        ChunkId wrong = ChunkId.of(random(100, 5));
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        try {
            FsException e = assertThrows(FsException.class, () -> store.put(wrong, buf));
            assertEquals(ErrorCode.CORRUPT, e.code());
        } finally {
            buf.release();
        }
        assertEquals(0, store.count());
        assertEquals(0, store.bytes());
        assertFalse(store.contains(wrong));
        assertFalse(store.contains(ChunkId.of(data)));
        assertEquals(0, filesUnder(store.root()));
    }

    @Test
    void chunkCorruptedOnDiskIsRefusedOnRead() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        byte[] data = random(10_000, 6);
        put(store, data);
        ChunkId id = ChunkId.of(data);
        Path file = store.pathOf(id);
        byte[] onDisk = Files.readAllBytes(file);
        onDisk[5000] ^= 1;
        Files.write(file, onDisk);
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> store.get(id, ALLOC)).code());

        Files.write(file, Arrays.copyOf(data, 9_999));
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> store.get(id, ALLOC)).code());

        Files.write(file, new byte[0]);
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> store.get(id, ALLOC)).code());
    }

    @Test
    void missingChunkIsNotFound() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        ChunkId id = ChunkId.of(new byte[] {1});
        assertFalse(store.contains(id));
        assertEquals(ErrorCode.NOT_FOUND, assertThrows(FsException.class, () -> store.get(id, ALLOC)).code());
    }

    @Test
    void leftoversInTmpAreRemovedAtOpen() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        put(store, random(10, 7));
        Path tmp = store.root().resolve("tmp");
        Files.write(tmp.resolve("0b0e2b7c.part"), random(500, 8));
        Files.write(tmp.resolve("other"), new byte[0]);

        ChunkStore reopened = new ChunkStore(dir);
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(0, left.count());
        }
        assertEquals(1, reopened.count());
        assertEquals(10, reopened.bytes());
    }

    @Test
    void countAndBytesSurviveReopen() throws Exception {
        ChunkStore store = new ChunkStore(dir);
        long bytes = 0;
        for (int i = 0; i < 20; i++) {
            byte[] data = random(i * 100, i);
            put(store, data);
            bytes += data.length;
        }
        assertEquals(20, store.count());
        ChunkStore reopened = new ChunkStore(dir);
        assertEquals(20, reopened.count());
        assertEquals(bytes, reopened.bytes());
        byte[] seven = random(700, 7);
        assertArrayEquals(seven, get(reopened, ChunkId.of(seven)));
    }

    // ---- encrypted at rest ----

    private static ChunkStore sealedStore(Path dataDir, ClusterKey key) throws Exception {
        return new ChunkStore(dataDir, key.contentIds(), Sealer.of(key, "chunks"));
    }

    private static void putKeyed(ChunkStore store, ClusterKey key, byte[] data) throws FsException {
        put(store, key.contentIds().of(data, 0, data.length), data);
    }

    @Test
    void aSealedStoreKeepsNoPlainBytesAndStillDeduplicates() throws Exception {
        ClusterKey key = ClusterKey.generate();
        ChunkStore store = sealedStore(dir, key);
        byte[] text = "nobody may read this sentence off the disk. ".repeat(500).getBytes(StandardCharsets.US_ASCII);
        ChunkId id = key.contentIds().of(text, 0, text.length);
        putKeyed(store, key, text);
        putKeyed(store, key, text);
        assertEquals(1, store.count(), "equal bytes are stored once");
        assertEquals(text.length + Sealer.OVERHEAD, Files.size(store.pathOf(id)));
        String onDisk = new String(Files.readAllBytes(store.pathOf(id)), StandardCharsets.ISO_8859_1);
        assertFalse(onDisk.contains("nobody may read"), "the file holds no plain text");
        assertFalse(Files.exists(store.pathOf(ChunkId.of(text))), "the name is not the plain SHA-256 of the bytes");
        assertArrayEquals(text, get(store, id));
        assertArrayEquals(text, get(sealedStore(dir, key), id), "a reopened store reads it");

        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> put(store, ChunkId.of(text), text)).code(),
                "a plain SHA-256 id is not this cluster's id for the bytes");
    }

    @Test
    void aSealedChunkChangedOrMovedOnDiskOrReadUnderAnotherKeyFailsItsTag() throws Exception {
        ClusterKey key = ClusterKey.generate();
        ChunkStore store = sealedStore(dir, key);
        byte[] a = random(50_000, 21);
        byte[] b = random(50_000, 22);
        putKeyed(store, key, a);
        putKeyed(store, key, b);
        ChunkId idA = key.contentIds().of(a, 0, a.length);
        ChunkId idB = key.contentIds().of(b, 0, b.length);
        byte[] sealedA = Files.readAllBytes(store.pathOf(idA));

        byte[] flipped = sealedA.clone();
        flipped[flipped.length / 2] ^= 0x04;
        Files.write(store.pathOf(idA), flipped);
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> get(store, idA)).code());

        Files.write(store.pathOf(idA), Files.readAllBytes(store.pathOf(idB)));
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> get(store, idA)).code(),
                "another chunk's file under this name");

        Files.write(store.pathOf(idA), a);
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> get(store, idA)).code(),
                "the plain bytes under this name");

        Files.write(store.pathOf(idA), sealedA);
        assertArrayEquals(a, get(store, idA), "the original file reads again");
        ChunkStore foreign = new ChunkStore(dir, key.contentIds(), Sealer.of(ClusterKey.generate(), "chunks"));
        assertEquals(ErrorCode.CORRUPT, assertThrows(FsException.class, () -> get(foreign, idA)).code(),
                "a store with another key cannot read it");
    }
}
