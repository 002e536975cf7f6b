package io.vortexfs.mount.fs;

import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Names;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.XattrNames;
import io.vortexfs.protocol.placement.Quorum;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The filesystem as the mount serves it: POSIX-shaped operations on paths, turned into requests to
 * the cluster. Knows nothing of FUSE; every failure is an {@link FsException} whose code the adapter
 * maps to an errno. Thread-safe: FUSE calls arrive on many threads at once.
 *
 * <p>Paths are resolved one name at a time from the root, through a short-lived cache of lookups.
 * Open regular files are kept in a table of handles ({@code fh}), each pointing at the one
 * {@link OpenFile} of its inode in this mount.
 */
public final class VortexFileSystem implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VortexFileSystem.class);

    public static final long ROOT = 1;
    /** Directories at least this large are listed again, rather than looked up name by name, on a miss. */
    private static final int RELIST_MIN_ENTRIES = 64;
    /** Directory sizes as ext4 shows them, for tools that expect a block. */
    private static final long DIRECTORY_SIZE = 4096;

    private final ClusterClient client;
    private final MountConfig config;
    private final AttrCache cache;
    private final ChunkCache chunks;
    private final DirtyBudget budget;
    private final ThreadPoolExecutor io;
    /** Commits what long-open files have uploaded (see {@link OpenFile#commitAged}). */
    private final java.util.concurrent.ScheduledExecutorService committer;
    private final Map<Long, OpenFile> handles = new ConcurrentHashMap<>();
    private final Map<Long, OpenFile> openByIno = new HashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    /** libfuse's hidden names for files unlinked while open here: name to inode (see {@link #hide}). */
    private final Map<String, Long> hidden = new ConcurrentHashMap<>();

    public VortexFileSystem(ClusterClient client, MountConfig config) {
        this.client = client;
        this.config = config;
        // The whole staleness budget: the kernel caches nothing (see FuseMount.options).
        this.cache = new AttrCache(config.attrTimeout(), 100_000);
        this.chunks = new ChunkCache(client, config.cachedChunks(), client.config().requestTimeout());
        AtomicLong threads = new AtomicLong();
        // Bounded: when uploads and read-ahead queue up faster than they run, the caller does the work.
        this.io = new ThreadPoolExecutor(config.ioThreads(), config.ioThreads(), 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(256), r -> {
                    Thread t = new Thread(r, "vortex-io-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.CallerRunsPolicy());
        this.budget = new DirtyBudget(config.dirtyBudgetBytes());
        this.committer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vortex-committer");
            t.setDaemon(true);
            return t;
        });
        // Looked at three times per commitAfter, so nothing waits much past it.
        long check = Math.max(100, config.commitAfter().toMillis() / 3);
        committer.scheduleWithFixedDelay(this::commitAged, check, check, TimeUnit.MILLISECONDS);
    }

    private void commitAged() {
        List<OpenFile> open;
        synchronized (openByIno) {
            open = new ArrayList<>(openByIno.values());
        }
        for (OpenFile f : open) {
            try {
                f.commitAged(config.commitAfter());
            } catch (FsException e) {
                LOG.debug("committing what file {} uploaded failed (the next flush tries again): {}", f.ino(),
                        e.getMessage());
            } catch (RuntimeException e) {
                LOG.warn("committing what file {} uploaded failed", f.ino(), e);
            }
        }
    }

    // ---- names ----

    /** The attributes of the inode a path names, as stat should show them. */
    public Attr getattr(String path) throws FsException {
        return visible(resolve(path));
    }

    public Attr fgetattr(long fh) throws FsException {
        OpenFile f = handle(fh);
        Attr a = cache.attr(f.ino());
        if (a == null) {
            try {
                a = client.getAttr(f.ino());
            } catch (FsException e) {
                if (e.code() != ErrorCode.NOT_FOUND) {
                    throw e;
                }
                // Unlinked while open: the handle still works, and stat says it has no names.
                return f.unlinkedAttr();
            }
            cache.put(a);
        }
        return visible(a);
    }

    public List<DirEntry> readdir(String path) throws FsException {
        Attr dir = resolve(path);
        if (!dir.isDirectory()) {
            throw new FsException(ErrorCode.NOT_DIRECTORY, path + " is not a directory");
        }
        List<DirEntry> entries = list(dir.ino());
        List<DirEntry> out = new ArrayList<>(entries.size());
        for (DirEntry e : entries) {
            out.add(new DirEntry(e.name(), visible(e.attr())));
        }
        return out;
    }

    /** Lists a directory in one request and remembers every entry's name and attributes. */
    private List<DirEntry> list(long dir) throws FsException {
        List<DirEntry> entries = client.readDir(dir);
        for (DirEntry e : entries) {
            cache.putChild(dir, e.name(), e.attr());
        }
        cache.listed(dir, entries.size());
        return entries;
    }

    public Attr mkdir(String path, int mode, int uid, int gid) throws FsException {
        return make(path, FileType.S_IFDIR | (mode & FileType.PERMISSION_BITS), uid, gid, null);
    }

    public Attr mknod(String path, int mode, int uid, int gid) throws FsException {
        int type = mode & FileType.S_IFMT;
        if (type != FileType.S_IFREG && type != FileType.S_IFIFO && type != 0) {
            throw new FsException(ErrorCode.PERMISSION, "only regular files and FIFOs can be made here");
        }
        return make(path, (type == 0 ? FileType.S_IFREG : type) | (mode & FileType.PERMISSION_BITS), uid, gid, null);
    }

    public Attr symlink(String target, String linkPath, int uid, int gid) throws FsException {
        checkDecodable(target);
        if (target.isEmpty() || target.getBytes(StandardCharsets.UTF_8).length > 4095) {
            throw new FsException(target.isEmpty() ? ErrorCode.NOT_FOUND : ErrorCode.NAME_TOO_LONG, "bad symlink target");
        }
        return make(linkPath, FileType.S_IFLNK | 0777, uid, gid, target);
    }

    public String readlink(String path) throws FsException {
        Attr a = resolve(path);
        if (!a.isSymlink()) {
            throw new FsException(ErrorCode.INVALID, path + " is not a symbolic link");
        }
        return a.linkTarget();
    }

    public void unlink(String path) throws FsException {
        if (hidden.remove(lastName(normalize(path))) != null) {
            return; // libfuse removing a hidden name at the last close: it never reached the cluster
        }
        removeName(path, false);
    }

    public void rmdir(String path) throws FsException {
        removeName(path, true);
    }

    public void rename(String from, String to) throws FsException {
        if (isHiddenName(to) && isOpenHere(from)) {
            hide(from, lastName(normalize(to)));
            return;
        }
        Parent src = parentOf(from);
        Parent dst = parentOf(to);
        client.rename(src.dir.ino(), src.name, dst.dir.ino(), dst.name);
        forgetName(src);
        forgetName(dst);
    }

    public void link(String existing, String newPath) throws FsException {
        Attr target = resolve(existing);
        Parent dst = parentOf(newPath);
        Attr a;
        try {
            a = client.link(target.ino(), dst.dir.ino(), dst.name);
        } catch (FsException e) {
            cache.forgetChild(dst.dir.ino(), dst.name);
            throw e;
        }
        cache.forget(dst.dir.ino());
        cache.putChild(dst.dir.ino(), dst.name, a);
    }

    // ---- attributes ----

    public Attr chmod(String path, int mode) throws FsException {
        return setattr(resolve(path).ino(), new SetAttrBuilder().mode(mode));
    }

    /** Changes owner and/or group; -1 leaves one as it is. */
    public Attr chown(String path, int uid, int gid) throws FsException {
        SetAttrBuilder b = new SetAttrBuilder();
        if (uid != -1) {
            b.uid(uid);
        }
        if (gid != -1) {
            b.gid(gid);
        }
        return setattr(resolve(path).ino(), b);
    }

    /** Sets times in nanoseconds; null leaves one as it is. */
    public Attr utimens(String path, Long atimeNs, Long mtimeNs) throws FsException {
        SetAttrBuilder b = new SetAttrBuilder();
        if (atimeNs != null) {
            b.atime(atimeNs);
        }
        if (mtimeNs != null) {
            b.mtime(mtimeNs);
        }
        return setattr(resolve(path).ino(), b);
    }

    // ---- extended attributes ----

    public void setxattr(String path, String name, byte[] value, int flags) throws FsException {
        Attr a = resolve(path);
        XattrNames.check(name);
        client.setXattr(a.ino(), name, value, flags);
        cache.forget(a.ino());
    }

    /**
     * Reads an attribute. ls -l asks every file for its ACL and SELinux label: an unsupported name,
     * or an inode known to have no attributes, is answered at once.
     */
    public byte[] getxattr(String path, String name) throws FsException {
        Attr a = resolve(path);
        XattrNames.check(name);
        if (a.xattrCount() == 0) {
            throw new FsException(ErrorCode.NO_DATA, "no attribute " + name);
        }
        return client.getXattr(a.ino(), name);
    }

    public List<String> listxattr(String path) throws FsException {
        Attr a = resolve(path);
        return a.xattrCount() == 0 ? List.of() : client.listXattr(a.ino());
    }

    public void removexattr(String path, String name) throws FsException {
        Attr a = resolve(path);
        client.removeXattr(a.ino(), name);
        cache.forget(a.ino());
    }

    public void truncate(String path, long size) throws FsException {
        truncateInode(resolve(path), size);
    }

    public void ftruncate(long fh, long size) throws FsException {
        OpenFile f = handle(fh);
        if (size < 0) {
            throw new FsException(ErrorCode.INVALID, "negative size");
        }
        cache.put(f.truncate(size));
    }

    private void truncateInode(Attr a, long size) throws FsException {
        if (size < 0) {
            throw new FsException(ErrorCode.INVALID, "negative size");
        }
        if (a.isDirectory()) {
            throw new FsException(ErrorCode.IS_DIRECTORY, "cannot truncate a directory");
        }
        OpenFile open;
        synchronized (openByIno) {
            open = openByIno.get(a.ino());
        }
        Attr updated = open != null
                ? open.truncate(size)
                : client.setAttr(new Request.SetAttr(a.ino(), Request.SetAttr.SET_SIZE, 0, 0, 0, size, 0, 0));
        cache.put(updated);
    }

    public Response.FsStats statfs() throws FsException {
        return client.statFs();
    }

    // ---- open files ----

    /** Creates and opens a regular file; an existing file is opened unless {@code exclusive}. */
    public long create(String path, int mode, int uid, int gid, boolean exclusive) throws FsException {
        Parent p = parentOf(path);
        Request.MakeNode make = new Request.MakeNode(p.dir.ino(), p.name, FileType.S_IFREG | (mode & FileType.PERMISSION_BITS),
                uid, gid, null, config.chunkSize());
        Attr a;
        try {
            a = makeFile(make, exclusive);
            cache.forget(p.dir.ino());
            cache.putChild(p.dir.ino(), p.name, a);
        } catch (FsException e) {
            // Another mount made it meanwhile: whatever this mount believed about the name is stale.
            cache.forgetChild(p.dir.ino(), p.name);
            if (e.code() != ErrorCode.EXISTS || exclusive) {
                throw e;
            }
            return open(path);
        }
        return openInode(new Response.Layout(a, List.of()));
    }

    /**
     * Sends a create. When the coordinator dies with it in flight, it may or may not have happened;
     * without O_EXCL either outcome is fine, so it is asked again, until the request deadline, while
     * the partition finds its next coordinator ("exists" then opens the file).
     */
    private Attr makeFile(Request.MakeNode make, boolean exclusive) throws FsException {
        long deadline = System.nanoTime() + client.config().requestTimeout().toNanos();
        for (int attempt = 0; ; attempt++) {
            try {
                return client.makeNode(make);
            } catch (FsException e) {
                if (exclusive || !Quorum.unreachable(e) || System.nanoTime() - deadline > 0) {
                    throw e;
                }
            }
            try {
                Thread.sleep(Math.min(50L << Math.min(attempt, 4), 500));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new FsException(ErrorCode.TIMEOUT, "interrupted while creating " + make.name());
            }
        }
    }

    public long open(String path) throws FsException {
        for (int attempt = 1; ; attempt++) {
            Attr a = resolve(path);
            if (a.isDirectory()) {
                throw new FsException(ErrorCode.IS_DIRECTORY, path + " is a directory");
            }
            if (!a.isRegular()) {
                throw new FsException(ErrorCode.INVALID, path + " is not a regular file");
            }
            try {
                // Close-to-open: every open reads the layout afresh from the cluster.
                Response.Layout layout = client.getLayout(a.ino());
                cache.put(layout.attr());
                return openInode(layout);
            } catch (FsException e) {
                // The name was pointed at another inode (a rename over it) between lookup and open:
                // look the name up again, so open is atomic with respect to rename as on a local disk.
                if (e.code() != ErrorCode.NOT_FOUND || attempt == 5) {
                    throw e;
                }
                cache.forget(a.ino());
                forgetName(parentOf(path));
            }
        }
    }

    private long openInode(Response.Layout layout) {
        OpenFile f;
        boolean existed;
        // Only table bookkeeping under the table's lock: a file busy saving must not stall the mount.
        synchronized (openByIno) {
            f = openByIno.get(layout.attr().ino());
            existed = f != null;
            if (!existed) {
                f = new OpenFile(layout, client, chunks, budget, config.maxDirtyChunksPerFile(),
                        config.maxUploadsPerFile(), config.readAheadChunks(), io,
                        client.config().requestTimeout());
                openByIno.put(f.ino(), f);
            }
            f.handles++;
        }
        if (existed) {
            f.refresh(layout);
        }
        long fh = nextHandle.getAndIncrement();
        handles.put(fh, f);
        return fh;
    }

    public int read(long fh, long offset, byte[] dst, int length) throws FsException {
        return read(fh, offset, IoBuffer.of(dst), length);
    }

    public int read(long fh, long offset, IoBuffer dst, int length) throws FsException {
        return handle(fh).read(offset, dst, length);
    }

    public void write(long fh, long offset, byte[] src, int length) throws FsException {
        write(fh, offset, IoBuffer.of(src), length);
    }

    /**
     * Buffers a write. The cached attributes stay: {@link #visible} lays the open file's size, times
     * and latest commit over them, and dropping them would cost a lookup on the next write (the kernel
     * asks for the file's security.capability before each one).
     */
    public void write(long fh, long offset, IoBuffer src, int length) throws FsException {
        handle(fh).write(offset, src, length);
    }

    /** Saves what the handle's file has buffered (flush, fsync). */
    public void flush(long fh) throws FsException {
        OpenFile f = handle(fh);
        f.flush();
        cache.forget(f.ino());
    }

    /** Closes a handle, saving buffered data first; the file is forgotten with its last handle. */
    public void release(long fh) throws FsException {
        OpenFile f = handles.remove(fh);
        if (f == null) {
            throw new FsException(ErrorCode.INVALID, "unknown file handle " + fh);
        }
        try {
            f.flush();
        } finally {
            boolean last;
            synchronized (openByIno) {
                last = --f.handles <= 0;
                if (last) {
                    openByIno.remove(f.ino());
                }
            }
            if (last && !f.isClean()) {
                LOG.error("file {} closed with data that could not be saved", f.ino());
                f.discard();
            }
            cache.forget(f.ino());
        }
    }

    /** Saves every open file's buffered data; used before unmounting. */
    public void flushAll() {
        List<OpenFile> open;
        synchronized (openByIno) {
            open = new ArrayList<>(openByIno.values());
        }
        for (OpenFile f : open) {
            try {
                f.flush();
            } catch (FsException e) {
                LOG.error("saving file {} failed: {}", f.ino(), e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        committer.shutdownNow();
        flushAll();
        io.shutdown();
    }

    // ---- helpers ----

    /** The open file behind a handle (package-private for tests). */
    OpenFile handle(long fh) throws FsException {
        OpenFile f = handles.get(fh);
        if (f == null) {
            throw new FsException(ErrorCode.INVALID, "unknown file handle " + fh);
        }
        return f;
    }

    /** Applies what only this mount knows yet: the size of unsaved writes, and directory block size. */
    private Attr visible(Attr a) {
        if (a.isDirectory()) {
            return a.withSize(DIRECTORY_SIZE);
        }
        if (a.isRegular()) {
            OpenFile f;
            synchronized (openByIno) {
                f = openByIno.get(a.ino());
            }
            if (f != null) {
                return f.overlay(a);
            }
        }
        return a;
    }

    private Attr make(String path, int mode, int uid, int gid, String linkTarget) throws FsException {
        Parent p = parentOf(path);
        Attr a;
        try {
            a = client.makeNode(new Request.MakeNode(p.dir.ino(), p.name, mode, uid, gid, linkTarget,
                    FileType.isRegular(mode) ? config.chunkSize() : 0));
        } catch (FsException e) {
            cache.forgetChild(p.dir.ino(), p.name); // EEXIST: the name is there after all
            throw e;
        }
        cache.forget(p.dir.ino());
        cache.putChild(p.dir.ino(), p.name, a);
        return a;
    }

    private void removeName(String path, boolean directory) throws FsException {
        Parent p = parentOf(path);
        // Learn the inode first: its other names (hard links) must not keep a stale link count.
        Attr child = resolve(path);
        client.remove(p.dir.ino(), p.name, directory);
        forgetName(p);
        cache.forget(child.ino());
    }

    private void forgetName(Parent p) {
        Long child = cache.child(p.dir.ino(), p.name);
        cache.forgetChild(p.dir.ino(), p.name);
        cache.forget(p.dir.ino());
        if (child != null) {
            cache.forget(child);
        }
    }

    private record Parent(Attr dir, String name) {
    }

    private Parent parentOf(String path) throws FsException {
        String clean = normalize(path);
        if (clean.equals("/")) {
            throw new FsException(ErrorCode.INVALID, "the root has no parent");
        }
        int slash = clean.lastIndexOf('/');
        String name = clean.substring(slash + 1);
        Names.validate(name);
        Attr dir = resolve(slash == 0 ? "/" : clean.substring(0, slash));
        if (!dir.isDirectory()) {
            throw new FsException(ErrorCode.NOT_DIRECTORY, clean.substring(0, Math.max(1, slash)) + " is not a directory");
        }
        return new Parent(dir, name);
    }

    /**
     * libfuse 2 renames a file that is unlinked (or renamed over) while open in this mount to
     * {@code .fuse_hiddenXXXXXXXXXXXXXXXX}, so that its handles keep a path; it removes that name at
     * the last close. To the cluster this is an unlink, done at once: no other mount sees the hidden
     * name, and the directory can be removed. The mount keeps the hidden path to itself, pointing at
     * the open file, so fstat and fchmod through the old descriptor keep working.
     */
    private void hide(String from, String hiddenName) throws FsException {
        Attr a = resolve(from);
        removeName(from, false);
        // Keyed by name: libfuse makes each hidden name unique, and the path changes if a parent moves.
        hidden.put(hiddenName, a.ino());
    }

    /** libfuse hides only files open in this mount; any other rename to such a name is a user's. */
    private boolean isOpenHere(String path) throws FsException {
        long ino = resolve(path).ino();
        synchronized (openByIno) {
            return openByIno.containsKey(ino);
        }
    }

    private static boolean isHiddenName(String path) {
        return lastName(path).matches("\\.fuse_hidden[0-9a-f]{16}");
    }

    private static String lastName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private Attr resolve(String path) throws FsException {
        String clean = normalize(path);
        Long hiddenIno = hidden.isEmpty() ? null : hidden.get(lastName(clean));
        if (hiddenIno != null) {
            return hiddenAttr(hiddenIno);
        }
        Attr cur = attrOf(ROOT);
        if (clean.equals("/")) {
            return cur;
        }
        for (String name : clean.substring(1).split("/")) {
            if (!cur.isDirectory()) {
                throw new FsException(ErrorCode.NOT_DIRECTORY, "a component of " + path + " is not a directory");
            }
            Names.validate(name);
            Long child = cache.child(cur.ino(), name);
            Attr next = child == null ? null : cache.attr(child);
            // Re-list only when the name itself expired (a walk through a big listing), not when this
            // mount's own change dropped an entry's attributes.
            if (child == null && cache.expiredFromRecentListing(cur.ino(), name, RELIST_MIN_ENTRIES)) {
                list(cur.ino());
                next = cached(cur.ino(), name);
            }
            if (next == null) {
                if (cache.isAbsent(cur.ino(), name)) {
                    throw new FsException(ErrorCode.NOT_FOUND, "no entry '" + name + "'");
                }
                try {
                    next = client.lookup(cur.ino(), name);
                } catch (FsException e) {
                    if (e.code() == ErrorCode.NOT_FOUND) {
                        cache.putAbsent(cur.ino(), name);
                    }
                    throw e;
                }
                cache.putChild(cur.ino(), name, next);
            }
            cur = next;
        }
        return cur;
    }

    /** A hidden file's attributes: from the cluster while it has other names, else from its handle. */
    private Attr hiddenAttr(long ino) throws FsException {
        try {
            return client.getAttr(ino);
        } catch (FsException e) {
            if (e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
        }
        OpenFile f;
        synchronized (openByIno) {
            f = openByIno.get(ino);
        }
        if (f == null) {
            throw new FsException(ErrorCode.NOT_FOUND, "hidden file " + ino + " is closed");
        }
        return f.unlinkedAttr();
    }

    private Attr cached(long dir, String name) {
        Long child = cache.child(dir, name);
        return child == null ? null : cache.attr(child);
    }

    private Attr attrOf(long ino) throws FsException {
        Attr a = cache.attr(ino);
        if (a == null) {
            a = client.getAttr(ino);
            cache.put(a);
        }
        return a;
    }

    private static String normalize(String path) throws FsException {
        if (path == null || !path.startsWith("/")) {
            throw new FsException(ErrorCode.INVALID, "path must be absolute: " + path);
        }
        checkDecodable(path);
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    /**
     * jnr-fuse hands names over already decoded as UTF-8, with every invalid byte replaced by U+FFFD:
     * the original bytes are gone. Storing such a name would silently rename the file (and could make
     * two names collide), so it is refused instead.
     */
    private static void checkDecodable(String text) throws FsException {
        if (text.indexOf('\uFFFD') >= 0) {
            throw new FsException(ErrorCode.INVALID, "names and link targets must be valid UTF-8");
        }
    }

    private Attr setattr(long ino, SetAttrBuilder b) throws FsException {
        // Unsaved writes happened before this change: save them first, so their commit cannot undo
        // an explicit time (utimens after write, as tar and rsync do).
        OpenFile open;
        synchronized (openByIno) {
            open = openByIno.get(ino);
        }
        if (open != null) {
            open.flush();
        }
        Attr a = client.setAttr(b.build(ino));
        cache.put(a);
        return a;
    }

    /** Collects the fields of a SetAttr request. */
    private static final class SetAttrBuilder {
        int valid;
        int mode;
        int uid;
        int gid;
        long atime;
        long mtime;

        SetAttrBuilder mode(int m) {
            valid |= Request.SetAttr.SET_MODE;
            mode = m;
            return this;
        }

        SetAttrBuilder uid(int u) {
            valid |= Request.SetAttr.SET_UID;
            uid = u;
            return this;
        }

        SetAttrBuilder gid(int g) {
            valid |= Request.SetAttr.SET_GID;
            gid = g;
            return this;
        }

        SetAttrBuilder atime(long ns) {
            valid |= Request.SetAttr.SET_ATIME;
            atime = ns;
            return this;
        }

        SetAttrBuilder mtime(long ns) {
            valid |= Request.SetAttr.SET_MTIME;
            mtime = ns;
            return this;
        }

        Request.SetAttr build(long ino) {
            return new Request.SetAttr(ino, valid, mode, uid, gid, 0, atime, mtime);
        }
    }
}
