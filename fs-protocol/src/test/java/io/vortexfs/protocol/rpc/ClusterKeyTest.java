package io.vortexfs.protocol.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterKeyTest {
    @TempDir
    Path dir;

    @Test
    void aKeyIsMadeOnceAndReadBackTheSame() throws IOException {
        Path f = dir.resolve("k");
        ClusterKey made = ClusterKey.loadOrCreate(f);
        ClusterKey again = ClusterKey.loadOrCreate(f);
        String a = ClusterKey.nonce();
        String b = ClusterKey.nonce();
        assertEquals(made.proof(ClusterKey.CLIENT, a, b), again.proof(ClusterKey.CLIENT, a, b));
        assertEquals(65, Files.size(f), "64 hex digits and a newline");
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> ClusterKey.generate().save(f));
    }

    @Test
    void aProofDependsOnTheKeyTheRoleAndBothNonces() {
        ClusterKey k = ClusterKey.generate();
        String a = ClusterKey.nonce();
        String b = ClusterKey.nonce();
        String p = k.proof(ClusterKey.NODE, a, b);
        assertEquals(64, p.length());
        assertNotEquals(p, k.proof(ClusterKey.CLIENT, a, b));
        assertNotEquals(p, k.proof(ClusterKey.NODE, b, a));
        assertNotEquals(p, ClusterKey.generate().proof(ClusterKey.NODE, a, b));
        assertTrue(ClusterKey.same(p, k.proof(ClusterKey.NODE, a, b)));
        assertNotEquals(a, b);
    }

    @Test
    void aFileThatIsNotAKeyIsRefusedInWords() throws IOException {
        Path f = dir.resolve("bad");
        Files.writeString(f, "not a key");
        IOException e = assertThrows(IOException.class, () -> ClusterKey.load(f));
        assertTrue(e.getMessage().contains("does not hold a key"), e.getMessage());
        Files.writeString(f, "z".repeat(64));
        assertThrows(IOException.class, () -> ClusterKey.load(f));
        IOException missing = assertThrows(IOException.class, () -> ClusterKey.load(dir.resolve("none")));
        assertTrue(missing.getMessage().startsWith("no cluster key file"), missing.getMessage());
    }
}
