package io.vortexfs.node.metadata;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnpackedLibrariesTest {
    @TempDir
    Path tmp;

    @Test
    void removesOnlyTheCopiesThisProcessHasMapped() throws Exception {
        Path javaTmp = Files.createDirectories(tmp.resolve("java-tmp"));
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        Path mine = Files.writeString(javaTmp.resolve("liblz4-java-111.so"), "x");
        Path anothers = Files.writeString(javaTmp.resolve("liblz4-java-222.so"), "x");
        Path other = Files.writeString(javaTmp.resolve("libother-333.so"), "x");
        Path outside = Files.writeString(elsewhere.resolve("liblz4-java-444.so"), "x");
        Path maps = Files.writeString(tmp.resolve("maps"), String.join("\n",
                "7f00a000-7f00b000 r-xp 00000000 fe:00 101 " + mine,
                "7f00b000-7f00c000 r--p 00001000 fe:00 101 " + mine,
                "7f00c000-7f00d000 r-xp 00000000 fe:00 102 " + other,
                "7f00d000-7f00e000 r-xp 00000000 fe:00 103 " + outside,
                "7f00e000-7f00f000 rw-p 00000000 00:00 0 ",
                "7ffd0000-7ffd1000 rw-p 00000000 00:00 0                          [stack]",
                ""));

        UnpackedLibraries.forget(maps, javaTmp);

        assertFalse(Files.exists(mine), "the mapped copy stayed");
        assertTrue(Files.exists(anothers), "a copy another process may be loading was removed");
        assertTrue(Files.exists(other), "another library was removed");
        assertTrue(Files.exists(outside), "a file outside the temporary directory was removed");
        // A second open in the same JVM sees the mapping marked deleted and removes nothing else.
        Files.writeString(maps, "7f00a000-7f00b000 r-xp 00000000 fe:00 101 " + mine + " (deleted)\n");
        UnpackedLibraries.forget(maps, javaTmp);
        assertTrue(Files.exists(anothers));
    }

    @Test
    void withoutProcMapsNothingHappens() throws Exception {
        Path copy = Files.writeString(tmp.resolve("liblz4-java-1.so"), "x");
        UnpackedLibraries.forget(tmp.resolve("no-maps"), tmp);
        assertTrue(Files.exists(copy));
    }
}
