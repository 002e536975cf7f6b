package io.vortexfs.node.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteAheadLogTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private static byte[] rec(int i) {
        return ("record-" + i + "-" + "x".repeat(i % 37)).getBytes(StandardCharsets.UTF_8);
    }

    private List<WriteAheadLog.Record> reopen(long checkpoint, WriteAheadLog.Options options) throws IOException {
        List<WriteAheadLog.Record> seen = new ArrayList<>();
        WriteAheadLog.open(dir, checkpoint, options, seen::add).close();
        return seen;
    }

    private Path onlySegment() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> all = s.filter(p -> p.toString().endsWith(".wal")).sorted().toList();
            return all.get(all.size() - 1);
        }
    }

    @Test
    void recordsRoundTripInOrderWithConsecutiveLsns() throws Exception {
        try (WriteAheadLog log = WriteAheadLog.open(dir, 0, WriteAheadLog.Options.DEFAULT, r -> { })) {
            for (int i = 0; i < 100; i++) {
                assertEquals(i + 1, WriteAheadLog.await(log.append(rec(i)), WAIT));
            }
        }
        List<WriteAheadLog.Record> seen = reopen(0, WriteAheadLog.Options.DEFAULT);
        assertEquals(100, seen.size());
        for (int i = 0; i < 100; i++) {
            assertEquals(i + 1, seen.get(i).lsn());
            assertArrayEquals(rec(i), seen.get(i).payload());
        }
        // Appends after a reopen continue the numbering.
        try (WriteAheadLog log = WriteAheadLog.open(dir, 0, WriteAheadLog.Options.DEFAULT, r -> { })) {
            assertEquals(101, WriteAheadLog.await(log.append(rec(100)), WAIT));
        }
    }

    @Test
    void replayStartsAfterTheCheckpointAndCheckpointsDropWholeSegments() throws Exception {
        WriteAheadLog.Options small = new WriteAheadLog.Options(256, 64, false, LogFile.DISK);
        try (WriteAheadLog log = WriteAheadLog.open(dir, 0, small, r -> { })) {
            for (int i = 0; i < 60; i++) {
                WriteAheadLog.await(log.append(rec(i)), WAIT);
            }
            assertTrue(log.segmentCount() > 5, "small segments roll: " + log.segmentCount());
            log.checkpoint(40);
            assertTrue(log.segmentCount() < 6, "segments below the checkpoint are dropped: " + log.segmentCount());
        }
        List<WriteAheadLog.Record> seen = reopen(40, small);
        assertEquals(20, seen.size());
        assertEquals(41, seen.get(0).lsn());
        assertEquals(60, seen.get(19).lsn());
    }

    @Test
    void aLogCutAtEveryOffsetOfItsLastRecordRecoversEveryEarlierRecord() throws Exception {
        try (WriteAheadLog log = WriteAheadLog.open(dir, 0, WriteAheadLog.Options.DEFAULT, r -> { })) {
            for (int i = 0; i < 10; i++) {
                WriteAheadLog.await(log.append(rec(i)), WAIT);
            }
        }
        Path seg = onlySegment();
        byte[] full = Files.readAllBytes(seg);
        int lastRecordBytes = WriteAheadLog.RECORD_OVERHEAD + rec(9).length;
        int lastStart = full.length - lastRecordBytes;
        for (int cut = lastStart; cut < full.length; cut++) {
            Files.write(seg, java.util.Arrays.copyOf(full, cut));
            List<WriteAheadLog.Record> seen = reopen(0, WriteAheadLog.Options.DEFAULT);
            assertEquals(9, seen.size(), "cut at " + cut);
            assertArrayEquals(rec(8), seen.get(8).payload());
            assertEquals(lastStart, Files.size(seg), "the torn tail is cut off");
        }
    }

    @Test
    void aFlippedBitInTheLastRecordIsDetectedAndCut() throws Exception {
        try (WriteAheadLog log = WriteAheadLog.open(dir, 0, WriteAheadLog.Options.DEFAULT, r -> { })) {
            for (int i = 0; i < 5; i++) {
                WriteAheadLog.await(log.append(rec(i)), WAIT);
            }
        }
        Path seg = onlySegment();
        byte[] b = Files.readAllBytes(seg);
        b[b.length - 6] ^= 0x10;
        Files.write(seg, b);
        List<WriteAheadLog.Record> seen = reopen(0, WriteAheadLog.Options.DEFAULT);
        assertEquals(4, seen.size());
    }

    @Test
    void damageBeforeTheTailStopsRecoveryUnlessSalvaging() throws Exception {
        try (WriteAheadLog log = WriteAheadLog.open(dir, 0, WriteAheadLog.Options.DEFAULT, r -> { })) {
            for (int i = 0; i < 5; i++) {
                WriteAheadLog.await(log.append(rec(i)), WAIT);
            }
        }
        Path seg = onlySegment();
        byte[] b = Files.readAllBytes(seg);
        b[WriteAheadLog.HEADER_BYTES + 6] ^= 0x01; // inside the first record's payload
        Files.write(seg, b);
        LogCorruptException e = assertThrows(LogCorruptException.class, () -> reopen(0, WriteAheadLog.Options.DEFAULT));
        assertTrue(e.getMessage().contains("salvage"), e.getMessage());
        List<WriteAheadLog.Record> salvaged = reopen(0, WriteAheadLog.Options.DEFAULT.withSalvage(true));
        assertEquals(0, salvaged.size(), "salvage keeps only what precedes the damage");
    }

    @Test
    void aDamagedLengthFieldWithIntactRecordsAfterItIsNotMistakenForATornTail() throws Exception {
        try (WriteAheadLog log = WriteAheadLog.open(dir, 0, WriteAheadLog.Options.DEFAULT, r -> { })) {
            for (int i = 0; i < 5; i++) {
                WriteAheadLog.await(log.append(rec(i)), WAIT);
            }
        }
        Path seg = onlySegment();
        byte[] b = Files.readAllBytes(seg);
        int second = WriteAheadLog.HEADER_BYTES + WriteAheadLog.RECORD_OVERHEAD + rec(0).length;
        b[second] = (byte) 0x7f; // the second record now claims a huge length
        Files.write(seg, b);
        assertThrows(LogCorruptException.class, () -> reopen(0, WriteAheadLog.Options.DEFAULT),
                "three acknowledged records follow: cutting them as a torn tail would lose them");
    }

    @Test
    void afterAFailedFsyncNothingMoreIsWrittenOrAcknowledged() throws Exception {
        java.util.concurrent.atomic.AtomicInteger forces = new java.util.concurrent.atomic.AtomicInteger();
        LogFile.Opener failing = (path, create) -> {
            LogFile real = LogFile.DISK.open(path, create);
            return new LogFile() {
                @Override
                public void append(java.nio.ByteBuffer src) throws IOException {
                    real.append(src);
                }

                @Override
                public void force() throws IOException {
                    // The header and the first batch go through; the second batch's fsync fails.
                    if (forces.incrementAndGet() == 3) {
                        throw new IOException("simulated fsync failure");
                    }
                    real.force();
                }

                @Override
                public long size() throws IOException {
                    return real.size();
                }

                @Override
                public int read(java.nio.ByteBuffer dst, long position) throws IOException {
                    return real.read(dst, position);
                }

                @Override
                public void truncate(long size) throws IOException {
                    real.truncate(size);
                }

                @Override
                public void close() throws IOException {
                    real.close();
                }
            };
        };
        WriteAheadLog.Options opts = new WriteAheadLog.Options(64L << 20, 64, false, failing);
        try (WriteAheadLog log = WriteAheadLog.open(dir, 0, opts, r -> { })) {
            assertEquals(1, WriteAheadLog.await(log.append(rec(0)), WAIT));
            assertThrows(IOException.class, () -> WriteAheadLog.await(log.append(rec(1)), WAIT));
            assertThrows(IOException.class, () -> WriteAheadLog.await(log.append(rec(2)), WAIT),
                    "a log whose tail is unknown must not acknowledge more");
        }
    }

    @Test
    void concurrentAppendersShareFsyncs() throws Exception {
        int threads = 16;
        int each = 200;
        try (WriteAheadLog log = WriteAheadLog.open(dir, 0, WriteAheadLog.Options.DEFAULT, r -> { })) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                all.add(CompletableFuture.runAsync(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < each; i++) {
                            WriteAheadLog.await(log.append(rec(id * each + i)), WAIT);
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, pool));
            }
            go.countDown();
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            pool.shutdown();
            long records = (long) threads * each;
            assertEquals(records, log.durableLsn());
            assertTrue(log.fsyncCount() < records / 2,
                    "group commit: " + log.fsyncCount() + " fsyncs for " + records + " records");
        }
    }

    @Test
    void afterAPowerCutEveryAcknowledgedRecordIsThere() throws Exception {
        PowerCutFiles disk = new PowerCutFiles(dir);
        WriteAheadLog.Options opts = new WriteAheadLog.Options(4096, 256, false, disk);
        Random rnd = new Random(7);
        List<Long> acknowledged = new ArrayList<>();
        WriteAheadLog log = WriteAheadLog.open(dir, 0, opts, r -> { });
        List<CompletableFuture<Long>> inFlight = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            CompletableFuture<Long> f = log.append(rec(i));
            if (rnd.nextInt(3) == 0) {
                acknowledged.add(WriteAheadLog.await(f, WAIT));
            } else {
                inFlight.add(f);
            }
        }
        for (CompletableFuture<Long> f : inFlight) {
            if (f.isDone() && !f.isCompletedExceptionally()) {
                acknowledged.add(f.join());
            }
        }
        disk.powerCut();
        log.close();
        List<WriteAheadLog.Record> seen = new ArrayList<>();
        WriteAheadLog.open(dir, 0, opts, seen::add).close();
        assertTrue(disk.fileCount() > 1, "the test spans several segments");
        java.util.Set<Long> recovered = new java.util.HashSet<>();
        for (WriteAheadLog.Record r : seen) {
            recovered.add(r.lsn());
            assertArrayEquals(rec((int) r.lsn() - 1), r.payload());
        }
        for (long lsn : acknowledged) {
            assertTrue(recovered.contains(lsn), "acknowledged LSN " + lsn + " lost in the power cut");
        }
    }
}
