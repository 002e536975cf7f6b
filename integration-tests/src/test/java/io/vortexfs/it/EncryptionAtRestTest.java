package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A cluster founded with {@code --encrypt}: what a user writes through the mount cannot be read off
 * the nodes' disks, equal files are still stored once, a restarted node reads its sealed log back,
 * and a chunk file changed on disk fails its tag and is replaced from another owner.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class EncryptionAtRestTest extends ClusterTest {
    /** Text that must appear on no node's disk: file content, a directory name, a link target, an attribute value. */
    private static final List<String> SECRETS = List.of("PLAINTEXT-MARKER", "Confidential-Folder", "LINK-TARGET-MARKER",
            "XATTR-VALUE-MARKER");

    private Shell.Result get(Path key, String path, String local) {
        return Shell.exec(Vortex.java("256m", "get", path, tmp.resolve(local).toString(), "--cluster", cluster.seeds(),
                "--key-file", key.toString()), tmp, Map.of(), 120);
    }

    @Test
    void whatIsWrittenIsSealedOnEveryDiskDeduplicatedAndRepairedWhenTamperedWith() throws Exception {
        Path key = tmp.resolve("cluster.key");
        cluster = new TestCluster(tmp, null, 3).withNodeArgs("--key-file=" + key, "--encrypt", "--scrub-every=2s");
        for (int i = 0; i < 3; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh("encryption-at-rest");
        cluster.mount(mp, "256m", "--key-file", key.toString());
        String dir = mp + "/Confidential-Folder";
        Shell.run("for i in $(seq 1 30000); do echo \"PLAINTEXT-MARKER line $i\"; done > report.txt"
                + " && mkdir '" + dir + "' && cp report.txt '" + dir + "/report.txt'"
                + " && ln -s /LINK-TARGET-MARKER '" + dir + "/link'"
                + " && python3 -c \"import os, sys; os.setxattr(sys.argv[1], 'user.label', b'XATTR-VALUE-MARKER')\" '"
                + dir + "/report.txt' && sync '" + dir + "/report.txt'", tmp).ok();

        for (int i = 0; i < 3; i++) {
            TestCluster.Node n = cluster.node(i);
            for (String secret : SECRETS) {
                Shell.Result grep = Shell.run("grep -r -a -l -F -e '" + secret + "' '" + n.data + "'");
                assertEquals(1, grep.exit(), secret + " is readable on node " + (i + 1) + "'s disk: " + grep.out());
            }
        }
        Set<String> ids = cluster.node(0).chunkIds();
        assertEquals(1, ids.size(), "a 0.8 MB file is one chunk: " + ids);
        String id = ids.iterator().next();
        String sha256 = Shell.run("sha256sum report.txt", tmp).ok().out().split("\\s+")[0];
        assertFalse(id.equals(sha256), "the chunk is not named by the plain SHA-256 of its bytes");

        // An equal file is stored once more nowhere.
        Shell.run("cp report.txt '" + dir + "/copy.txt' && sync '" + dir + "/copy.txt'", tmp).ok();
        for (int i = 0; i < 3; i++) {
            assertEquals(ids, cluster.node(i).chunkIds(), "node " + (i + 1) + " deduplicated the copy");
        }

        // A node killed and restarted replays its sealed log and serves the names again.
        cluster.node(1).kill();
        cluster.node(1).restart();
        assertEquals("/LINK-TARGET-MARKER", Shell.run("readlink '" + dir + "/link'").ok().out().trim());
        assertEquals("XATTR-VALUE-MARKER", Shell.run("getfattr --only-values -n user.label '" + dir + "/report.txt'")
                .ok().out().trim());

        // One copy of the chunk is changed on disk: its tag fails, readers take another copy, the scrub replaces it.
        Path file = cluster.node(0).data.resolve("chunks").resolve(id.substring(0, 2)).resolve(id);
        byte[] tampered = Files.readAllBytes(file);
        tampered[tampered.length / 3] ^= 0x20;
        Files.write(file, tampered);
        get(key, "/Confidential-Folder/report.txt", "back").ok();
        Shell.run("cmp report.txt back", tmp).ok();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Path quarantined = cluster.node(0).data.resolve("damaged-chunks").resolve(id);
        while (!(Files.exists(quarantined) && Files.exists(file) && !Arrays.equals(tampered, Files.readAllBytes(file)))) {
            assertTrue(System.nanoTime() < deadline, "the tampered copy was not replaced within 60 s");
            Thread.sleep(500);
        }
        assertTrue(Arrays.equals(tampered, Files.readAllBytes(quarantined)), "the tampered copy is kept aside");
        get(key, "/Confidential-Folder/copy.txt", "again").ok();
        Shell.run("cmp report.txt again", tmp).ok();
        Shell.Result fsck = Shell.exec(Vortex.java("128m", "fsck", "--cluster", cluster.seeds(), "--key-file",
                key.toString()), tmp, Map.of(), 120);
        assertEquals(0, fsck.exit(), "fsck: " + fsck.out() + fsck.err());
        String status = Shell.exec(Vortex.java("128m", "status", "--cluster", cluster.seeds(), "--key-file",
                key.toString()), tmp, Map.of(), 60).ok().out();
        assertTrue(status.contains("encrypted at rest") && !status.contains("not encrypted"), status);
    }
}
