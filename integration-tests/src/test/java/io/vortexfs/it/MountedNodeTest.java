package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture most end-to-end tests share: for every test, a fresh node process with its own data
 * directory, and a FUSE mount of it in another process at a mountpoint of its own. After the test
 * the mount must be gone.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
abstract class MountedNodeTest {
    @TempDir
    Path tmp;

    TestCluster cluster;
    Path mp;

    @BeforeAll
    static void requireFuse() {
        assertTrue(Files.exists(Path.of("/dev/fuse")), "these tests mount through FUSE: /dev/fuse is missing");
        assertTrue(Files.exists(Vortex.JAR), "build the jar first: " + Vortex.JAR);
    }

    /** Java heap of this class's mounts. */
    String mountHeap() {
        return "256m";
    }

    /** Extra `vortex mount` flags for this class's mounts. */
    String[] mountFlags() {
        return new String[0];
    }

    @BeforeEach
    void startCluster(TestInfo info) throws Exception {
        cluster = new TestCluster(tmp);
        cluster.startNode();
        mp = Mounts.fresh(info.getTestMethod().orElseThrow().getName());
        cluster.mount(mp, mountHeap(), mountFlags());
    }

    @AfterEach
    void stopCluster() throws Exception {
        cluster.close();
        assertFalse(Mounts.isMounted(mp), "the mount was left behind at " + mp);
    }
}
