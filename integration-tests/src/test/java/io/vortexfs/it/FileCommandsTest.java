package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** vortex ls/put/get/rm against a cluster, checked through a mount of the same cluster. */
class FileCommandsTest extends MountedNodeTest {
    private Shell.Result vortex(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.add("--cluster");
        a.add(cluster.seeds());
        return Shell.exec(Vortex.java("256m", a.toArray(String[]::new)), tmp, Map.of(), 120);
    }

    @Test
    void putLsGetAndRmWorkWithoutAMountAndAgreeWithOne() throws Exception {
        Shell.run("head -c 9M /dev/urandom > r.bin && mkdir '" + mp + "/docs'", tmp).ok();

        vortex("put", "r.bin", "/docs/").ok();
        Shell.run("cmp r.bin '" + mp + "/docs/r.bin'", tmp).ok();
        String ls = vortex("ls", "/docs").ok().out();
        assertTrue(ls.startsWith("-rw-r--r--") && ls.contains("9.0 MiB") && ls.trim().endsWith(" r.bin"), ls);

        vortex("get", "docs/r.bin", "back.bin").ok();
        Shell.run("cmp r.bin back.bin", tmp).ok();

        Shell.Result intoMissing = vortex("put", "r.bin", "/nowhere/");
        assertNotEquals(0, intoMissing.exit());
        assertEquals("vortex: cannot write into /nowhere/: no such file or directory", intoMissing.err().trim());
        assertFalse(Files.exists(mp.resolve("nowhere")), "a trailing slash never creates a file");

        Shell.Result dirWithoutR = vortex("rm", "/docs");
        assertNotEquals(0, dirWithoutR.exit());
        assertTrue(dirWithoutR.err().contains("is a directory (use -r)"), dirWithoutR.err());
        vortex("rm", "-r", "/docs").ok();
        assertFalse(Files.exists(mp.resolve("docs")));

        Shell.Result missing = vortex("get", "/docs/r.bin", "x");
        assertEquals(1, missing.exit());
        assertEquals("vortex: cannot read /docs/r.bin: no such file or directory", missing.err().trim());
    }

    @Test
    void aConfigFileGivesDefaultsThatFlagsOverride() throws Exception {
        Files.writeString(tmp.resolve("vortex.properties"), "# defaults for every command\ncluster = " + cluster.seeds()
                + "\nput.progress = false\n");
        Files.writeString(tmp.resolve("elsewhere.properties"), "cluster = 127.0.0.1:1\n");
        Shell.run("echo from-the-config > c.txt", tmp).ok();
        Shell.exec(Vortex.java("256m", "--config", "vortex.properties", "put", "c.txt", "/c.txt"), tmp, Map.of(), 120).ok();
        assertEquals("from-the-config", Shell.run("cat '" + mp + "/c.txt'").ok().out().trim());
        Map<String, String> env = Map.of("VORTEX_CONFIG", tmp.resolve("vortex.properties").toString());
        assertTrue(Shell.exec(Vortex.java("256m", "ls", "/"), tmp, env, 120).ok().out().contains("c.txt"));

        Map<String, String> wrong = Map.of("VORTEX_CONFIG", tmp.resolve("elsewhere.properties").toString());
        assertEquals(1, Shell.exec(Vortex.java("256m", "ls", "/"), tmp, wrong, 120).exit(), "the file's cluster is used");
        assertTrue(Shell.exec(Vortex.java("256m", "ls", "/", "--cluster", cluster.seeds()), tmp, wrong, 120).ok().out()
                .contains("c.txt"), "a flag wins over the file");

        Files.writeString(tmp.resolve("typo.properties"), "clustr = " + cluster.seeds() + "\n");
        Shell.Result typo = Shell.exec(Vortex.java("256m", "--config", "typo.properties", "ls", "/"), tmp, Map.of(), 120);
        assertEquals(1, typo.exit());
        assertTrue(typo.err().contains("'clustr' is no option of any command"), typo.err());
    }
}
