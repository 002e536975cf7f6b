package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark runs outside the suite; here it only has to work, on a tiny size: every workload
 * is measured on all three targets and gets its two ratios, and nothing is left mounted.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BenchSmokeTest {
    @TempDir
    Path tmp;

    @Test
    void benchmarkPrintsEveryWorkloadWithItsRatiosOnATinySize() {
        Path dir = tmp.resolve("bench");
        // As a user runs it: `vortex bench` hands its options to bench/run.
        Shell.Result r = Shell.exec(List.of(Vortex.HOME.resolve("bin/vortex").toString(), "bench", "--size", "4M", "--files", "20",
                "--seconds", "1", "--dir", dir.toString()), null, Map.of(), 240).ok();
        for (String workload : List.of("seq-write-MiB/s", "seq-read-uncached-MiB/s", "reread-cached-MiB/s",
                "randread-4k-IOPS", "randread-4k-4jobs-IOPS", "create-4k-files/s", "ls-l-seconds", "unlink-files/s",
                "cp-r-tree-in-out-s", "create-empty-files/s")) {
            String row = r.out().lines().filter(l -> l.startsWith(workload + " ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no row for " + workload + " in:\n" + r.out() + r.err()));
            String[] f = row.trim().split("\\s+");
            assertEquals(6, f.length, "figure, three targets and two ratios: " + row);
            for (int i = 1; i < 6; i++) {
                assertTrue(f[i].matches("[0-9]+(\\.[0-9]+)?"), "not a number in " + row);
            }
        }
        assertTrue(r.out().contains("after a 24 MiB warm-up"), "six times --size is written and read first: " + r.out());
        assertTrue(r.out().matches("(?s).*during the warm-up, from cold JVMs \\(MiB/s, one per pass\\): [0-9.]+( [0-9.]+){5}\n.*"),
                "six passes of --size, each with its speed on VortexFS: " + r.out());
        assertTrue(r.out().matches("(?s).*reads during the warm-up, after drop_caches \\(MiB/s, one per pass\\): [0-9.]+( [0-9.]+){5}\n.*"),
                "each pass reads its file back after a drop, with its speed on VortexFS: " + r.out());
        assertTrue(r.out().matches("(?s).*Local directory writes during the warm-up \\(MiB/s, one per pass\\): [0-9.]+( [0-9.]+){5}\n.*"),
                "the local disk's speed in each pass, which the write ratios follow: " + r.out());
        assertTrue(r.out().contains("peak RSS"), r.out());
        assertTrue(r.out().matches("(?s).*fsyncs per create\\+close of an empty file on VortexFS, all nodes together: [0-9]+\\.[0-9]{2} .*"), r.out());
        assertTrue(Mounts.mountedUnder(dir).isEmpty(), "the benchmark left mounts behind");
    }
}
