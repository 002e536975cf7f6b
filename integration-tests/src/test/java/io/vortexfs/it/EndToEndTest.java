package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * One real node process, one real FUSE mount in another process, driven by the shell commands
 * people use. Each test gets a fresh node, data directory and mountpoint.
 */
class EndToEndTest extends MountedNodeTest {

    @Test
    void copiesA100MiBRandomFileInAndOutByteForByte() {
        Shell.run("head -c 100M /dev/urandom > src.bin && cp src.bin '" + mp + "/big.bin' && cp '" + mp
                + "/big.bin' back.bin && cmp src.bin back.bin && cmp src.bin '" + mp + "/big.bin'", tmp).ok();
        assertEquals("104857600", Shell.run("stat -c %s '" + mp + "/big.bin'").ok().out().trim());
    }

    @Test
    void everydayShellCommandsBehaveAsOnALocalDisk() {
        String m = "'" + mp + "'";
        Shell.run("mkdir -p " + m + "/a/b/c/d && test -d " + m + "/a/b/c/d").ok();

        Shell.run("printf 'hello\\n' > " + m + "/f.txt && chmod 640 " + m + "/f.txt").ok();
        assertEquals("6 640 regular file", Shell.run("stat -c '%s %a %F' " + m + "/f.txt").ok().out().trim());
        String ls = Shell.run("ls -l " + m + "/f.txt").ok().out();
        assertTrue(ls.startsWith("-rw-r-----"), ls);
        assertTrue(ls.contains(" 6 "), ls);
        assertEquals("755 directory", Shell.run("stat -c '%a %F' " + m + "/a").ok().out().trim());

        Shell.run("echo world >> " + m + "/f.txt").ok();
        assertEquals("hello\nworld\n", Shell.run("cat " + m + "/f.txt").ok().out());

        Shell.run("truncate -s 3 " + m + "/f.txt").ok();
        assertEquals("hel", Shell.run("cat " + m + "/f.txt").ok().out());
        Shell.run("truncate -s 10 " + m + "/f.txt").ok();
        assertEquals("68656c00000000000000", Shell.run("od -An -tx1 " + m + "/f.txt | tr -d ' \\n'").ok().out());

        Shell.run("mv " + m + "/f.txt " + m + "/a/g.txt && mv " + m + "/a/b " + m + "/moved").ok();
        assertFalse(Files.exists(mp.resolve("f.txt")));
        assertTrue(Files.isRegularFile(mp.resolve("a/g.txt")));
        assertTrue(Files.isDirectory(mp.resolve("moved/c/d")));

        Shell.run("ln -s a/g.txt " + m + "/link && test -L " + m + "/link").ok();
        assertEquals("a/g.txt", Shell.run("readlink " + m + "/link").ok().out().trim());
        assertEquals("hel", Shell.run("head -c 3 " + m + "/link").ok().out());

        Shell.run("touch -d '2021-03-04 05:06:07' " + m + "/a/g.txt").ok();
        assertEquals("2021-03-04 05:06:07", Shell.run("TZ=UTC0 date -r " + m + "/a/g.txt '+%Y-%m-%d %H:%M:%S'",
                null, java.util.Map.of("TZ", "UTC"), 30).ok().out().trim());

        Shell.run("rm -r " + m + "/moved " + m + "/a && rm " + m + "/link").ok();
        assertEquals("", Shell.run("ls -A " + m).ok().out());
    }

    @Test
    void everyFileIsTheSameAfterTheNodeRestarts() throws Exception {
        String m = "'" + mp + "'";
        Shell.run("head -c 9M /dev/urandom > r.bin && mkdir -p " + m + "/d/e && cp r.bin " + m + "/d/e/r.bin"
                + " && printf 'small' > " + m + "/s.txt && ln -s d/e/r.bin " + m + "/l && truncate -s 5M " + m
                + "/sparse && (cd " + m + " && find . -type f -exec sha256sum {} + | sort > " + tmp + "/before.sum)", tmp).ok();
        String listing = Shell.run("cd " + m + " && ls -lR --time-style=full-iso").ok().out();

        cluster.node(0).kill();
        cluster.node(0).restart();

        Shell.run("cd " + m + " && find . -type f -exec sha256sum {} + | sort > " + tmp + "/after.sum && cmp "
                + tmp + "/before.sum " + tmp + "/after.sum").ok();
        assertEquals(listing, Shell.run("cd " + m + " && ls -lR --time-style=full-iso").ok().out());
        assertEquals("d/e/r.bin", Shell.run("readlink " + m + "/l").ok().out().trim());
    }
}
