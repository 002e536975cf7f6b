package io.vortexfs.it;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture of tests that start their own cluster: a temporary directory for its nodes' data and
 * logs, and the cluster, whatever a test made of it, stopped after each test.
 */
abstract class ClusterTest {
    @TempDir
    Path tmp;

    TestCluster cluster;

    @AfterEach
    void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }
}
