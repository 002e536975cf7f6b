package io.vortexfs.node.metadata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ChunkRef;
import io.vortexfs.protocol.ChunkSlot;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.rpc.ClusterKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.mapdb.DBMaker;

class MetadataStoreTest {
    private static final long ROOT = MetadataStore.ROOT;
    private static final int CS = 4096;
    private static final Instant NOW = Instant.parse("2024-05-06T07:08:09.123456789Z");
    private static final long NOW_NS = NOW.getEpochSecond() * 1_000_000_000L + NOW.getNano();

    @TempDir
    Path dir;

    private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    private MetadataStore store;

    @BeforeEach
    void open() throws Exception {
        store = MetadataStore.open(dir, clock);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private void reopen() throws Exception {
        store.close();
        store = MetadataStore.open(dir, clock);
    }

    // ---- helpers ----

    private Attr make(long parent, String name, int mode) throws FsException {
        return store.makeNode(new Request.MakeNode(parent, name, mode, 1000, 1000, null,
                FileType.isRegular(mode) ? CS : 0));
    }

    private Attr file(long parent, String name) throws FsException {
        return make(parent, name, FileType.S_IFREG | 0644);
    }

    private Attr mkdir(long parent, String name) throws FsException {
        return make(parent, name, FileType.S_IFDIR | 0755);
    }

    private Attr symlink(long parent, String name, String target) throws FsException {
        return store.makeNode(new Request.MakeNode(parent, name, FileType.S_IFLNK | 0777, 1000, 1000, target, 0));
    }

    private int nlink(long ino) throws FsException {
        return store.getAttr(ino).nlink();
    }

    private static ErrorCode code(Executable e) {
        return assertThrows(FsException.class, e).code();
    }

    private static ChunkRef ref(String content, int length) {
        return new ChunkRef(ChunkId.of(content.getBytes(StandardCharsets.UTF_8)), length);
    }

    private Attr commit(long ino, long minSize, ChunkSlot... slots) throws FsException {
        return store.commitWrite(new Request.CommitWrite(ino, List.of(slots), minSize, NOW_NS));
    }

    private Attr truncate(long ino, long size) throws FsException {
        return store.setAttr(new Request.SetAttr(ino, Request.SetAttr.SET_SIZE, 0, 0, 0, size, 0, 0));
    }

    private Map<Long, ChunkRef> layout(long ino) throws FsException {
        Map<Long, ChunkRef> out = new TreeMap<>();
        for (ChunkSlot s : store.getLayout(ino).slots()) {
            out.put(s.index(), s.ref());
        }
        return out;
    }

    /** Every path with its attributes and, for files, its layout: equal snapshots mean nothing changed. */
    private Map<String, Object> snapshot() throws FsException {
        Map<String, Object> out = new TreeMap<>();
        out.put("/", store.getAttr(ROOT));
        walk(ROOT, "", out);
        out.put("#keys", store.keyCount());
        return out;
    }

    private void walk(long dirIno, String path, Map<String, Object> out) throws FsException {
        for (DirEntry e : store.readDir(dirIno)) {
            String p = path + "/" + e.name();
            out.put(p, e.attr());
            if (e.attr().isDirectory()) {
                walk(e.attr().ino(), p, out);
            } else if (e.attr().isRegular()) {
                out.put(p + "#layout", store.getLayout(e.attr().ino()).slots());
            }
        }
    }

    // ---- creating and looking up ----

    @Test
    void rootIsAnEmptyDirectoryWithTwoLinks() throws Exception {
        Attr root = store.getAttr(ROOT);
        assertTrue(root.isDirectory());
        assertEquals(2, root.nlink());
        assertEquals(ROOT, root.parent());
        assertEquals(List.of(), store.readDir(ROOT));
        assertEquals(1, store.inodeCount());
    }

    @Test
    void createsFileDirectorySymlinkAndFifo() throws Exception {
        Attr f = file(ROOT, "f");
        assertTrue(f.isRegular());
        assertEquals(FileType.S_IFREG | 0644, f.mode());
        assertEquals(1, f.nlink());
        assertEquals(0, f.size());
        assertEquals(CS, f.chunkSize());
        assertEquals(1000, f.uid());
        assertEquals(NOW_NS, f.mtimeNs());
        assertEquals(NOW_NS, f.ctimeNs());
        assertEquals(NOW_NS, f.atimeNs());
        assertTrue(f.ino() > ROOT);

        Attr d = mkdir(ROOT, "d");
        assertTrue(d.isDirectory());
        assertEquals(2, d.nlink());
        assertEquals(ROOT, d.parent());
        assertEquals(0, d.chunkSize());

        Attr l = symlink(ROOT, "l", "../täget");
        assertTrue(l.isSymlink());
        assertEquals("../täget", l.linkTarget());
        assertEquals("../täget".getBytes(StandardCharsets.UTF_8).length, l.size());

        Attr p = make(d.ino(), "p", FileType.S_IFIFO | 0600);
        assertEquals(FileType.S_IFIFO, p.mode() & FileType.S_IFMT);

        assertEquals(f, store.lookup(ROOT, "f"));
        assertEquals(d.ino(), store.getAttr(d.ino()).ino());
        assertEquals(d.version() + 1, store.getAttr(d.ino()).version(), "creating p changed d");
        assertEquals(l, store.lookup(ROOT, "l"));
        assertEquals(p, store.lookup(d.ino(), "p"));
        assertEquals(5, store.inodeCount());
    }

    @Test
    void readDirListsEveryEntryWithItsAttributesInNameOrder() throws Exception {
        Attr b = file(ROOT, "b");
        Attr a = mkdir(ROOT, "a");
        Attr c = symlink(ROOT, "c", "/x");
        assertEquals(List.of(new DirEntry("a", a), new DirEntry("b", b), new DirEntry("c", c)),
                store.readDir(ROOT));
        assertEquals(List.of(), store.readDir(a.ino()));
    }

    @Test
    void readDirDoesNotLeakEntriesOfAnotherDirectory() throws Exception {
        Attr a = mkdir(ROOT, "a");
        Attr b = mkdir(ROOT, "b");
        file(a.ino(), "x");
        file(b.ino(), "y");
        assertEquals(List.of("x"), store.readDir(a.ino()).stream().map(DirEntry::name).toList());
        assertEquals(List.of("y"), store.readDir(b.ino()).stream().map(DirEntry::name).toList());
    }

    @Test
    void duplicateNameIsExists() throws Exception {
        file(ROOT, "x");
        assertEquals(ErrorCode.EXISTS, code(() -> file(ROOT, "x")));
        assertEquals(ErrorCode.EXISTS, code(() -> mkdir(ROOT, "x")));
        assertEquals(2, store.inodeCount());
    }

    @Test
    void nameOver255BytesIsNameTooLong() throws Exception {
        String max = "é".repeat(127) + "a"; // 255 bytes
        file(ROOT, max);
        String tooLong = "é".repeat(128); // 256 bytes, 128 chars
        assertEquals(ErrorCode.NAME_TOO_LONG, code(() -> file(ROOT, tooLong)));
        Attr f = store.lookup(ROOT, max);
        assertEquals(ErrorCode.NAME_TOO_LONG, code(() -> store.link(f.ino(), ROOT, tooLong)));
        assertEquals(ErrorCode.NAME_TOO_LONG, code(() -> store.rename(ROOT, max, ROOT, tooLong)));
        assertEquals(ErrorCode.INVALID, code(() -> file(ROOT, "..")));
        assertEquals(ErrorCode.INVALID, code(() -> file(ROOT, "a/b")));
        assertEquals(2, store.inodeCount());
    }

    @Test
    void parentMustBeAnExistingDirectory() throws Exception {
        Attr f = file(ROOT, "f");
        assertEquals(ErrorCode.NOT_DIRECTORY, code(() -> file(f.ino(), "x")));
        assertEquals(ErrorCode.NOT_DIRECTORY, code(() -> store.lookup(f.ino(), "x")));
        assertEquals(ErrorCode.NOT_DIRECTORY, code(() -> store.readDir(f.ino())));
        assertEquals(ErrorCode.NOT_FOUND, code(() -> file(424242, "x")));
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.lookup(ROOT, "missing")));
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.getAttr(424242)));
    }

    @Test
    void regularFileNeedsAChunkSize() throws Exception {
        assertEquals(ErrorCode.INVALID, code(() -> store.makeNode(
                new Request.MakeNode(ROOT, "f", FileType.S_IFREG | 0644, 0, 0, null, 0))));
        assertEquals(1, store.inodeCount());
    }

    // ---- removing ----

    @Test
    void unlinkRemovesAFileAndItsLayout() throws Exception {
        Attr f = file(ROOT, "f");
        commit(f.ino(), 100, new ChunkSlot(0, ref("a", 100)));
        long keys = store.keyCount();
        store.remove(ROOT, "f", false);
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.lookup(ROOT, "f")));
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.getAttr(f.ino())));
        assertEquals(keys - 3, store.keyCount(), "inode, entry and slot are gone");
        assertEquals(NOW_NS, store.getAttr(ROOT).mtimeNs());
    }

    @Test
    void removeChecksTheKindOfWhatItRemoves() throws Exception {
        Attr d = mkdir(ROOT, "d");
        file(ROOT, "f");
        file(d.ino(), "inner");
        assertEquals(ErrorCode.IS_DIRECTORY, code(() -> store.remove(ROOT, "d", false)));
        assertEquals(ErrorCode.NOT_DIRECTORY, code(() -> store.remove(ROOT, "f", true)));
        assertEquals(ErrorCode.NOT_EMPTY, code(() -> store.remove(ROOT, "d", true)));
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.remove(ROOT, "nope", false)));
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.remove(ROOT, "nope", true)));

        store.remove(d.ino(), "inner", false);
        store.remove(ROOT, "d", true);
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.getAttr(d.ino())));
        assertEquals(2, nlink(ROOT));
    }

    // ---- link counts ----

    @Test
    void directoryLinkCountIsTwoPlusSubdirectories() throws Exception {
        assertEquals(2, nlink(ROOT));
        Attr a = mkdir(ROOT, "a");
        assertEquals(3, nlink(ROOT));
        Attr b = mkdir(ROOT, "b");
        assertEquals(4, nlink(ROOT));
        file(ROOT, "f");
        symlink(ROOT, "s", "t");
        assertEquals(4, nlink(ROOT), "files and symlinks do not count");
        Attr c = mkdir(a.ino(), "c");
        assertEquals(3, nlink(a.ino()));
        assertEquals(4, nlink(ROOT));

        store.rename(a.ino(), "c", b.ino(), "c");
        assertEquals(2, nlink(a.ino()));
        assertEquals(3, nlink(b.ino()));
        assertEquals(4, nlink(ROOT));
        assertEquals(2, nlink(c.ino()));

        store.rename(b.ino(), "c", ROOT, "c2");
        assertEquals(2, nlink(b.ino()));
        assertEquals(5, nlink(ROOT));

        store.remove(ROOT, "b", true);
        assertEquals(4, nlink(ROOT));
        store.remove(ROOT, "c2", true);
        store.remove(ROOT, "a", true);
        assertEquals(2, nlink(ROOT));
    }

    @Test
    void hardLinksShareOneInode() throws Exception {
        Attr f = file(ROOT, "f");
        Attr d = mkdir(ROOT, "d");
        Attr linked = store.link(f.ino(), d.ino(), "g");
        assertEquals(2, linked.nlink());
        assertEquals(f.ino(), store.lookup(d.ino(), "g").ino());
        assertEquals(store.lookup(ROOT, "f"), store.lookup(d.ino(), "g"));
        assertEquals(2, nlink(d.ino()), "a hard link does not count as a subdirectory");

        store.remove(ROOT, "f", false);
        assertEquals(1, nlink(f.ino()));
        assertEquals(f.ino(), store.lookup(d.ino(), "g").ino());

        store.remove(d.ino(), "g", false);
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.getAttr(f.ino())));
    }

    @Test
    void hardLinkRules() throws Exception {
        Attr f = file(ROOT, "f");
        Attr d = mkdir(ROOT, "d");
        assertEquals(ErrorCode.PERMISSION, code(() -> store.link(d.ino(), ROOT, "d2")));
        assertEquals(ErrorCode.EXISTS, code(() -> store.link(f.ino(), ROOT, "d")));
        assertEquals(ErrorCode.NOT_DIRECTORY, code(() -> store.link(f.ino(), f.ino(), "x")));
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.link(424242, ROOT, "x")));
        assertEquals(1, nlink(f.ino()));
        assertEquals(3, nlink(ROOT));
        Attr s = symlink(ROOT, "s", "f");
        assertEquals(2, store.link(s.ino(), ROOT, "s2").nlink());
    }

    // ---- rename ----

    @Test
    void renameReplacesAnExistingFile() throws Exception {
        Attr src = file(ROOT, "src");
        Attr dst = file(ROOT, "dst");
        commit(dst.ino(), 10, new ChunkSlot(0, ref("d", 10)));
        store.rename(ROOT, "src", ROOT, "dst");
        assertEquals(src.ino(), store.lookup(ROOT, "dst").ino());
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.lookup(ROOT, "src")));
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.getAttr(dst.ino())));
        assertEquals(List.of("dst"), store.readDir(ROOT).stream().map(DirEntry::name).toList());
        assertEquals(3, store.keyCount(), "root, src's inode and one entry");
    }

    @Test
    void renameOverAHardLinkedFileKeepsItsOtherName() throws Exception {
        file(ROOT, "src");
        Attr dst = file(ROOT, "dst");
        store.link(dst.ino(), ROOT, "other");
        store.rename(ROOT, "src", ROOT, "dst");
        assertEquals(1, nlink(dst.ino()));
        assertEquals(dst.ino(), store.lookup(ROOT, "other").ino());
    }

    @Test
    void renameDirectoryOntoAnEmptyDirectory() throws Exception {
        Attr a = mkdir(ROOT, "a");
        Attr b = mkdir(ROOT, "b");
        file(a.ino(), "inside");
        store.rename(ROOT, "a", ROOT, "b");
        assertEquals(a.ino(), store.lookup(ROOT, "b").ino());
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.getAttr(b.ino())));
        assertEquals(3, nlink(ROOT));
        assertEquals(List.of("inside"), store.readDir(a.ino()).stream().map(DirEntry::name).toList());
    }

    @Test
    void renameDirectoryOntoAnEmptyDirectoryElsewhere() throws Exception {
        Attr p1 = mkdir(ROOT, "p1");
        Attr p2 = mkdir(ROOT, "p2");
        Attr a = mkdir(p1.ino(), "a");
        Attr b = mkdir(p2.ino(), "b");
        store.rename(p1.ino(), "a", p2.ino(), "b");
        assertEquals(2, nlink(p1.ino()));
        assertEquals(3, nlink(p2.ino()));
        assertEquals(p2.ino(), store.getAttr(a.ino()).parent());
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.getAttr(b.ino())));
    }

    @Test
    void renameDirectoryOntoANonEmptyDirectoryIsNotEmpty() throws Exception {
        mkdir(ROOT, "a");
        Attr b = mkdir(ROOT, "b");
        file(b.ino(), "x");
        Map<String, Object> before = snapshot();
        assertEquals(ErrorCode.NOT_EMPTY, code(() -> store.rename(ROOT, "a", ROOT, "b")));
        assertEquals(before, snapshot());
    }

    @Test
    void renameDirectoryIntoItsOwnSubtreeIsInvalidAndChangesNothing() throws Exception {
        Attr a = mkdir(ROOT, "a");
        Attr b = mkdir(a.ino(), "b");
        Attr c = mkdir(b.ino(), "c");
        file(c.ino(), "f");
        Map<String, Object> before = snapshot();
        assertEquals(ErrorCode.INVALID, code(() -> store.rename(ROOT, "a", c.ino(), "a")));
        assertEquals(ErrorCode.INVALID, code(() -> store.rename(ROOT, "a", a.ino(), "self")));
        assertEquals(ErrorCode.INVALID, code(() -> store.rename(a.ino(), "b", b.ino(), "x")));
        assertEquals(before, snapshot());
    }

    @Test
    void subtreeCheckFollowsDirectoriesThatMoved() throws Exception {
        Attr a = mkdir(ROOT, "a");
        Attr b = mkdir(ROOT, "b");
        store.rename(ROOT, "b", a.ino(), "b");
        assertEquals(a.ino(), store.getAttr(b.ino()).parent());
        // a now contains b: moving a into b would cut it off from the root.
        assertEquals(ErrorCode.INVALID, code(() -> store.rename(ROOT, "a", b.ino(), "a")));
        store.rename(a.ino(), "b", ROOT, "b");
        store.rename(ROOT, "a", b.ino(), "a");
        assertEquals(b.ino(), store.getAttr(a.ino()).parent());
    }

    @Test
    void renameBetweenFileAndDirectoryIsRefused() throws Exception {
        file(ROOT, "f");
        mkdir(ROOT, "d");
        Map<String, Object> before = snapshot();
        assertEquals(ErrorCode.IS_DIRECTORY, code(() -> store.rename(ROOT, "f", ROOT, "d")));
        assertEquals(ErrorCode.NOT_DIRECTORY, code(() -> store.rename(ROOT, "d", ROOT, "f")));
        assertEquals(ErrorCode.NOT_FOUND, code(() -> store.rename(ROOT, "nope", ROOT, "x")));
        assertEquals(before, snapshot());
    }

    @Test
    void renameToItselfOrToAHardLinkSiblingDoesNothing() throws Exception {
        Attr f = file(ROOT, "f");
        store.link(f.ino(), ROOT, "g");
        Attr d = mkdir(ROOT, "d");
        Map<String, Object> before = snapshot();
        store.rename(ROOT, "f", ROOT, "f");
        store.rename(ROOT, "f", ROOT, "g");
        store.rename(ROOT, "d", ROOT, "d");
        assertEquals(before, snapshot());
        assertEquals(2, nlink(f.ino()));
        assertEquals(d, store.getAttr(d.ino()));
    }

    @Test
    void renameAcrossDirectoriesMovesTheEntry() throws Exception {
        Attr src = mkdir(ROOT, "src");
        Attr dst = mkdir(ROOT, "dst");
        Attr f = file(src.ino(), "f");
        Attr sub = mkdir(src.ino(), "sub");
        store.rename(src.ino(), "f", dst.ino(), "g");
        store.rename(src.ino(), "sub", dst.ino(), "sub");
        assertEquals(f.ino(), store.lookup(dst.ino(), "g").ino());
        assertEquals(0, store.getAttr(f.ino()).parent(), "files keep no parent");
        assertEquals(dst.ino(), store.getAttr(sub.ino()).parent());
        assertEquals(List.of(), store.readDir(src.ino()));
        assertEquals(2, nlink(src.ino()));
        assertEquals(3, nlink(dst.ino()));
        assertTrue(store.getAttr(sub.ino()).version() > sub.version(), "rename changes the moved inode's ctime");
    }

    // ---- attributes, truncate, writes ----

    @Test
    void setAttrModeKeepsTheFileType() throws Exception {
        Attr d = mkdir(ROOT, "d");
        Attr changed = store.setAttr(new Request.SetAttr(d.ino(), Request.SetAttr.SET_MODE,
                FileType.S_IFREG | 01700, 0, 0, 0, 0, 0));
        assertTrue(changed.isDirectory());
        assertEquals(FileType.S_IFDIR | 01700, changed.mode());
        assertEquals(d.version() + 1, changed.version());
        assertEquals(changed, store.getAttr(d.ino()));
    }

    @Test
    void setAttrChangesOnlyWhatIsValid() throws Exception {
        Attr f = file(ROOT, "f");
        Attr a = store.setAttr(new Request.SetAttr(f.ino(), Request.SetAttr.SET_UID | Request.SetAttr.SET_ATIME,
                0777, 42, 43, 0, 5, 6));
        assertEquals(42, a.uid());
        assertEquals(1000, a.gid());
        assertEquals(5, a.atimeNs());
        assertEquals(f.mtimeNs(), a.mtimeNs());
        assertEquals(f.mode(), a.mode());
        Attr b = store.setAttr(new Request.SetAttr(f.ino(), Request.SetAttr.SET_GID | Request.SetAttr.SET_MTIME,
                0, 0, 43, 0, 0, 6));
        assertEquals(43, b.gid());
        assertEquals(6, b.mtimeNs());
    }

    @Test
    void sizeCanOnlyBeSetOnRegularFiles() throws Exception {
        Attr d = mkdir(ROOT, "d");
        Attr s = symlink(ROOT, "s", "t");
        assertEquals(ErrorCode.IS_DIRECTORY, code(() -> truncate(d.ino(), 0)));
        assertEquals(ErrorCode.INVALID, code(() -> truncate(s.ino(), 0)));
        assertEquals(ErrorCode.IS_DIRECTORY, code(() -> store.getLayout(d.ino())));
    }

    @Test
    void commitWriteSetsSlotsAndGrowsTheSize() throws Exception {
        Attr f = file(ROOT, "f");
        Attr a = commit(f.ino(), 5000, new ChunkSlot(0, ref("a", CS)), new ChunkSlot(1, ref("b", 904)));
        assertEquals(5000, a.size());
        assertEquals(Map.of(0L, ref("a", CS), 1L, ref("b", 904)), layout(f.ino()));
        assertEquals(a, store.getLayout(f.ino()).attr());

        Attr smaller = commit(f.ino(), 10, new ChunkSlot(0, ref("c", CS)));
        assertEquals(5000, smaller.size(), "a commit never shrinks a file");
        assertEquals(ref("c", CS), layout(f.ino()).get(0L));

        commit(f.ino(), 0, new ChunkSlot(1, null));
        assertEquals(Map.of(0L, ref("c", CS)), layout(f.ino()));
    }

    @Test
    void commitWriteRefusesASlotLongerThanTheChunkSizeAndChangesNothing() throws Exception {
        Attr f = file(ROOT, "f");
        commit(f.ino(), 100, new ChunkSlot(0, ref("a", 100)));
        Map<String, Object> before = snapshot();
        assertEquals(ErrorCode.INVALID, code(() -> commit(f.ino(), 20000,
                new ChunkSlot(0, ref("b", CS)), new ChunkSlot(3, ref("c", CS + 1)))));
        assertEquals(before, snapshot(), "the first slot of a failed commit must be rolled back");
    }

    @Test
    void commitWriteOnlyWritesRegularFiles() throws Exception {
        Attr d = mkdir(ROOT, "d");
        assertEquals(ErrorCode.IS_DIRECTORY, code(() -> commit(d.ino(), 1, new ChunkSlot(0, ref("a", 1)))));
        Attr s = symlink(ROOT, "s", "t");
        assertEquals(ErrorCode.INVALID, code(() -> commit(s.ino(), 1, new ChunkSlot(0, ref("a", 1)))));
    }

    @Test
    void truncateDownCutsSlotsAndShortensThePartialOne() throws Exception {
        Attr f = file(ROOT, "f");
        commit(f.ino(), 3 * CS, new ChunkSlot(0, ref("a", CS)), new ChunkSlot(1, ref("b", CS)),
                new ChunkSlot(2, ref("c", CS)));
        Attr t = truncate(f.ino(), CS + 808);
        assertEquals(CS + 808, t.size());
        assertEquals(NOW_NS, t.mtimeNs());
        assertEquals(Map.of(0L, ref("a", CS), 1L, ref("b", 808)), layout(f.ino()));

        truncate(f.ino(), CS);
        assertEquals(Map.of(0L, ref("a", CS)), layout(f.ino()));

        truncate(f.ino(), 0);
        assertEquals(Map.of(), layout(f.ino()));
        assertEquals(0, store.getAttr(f.ino()).size());
    }

    @Test
    void truncateUpKeepsSlotsSoOldBytesStayCut() throws Exception {
        Attr f = file(ROOT, "f");
        commit(f.ino(), 2 * CS, new ChunkSlot(0, ref("a", CS)), new ChunkSlot(1, ref("b", CS)));
        truncate(f.ino(), 100);
        Attr up = truncate(f.ino(), 10 * CS);
        assertEquals(10 * CS, up.size());
        assertEquals(Map.of(0L, ref("a", 100)), layout(f.ino()), "the cut bytes must read as zeros");
    }

    @Test
    void truncateInsideAHoleKeepsEarlierSlots() throws Exception {
        Attr f = file(ROOT, "f");
        commit(f.ino(), 5 * CS, new ChunkSlot(0, ref("a", CS)), new ChunkSlot(4, ref("e", CS)));
        truncate(f.ino(), 2 * CS + 5);
        assertEquals(Map.of(0L, ref("a", CS)), layout(f.ino()));
    }

    @Test
    void truncateDoesNotTouchOtherFiles() throws Exception {
        Attr f = file(ROOT, "f");
        Attr g = file(ROOT, "g");
        commit(f.ino(), 2 * CS, new ChunkSlot(0, ref("a", CS)), new ChunkSlot(1, ref("b", CS)));
        commit(g.ino(), 2 * CS, new ChunkSlot(0, ref("c", CS)), new ChunkSlot(1, ref("d", CS)));
        truncate(f.ino(), 0);
        assertEquals(Map.of(0L, ref("c", CS), 1L, ref("d", CS)), layout(g.ino()));
    }

    @Test
    void setgidDirectoryPassesItsGroupAndBitDown() throws Exception {
        Attr shared = store.makeNode(new Request.MakeNode(ROOT, "shared", FileType.S_IFDIR | 02775, 0, 100, null, 0));
        Attr sub = store.makeNode(new Request.MakeNode(shared.ino(), "sub", FileType.S_IFDIR | 0755, 1000, 5, null, 0));
        Attr f = store.makeNode(new Request.MakeNode(shared.ino(), "f", FileType.S_IFREG | 0644, 1000, 5, null, CS));
        assertEquals(100, sub.gid());
        assertEquals(FileType.S_IFDIR | 02755, sub.mode());
        assertEquals(100, f.gid());
        assertEquals(FileType.S_IFREG | 0644, f.mode(), "files do not get the setgid bit");
        Attr plain = mkdir(ROOT, "plain");
        Attr g = store.makeNode(new Request.MakeNode(plain.ino(), "g", FileType.S_IFREG | 0644, 1000, 5, null, CS));
        assertEquals(5, g.gid());
    }

    // ---- extended attributes ----

    @Test
    void extendedAttributesFollowXattrRules() throws Exception {
        Attr f = file(ROOT, "f");
        byte[] v = {1, 2, 3};
        store.setXattr(f.ino(), "user.a", v, 0);
        assertArrayEquals(v, store.getXattr(f.ino(), "user.a"));
        assertEquals(ErrorCode.EXISTS, code(() -> store.setXattr(f.ino(), "user.a", v, Request.SetXattr.XATTR_CREATE)));
        assertEquals(ErrorCode.NO_DATA, code(() -> store.setXattr(f.ino(), "user.b", v, Request.SetXattr.XATTR_REPLACE)));
        store.setXattr(f.ino(), "user.a", new byte[0], Request.SetXattr.XATTR_REPLACE);
        store.setXattr(f.ino(), "trusted.b", v, Request.SetXattr.XATTR_CREATE);
        assertEquals(List.of("trusted.b", "user.a"), store.listXattrs(f.ino()));
        assertEquals(ErrorCode.NOT_SUPPORTED, code(() -> store.setXattr(f.ino(), "system.posix_acl_access", v, 0)));
        assertEquals(ErrorCode.NOT_SUPPORTED, code(() -> store.getXattr(f.ino(), "system.posix_acl_access")));
        assertEquals(ErrorCode.NOT_SUPPORTED, code(() -> store.setXattr(f.ino(), "security.selinux", v, 0)));
        store.setXattr(f.ino(), "security.capability", v, 0);
        store.removeXattr(f.ino(), "security.capability");
        assertEquals(ErrorCode.NOT_SUPPORTED, code(() -> store.setXattr(f.ino(), "user.", v, 0)));
        assertEquals(ErrorCode.TOO_BIG, code(() -> store.setXattr(f.ino(), "user.big", new byte[64 * 1024 + 1], 0)));
        store.removeXattr(f.ino(), "user.a");
        assertEquals(ErrorCode.NO_DATA, code(() -> store.getXattr(f.ino(), "user.a")));
        assertEquals(ErrorCode.NO_DATA, code(() -> store.removeXattr(f.ino(), "user.a")));

        long keys = store.keyCount();
        store.remove(ROOT, "f", false);
        assertEquals(keys - 3, store.keyCount(), "inode, entry and its one attribute are gone");
    }

    // ---- durability ----

    @Test
    void everythingSurvivesCloseAndReopen() throws Exception {
        Attr a = mkdir(ROOT, "a");
        Attr f = file(a.ino(), "f");
        store.link(f.ino(), ROOT, "f-link");
        symlink(ROOT, "s", "a/f");
        make(a.ino(), "fifo", FileType.S_IFIFO | 0600);
        commit(f.ino(), CS + 1, new ChunkSlot(0, ref("x", CS)), new ChunkSlot(1, ref("y", 1)));
        store.setXattr(f.ino(), "user.k", new byte[] {7}, 0);
        store.rename(ROOT, "f-link", a.ino(), "g");
        Map<String, Object> before = snapshot();

        reopen();
        assertEquals(before, snapshot());
        assertArrayEquals(new byte[] {7}, store.getXattr(f.ino(), "user.k"));
        // And the reopened store still works.
        mkdir(a.ino(), "later");
        assertEquals(3, nlink(a.ino()));
    }

    @Test
    void aStoreKeptWithMapDbsOwnCommitLogIsTakenOver() throws Exception {
        Attr a = mkdir(ROOT, "a");
        file(a.ino(), "f");
        Map<String, Object> before = snapshot();
        store.close();
        // The earlier layout: one file, last closed by MapDB with its own commit log enabled.
        Path meta = dir.resolve("meta");
        Files.move(meta.resolve(StoreFiles.CHECKPOINT), meta.resolve(StoreFiles.LEGACY));
        Files.delete(meta.resolve(StoreFiles.WORKING));
        DBMaker.fileDB(meta.resolve(StoreFiles.LEGACY).toFile()).fileChannelEnable().transactionEnable()
                .checksumHeaderBypass().fileLockDisable().make().close();

        store = MetadataStore.open(dir, clock);
        assertEquals(before, snapshot());
        assertTrue(Files.exists(meta.resolve(StoreFiles.CHECKPOINT)));
        assertFalse(Files.exists(meta.resolve(StoreFiles.LEGACY)));
        mkdir(a.ino(), "later");
        reopen();
        assertEquals(List.of("f", "later"), store.readDir(a.ino()).stream().map(DirEntry::name).sorted().toList());
    }

    @Test
    void aReaderInterruptedInsideTheStoreLeavesItOpenForEveryoneElse() throws Exception {
        Attr f = file(ROOT, "f");
        Thread.currentThread().interrupt();
        try {
            assertEquals(f.ino(), store.getAttr(f.ino()).ino());
        } finally {
            Thread.interrupted();
        }
        assertEquals(f.ino(), store.lookup(ROOT, "f").ino());
        mkdir(ROOT, "after");
        reopen();
        assertEquals(List.of("after", "f"), store.readDir(ROOT).stream().map(DirEntry::name).sorted().toList());
    }

    @Test
    void aChangeTooLargeToLogIsRefusedBeforeItChangesAnything() throws Exception {
        Attr f = file(ROOT, "f");
        ChunkRef r = ref("x", CS);
        List<ChunkSlot> slots = new java.util.ArrayList<>();
        for (int i = 0; i < 300_000; i++) {
            slots.add(new ChunkSlot(i, r));
        }
        FsException e = assertThrows(FsException.class,
                () -> store.commitWrite(new Request.CommitWrite(f.ino(), slots, 1L << 30, NOW_NS)));
        assertEquals(ErrorCode.TOO_BIG, e.code());
        assertEquals(0, store.getAttr(f.ino()).size());
        commit(f.ino(), 1, new ChunkSlot(0, ref("y", 1)));
        reopen();
        assertEquals(1, store.getAttr(f.ino()).size());
    }

    @Test
    void closeIsIdempotent() {
        store.close();
        store.close();
    }

    // ---- steps of operations that span partitions ----

    @Test
    void aStepAppliedTwiceChangesOnceAndSurvivesReopenAndSnapshots() throws Exception {
        store.close();
        Path parted = dir.resolve("parted");
        store = MetadataStore.open(parted, clock, io.vortexfs.node.wal.WriteAheadLog.Options.DEFAULT, 4, null);
        store.createRootIfMissing();
        for (int p = 0; p < 4; p++) {
            assertEquals(1, store.version(p)[1], "every partition is founded with one change");
        }
        int home = store.partitionOf(ROOT);
        int there = (home + 1) % 4;
        long intent = MetadataStore.intentId(NOW_NS, 7);
        long ino = store.allocateIno(there);
        assertEquals(there, store.partitionOf(ino));
        byte[] plan = {1, 2, 3};
        store.step(Request.PartitionStep.of(home, intent, 0, Request.PartitionStep.BEGIN, 0, NOW_NS), plan);
        Request.PartitionStep make = new Request.PartitionStep(there, intent, 0, Request.PartitionStep.MAKE_DIR, ino, ROOT,
                "", 0, 0, FileType.S_IFDIR | 0750, 5, 6, NOW_NS);
        Attr made = store.step(make, null);
        assertEquals(made, store.step(make, null), "done already: the same inode, unchanged");
        Request.PartitionStep name = Request.PartitionStep.entry(home, intent, 1, Request.PartitionStep.PUT_ENTRY, ROOT, "d",
                ino, 0, 1, NOW_NS);
        store.step(name, null);
        store.step(name, null);
        assertEquals(3, nlink(ROOT), "the parent counts the new directory once");
        Attr f = store.makeNode(new Request.MakeNode(ino, "f", FileType.S_IFREG | 0644, 0, 0, null, CS));
        Request.PartitionStep link = Request.PartitionStep.entry(there, intent, 2, Request.PartitionStep.ADD_LINKS, 0, "",
                f.ino(), 0, 1, NOW_NS);
        store.step(link, null);
        assertEquals(2, store.step(link, null).nlink(), "a link count moves once per step, however often it is sent");
        assertEquals(Map.of(intent, List.of((byte) 1, (byte) 2, (byte) 3)), plans(home));

        // Plans and remembered steps travel with the partition and survive a restart.
        MetadataStore.Snapshot snap = store.snapshot(there);
        store.close();
        store = MetadataStore.open(parted, clock, io.vortexfs.node.wal.WriteAheadLog.Options.DEFAULT, 4, null);
        assertEquals(Map.of(intent, List.of((byte) 1, (byte) 2, (byte) 3)), plans(home));
        assertEquals(2, store.step(link, null).nlink());
        try (MetadataStore other = MetadataStore.open(dir.resolve("other"), clock,
                io.vortexfs.node.wal.WriteAheadLog.Options.DEFAULT, 4, null)) {
            other.installSnapshot(snap);
            assertEquals(2, other.step(link, null).nlink(), "the replica that takes over knows the step was applied");
        }
        store.step(Request.PartitionStep.entry(there, intent, 3, Request.PartitionStep.ADD_LINKS, 0, "", f.ino(), 0, -1,
                NOW_NS), null);
        store.step(Request.PartitionStep.of(home, intent, 0, Request.PartitionStep.END, 0, NOW_NS), null);
        assertEquals(Map.of(), plans(home));
        assertEquals(List.of(), store.check(p -> true, p -> true).problems());
    }

    @Test
    void theSinglePartitionPathRefusesInodesOfAnotherPartition() throws Exception {
        store.close();
        store = MetadataStore.open(dir.resolve("parted"), clock, io.vortexfs.node.wal.WriteAheadLog.Options.DEFAULT, 4, null);
        store.createRootIfMissing();
        int there = (store.partitionOf(ROOT) + 1) % 4;
        long ino = store.allocateIno(there);
        store.step(new Request.PartitionStep(there, 1, 0, Request.PartitionStep.MAKE_DIR, ino, ROOT, "", 0, 0,
                FileType.S_IFDIR | 0755, 0, 0, NOW_NS), null);
        store.step(Request.PartitionStep.entry(store.partitionOf(ROOT), 1, 1, Request.PartitionStep.PUT_ENTRY, ROOT, "d",
                ino, 0, 1, NOW_NS), null);
        FsException e = assertThrows(FsException.class, () -> store.remove(ROOT, "d", true));
        assertEquals(ErrorCode.BUSY, e.code(), "a directory of another partition goes through a plan");
        assertEquals(ino, store.entry(ROOT, "d"));
    }

    private Map<Long, List<Byte>> plans(int partition) {
        Map<Long, List<Byte>> out = new java.util.HashMap<>();
        store.intents(partition).forEach((k, v) -> {
            List<Byte> b = new java.util.ArrayList<>();
            for (byte x : v) {
                b.add(x);
            }
            out.put(k, b);
        });
        return out;
    }

    @Test
    void aPromiseToANewCoordinatorFencesOffTheFormerOne() throws Exception {
        int p = store.partitionOf(ROOT);
        long[] v = store.promise(p, 2048);
        assertEquals(2048, v[2]);
        FsException fenced = assertThrows(FsException.class, () -> mkdir(ROOT, "late"));
        assertEquals(ErrorCode.NOT_COORDINATOR, fenced.code(), "the former coordinator's change is refused");
        assertEquals(2048, store.promise(p, 1024)[2], "an older epoch is not promised over a newer one");
        store.beginEpoch(p, 2048);
        mkdir(ROOT, "now");
        assertEquals(List.of("now"), store.entries(ROOT).stream().map(MetadataStore.Named::name).toList());
    }

    // ---- encrypted at rest ----

    /** Whether any file under {@code root} holds {@code text}. */
    private static boolean anyFileHolds(Path root, String text) throws Exception {
        byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        try (var files = java.nio.file.Files.walk(root)) {
            for (Path f : files.filter(java.nio.file.Files::isRegularFile).toList()) {
                String hay = new String(java.nio.file.Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                if (hay.contains(new String(needle, StandardCharsets.ISO_8859_1))) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void anEncryptingStoreKeepsNamesValuesAndLogRecordsSealedAndReadsThemBack() throws Exception {
        ClusterKey key = ClusterKey.generate();
        Path sealed = dir.resolve("sealed");
        Path crashed = dir.resolve("crashed");
        try (MetadataStore s = MetadataStore.open(sealed, clock, io.vortexfs.node.wal.WriteAheadLog.Options.DEFAULT, 1, key)) {
            s.createRootIfMissing();
            s.checkpoint();
            Attr d = s.makeNode(new Request.MakeNode(ROOT, "Secret-Directory", FileType.S_IFDIR | 0755, 1000, 1000, null, 0));
            Attr f = s.makeNode(new Request.MakeNode(d.ino(), "salary-list.ods", FileType.S_IFREG | 0644, 1000, 1000, null, CS));
            s.makeNode(new Request.MakeNode(d.ino(), "link", FileType.S_IFLNK | 0777, 1000, 1000, "/home/alice/diary", 0));
            s.setXattr(f.ino(), "user.classification", "TOP-SECRET-LABEL".getBytes(StandardCharsets.UTF_8), 0);
            // A crash now: the changes are only in the write-ahead log.
            copyTree(sealed, crashed);
        }
        for (Path root : List.of(sealed, crashed)) {
            for (String text : List.of("Secret-Directory", "salary-list", "/home/alice/diary", "TOP-SECRET-LABEL", "classification")) {
                assertFalse(anyFileHolds(root, text), text + " is readable in " + root);
            }
        }
        for (Path root : List.of(sealed, crashed)) {
            try (MetadataStore s = MetadataStore.open(root, clock, io.vortexfs.node.wal.WriteAheadLog.Options.DEFAULT, 1, key)) {
                Attr d = s.lookup(ROOT, "Secret-Directory");
                assertEquals(List.of("link", "salary-list.ods"),
                        s.readDir(d.ino()).stream().map(DirEntry::name).sorted().toList());
                assertEquals("/home/alice/diary", s.lookup(d.ino(), "link").linkTarget());
                Attr f = s.lookup(d.ino(), "salary-list.ods");
                assertEquals(List.of("user.classification"), s.listXattrs(f.ino()));
                assertArrayEquals("TOP-SECRET-LABEL".getBytes(StandardCharsets.UTF_8),
                        s.getXattr(f.ino(), "user.classification"));
                assertEquals(List.of(), s.check(p -> true, p -> true).problems(), "the check reads sealed names");
            }
        }
        java.io.IOException wrongKey = assertThrows(java.io.IOException.class, () -> MetadataStore.open(crashed, clock,
                io.vortexfs.node.wal.WriteAheadLog.Options.DEFAULT, 1, ClusterKey.generate()).close());
        assertTrue(String.valueOf(wrongKey.getMessage()).contains("authentication"), wrongKey.toString());
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var files = java.nio.file.Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (java.nio.file.Files.isDirectory(f)) {
                    java.nio.file.Files.createDirectories(target);
                } else {
                    java.nio.file.Files.copy(f, target);
                }
            }
        }
    }
}
