package io.vortexfs.it;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Memory per open file is bounded: a file three times the mount's whole heap streams through it. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class LargeFileTest {
    @TempDir
    Path tmp;

    TestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void copiesAFileLargerThanTheMountHeap() throws Exception {
        cluster = new TestCluster(tmp);
        cluster.startNode();
        Path mp = Mounts.fresh("large");
        cluster.mount(mp, "100m");
        Shell.run("head -c 300M /dev/urandom > src.bin && cp src.bin '" + mp + "/big' && cmp src.bin '" + mp
                + "/big' && cp '" + mp + "/big' back.bin && cmp src.bin back.bin", tmp).ok();
    }
}
