package io.vortexfs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** Every microbenchmark runs, once, briefly and on small sizes: the figures are bench/micro's business. */
class BenchmarksRunTest {
    @TempDir
    java.nio.file.Path dir;

    @Test
    void everyBenchmarkRunsOnATinySize() throws RunnerException {
        Options o = new OptionsBuilder()
                .include("io\\.vortexfs\\.bench\\..*")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100))
                .param("chunkBytes", "65536")
                .param("dir", dir.toString())
                .shouldFailOnError(true)
                .build();
        Collection<RunResult> results = new Runner(o).run();
        Set<String> ran = new TreeSet<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            ran.add(name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1));
            assertTrue(r.getPrimaryResult().getScore() > 0, name + " measured nothing");
        }
        assertEquals(Set.of("ChunkStoreBench.getAndVerify", "ChunkStoreBench.hash", "ChunkStoreBench.putNewChunk",
                "CodecBench.decodeGetAttr", "CodecBench.decodeListingOf100", "CodecBench.encodeGetAttr",
                "CodecBench.encodeListingOf100", "WriteAheadLogBench.appendDurablyAlone",
                "WriteAheadLogBench.appendDurablyEightAtOnce"), ran);
    }
}
