package io.vortexfs.mount.fs;

import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ChunkRef;
import io.vortexfs.protocol.ChunkSlot;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One regular file open in this mount, shared by all of its open handles so they see each other's
 * writes. Writes land in chunk-sized buffers; a buffer is uploaded when the file has too many, and
 * all are uploaded and committed to the file's metadata on flush, fsync and close.
 *
 * <p>Invariants, under the object's monitor:
 * <ul>
 *   <li>{@code slots} is the layout as this mount knows it, including uploaded but uncommitted chunks;</li>
 *   <li>a chunk index is in {@code dirty} or read through {@code slots}, and dirty wins;</li>
 *   <li>{@code size} is the file's logical size, which readers and stat see;</li>
 *   <li>at most {@code maxDirty} buffers are held, each paid for from the mount's {@link DirtyBudget}.</li>
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
    private final Duration timeout;

    private final TreeMap<Long, ChunkRef> slots = new TreeMap<>();
    private final LinkedHashMap<Long, Buffer> dirty = new LinkedHashMap<>();
    private final List<ChunkSlot> pending = new ArrayList<>();
    private Attr lastAttr;
    private boolean unlinked;
    private long size;
    private long committedSize;
    private long lastWriteNs;
    private int handles;

    /**
     * A chunk being written: bytes past {@code length} are zeros. The array starts small and doubles
     * up to the chunk size, so a small file never pays for zeroing a whole chunk.
     */
    private static final class Buffer {
        private static final int INITIAL = 64 << 10;
        private final int max;
        byte[] data;
        int length;

        Buffer(int max) {
            this.max = max;
            this.data = new byte[Math.min(INITIAL, max)];
        }

        void ensureCapacity(int n) {
            if (n > data.length) {
                data = Arrays.copyOf(data, Math.min(max, Math.max(n, data.length * 2)));
            }
        }
    }

    OpenFile(Response.Layout layout, ClusterClient client, ChunkCache cache, DirtyBudget budget, int maxDirty,
            Duration timeout) {
        Attr a = layout.attr();
        this.ino = a.ino();
        this.chunkSize = a.chunkSize();
        this.client = client;
        this.cache = cache;
        this.budget = budget;
        this.maxDirty = maxDirty;
        this.timeout = timeout;
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("file " + ino + " has no chunk size");
        }
        reset(layout);
    }

    long ino() {
        return ino;
    }

    synchronized long size() {
        return size;
    }

    /** The file as stat shows it once its last name is gone but a handle is still open. */
    synchronized Attr unlinkedAttr() {
        Attr a = lastAttr;
        return new Attr(a.ino(), a.mode(), 0, a.uid(), a.gid(), size, a.atimeNs(), Math.max(a.mtimeNs(), lastWriteNs),
                Math.max(a.ctimeNs(), lastWriteNs), a.chunkSize(), a.parent(), a.linkTarget(), a.version(), a.storedBytes());
    }

    /** When this mount last wrote to the file and has not saved it yet; 0 when all is saved. */
    synchronized long lastWriteNs() {
        return isClean() ? 0 : lastWriteNs;
    }

    synchronized void retain() {
        handles++;
    }

    /** Drops one handle; true when it was the last. */
    synchronized boolean releaseHandle() {
        return --handles <= 0;
    }

    synchronized boolean isClean() {
        return dirty.isEmpty() && pending.isEmpty() && size == committedSize;
    }

    /** Adopts a fresh layout from the cluster (close-to-open), if nothing local is unsaved. */
    synchronized void refresh(Response.Layout layout) {
        if (isClean()) {
            reset(layout);
        }
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

    synchronized int read(long offset, byte[] dst, int length) throws FsException {
        if (offset >= size || length <= 0) {
            return 0;
        }
        int n = (int) Math.min(length, size - offset);
        int done = 0;
        while (done < n) {
            long pos = offset + done;
            long index = pos / chunkSize;
            int within = (int) (pos % chunkSize);
            int take = Math.min(n - done, chunkSize - within);
            Buffer b = dirty.get(index);
            if (b != null) {
                copyOut(b.data, b.length, within, dst, done, take);
            } else {
                ChunkRef ref = slots.get(index);
                if (ref == null) {
                    Arrays.fill(dst, done, done + take, (byte) 0);
                } else {
                    byte[] data = cache.get(ref.id());
                    copyOut(data, Math.min(ref.length(), data.length), within, dst, done, take);
                }
            }
            done += take;
        }
        return n;
    }

    /** Copies {@code take} bytes from position {@code within} of a chunk whose first {@code valid} bytes are data. */
    private static void copyOut(byte[] src, int valid, int within, byte[] dst, int at, int take) {
        int fromData = Math.max(0, Math.min(take, valid - within));
        if (fromData > 0) {
            System.arraycopy(src, within, dst, at, fromData);
        }
        if (fromData < take) {
            Arrays.fill(dst, at + fromData, at + take, (byte) 0);
        }
    }

    synchronized void write(long offset, byte[] src, int length) throws FsException {
        int done = 0;
        while (done < length) {
            long pos = offset + done;
            long index = pos / chunkSize;
            int within = (int) (pos % chunkSize);
            int take = Math.min(length - done, chunkSize - within);
            Buffer b = dirtyBuffer(index, within, take);
            b.ensureCapacity(within + take);
            System.arraycopy(src, done, b.data, within, take);
            b.length = Math.max(b.length, within + take);
            done += take;
        }
        size = Math.max(size, offset + length);
        lastWriteNs = nowNs();
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
        budget.acquire(chunkSize, timeout);
        boolean ok = false;
        try {
            b = new Buffer(chunkSize);
            ChunkRef ref = slots.get(index);
            long chunkStart = index * chunkSize;
            int existing = ref == null ? 0 : (int) Math.min(ref.length(), Math.max(0, size - chunkStart));
            boolean overwritesAll = within == 0 && take >= existing;
            if (existing > 0 && !overwritesAll) {
                byte[] old = cache.get(ref.id());
                int keep = Math.min(existing, old.length);
                b.ensureCapacity(keep);
                System.arraycopy(old, 0, b.data, 0, keep);
                b.length = keep;
            }
            dirty.put(index, b);
            ok = true;
            return b;
        } finally {
            if (!ok) {
                budget.release(chunkSize);
            }
        }
    }

    private void uploadOldest() throws FsException {
        Iterator<Map.Entry<Long, Buffer>> it = dirty.entrySet().iterator();
        Map.Entry<Long, Buffer> e = it.next();
        upload(e.getKey(), e.getValue());
        it.remove();
        budget.release(chunkSize);
        if (pending.size() >= PARTIAL_COMMIT_SLOTS) {
            commit(false);
        }
    }

    /** Stores one buffer as a chunk (an all-zero buffer becomes a hole) and records its slot. */
    private void upload(long index, Buffer b) throws FsException {
        ChunkRef ref = null;
        if (!isZero(b.data, b.length)) {
            ChunkId id = ChunkId.of(b.data, 0, b.length);
            client.putChunk(id, b.data, b.length);
            cache.put(id, b.data); // the buffer is done with; bytes past the ref length are never read
            ref = new ChunkRef(id, b.length);
        }
        if (ref == null) {
            slots.remove(index);
        } else {
            slots.put(index, ref);
        }
        pending.add(new ChunkSlot(index, ref));
    }

    /** Uploads every buffer and commits the layout: after this the data is on the cluster. */
    synchronized void flush() throws FsException {
        Iterator<Map.Entry<Long, Buffer>> it = dirty.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, Buffer> e = it.next();
            upload(e.getKey(), e.getValue());
            it.remove();
            budget.release(chunkSize);
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
        for (int i = 0; i < dirty.size(); i++) {
            budget.release(chunkSize);
        }
        dirty.clear();
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
