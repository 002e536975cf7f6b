package io.vortexfs.node.metadata;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.mapdb.DB;
import org.mapdb.DBMaker;

/**
 * The files of a node's MapDB store, in {@code DIR/meta}.
 *
 * <pre>
 * working.db          MapDB writes it in place; after a crash it may be half-written and is discarded
 * checkpoint.db       a copy of working.db taken at the last checkpoint, under the store's monitor
 * checkpoint.db.part  a copy being taken; a crash leaves it behind and a start deletes it
 * </pre>
 *
 * A start copies the checkpoint over the working file and opens that; the write-ahead log then
 * replays what followed. The copy is replaced by an atomic rename only once it is whole and on disk,
 * so there is always one complete checkpoint.
 *
 * <p>Not MapDB's own transactions ({@code transactionEnable()}, MapDB 3.1.0): a store killed with
 * SIGKILL in a loop of commits failed to open again after 3 to 12 kills (an
 * {@code IndexOutOfBoundsException} reading a B-tree node), and so did a node killed shortly after
 * it had installed partition snapshots. That version applies a commit to the store's file after
 * logging it, but does not read its log back when it opens a store, so a commit cut short stays
 * half-applied. 30 kills of the same loop over copies reopened every time.
 *
 * <p>The working file is mapped into memory. Without MapDB's transactions, which kept recent
 * records in memory, every read reaches the file: through a {@code RandomAccessFile} 8 threads made
 * 1,400 files a second in one store, against 3,500-4,200 with the transactions and 10,600-18,800
 * mapped; 20 listings of 48,000 entries took 31 s, 12 s and 0.8-0.9 s. Reads through the mapping
 * are not touched by interrupts, unlike a {@code FileChannel}'s: a thread interrupted inside a
 * channel operation closes the channel, and with it the store, for every thread (a pool shut down
 * with {@code shutdownNow} did that in tests). MapDB still grows the file through a channel, so a
 * writer interrupted just then fails the store, as an interrupt while waiting for the log already
 * does. On a full disk (a 6 MB tmpfs, in a trial) growing the file failed with "No space left on
 * device": the change failed, the store refused every later one, the process lived on, and once
 * there was room the store reopened with every acknowledged change.
 */
final class StoreFiles {
    static final String WORKING = "working.db";
    static final String CHECKPOINT = "checkpoint.db";
    private static final String PARTIAL = "checkpoint.db.part";
    /** The single file of a store written before checkpoints were copies, with MapDB's own commit logs. */
    static final String LEGACY = "metadata.db";

    private StoreFiles() {
    }

    /**
     * Makes {@code dir}'s working file a fresh copy of its last checkpoint, or removes it when there
     * is none (a new store), and opens it.
     */
    static DB openFromCheckpoint(Path dir) throws IOException {
        Path working = dir.resolve(WORKING);
        Path checkpoint = dir.resolve(CHECKPOINT);
        Files.deleteIfExists(dir.resolve(PARTIAL));
        if (!Files.exists(checkpoint) && Files.exists(dir.resolve(LEGACY))) {
            adoptLegacy(dir);
        }
        Files.deleteIfExists(working);
        if (Files.exists(checkpoint)) {
            copy(checkpoint, working, false);
        }
        return DBMaker.fileDB(working.toFile())
                .fileMmapEnable()
                // Unmaps the file when the store closes rather than when the collector gets to it.
                .cleanerHackEnable()
                // Nothing relies on the working file reaching the disk; the checkpoint's copy is forced.
                .fileSyncDisable()
                // The node's own lock file guards the directory; MapDB's lock would outlive a crash in tests.
                .fileLockDisable()
                .make();
    }

    /**
     * Replaces the checkpoint with a copy of the working file. The caller has written everything the
     * checkpoint includes to the working file and keeps it from changing until this returns.
     * Returns the checkpoint's size in bytes.
     */
    static long saveCheckpoint(Path dir) throws IOException {
        Path partial = dir.resolve(PARTIAL);
        long bytes;
        try {
            bytes = copy(dir.resolve(WORKING), partial, true);
            Files.move(partial, dir.resolve(CHECKPOINT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // A partial copy as large as the store must not take the space the write-ahead log needs.
            Files.deleteIfExists(partial);
            throw e;
        }
        fsyncDirectory(dir);
        return bytes;
    }

    /**
     * Takes over a store of the earlier layout as the checkpoint. Its file holds every commit that
     * MapDB finished applying; MapDB 3.1.0 never reads the commit logs beside it
     * ({@code metadata.db.wal.*}), which are left where they are.
     */
    private static void adoptLegacy(Path dir) throws IOException {
        Files.move(dir.resolve(LEGACY), dir.resolve(CHECKPOINT), StandardCopyOption.ATOMIC_MOVE);
        fsyncDirectory(dir);
    }

    /** Copies {@code from} over {@code to} in the kernel; {@code durable} forces the copy to disk. Returns its size. */
    private static long copy(Path from, Path to, boolean durable) throws IOException {
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
                FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
            long size = in.size();
            for (long done = 0; done < size; ) {
                done += in.transferTo(done, size - done, out);
            }
            if (durable) {
                out.force(true);
            }
            return size;
        }
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
