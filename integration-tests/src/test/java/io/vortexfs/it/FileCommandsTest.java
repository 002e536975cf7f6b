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
}
