package io.vortexfs.node.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's write-ahead log: records are appended, made durable in groups, replayed after a crash,
 * and dropped once a checkpoint has made the state they describe durable elsewhere.
 *
 * <h2>Format (version 1)</h2>
 * The log is a directory of segment files named {@code segment-<first LSN, 20 digits>.wal}. Each
 * segment starts with a 16-byte header and is followed by records; all integers are big-endian.
 * <pre>
 *   header:  magic "VWAL" (4) | format version = 1 (2) | reserved = 0 (2) | first LSN (8)
 *   record:  length (4) | payload (length bytes) | CRC32C of length and payload (4)
 * </pre>
 * A record's LSN is its segment's first LSN plus its position among the segment's records. LSNs
 * start at 1 and never repeat.
 *
 * <h2>Durability and group commit</h2>
 * One writer thread takes every record queued since its last write, writes them in one go, forces
 * the file once, and only then completes their futures: concurrent appenders share one fsync. The
 * queue is bounded, so appenders wait rather than grow memory.
 *
 * <h2>Recovery policy</h2>
 * On open, every segment is read in order and each record past the checkpoint is handed to the
 * replay consumer. The first record that is short or fails its checksum ends the log:
 * <ul>
 *   <li>if it is in the last segment and nothing valid follows it, it is a torn tail (a crash in
 *       the middle of a write that was never acknowledged): the file is cut there, with a warning;</li>
 *   <li>otherwise the damage is before the tail and acknowledged records may be lost: opening fails
 *       with {@link LogCorruptException}, unless the operator asked to salvage, in which case the
 *       log is cut at the damage and everything after it is dropped, loudly.</li>
 * </ul>
 */
public final class WriteAheadLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);

    static final int MAGIC = 0x5657414C;
    static final short FORMAT = 1;
    static final int HEADER_BYTES = 16;
    /** Framing around each payload: length before, checksum after. */
    static final int RECORD_OVERHEAD = 8;
    public static final int MAX_RECORD_BYTES = 16 << 20;
    private static final long SLOW_FSYNC_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final int MAX_BATCH = 1024;
    /** How far past a damaged record recovery looks for an intact one before calling the damage a tail. */
    static final int TAIL_SCAN_BYTES = 1 << 20;

    /** How a log is opened. */
    public record Options(long segmentBytes, int queueCapacity, boolean salvage, LogFile.Opener opener) {
        public static final Options DEFAULT = new Options(64L << 20, 4096, false, LogFile.DISK);

        public Options {
            if (segmentBytes < HEADER_BYTES + RECORD_OVERHEAD) {
                throw new IllegalArgumentException("segmentBytes too small: " + segmentBytes);
            }
            if (queueCapacity < 1) {
                throw new IllegalArgumentException("queueCapacity < 1: " + queueCapacity);
            }
        }

        public Options withSalvage(boolean s) {
            return new Options(segmentBytes, queueCapacity, s, opener);
        }
    }

    /** A record as replayed. */
    public record Record(long lsn, byte[] payload) {
    }

    /** A queued append; a null payload is a barrier that completes once everything before it is durable. */
    private record Pending(byte[] payload, CompletableFuture<Long> done) {
    }

    private static final class Segment {
        final Path path;
        final long firstLsn;
        LogFile file;
        long records;
        long bytes;

        Segment(Path path, long firstLsn) {
            this.path = path;
            this.firstLsn = firstLsn;
        }
    }

    private final Path dir;
    private final Options options;
    private final List<Segment> segments = new ArrayList<>(); // guarded by this
    private final BlockingQueue<Pending> queue;
    private final Thread writer;
    private final AtomicLong fsyncs = new AtomicLong();
    private final AtomicLong fsyncNanos = new AtomicLong();
    private volatile long lastLsn;
    private volatile long durableLsn;
    private volatile IOException failure;
    private volatile boolean closed;

    private WriteAheadLog(Path dir, Options options) {
        this.dir = dir;
        this.options = options;
        this.queue = new ArrayBlockingQueue<>(options.queueCapacity());
        this.writer = new Thread(this::writeLoop, "vortex-wal-writer");
        this.writer.setDaemon(true);
    }

    /**
     * Opens (or creates) the log in {@code dir}, replaying every intact record with an LSN above
     * {@code checkpointLsn} to {@code replay} in order, before any new append is accepted.
     */
    public static WriteAheadLog open(Path dir, long checkpointLsn, Options options, Consumer<Record> replay)
            throws IOException {
        Files.createDirectories(dir);
        WriteAheadLog log = new WriteAheadLog(dir, options);
        log.recover(checkpointLsn, replay);
        log.writer.start();
        return log;
    }

    // ---- recovery ----

    private void recover(long checkpointLsn, Consumer<Record> replay) throws IOException {
        List<Segment> found = listSegments();
        if (!found.isEmpty() && found.get(0).firstLsn > checkpointLsn + 1) {
            // Records after a gap cannot be replayed on a state that lacks the gap: salvage drops them all.
            failOrSalvage("the log starts at LSN " + found.get(0).firstLsn + " but the checkpoint is at " + checkpointLsn
                    + ": records in between are missing", found, 0, -1);
            found = new ArrayList<>();
        }
        long expectedLsn = -1;
        long last = checkpointLsn;
        for (int i = 0; i < found.size(); i++) {
            Segment s = found.get(i);
            boolean isLast = i == found.size() - 1;
            if (expectedLsn >= 0 && s.firstLsn != expectedLsn) {
                failOrSalvage("segment " + s.path.getFileName() + " starts at LSN " + s.firstLsn + " but " + expectedLsn
                        + " was expected", found, i, -1);
                break;
            }
            s.file = options.opener().open(s.path, false);
            long cutAt = scan(s, isLast, checkpointLsn, replay);
            if (cutAt >= 0) {
                // The segment ends early at cutAt; whatever follows (this tail, later segments) is gone.
                if (!isLast) {
                    failOrSalvage("record " + (s.firstLsn + s.records) + " in " + s.path.getFileName() + " is damaged",
                            found, i + 1, cutAt);
                    s.file.truncate(cutAt);
                    s.bytes = cutAt;
                    segments.add(s);
                    last = Math.max(last, s.firstLsn + s.records - 1);
                    break;
                }
                s.file.truncate(cutAt);
                s.bytes = cutAt;
            }
            segments.add(s);
            last = Math.max(last, s.firstLsn + s.records - 1);
            expectedLsn = s.firstLsn + s.records;
        }
        lastLsn = last;
        durableLsn = last;
        Segment tail = segments.isEmpty() ? null : segments.get(segments.size() - 1);
        if (tail == null || tail.firstLsn + tail.records != last + 1) {
            startSegment(last + 1);
        }
    }

    /**
     * Reads one segment, replaying records past the checkpoint. Returns -1 when the whole segment is
     * intact, or the offset at which it must be cut (a torn tail). Throws when the damage is not a tail.
     */
    private long scan(Segment s, boolean isLast, long checkpointLsn, Consumer<Record> replay) throws IOException {
        long size = s.file.size();
        if (size < HEADER_BYTES) {
            if (isLast) {
                LOG.warn("write-ahead log segment {} has a torn header; it is empty and is rewritten", s.path.getFileName());
                s.file.truncate(0);
                writeHeader(s);
                return -1;
            }
            throw new LogCorruptException("write-ahead log segment " + s.path + " is shorter than its header");
        }
        ByteBuffer all = ByteBuffer.allocate((int) Math.min(size, Integer.MAX_VALUE));
        while (all.hasRemaining() && s.file.read(all, all.position()) > 0) {
            // keep reading
        }
        all.flip();
        if (all.getInt(0) != MAGIC || all.getShort(4) != FORMAT || all.getLong(8) != s.firstLsn) {
            throw new LogCorruptException("write-ahead log segment " + s.path + " has a bad header");
        }
        int pos = HEADER_BYTES;
        long lsn = s.firstLsn;
        while (pos < all.limit()) {
            int length = recordLengthAt(all, pos);
            if (length < 0) {
                if (!isLast || validRecordFollows(all, pos)) {
                    if (options.salvage()) {
                        LOG.error("SALVAGE: write-ahead log {} is damaged at offset {} (LSN {}); dropping it and all after it",
                                s.path.getFileName(), pos, lsn);
                        s.bytes = pos;
                        return pos;
                    }
                    throw new LogCorruptException("write-ahead log " + s.path + " is damaged at offset " + pos + " (LSN "
                            + lsn + ") before its end; acknowledged changes may be lost. Start the node with --salvage-wal"
                            + " to drop the damaged part and everything after it");
                }
                LOG.warn("write-ahead log {} ends in a torn record at offset {} (LSN {}); cutting it off",
                        s.path.getFileName(), pos, lsn);
                return pos;
            }
            if (lsn > checkpointLsn) {
                byte[] payload = new byte[length];
                all.get(pos + 4, payload);
                replay.accept(new Record(lsn, payload));
            }
            pos += RECORD_OVERHEAD + length;
            lsn++;
            s.records++;
        }
        s.bytes = pos;
        return -1;
    }

    /** The payload length of an intact record at {@code pos}, or -1 if it is short or fails its checksum. */
    private static int recordLengthAt(ByteBuffer all, int pos) {
        if (all.limit() - pos < RECORD_OVERHEAD) {
            return -1;
        }
        int length = all.getInt(pos);
        if (length < 0 || length > MAX_RECORD_BYTES || (long) pos + RECORD_OVERHEAD + length > all.limit()) {
            return -1;
        }
        CRC32C crc = new CRC32C();
        crc.update(all.duplicate().position(pos).limit(pos + 4 + length));
        return (int) crc.getValue() == all.getInt(pos + 4 + length) ? length : -1;
    }

    /**
     * True when an intact record follows a damaged one at {@code pos}: the damage is not a tail. The
     * damaged record's own length may be what is damaged, so every offset in the next
     * {@link #TAIL_SCAN_BYTES} is tried, not only the one the length points at. (A torn write leaves
     * garbage or zeros after it, and the chance that garbage passes a CRC32C is 1 in 2^32.)
     */
    private static boolean validRecordFollows(ByteBuffer all, int pos) {
        int end = (int) Math.min(all.limit(), (long) pos + TAIL_SCAN_BYTES);
        for (int at = pos + 1; at + RECORD_OVERHEAD <= end; at++) {
            int length = all.getInt(at);
            if (length > 0 && length <= MAX_RECORD_BYTES && recordLengthAt(all, at) >= 0) {
                return true;
            }
        }
        return false;
    }

    private void failOrSalvage(String what, List<Segment> found, int dropFrom, long cutAt) throws IOException {
        if (!options.salvage()) {
            throw new LogCorruptException("write-ahead log in " + dir + " is damaged: " + what
                    + "; acknowledged changes may be lost. Start the node with --salvage-wal to drop the damaged part");
        }
        LOG.error("SALVAGE: {}; dropping {} later segment(s)", what, found.size() - dropFrom);
        for (int j = dropFrom; j < found.size(); j++) {
            Files.deleteIfExists(found.get(j).path);
        }
    }

    private List<Segment> listSegments() throws IOException {
        List<Segment> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "segment-*.wal")) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                try {
                    out.add(new Segment(p, Long.parseLong(n.substring(8, n.length() - 4))));
                } catch (NumberFormatException e) {
                    throw new LogCorruptException("unexpected file in the write-ahead log directory: " + p);
                }
            }
        }
        out.sort((a, b) -> Long.compare(a.firstLsn, b.firstLsn));
        return out;
    }

    private void startSegment(long firstLsn) throws IOException {
        Segment s = new Segment(dir.resolve(String.format(Locale.ROOT, "segment-%020d.wal", firstLsn)), firstLsn);
        Files.deleteIfExists(s.path);
        s.file = options.opener().open(s.path, true);
        writeHeader(s);
        fsyncDirectory();
        synchronized (this) {
            segments.add(s);
        }
    }

    private static void writeHeader(Segment s) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES);
        h.putInt(MAGIC).putShort(FORMAT).putShort((short) 0).putLong(s.firstLsn).flip();
        s.file.append(h);
        s.file.force();
        s.bytes = HEADER_BYTES;
    }

    private void fsyncDirectory() {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            LOG.warn("cannot fsync the write-ahead log directory: {}", e.toString());
        }
    }

    // ---- appending ----

    /** Queues a record; the future completes with its LSN once it is durable. */
    public CompletableFuture<Long> append(byte[] payload) {
        if (payload.length > MAX_RECORD_BYTES) {
            throw new IllegalArgumentException("record larger than " + MAX_RECORD_BYTES + " bytes: " + payload.length);
        }
        return enqueue(payload);
    }

    /** Completes once every record appended before this call is durable, with the last such LSN. */
    public CompletableFuture<Long> barrier() {
        return enqueue(null);
    }

    private CompletableFuture<Long> enqueue(byte[] payload) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        IOException f = failure;
        if (f != null || closed) {
            done.completeExceptionally(f != null ? f : new IOException("write-ahead log is closed"));
            return done;
        }
        try {
            queue.put(new Pending(payload, done));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done.completeExceptionally(new IOException("interrupted while appending to the write-ahead log"));
        }
        return done;
    }

    /** Waits for an append or barrier, turning its failure into an IOException. */
    public static long await(CompletableFuture<Long> f, Duration timeout) throws IOException {
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the write-ahead log");
        } catch (TimeoutException e) {
            throw new IOException("the write-ahead log did not become durable within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof IOException io ? io : new IOException(String.valueOf(c), c);
        }
    }

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>();
        while (true) {
            try {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closed) {
                        return;
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                IOException failed = failure;
                if (failed != null) {
                    // After a failed write or fsync nothing more is written: the file's tail is unknown.
                    for (Pending p : batch) {
                        p.done().completeExceptionally(failed);
                    }
                    continue;
                }
                writeBatch(batch);
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                IOException io = e instanceof IOException x ? x : new IOException(e);
                failure = io;
                LOG.error("the write-ahead log failed; no further change can be made durable", io);
                for (Pending p : batch) {
                    p.done().completeExceptionally(io);
                }
                for (Pending p; (p = queue.poll()) != null; ) {
                    p.done().completeExceptionally(io);
                }
                if (closed) {
                    return;
                }
            } finally {
                batch.clear();
            }
        }
    }

    private void writeBatch(List<Pending> batch) throws IOException {
        int bytes = 0;
        for (Pending p : batch) {
            if (p.payload() != null) {
                bytes += RECORD_OVERHEAD + p.payload().length;
            }
        }
        long lsn = lastLsn;
        if (bytes > 0) {
            Segment tail = tail();
            if (tail.records > 0 && tail.bytes + bytes > options.segmentBytes()) {
                tail.file.force();
                startSegment(lsn + 1);
                tail = tail();
            }
            ByteBuffer buf = ByteBuffer.allocate(bytes);
            CRC32C crc = new CRC32C();
            for (Pending p : batch) {
                if (p.payload() == null) {
                    continue;
                }
                int start = buf.position();
                buf.putInt(p.payload().length).put(p.payload());
                crc.reset();
                crc.update(buf.duplicate().position(start).limit(buf.position()));
                buf.putInt((int) crc.getValue());
            }
            buf.flip();
            tail.file.append(buf);
            long t0 = System.nanoTime();
            tail.file.force();
            long took = System.nanoTime() - t0;
            fsyncs.incrementAndGet();
            fsyncNanos.addAndGet(took);
            if (took > SLOW_FSYNC_NANOS) {
                LOG.warn("write-ahead log fsync took {} ms for {} records", TimeUnit.NANOSECONDS.toMillis(took), batch.size());
            }
            tail.bytes += bytes;
        }
        for (Pending p : batch) {
            if (p.payload() != null) {
                lsn++;
                tail().records++;
                lastLsn = lsn;
                durableLsn = lsn;
                p.done().complete(lsn);
            } else {
                p.done().complete(lsn);
            }
        }
    }

    private synchronized Segment tail() {
        return segments.get(segments.size() - 1);
    }

    // ---- checkpoints ----

    /**
     * Drops every segment all of whose records are at or below {@code lsn}, after the caller has
     * made the state those records describe durable. The segment being written is never dropped.
     */
    public void checkpoint(long lsn) throws IOException {
        List<Segment> drop = new ArrayList<>();
        synchronized (this) {
            while (segments.size() > 1 && segments.get(1).firstLsn <= lsn + 1) {
                drop.add(segments.remove(0));
            }
        }
        for (Segment s : drop) {
            s.file.close();
            Files.deleteIfExists(s.path);
        }
        if (!drop.isEmpty()) {
            fsyncDirectory();
        }
    }

    /** Number of fsyncs of log data so far: with group commit, fewer than records appended. */
    public long fsyncCount() {
        return fsyncs.get();
    }

    /** Time spent in those fsyncs. */
    public long fsyncNanos() {
        return fsyncNanos.get();
    }

    public long durableLsn() {
        return durableLsn;
    }

    public synchronized int segmentCount() {
        return segments.size();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            barrier().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("closing the write-ahead log before all records were durable: {}", e.toString());
        }
        closed = true;
        try {
            writer.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            for (Segment s : segments) {
                s.file.close();
            }
        }
    }
}
