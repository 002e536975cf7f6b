package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two mounts of one three-node cluster, in two processes: close-to-open data, and names within the
 * attribute timeout.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TwoMountsTest {
    @TempDir
    Path tmp;

    TestCluster cluster;
    Path a;
    Path b;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster(tmp);
        for (int i = 0; i < 3; i++) {
            cluster.startNode();
        }
        a = Mounts.fresh("two-a");
        b = Mounts.fresh("two-b");
        cluster.mount(a, "256m");
        cluster.mount(b, "256m");
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    @Test
    void aFileClosedInOneMountIsReadWholeInTheOther() {
        Shell.run("head -c 13M /dev/urandom > f && cp f '" + a + "/f' && cmp f '" + b + "/f'", tmp).ok();
        // Overwrite in place through b; a sees the new bytes on its next open.
        Shell.run("head -c 13M /dev/urandom > g && cp g '" + b + "/f' && cmp g '" + a + "/f'", tmp).ok();
    }

    @Test
    void namesAndAttributesChangedInOneMountShowInTheOtherWithinOneSecond() throws Exception {
        Shell.run("ls -la '" + b + "' > /dev/null").ok(); // prime b's caches with the empty root
        Shell.run("mkdir '" + a + "/made-in-a' && echo x > '" + a + "/made-in-a/file' && chmod 600 '" + a + "/made-in-a/file'").ok();
        long seenAfter = awaitInOther("test -f '" + b + "/made-in-a/file'");
        assertTrue(seenAfter <= 1500, "new names took " + seenAfter + " ms to show in the other mount");
        assertEquals("600", Shell.run("stat -c %a '" + b + "/made-in-a/file'").ok().out().trim());

        Shell.run("rm -r '" + a + "/made-in-a'").ok();
        long goneAfter = awaitInOther("! test -e '" + b + "/made-in-a'");
        assertTrue(goneAfter <= 1500, "a removed name stayed visible for " + goneAfter + " ms");
    }

    /** Polls a shell condition; returns how many milliseconds it took to hold. */
    private static long awaitInOther(String condition) throws InterruptedException {
        long start = System.nanoTime();
        while (Shell.run(condition).exit() != 0) {
            if (System.nanoTime() - start > TimeUnit.SECONDS.toNanos(10)) {
                throw new AssertionError("never held: " + condition);
            }
            Thread.sleep(50);
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
}
