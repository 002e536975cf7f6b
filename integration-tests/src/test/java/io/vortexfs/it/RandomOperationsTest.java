package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ten thousand random operations from a fixed seed — create, write at random offsets, append,
 * truncate, rename, unlink, mkdir, rmdir, chmod, read-backs — done in lockstep on a local directory
 * and on the mount ({@code posix/randomops.py}). Every outcome must match, and so must the two trees
 * afterwards: names, types, modes, sizes and SHA-256 of every file.
 *
 * <p>The mount uses 64 KiB chunks so that files of a few hundred KiB span many chunks and random
 * writes and truncations keep landing on chunk boundaries.
 */
class RandomOperationsTest extends MountedNodeTest {
    static final long SEED = 20240611L;
    static final int OPS = 10_000;


    @BeforeAll
    static void requireTools() {
        PosixScripts.requirePython();
    }

    /** Small chunks, so writes and truncates keep crossing chunk boundaries. */
    @Override
    String[] mountFlags() {
        return new String[] {"--chunk-size", "64k"};
    }

    @Test
    void tenThousandRandomOperationsLeaveTheSameTreeAsOnALocalDisk() throws Exception {
        Path reference = Files.createDirectory(tmp.resolve("reference"));
        Path onMount = Files.createDirectory(mp.resolve("random"));

        Shell.Result r = PosixScripts.run("randomops.py", 240, "run", "--seed", Long.toString(SEED),
                "--ops", Integer.toString(OPS), reference.toString(), onMount.toString());
        Path report = PosixScripts.reportDir("random-operations");
        Files.writeString(report.resolve("randomops.txt"), r.out(), StandardCharsets.UTF_8);
        Files.copy(tmp.resolve("mount-1.log"), report.resolve("mount.log"), StandardCopyOption.REPLACE_EXISTING);
        assertEquals(0, r.exit(), "randomops.py failed\nstderr: " + r.err() + "\nstdout: " + r.out());
        List<String> lines = r.out().lines().toList();
        List<String> diverged = lines.stream().filter(l -> l.startsWith("DIVERGED ")).toList();
        String summary = lines.isEmpty() ? "" : lines.get(lines.size() - 1);

        String expectedTree = manifest(reference);
        String actualTree = manifest(onMount);
        assertAll(
                () -> assertTrue(summary.startsWith("ops=" + OPS + " "), "not every operation ran: " + summary),
                () -> assertEquals(List.of(), diverged.stream().limit(30).toList(), diverged.size()
                        + " operations had another outcome on the mount (seed " + SEED + "; all of them and the mount's log in "
                        + report + ")"),
                () -> assertEquals(expectedTree, actualTree, "the tree on the mount differs from the reference"));
    }

    private static String manifest(Path dir) {
        return PosixScripts.run("randomops.py", 120, "manifest", dir.toString()).ok().out();
    }
}
