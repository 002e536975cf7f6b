package io.vortexfs.mount.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vortexfs.mount.client.ClientConfig;
import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.node.Node;
import io.vortexfs.node.NodeConfig;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.HostPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mount's filesystem logic against a real node in this JVM, without FUSE in between. */
class VortexFileSystemTest {
    private static final int CHUNK = 4096;

    @TempDir
    Path dir;

    Node node;
    ClusterClient client;
    VortexFileSystem fs;

    @BeforeEach
    void start() throws Exception {
        node = Node.start(NodeConfig.defaults(dir.resolve("node"), "127.0.0.1", 0));
        // Over the network, as from another machine: the node's requests are what these tests count
        // (LocalChunksTest covers reading a node's files beside it).
        client = ClusterClient.connect(List.of(new HostPort("127.0.0.1", node.port())),
                ClientConfig.DEFAULT.withLocalReads(false), "test");
        fs = newMount();
    }

    private VortexFileSystem newMount() {
        // A budget of 4 chunks for 2 dirty + 3 uploading per file: writers must reap their own uploads to go on.
        return new VortexFileSystem(client, new MountConfig(CHUNK, 2, 3, 4, 2, 4 * CHUNK, 4, Duration.ofSeconds(1),
                MountConfig.DEFAULT_COMMIT_AFTER));
    }

    @AfterEach
    void stop() {
        client.close();
        node.close();
    }

    /**
     * Before each write(2) the kernel asks for the file's security.capability; the file's cached
     * attributes must answer it, or every small write costs a lookup on the network.
     */
    @Test
    void smallWritesAndTheKernelsQuestionsBetweenThemCostNoLookups() throws Exception {
        long fh = fs.create("/w", 0644, 0, 0, true);
        fs.getattr("/w");
        long before = node.metrics().served("Lookup") + node.metrics().served("GetAttr");
        byte[] block = new byte[512];
        Arrays.fill(block, (byte) 7);
        for (int i = 0; i < 200; i++) {
            assertEquals(ErrorCode.NO_DATA,
                    assertThrows(FsException.class, () -> fs.getxattr("/w", "security.capability")).code());
            fs.write(fh, i * 512L, block, 512);
            assertEquals(512L * (i + 1), fs.getattr("/w").size());
        }
        long asked = node.metrics().served("Lookup") + node.metrics().served("GetAttr") - before;
        // The attributes may expire once or twice during the loop (1 s), not on every write.
        assertTrue(asked < 20, asked + " lookups for 200 writes");
        fs.release(fh);
        assertEquals(200 * 512L, fs.getattr("/w").size());
    }

    /**
     * ls -l asks every file for its POSIX ACL and its SELinux label. Both are unsupported, and say
     * so (EOPNOTSUPP, which coreutils remembers for the whole filesystem) without a request to a
     * node, even on a file that has other attributes.
     */
    @Test
    void aclAndLabelQuestionsAreAnsweredUnsupportedInTheMount() throws Exception {
        fs.release(fs.create("/x", 0644, 0, 0, true));
        fs.setxattr("/x", "user.tag", new byte[] {1}, 0);
        fs.getattr("/x");
        long before = node.metrics().served("GetXattr");
        for (String name : List.of("system.posix_acl_access", "system.posix_acl_default", "security.selinux")) {
            assertEquals(ErrorCode.NOT_SUPPORTED, assertThrows(FsException.class, () -> fs.getxattr("/x", name)).code());
            assertEquals(ErrorCode.NOT_SUPPORTED,
                    assertThrows(FsException.class, () -> fs.setxattr("/x", name, new byte[] {2}, 0)).code());
        }
        assertEquals(before, node.metrics().served("GetXattr"));
        assertArrayEquals(new byte[] {1}, fs.getxattr("/x", "user.tag"));
        assertEquals(before + 1, node.metrics().served("GetXattr"));
    }

    @Test
    void randomWritesTruncatesAndReadsMatchAModelFile() throws Exception {
        Random rnd = new Random(42);
        byte[] model = new byte[0];
        long fh = fs.create("/f", 0644, 0, 0, true);
        for (int op = 0; op < 3000; op++) {
            int kind = rnd.nextInt(10);
            if (kind < 6) {
                int off = rnd.nextInt(6 * CHUNK);
                int len = 1 + rnd.nextInt(rnd.nextBoolean() ? 64 : 3 * CHUNK);
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                if (rnd.nextInt(4) == 0) {
                    Arrays.fill(data, (byte) 0); // zero runs become holes
                }
                fs.write(fh, off, data, len);
                if (off + len > model.length) {
                    model = Arrays.copyOf(model, off + len);
                }
                System.arraycopy(data, 0, model, off, len);
            } else if (kind < 7) {
                int size = rnd.nextInt(7 * CHUNK);
                if (rnd.nextBoolean()) {
                    fs.ftruncate(fh, size);
                } else {
                    fs.truncate("/f", size);
                }
                model = Arrays.copyOf(model, size);
            } else if (kind < 8) {
                fs.flush(fh);
            } else if (kind < 9 && op % 50 == 0) {
                fs.release(fh);
                fh = fs.open("/f");
            } else {
                int off = rnd.nextInt(7 * CHUNK);
                int len = 1 + rnd.nextInt(3 * CHUNK);
                byte[] got = new byte[len];
                int n = fs.read(fh, off, got, len);
                int want = Math.max(0, Math.min(len, model.length - off));
                assertEquals(want, n, "read length at op " + op);
                assertArrayEquals(Arrays.copyOfRange(model, Math.min(off, model.length), Math.min(off, model.length) + want),
                        Arrays.copyOf(got, n), "bytes at op " + op);
            }
            assertEquals(model.length, fs.getattr("/f").size(), "size at op " + op);
        }
        fs.release(fh);

        // A second mount of the same cluster sees exactly the model after close (close-to-open).
        VortexFileSystem other = newMount();
        long h = other.open("/f");
        byte[] all = new byte[model.length + 10];
        int n = other.read(h, 0, all, all.length);
        assertEquals(model.length, n);
        assertArrayEquals(model, Arrays.copyOf(all, n));
        other.release(h);
    }

    @Test
    void chunksUploadedByAFileKeptOpenAreCommittedWithoutAFlush() throws Exception {
        long fh = fs.create("/log", 0644, 0, 0, true);
        Random rnd = new Random(7);
        for (int i = 0; i < 5; i++) {
            byte[] data = new byte[CHUNK];
            rnd.nextBytes(data);
            fs.write(fh, (long) i * CHUNK, data, CHUNK); // past 2 dirty buffers, the oldest are uploaded
        }
        long ino = fs.getattr("/log").ino();
        assertEquals(0, client.getLayout(ino).slots().size(), "nothing committed yet");
        fs.handle(fh).commitAged(Duration.ofHours(1));
        assertEquals(0, client.getLayout(ino).slots().size(), "not old enough yet");
        // The uploads run in the background: each pass commits those that have finished.
        List<io.vortexfs.protocol.ChunkSlot> slots = List.of();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (slots.size() < 3 && System.nanoTime() < deadline) {
            fs.handle(fh).commitAged(Duration.ZERO);
            slots = client.getLayout(ino).slots();
            Thread.sleep(slots.size() < 3 ? 20 : 0);
        }
        assertTrue(slots.size() >= 3, "the uploaded chunks (3 of 5, past 2 dirty) are referenced by the file: " + slots);
        fs.release(fh);
    }

    /** Random reads fetch only the blocks they need; a read from the start fetches whole chunks. */
    @Test
    void randomReadsFetchPartsOfChunksAndSequentialReadsWholeOnes() throws Exception {
        byte[] model = new byte[64 * CHUNK];
        Random rnd = new Random(5);
        rnd.nextBytes(model);
        long fh = fs.create("/r", 0644, 0, 0, true);
        fs.write(fh, 0, model, model.length);
        fs.release(fh);
        VortexFileSystem other = newMount(); // an empty chunk cache

        long h = other.open("/r");
        long wholeBefore = node.metrics().served("GetChunk");
        long partsBefore = node.metrics().served("ReadChunk");
        for (int i = 0; i < 200; i++) {
            int off = rnd.nextInt(model.length);
            byte[] got = new byte[1 + rnd.nextInt(3000)];
            int n = other.read(h, off, got, got.length);
            assertEquals(Math.min(got.length, model.length - off), n);
            assertArrayEquals(Arrays.copyOfRange(model, off, off + n), Arrays.copyOf(got, n), "read at " + off);
        }
        long parts = node.metrics().served("ReadChunk") - partsBefore;
        long whole = node.metrics().served("GetChunk") - wholeBefore;
        assertTrue(parts > 150 && whole < 30, parts + " partial and " + whole + " whole chunk reads");

        byte[] all = new byte[model.length];
        for (int off = 0; off < model.length; off += 3000) {
            byte[] part = new byte[Math.min(3000, model.length - off)];
            assertEquals(part.length, other.read(h, off, part, part.length));
            System.arraycopy(part, 0, all, off, part.length);
        }
        assertArrayEquals(model, all);
        assertEquals(parts, node.metrics().served("ReadChunk") - partsBefore, "a sequential read fetches whole chunks");
        other.release(h);
    }

    /**
     * A node sends whole chunks from their files, unhashed; the mount checks every one. A damaged copy
     * is refused, and the mount tells the node, which moves it aside at once instead of at its next
     * scrub.
     */
    @Test
    void aDamagedChunkIsRefusedByTheReaderAndMovedAsideByItsNode() throws Exception {
        byte[] data = new byte[CHUNK];
        new Random(9).nextBytes(data);
        long fh = fs.create("/rot", 0644, 0, 0, true);
        fs.write(fh, 0, data, data.length);
        fs.release(fh);
        String hex = client.getLayout(fs.getattr("/rot").ino()).slots().get(0).ref().id().hex();
        Path file = dir.resolve("node").resolve("chunks").resolve(hex.substring(0, 2)).resolve(hex);
        byte[] onDisk = Files.readAllBytes(file);
        onDisk[onDisk.length / 2] ^= 0x01;
        Files.write(file, onDisk);

        long reportsBefore = node.metrics().served("HasChunks");
        VortexFileSystem other = newMount(); // an empty chunk cache
        long h = other.open("/rot");
        FsException refused = assertThrows(FsException.class, () -> other.read(h, 0, new byte[CHUNK], CHUNK));
        assertEquals(ErrorCode.CORRUPT, refused.code());
        other.release(h);

        Path aside = dir.resolve("node").resolve("damaged-chunks").resolve(hex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(aside) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(Files.exists(aside), "the damaged copy is kept aside for the operator");
        assertFalse(Files.exists(file), "and no longer served");
        assertTrue(node.metrics().served("HasChunks") > reportsBefore, "the mount told the node");
    }

    @Test
    void holesAreNotStored() throws Exception {
        long fh = fs.create("/sparse", 0644, 0, 0, true);
        byte[] one = {7};
        fs.write(fh, 100L * CHUNK, one, 1);
        fs.release(fh);
        assertEquals(100L * CHUNK + 1, fs.getattr("/sparse").size());
        try (Stream<Path> files = Files.walk(dir.resolve("node/chunks"))) {
            assertEquals(1, files.filter(p -> p.getFileName().toString().length() == 64).count(),
                    "only the one chunk with data is stored");
        }
        long h = fs.open("/sparse");
        byte[] buf = new byte[CHUNK];
        assertEquals(CHUNK, fs.read(h, 5L * CHUNK, buf, CHUNK));
        assertArrayEquals(new byte[CHUNK], buf);
        fs.release(h);
    }

    @Test
    void unsavedWritesAreVisibleToStatAndReadsOfThisMount() throws Exception {
        long fh = fs.create("/w", 0600, 0, 0, true);
        byte[] data = "abcdef".getBytes();
        fs.write(fh, 0, data, data.length);
        assertEquals(6, fs.getattr("/w").size());
        assertEquals(6, fs.fgetattr(fh).size());
        long second = fs.open("/w");
        byte[] got = new byte[6];
        assertEquals(6, fs.read(second, 0, got, 6));
        assertArrayEquals(data, got);
        fs.release(second);
        fs.release(fh);
    }

    @Test
    void namespaceOperationsKeepCachesHonest() throws Exception {
        fs.mkdir("/d", 0755, 0, 0);
        fs.release(fs.create("/d/a", 0644, 0, 0, true));
        fs.rename("/d/a", "/d/b");
        assertThrows(FsException.class, () -> fs.getattr("/d/a"));
        assertTrue(fs.getattr("/d/b").isRegular());
        fs.link("/d/b", "/d/c");
        assertEquals(2, fs.getattr("/d/b").nlink());
        fs.unlink("/d/b");
        assertEquals(1, fs.getattr("/d/c").nlink());
        fs.symlink("c", "/d/l", 0, 0);
        assertEquals("c", fs.readlink("/d/l"));
        fs.chmod("/d/c", 0600);
        assertEquals(0100600, fs.getattr("/d/c").mode());
        List<DirEntry> entries = fs.readdir("/d");
        assertEquals(List.of("c", "l"), entries.stream().map(DirEntry::name).sorted().toList());
        FsException e = assertThrows(FsException.class, () -> fs.rmdir("/d"));
        assertEquals(ErrorCode.NOT_EMPTY, e.code());
        e = assertThrows(FsException.class, () -> fs.mkdir("/d/" + "x".repeat(256), 0755, 0, 0));
        assertEquals(ErrorCode.NAME_TOO_LONG, e.code());
        e = assertThrows(FsException.class, () -> fs.create("/d/c", 0644, 0, 0, true));
        assertEquals(ErrorCode.EXISTS, e.code());
        e = assertThrows(FsException.class, () -> fs.getattr("/d/c/x"));
        assertEquals(ErrorCode.NOT_DIRECTORY, e.code());
        Attr t = fs.utimens("/d/c", 1_000_000_000L, null);
        assertEquals(1_000_000_000L, t.atimeNs());
    }

    @Test
    void aStaleLayoutFetchedBeforeACommitDoesNotRollTheFileBack() throws Exception {
        long fh = fs.create("/r", 0644, 0, 0, true);
        fs.write(fh, 0, "old".getBytes(), 3);
        fs.flush(fh);
        var stale = client.getLayout(fs.getattr("/r").ino());
        fs.write(fh, 0, "new".getBytes(), 3);
        fs.flush(fh);
        fs.handle(fh).refresh(stale); // what a racing open that fetched before the commit would do
        byte[] got = new byte[3];
        assertEquals(3, fs.read(fh, 0, got, 3));
        assertArrayEquals("new".getBytes(), got);
        fs.release(fh);
    }

    @Test
    void writesThatCouldNotBeSavedDuringAnOutageAreSavedByALaterFlush() throws Exception {
        long fh = fs.create("/kept", 0644, 0, 0, true);
        byte[] data = new byte[5 * CHUNK];
        new Random(3).nextBytes(data);
        fs.write(fh, 0, data, data.length); // some chunks uploaded, the last ones still buffered
        int port = node.port();
        node.close();
        assertThrows(FsException.class, () -> fs.flush(fh), "a flush during the outage reports it");
        node = Node.start(NodeConfig.defaults(dir.resolve("node"), "127.0.0.1", port));
        // No rewrite: the bytes that failed to upload were kept. The first flush after the outage may
        // still report uploads that failed during it; a flush after that saves everything.
        try {
            fs.flush(fh);
        } catch (FsException e) {
            fs.flush(fh);
        }
        fs.release(fh);
        VortexFileSystem other = newMount();
        long h = other.open("/kept");
        byte[] got = new byte[data.length];
        assertEquals(data.length, other.read(h, 0, got, got.length));
        assertArrayEquals(data, got);
        other.release(h);
    }

    @Test
    void aStreamedFileAllocatesEachChunkPastTheFirstOnce() throws Exception {
        int chunk = 1 << 20;
        int chunks = 8;
        VortexFileSystem mount = new VortexFileSystem(client, MountConfig.withChunkSize(chunk));
        byte[] data = new byte[chunks * chunk];
        new Random(8).nextBytes(data);
        byte[] piece = new byte[128 << 10];
        long fh = mount.create("/stream", 0644, 0, 0, true);
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int at = 0; at < data.length; at += piece.length) {
            System.arraycopy(data, at, piece, 0, piece.length);
            mount.write(fh, at, piece, piece.length);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        mount.release(fh);
        // The first chunk grows from 64 KiB by doubling (2 MiB in all); the others are allocated whole.
        // Doubling every chunk would take twice the chunk each: 16 MiB.
        assertTrue(allocated < (chunks + 2L) * chunk, "the writer allocated " + allocated + " bytes");
        long h = mount.open("/stream");
        byte[] got = new byte[data.length];
        assertEquals(data.length, mount.read(h, 0, got, got.length));
        assertArrayEquals(data, got);
        mount.release(h);
    }

    @Test
    void aReadWaitingForTheClusterDoesNotHoldUpTheFilesOtherReaders() throws Exception {
        byte[] data = new byte[2 * CHUNK];
        new Random(9).nextBytes(data);
        long fh = fs.create("/shared", 0644, 0, 0, true);
        fs.write(fh, 0, data, data.length);
        fs.release(fh);
        Response.Layout layout = client.getLayout(fs.getattr("/shared").ino());
        ChunkCache cache = new ChunkCache(client, 4, Duration.ofSeconds(5));
        // Chunk 0 is on its way, by a fetch that has not run yet: whoever reads it waits.
        List<Runnable> held = new ArrayList<>();
        cache.prefetch(layout.slots().get(0).ref().id(), held::add);
        OpenFile file = new OpenFile(layout, client, cache, new DirtyBudget(4 * CHUNK), 2, 3, 0, Runnable::run,
                Duration.ofSeconds(5));
        ExecutorService readers = Executors.newFixedThreadPool(2);
        try {
            byte[] first = new byte[CHUNK];
            AtomicReference<Thread> firstReader = new AtomicReference<>();
            Future<Integer> waiting = readers.submit(() -> {
                firstReader.set(Thread.currentThread());
                return file.read(0, IoBuffer.of(first), CHUNK);
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (firstReader.get() == null || !waitingForChunk(firstReader.get())) {
                assertTrue(System.nanoTime() < deadline, "the first read never waited for its chunk");
                Thread.sleep(5);
            }
            byte[] second = new byte[CHUNK];
            Future<Integer> other = readers.submit(() -> file.read(CHUNK, IoBuffer.of(second), CHUNK));
            assertEquals(CHUNK, other.get(3, TimeUnit.SECONDS), "the other read waited for the first");
            assertArrayEquals(Arrays.copyOfRange(data, CHUNK, 2 * CHUNK), second);
            assertFalse(waiting.isDone());
            held.remove(0).run();
            assertEquals(CHUNK, waiting.get(5, TimeUnit.SECONDS));
            assertArrayEquals(Arrays.copyOfRange(data, 0, CHUNK), first);
        } finally {
            held.forEach(Runnable::run);
            readers.shutdownNow();
        }
    }

    private static boolean waitingForChunk(Thread t) {
        return t.getState() == Thread.State.TIMED_WAITING && Arrays.stream(t.getStackTrace())
                .anyMatch(f -> f.getClassName().equals(ChunkCache.class.getName()) && f.getMethodName().equals("get"));
    }

    @Test
    void aFileWithChunksLargerThanHalfTheBudgetIsWrittenWithoutWaitingOnItself() throws Exception {
        // Created by a mount with 3-chunk-unit chunks; written through one whose whole budget is 4 units.
        VortexFileSystem bigChunks = new VortexFileSystem(client,
                new MountConfig(3 * CHUNK, 2, 3, 4, 2, 6 * CHUNK, 4, Duration.ofSeconds(1),
                        MountConfig.DEFAULT_COMMIT_AFTER));
        bigChunks.release(bigChunks.create("/big", 0644, 0, 0, true));
        long fh = fs.open("/big");
        byte[] data = new byte[9 * CHUNK + 5];
        new Random(4).nextBytes(data);
        long t0 = System.nanoTime();
        fs.write(fh, 0, data, data.length);
        fs.release(fh);
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "the writer waited on budget only it could free");
        long h = bigChunks.open("/big");
        byte[] got = new byte[data.length];
        assertEquals(data.length, bigChunks.read(h, 0, got, got.length));
        assertArrayEquals(data, got);
        bigChunks.release(h);
    }

    @Test
    void aUsersRenameToAHiddenLookingNameIsAnOrdinaryRename() throws Exception {
        long fh = fs.create("/plain", 0644, 0, 0, true);
        fs.write(fh, 0, "x".getBytes(), 1);
        fs.release(fh);
        fs.rename("/plain", "/.fuse_hidden0000000a00000001");
        assertEquals(1, fs.getattr("/.fuse_hidden0000000a00000001").size());
        assertEquals(List.of(".fuse_hidden0000000a00000001"), fs.readdir("/").stream().map(DirEntry::name).toList());
    }

    @Test
    void aNameRememberedAsAbsentAppearsAtOnceHereAndWithinTheTimeoutFromElsewhere() throws Exception {
        assertEquals(ErrorCode.NOT_FOUND, assertThrows(FsException.class, () -> fs.getattr("/n")).code());
        fs.release(fs.create("/n", 0644, 0, 0, true));
        assertTrue(fs.getattr("/n").isRegular(), "this mount's own create shows at once");

        assertThrows(FsException.class, () -> fs.getattr("/m"));
        VortexFileSystem other = newMount();
        other.mkdir("/m", 0755, 0, 0);
        long t0 = System.nanoTime();
        while (true) {
            try {
                fs.getattr("/m");
                break;
            } catch (FsException e) {
                assertTrue(System.nanoTime() - t0 < 1_500_000_000L, "another mount's mkdir stayed unseen past the timeout");
                Thread.sleep(20);
            }
        }
        // And a create that finds the name taken forgets the stale absence.
        assertThrows(FsException.class, () -> fs.getattr("/x"));
        other.mkdir("/x", 0755, 0, 0);
        assertEquals(ErrorCode.EXISTS, assertThrows(FsException.class, () -> fs.mkdir("/x", 0755, 0, 0)).code());
        assertTrue(fs.getattr("/x").isDirectory());
    }

    @Test
    void dataSurvivesANodeRestartBehindTheSameClient() throws Exception {
        long fh = fs.create("/keep", 0644, 0, 0, true);
        byte[] data = new byte[10 * CHUNK + 17];
        new Random(1).nextBytes(data);
        fs.write(fh, 0, data, data.length);
        fs.release(fh);
        int port = node.port();
        node.close();
        node = Node.start(NodeConfig.defaults(dir.resolve("node"), "127.0.0.1", port));
        VortexFileSystem fresh = newMount();
        long h = fresh.open("/keep");
        byte[] got = new byte[data.length];
        assertEquals(data.length, fresh.read(h, 0, got, got.length));
        assertArrayEquals(data, got);
        fresh.release(h);
    }
}
