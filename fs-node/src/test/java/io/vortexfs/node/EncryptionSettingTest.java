package io.vortexfs.node;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vortexfs.node.cluster.ClusterSettings;
import io.vortexfs.node.cluster.Membership;
import io.vortexfs.protocol.rpc.ClusterKey;
import io.vortexfs.protocol.rpc.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Encryption at rest is chosen when a cluster is founded, needs the key, and binds every member. */
class EncryptionSettingTest {
    @TempDir
    Path dir;

    private static NodeConfig config(Path data, Path keyFile, boolean encrypt, List<HostPort> join) {
        return NodeConfig.defaults(data, "127.0.0.1", 0).withCluster(new NodeConfig.Cluster(join, null, 0, 0, 0, 0,
                Membership.Timing.DEFAULT, Duration.ofSeconds(5), keyFile, false, encrypt));
    }

    @Test
    void encryptionWithoutAKeyIsRefused() {
        IOException e = assertThrows(IOException.class, () -> Node.start(config(dir.resolve("n"), null, true, List.of())));
        assertTrue(e.getMessage().contains("needs a cluster key"), e.getMessage());
    }

    private Path key() throws IOException {
        Path key = dir.resolve("cluster.key");
        ClusterKey.loadOrCreate(key);
        return key;
    }

    @Test
    void aPlainClusterCannotBeTurnedIntoAnEncryptedOne() throws Exception {
        Path key = key();
        Path data = dir.resolve("plain");
        Node.start(config(data, key, false, List.of())).close();
        IOException e = assertThrows(IOException.class, () -> Node.start(config(data, key, true, List.of())));
        assertTrue(e.getMessage().contains("does not encrypt at rest"), e.getMessage());
        assertFalse(ClusterSettings.load(data).encrypted());
    }

    @Test
    void anEncryptedClusterStaysEncryptedAndItsJoinersEncryptWithoutBeingTold() throws Exception {
        Path key = key();
        Path founderData = dir.resolve("founder");
        Node.start(config(founderData, key, true, List.of())).close();
        try (Node founder = Node.start(config(founderData, key, false, List.of()))) {
            assertTrue(founder.membership().settings().encrypted(), "a restart without --encrypt keeps it");
            HostPort seed = new HostPort("127.0.0.1", founder.port());
            try (Node joiner = Node.start(config(dir.resolve("joiner"), key, false, List.of(seed)))) {
                assertTrue(joiner.membership().settings().encrypted());
                assertTrue(Files.readString(dir.resolve("joiner").resolve("cluster.properties")).contains("aes-256-gcm"));
            }
        }
    }
}
