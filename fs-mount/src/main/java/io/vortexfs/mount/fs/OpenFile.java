package io.vortexfs.mount.fs;

import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkRef;
import io.vortexfs.protocol.ChunkSlot;
import io.vortexfs.protocol.ContentHash;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One regular file open in this mount, shared by all of its open handles so they see each other's
 * writes. Writes land in chunk-sized buffers. When the file holds too many, the oldest is handed to
 * the mount's upload threads (write-behind), so the writer goes on while several chunks travel at
 * once; on flush, fsync and close every buffer is uploaded, every upload awaited, and the new layout
 * committed to the file's metadata.
 *
 * <p>Invariants, under the object's monitor:
 * <ul>
 *   <li>{@code slots} is the layout as this mount knows it, including uploaded but uncommitted chunks;</li>
 *   <li>a chunk index is read from {@code dirty} first, then from the newest upload still in flight,
 *       then through {@code slots};</li>
 *   <li>uploads are reaped in the order they were started, so {@code pending} lists a rewritten
 *       chunk's slots oldest first and the newest wins when committed;</li>
 *   <li>{@code size} is the file's logical size, which readers and stat see;</li>
 *   <li>at most {@code maxDirty} buffers are being written and {@code maxInFlight} uploading, each
 *       paid for from the mount's {@link DirtyBudget} until its upload is reaped.</li>
 * </ul>
 */
final class OpenFile {
    private static final int PARTIAL_COMMIT_SLOTS = 64;

    private final long ino;
    private final int chunkSize;
    private final ClusterClient client;
    private final ChunkCache cache;
    private final DirtyBudget budget;
    private final int maxDirty;
    private final int maxInFlight;
    private final Executor uploads;
    private final Duration timeout;

    private final TreeMap<Long, ChunkRef> slots = new TreeMap<>();
    private final LinkedHashMap<Long, Buffer> dirty = new LinkedHashMap<>();
    private final ArrayDeque<Upload> inFlight = new ArrayDeque<>();
    private final List<ChunkSlot> pending = new ArrayList<>();
    private Attr lastAttr;
    private boolean unlinked;
    private long size;
    private long committedSize;
    /** When the oldest of the {@code pending} slots was recorded (System.nanoTime). */
    private long pendingSinceNanos;
    private long lastWriteNs;
    private long nextSequentialRead = -1;
    private final int readAhead;
    /** Open handles; guarded by the mount's open-file table, never by this object's monitor. */
    int handles;

    /**
     * A chunk being written: bytes past {@code length} are zeros. The first chunk of a file starts
     * small and doubles up to the chunk size, so a small file never pays for zeroing a whole chunk.
     * A later chunk that a large write starts is a stream going on (a copy writes 128 KiB at a
     * time): it starts whole, since doubling would allocate, zero and copy up to twice the chunk
     * again on the way. Small appends (a log) still start small, so files kept open with a little
     * unsaved data each do not use up the mount's budget.
     */
    private static final class Buffer {
        static final int INITIAL = 64 << 10;
        private final int max;
        byte[] data;
        int length;
        /** Budget units this buffer holds; given back when it is saved or discarded. */
        int charged;

        Buffer(int max, int capacity, int charged) {
            this.max = max;
            this.data = new byte[capacity];
            this.charged = charged;
        }

        static int initialCapacity(long index, int firstWrite, int max) {
            return index > 0 && firstWrite >= INITIAL ? max : Math.min(INITIAL, max);
        }

        int grownCapacity(int n) {
            return n <= data.length ? data.length : Math.min(max, Math.max(n, data.length * 2));
        }
    }

    /** A buffer handed to the upload threads; it is never written again. The ref is null for a hole. */
    private record Upload(long index, Buffer buffer, CompletableFuture<ChunkRef> ref) {
    }

    OpenFile(Response.Layout layout, ClusterClient client, ChunkCache cache, DirtyBudget budget, int maxDirty,
            int maxInFlight, int readAhead, Executor uploads, Duration timeout) {
        Attr a = layout.attr();
        this.ino = a.ino();
        this.chunkSize = a.chunkSize();
        this.client = client;
        this.cache = cache;
        this.budget = budget;
        this.maxDirty = maxDirty;
        this.maxInFlight = maxInFlight;
        this.readAhead = readAhead;
        this.uploads = uploads;
        this.timeout = timeout;
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("file " + ino + " has no chunk size");
        }
        reset(layout);
    }

    long ino() {
        return ino;
    }

    /** The file as stat shows it once its last name is gone but a handle is still open. */
    synchronized Attr unlinkedAttr() {
        Attr a = lastAttr;
        return new Attr(a.ino(), a.mode(), 0, a.uid(), a.gid(), size, a.atimeNs(), Math.max(a.mtimeNs(), lastWriteNs),
                Math.max(a.ctimeNs(), lastWriteNs), a.chunkSize(), a.parent(), a.linkTarget(), a.version(), a.storedBytes(), a.xattrCount());
    }

    synchronized boolean isClean() {
        return dirty.isEmpty() && inFlight.isEmpty() && pending.isEmpty() && size == committedSize;
    }

    /**
     * Adopts a layout fetched from the cluster (close-to-open), if nothing local is unsaved and it
     * is newer than what this file knows: a layout fetched just before another handle's commit must
     * not roll the file back.
     */
    synchronized void refresh(Response.Layout layout) {
        if (isClean() && layout.attr().version() > lastAttr.version()) {
            reset(layout);
        }
    }

    /**
     * The cluster's attributes as this mount sees them: the newer of {@code a} and what this file's
     * own last commit returned, with unsaved writes' size and times, if any. So a write need not drop
     * the cached attributes (the kernel asks for an xattr of the file before every write).
     */
    synchronized Attr overlay(Attr a) {
        Attr base = lastAttr != null && lastAttr.version() > a.version() ? lastAttr : a;
        return isClean() ? base : base.withUnsavedWrites(size, lastWriteNs);
    }

    private void reset(Response.Layout layout) {
        lastAttr = layout.attr();
        slots.clear();
        for (ChunkSlot s : layout.slots()) {
            slots.put(s.index(), s.ref());
        }
        size = layout.attr().size();
        committedSize = size;
    }

    /**
     * Reads what the file holds at {@code [offset, offset + length)} into {@code dst}. What is in
     * memory (buffers, cached chunks, holes) is copied under the monitor; chunks that must come from
     * the cluster are fetched after it is let go, from the refs seen under it. So a read waiting on
     * the network holds up neither the file's other readers nor its writers, and the bytes it returns
     * are the file as it was at one instant.
     */
    int read(long offset, IoBuffer dst, int length) throws FsException {
        List<Fetch> fetches = new ArrayList<>(2);
        int n = readHeld(offset, dst, length, fetches);
        for (Fetch f : fetches) {
            fetchInto(f, dst);
        }
        return n;
    }

    private synchronized int readHeld(long offset, IoBuffer dst, int length, List<Fetch> fetches) {
        if (offset >= size || length <= 0) {
            return 0;
        }
        if (offset == nextSequentialRead && readAhead > 0) {
            long first = (offset + length) / chunkSize + 1;
            for (long i = first; i < first + readAhead; i++) {
                ChunkRef ref = slots.get(i);
                if (ref != null && !dirty.containsKey(i)) {
                    cache.prefetch(ref.id(), uploads);
                }
            }
        }
        // Reads that start the file or stay within a chunk of the last one (the kernel reorders its
        // read-ahead) fetch and cache whole chunks; any other read fetches only the blocks it needs,
        // so random reads do not move whole chunks.
        boolean sequential = offset == 0
                || (nextSequentialRead >= 0 && Math.abs(offset / chunkSize - nextSequentialRead / chunkSize) <= 1);
        nextSequentialRead = offset + length;
        int n = (int) Math.min(length, size - offset);
        int done = 0;
        while (done < n) {
            long pos = offset + done;
            long index = pos / chunkSize;
            int within = (int) (pos % chunkSize);
            int take = Math.min(n - done, chunkSize - within);
            Buffer b = dirty.get(index);
            if (b == null) {
                b = uploading(index);
            }
            ChunkRef ref = b == null ? slots.get(index) : null;
            byte[] cached = ref == null ? null : cache.peek(ref.id());
            if (b != null) {
                copyOut(b.data, b.length, within, dst, done, take);
            } else if (ref == null || within >= ref.length()) {
                dst.zero(done, take); // a hole, or past what the chunk holds
            } else if (cached != null) {
                copyOut(cached, Math.min(ref.length(), cached.length), within, dst, done, take);
            } else {
                fetches.add(new Fetch(ref, within, done, take, sequential));
            }
            done += take;
        }
        return n;
    }

    /** Part of a read that needs a chunk from the cluster: whole (and cached) if sequential, else its blocks. */
    private record Fetch(ChunkRef ref, int within, int at, int take, boolean whole) {
    }

    private void fetchInto(Fetch f, IoBuffer dst) throws FsException {
        ChunkRef ref = f.ref();
        if (f.whole()) {
            byte[] data = cache.get(ref.id());
            copyOut(data, Math.min(ref.length(), data.length), f.within(), dst, f.at(), f.take());
        } else {
            byte[] part = client.readChunk(ref.id(), f.within(), Math.min(f.take(), ref.length() - f.within()));
            copyOut(part, part.length, 0, dst, f.at(), f.take());
        }
    }

    /** The newest buffer of chunk {@code index} still uploading, or null. */
    private Buffer uploading(long index) {
        Iterator<Upload> newestFirst = inFlight.descendingIterator();
        while (newestFirst.hasNext()) {
            Upload u = newestFirst.next();
            if (u.index() == index) {
                return u.buffer();
            }
        }
        return null;
    }

    /** Copies {@code take} bytes from position {@code within} of a chunk whose first {@code valid} bytes are data. */
    private static void copyOut(byte[] src, int valid, int within, IoBuffer dst, int at, int take) {
        int fromData = Math.max(0, Math.min(take, valid - within));
        if (fromData > 0) {
            dst.put(at, src, within, fromData);
        }
        if (fromData < take) {
            dst.zero(at + fromData, take - fromData);
        }
    }

    synchronized void write(long offset, IoBuffer src, int length) throws FsException {
        int done = 0;
        while (done < length) {
            long pos = offset + done;
            long index = pos / chunkSize;
            int within = (int) (pos % chunkSize);
            int take = Math.min(length - done, chunkSize - within);
            Buffer b = dirtyBuffer(index, within, take);
            grow(index, b, within + take);
            src.get(done, b.data, within, take);
            b.length = Math.max(b.length, within + take);
            done += take;
            // Per chunk, so a write that fails part-way leaves a size that covers what it did write.
            size = Math.max(size, pos + take);
            lastWriteNs = nowNs();
        }
    }

    /** The buffer for chunk {@code index}, loading the chunk's current bytes unless the write covers them. */
    private Buffer dirtyBuffer(long index, int within, int take) throws FsException {
        Buffer b = dirty.get(index);
        if (b != null) {
            return b;
        }
        while (dirty.size() >= maxDirty) {
            uploadOldest();
        }
        int capacity = Buffer.initialCapacity(index, take, chunkSize);
        int units = DirtyBudget.units(capacity);
        charge(units, -1);
        boolean ok = false;
        try {
            b = new Buffer(chunkSize, capacity, units);
            long chunkStart = index * chunkSize;
            Buffer sending = uploading(index);
            ChunkRef ref = slots.get(index);
            int known = sending != null ? sending.length : ref == null ? 0 : ref.length();
            int existing = (int) Math.min(known, Math.max(0, size - chunkStart));
            boolean overwritesAll = within == 0 && take >= existing;
            if (existing > 0 && !overwritesAll) {
                byte[] old = sending != null ? sending.data : cache.get(ref.id());
                int keep = Math.min(existing, old.length);
                grow(-1, b, keep);
                System.arraycopy(old, 0, b.data, 0, keep);
                b.length = keep;
            }
            dirty.put(index, b);
            ok = true;
            return b;
        } finally {
            if (!ok) {
                budget.release(b == null ? units : b.charged);
            }
        }
    }

    /** Grows a buffer to hold {@code n} bytes, paying for the growth first. */
    private void grow(long index, Buffer b, int n) throws FsException {
        int capacity = b.grownCapacity(n);
        if (capacity == b.data.length) {
            return;
        }
        int more = DirtyBudget.units(capacity) - b.charged;
        if (more > 0) {
            charge(more, index);
            b.charged += more;
        }
        b.data = Arrays.copyOf(b.data, capacity);
    }

    /**
     * Takes budget, making room first from this file's own unsaved data — reaping finished uploads,
     * then uploading buffers other than the one being written ({@code keep}) — so a file never waits
     * for budget that only it can give back. Only then does it wait for other files.
     */
    private void charge(int units, long keep) throws FsException {
        while (!budget.tryAcquire(units)) {
            if (!inFlight.isEmpty()) {
                reapOldest();
            } else if (dirty.size() > (dirty.containsKey(keep) ? 1 : 0)) {
                Iterator<Map.Entry<Long, Buffer>> it = dirty.entrySet().iterator();
                Map.Entry<Long, Buffer> e = it.next();
                if (e.getKey() == keep) {
                    e = it.next();
                }
                it.remove();
                startUpload(e.getKey(), e.getValue());
            } else {
                budget.acquire(units, timeout);
                return;
            }
        }
    }

    private void uploadOldest() throws FsException {
        Iterator<Map.Entry<Long, Buffer>> it = dirty.entrySet().iterator();
        Map.Entry<Long, Buffer> e = it.next();
        it.remove();
        startUpload(e.getKey(), e.getValue());
        while (inFlight.size() > maxInFlight) {
            reapOldest();
        }
        if (pending.size() >= PARTIAL_COMMIT_SLOTS) {
            commit(false);
        }
    }

    /** Hands a finished buffer to the upload threads: stored as a chunk, or as a hole if all zeros. */
    private void startUpload(long index, Buffer b) {
        CompletableFuture<ChunkRef> ref = CompletableFuture.supplyAsync(() -> {
            if (isZero(b.data, b.length)) {
                return null;
            }
            ContentHash.Summed chunk = client.contentIds().summed(b.data, 0, b.length);
            try {
                client.putChunk(chunk, b.data, b.length);
            } catch (FsException e) {
                throw new CompletionException(e);
            }
            cache.put(chunk.id(), b.data); // the buffer is done with; bytes past the ref length are never read
            return new ChunkRef(chunk.id(), b.length);
        }, uploads);
        inFlight.addLast(new Upload(index, b, ref));
    }

    /**
     * Waits for the oldest upload and records its slot. A failed upload's bytes go back among the
     * dirty buffers (unless a newer version of that chunk is already there), so the next flush tries
     * again and no fsync or close can report success without them.
     */
    private void reapOldest() throws FsException {
        Upload u = inFlight.removeFirst();
        ChunkRef ref;
        try {
            ref = awaitUpload(u.ref());
        } catch (FsException e) {
            if (!dirty.containsKey(u.index()) && uploading(u.index()) == null) {
                dirty.put(u.index(), u.buffer());
            } else {
                budget.release(u.buffer().charged);
            }
            throw e;
        }
        budget.release(u.buffer().charged);
        if (ref == null) {
            slots.remove(u.index());
        } else {
            slots.put(u.index(), ref);
        }
        if (pending.isEmpty()) {
            pendingSinceNanos = System.nanoTime();
        }
        pending.add(new ChunkSlot(u.index(), ref));
    }

    /**
     * Records the uploads that have finished and commits them once the oldest has waited {@code
     * maxAge}. Nodes reclaim chunks that no file references after a grace period, so a file held
     * open for a long time must not leave the chunks it uploaded unreferenced: a slowly growing log
     * would otherwise commit only when it is closed.
     */
    synchronized void commitAged(Duration maxAge) throws FsException {
        while (!inFlight.isEmpty() && inFlight.peekFirst().ref().isDone()) {
            reapOldest();
        }
        if (!pending.isEmpty() && System.nanoTime() - pendingSinceNanos >= maxAge.toNanos()) {
            commit(false);
        }
    }

    private ChunkRef awaitUpload(CompletableFuture<ChunkRef> f) throws FsException {
        try {
            return f.get(timeout.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(ErrorCode.TIMEOUT, "interrupted while saving file " + ino);
        } catch (TimeoutException e) {
            throw new FsException(ErrorCode.TIMEOUT, "saving a chunk of file " + ino + " timed out");
        } catch (ExecutionException e) {
            Throwable c = e.getCause() instanceof CompletionException ce && ce.getCause() != null ? ce.getCause() : e.getCause();
            throw c instanceof FsException fs ? fs : new FsException(ErrorCode.IO, "saving file " + ino + " failed: " + c, c);
        }
    }

    /**
     * Uploads every buffer, waits for every upload, and commits the layout: after this the data is
     * on the cluster. If an upload failed, the others are still reaped and the first failure thrown.
     */
    synchronized void flush() throws FsException {
        List<Map.Entry<Long, Buffer>> toSend = new ArrayList<>(dirty.entrySet());
        dirty.clear();
        for (Map.Entry<Long, Buffer> e : toSend) {
            startUpload(e.getKey(), e.getValue());
        }
        FsException failure = null;
        while (!inFlight.isEmpty()) {
            try {
                reapOldest();
            } catch (FsException e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        if (!pending.isEmpty() || size != committedSize) {
            commit(true);
        }
    }

    /**
     * Sends the recorded slots to the metadata owner. A partial commit (during a long write) claims
     * only the size its committed chunks cover, so a reader never sees a length past stored data.
     */
    private void commit(boolean whole) throws FsException {
        long minSize = size;
        if (!whole) {
            minSize = 0;
            for (ChunkSlot s : pending) {
                minSize = Math.max(minSize, s.index() * chunkSize + (s.ref() == null ? 0 : s.ref().length()));
            }
            minSize = Math.min(minSize, size);
        }
        Attr a;
        try {
            a = unlinked ? null : client.commitWrite(ino, pending, minSize, lastWriteNs == 0 ? nowNs() : lastWriteNs);
        } catch (FsException e) {
            if (e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
            // The file was unlinked while open: its data lives on only in this handle, as POSIX wants.
            unlinked = true;
            a = null;
        }
        pending.clear();
        if (a == null) {
            committedSize = size;
            return;
        }
        lastAttr = a;
        committedSize = whole ? size : Math.max(committedSize, minSize);
        if (whole && a.size() > size) {
            // Another mount made the file longer meanwhile; the cluster's size is the truth.
            size = a.size();
            committedSize = size;
        }
    }

    /** Sets the file's size on the cluster and in this mount, after saving what is buffered. */
    synchronized Attr truncate(long newSize) throws FsException {
        flush();
        Attr a = null;
        if (!unlinked) {
            try {
                a = client.setAttr(new Request.SetAttr(ino, Request.SetAttr.SET_SIZE, 0, 0, 0, newSize, 0, 0));
                lastAttr = a;
            } catch (FsException e) {
                if (e.code() != ErrorCode.NOT_FOUND) {
                    throw e;
                }
                unlinked = true;
            }
        }
        long firstGone = (newSize + chunkSize - 1) / chunkSize;
        slots.tailMap(firstGone, true).clear();
        if (newSize % chunkSize != 0) {
            long last = newSize / chunkSize;
            ChunkRef ref = slots.get(last);
            int keep = (int) (newSize - last * chunkSize);
            if (ref != null && ref.length() > keep) {
                slots.put(last, new ChunkRef(ref.id(), keep));
            }
        }
        size = newSize;
        committedSize = newSize;
        return a != null ? a : unlinkedAttr();
    }

    /** Gives back the budget of buffers that will never be written (the mount is going away). */
    synchronized void discard() {
        for (Buffer b : dirty.values()) {
            budget.release(b.charged);
        }
        for (Upload u : inFlight) {
            budget.release(u.buffer().charged);
        }
        dirty.clear();
        inFlight.clear();
        pending.clear();
    }

    private static boolean isZero(byte[] data, int length) {
        for (int i = 0; i < length; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }

    static long nowNs() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
