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
 * The fixture most end-to-end tests share: for every test, fresh node processes (one unless a
 * subclass asks for more, of a topology it may choose) with their own data directories, and a FUSE
 * mount of them in another process at a mountpoint of its own. After the test the mount must be gone.
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

    /** The clusters a class's tests run on: node processes and their topology (null: the default). */
    enum Layout {
        ONE_NODE(1, null),
        THREE_IN_A_RING(3, "ring"),
        THREE_ALL_TO_ALL(3, "all-to-all");

        final int nodes;
        final String topology;

        Layout(int nodes, String topology) {
            this.nodes = nodes;
            this.topology = topology;
        }
    }

    Layout layout() {
        return Layout.ONE_NODE;
    }

    /** Extra `vortex mount` flags for this class's mounts. */
    String[] mountFlags() {
        return new String[0];
    }

    @BeforeEach
    void startCluster(TestInfo info) throws Exception {
        cluster = new TestCluster(tmp, layout().topology, 0);
        for (int i = 0; i < layout().nodes; i++) {
            cluster.startNode();
        }
        mp = Mounts.fresh(info.getTestMethod().orElseThrow().getName());
        cluster.mount(mp, mountHeap(), mountFlags());
    }

    @AfterEach
    void stopCluster() throws Exception {
        cluster.close();
        assertFalse(Mounts.isMounted(mp), "the mount was left behind at " + mp);
    }
}
