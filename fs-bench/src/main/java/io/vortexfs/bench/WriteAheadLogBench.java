package io.vortexfs.bench;

import io.vortexfs.node.wal.WriteAheadLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * Durable appends to the write-ahead log: each call waits until its record is fsynced. One writer
 * pays an fsync per record; eight at once share fsyncs (group commit), which the per-thread time
 * and the log's fsync count show.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class WriteAheadLogBench {
    @Param({"256"})
    public int recordBytes;

    /** Where the log lives; a directory on the disk under test (default: java.io.tmpdir). */
    @Param({""})
    public String dir;

    private Path root;
    private WriteAheadLog log;
    private byte[] record;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        root = dir.isEmpty() ? Files.createTempDirectory("vortex-bench") : Files.createTempDirectory(Path.of(dir), "vortex-bench");
        log = WriteAheadLog.open(root, 0, WriteAheadLog.Options.DEFAULT, r -> { });
        record = new byte[recordBytes];
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        log.close();
        try (var files = Files.walk(root)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    @Threads(1)
    public long appendDurablyAlone() throws IOException {
        return WriteAheadLog.await(log.append(record), Duration.ofSeconds(30));
    }

    @Benchmark
    @Threads(8)
    public long appendDurablyEightAtOnce() throws IOException {
        return WriteAheadLog.await(log.append(record), Duration.ofSeconds(30));
    }
}
