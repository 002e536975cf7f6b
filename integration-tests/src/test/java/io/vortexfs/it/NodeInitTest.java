package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * `vortex node --init` gives data directories their cluster key; nodes started on them later find
 * it there, without --key-file, and talk only to holders of it.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class NodeInitTest extends ClusterTest {
    private Shell.Result vortex(String... args) {
        return Shell.exec(Vortex.java("128m", args), tmp, Map.of(), 60);
    }

    @Test
    void initialisedDataDirectoriesHoldTheKeyTheirNodesThenRequire() throws Exception {
        Path first = tmp.resolve("node-1");
        Path second = tmp.resolve("node-2");
        Shell.Result made = vortex("node", "--init", "--data", first.toString()).ok();
        Path key = first.resolve("cluster.key");
        assertTrue(made.out().contains(key.toString()), made.out());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertTrue(Files.readString(key).trim().matches("[0-9a-f]{64}"));
        // Again: the key stays as it is.
        String held = Files.readString(key);
        vortex("node", "--init", "--data", first.toString()).ok();
        assertEquals(held, Files.readString(key));

        vortex("node", "--init", "--data", second.toString(), "--key-file", key.toString()).ok();
        assertEquals(held, Files.readString(second.resolve("cluster.key")));
        vortex("node", "--init", "--data", tmp.resolve("elsewhere").toString()).ok();
        Shell.Result other = vortex("node", "--init", "--data", second.toString(), "--key-file",
                tmp.resolve("elsewhere/cluster.key").toString());
        assertNotEquals(0, other.exit());
        assertEquals(1, other.err().lines().filter(l -> !l.isBlank()).count(), other.err());
        assertTrue(other.err().contains("already belongs to the cluster"), other.err());

        // Started with no key option, the second joins the first with the key both directories hold.
        cluster = new TestCluster(tmp);
        cluster.startNode();
        cluster.startNode();
        Files.writeString(tmp.resolve("f"), "hello\n");
        Shell.Result refused = vortex("put", "f", "/f", "--cluster", cluster.seeds());
        assertNotEquals(0, refused.exit(), "a client without the key was served");
        vortex("put", "f", "/f", "--cluster", cluster.seeds(), "--key-file", key.toString()).ok();
        Shell.Result listed = vortex("status", "--cluster", cluster.seeds(), "--key-file", key.toString(), "--json").ok();
        assertEquals(2, listed.out().split("\\{\"nodeId\":").length - 1, listed.out());
        assertTrue(vortex("ls", "/", "--cluster", cluster.node(1).address, "--key-file", key.toString()).ok().out()
                .contains("f"));
    }
}
