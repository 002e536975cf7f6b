package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The table of POSIX cases in {@code posix/cases.py} — each a syscall with its expected result or
 * errno, printed as one normalised line — runs on a local directory as the reference and then on a
 * fresh mount. Every line must match. A mismatch lists the case, what the reference printed and
 * what the mount printed; both full outputs and the mount's log are kept in
 * target/posix-conformance.
 *
 * <p>The reference must support user extended attributes: the first of the test's temp directory,
 * /var/tmp and /root that does is used, and named on stdout.
 */
class PosixConformanceTest extends MountedNodeTest {
    static final int MIN_CASES = 150;
    static final int SCRIPT_TIMEOUT_S = 180;

    Path outsideReference;
    Path report;

    @BeforeAll
    static void requireTools() {
        PosixScripts.requirePython();
    }

    @BeforeEach
    void prepareReport() throws Exception {
        report = PosixScripts.reportDir("posix-conformance");
    }

    @AfterEach
    void removeOutsideReference() {
        if (outsideReference != null) {
            Shell.run("rm -rf '" + outsideReference + "'");
        }
    }

    /**
     * Where libfuse 2's high-level, path-based interface (which jnr-fuse binds) cannot give local-disk
     * behaviour, with a pattern the mount's output must match. Each is described in docs/ARCHITECTURE.md.
     * <ul>
     *   <li>A rename over a file that is open in this mount: libfuse first moves the open file aside
     *       to a hidden name and then renames, so for a moment the name is missing and a concurrent
     *       reader's open can fail with ENOENT (the file's contents are never torn).</li>
     *   <li>Names and link targets that are not valid UTF-8: jnr-fuse decodes them before the mount
     *       sees them, losing the original bytes; the mount refuses them with EINVAL rather than
     *       store a different name.</li>
     * </ul>
     */
    private static final Map<String, String> KNOWN_DEVIATIONS = Map.of(
            "rename_replace_is_atomic_for_readers", "missing=\\d+ torn=0 final=b'v00149'",
            "non_utf8_file_name", "unexpected:EINVAL",
            "symlink_non_utf8_target", "unexpected:EINVAL");

    @Test
    void everyCaseBehavesOnTheMountAsOnALocalDisk() throws Exception {
        Path reference = referenceDirectory();
        System.out.println("posix reference directory: " + reference + " (" + PosixScripts.fsType(reference) + ")");
        Map<String, String> expected = runCases(reference, "reference");

        Path onMount = Files.createDirectory(mp.resolve("posix"));
        Map<String, String> actual = runCases(onMount, "mount");

        assertTrue(expected.size() >= MIN_CASES, "only " + expected.size() + " cases ran on the reference");
        assertEquals(expected.size(), actual.size(), "cases run on the reference and on the mount");

        List<String> differences = new ArrayList<>();
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String got = actual.get(e.getKey());
            String known = KNOWN_DEVIATIONS.get(e.getKey());
            if (known != null) {
                // A documented limit: the mount must still behave exactly as documented, no worse.
                if (got == null || !got.matches(known)) {
                    differences.add(e.getKey() + " (a known deviation that changed; update KNOWN_DEVIATIONS)"
                            + "\n    documented: " + known + "\n    mount:      " + got);
                }
            } else if (!e.getValue().equals(got)) {
                differences.add(e.getKey() + "\n    reference: " + e.getValue() + "\n    mount:     " + got);
            }
        }
        if (!differences.isEmpty()) {
            Files.copy(tmp.resolve("mount-1.log"), report.resolve("mount.log"), StandardCopyOption.REPLACE_EXISTING);
            fail(differences.size() + " of " + expected.size() + " cases differ on the mount (outputs and the mount's log in "
                    + report + "):\n" + String.join("\n", differences));
        }
    }

    /**
     * Runs every case on {@code dir} and returns name -> result in the script's order. Keeps the raw
     * output as {@code <label>.txt} in the report directory.
     */
    private Map<String, String> runCases(Path dir, String label) throws IOException {
        Shell.Result r = PosixScripts.run("cases.py", SCRIPT_TIMEOUT_S, dir.toString());
        Files.writeString(report.resolve(label + ".txt"), r.out(), StandardCharsets.UTF_8);
        assertEquals(0, r.exit(), "cases.py on the " + label + " exited " + r.exit() + "\nstderr: " + r.err()
                + "\nstdout: " + r.out());
        Map<String, String> results = new LinkedHashMap<>();
        for (String line : r.out().split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            int colon = line.indexOf(": ");
            assertTrue(colon > 0, "malformed line from cases.py on the " + label + ": " + line);
            String previous = results.put(line.substring(0, colon), line.substring(colon + 2));
            assertTrue(previous == null, "case printed twice on the " + label + ": " + line);
        }
        return results;
    }

    /** A fresh, empty local directory on a filesystem that keeps user.* extended attributes. */
    private Path referenceDirectory() throws IOException {
        List<Path> candidates = new ArrayList<>(List.of(tmp.resolve("reference")));
        for (String base : List.of("/var/tmp", "/root")) {
            candidates.add(Path.of(base, "vortex-posix-reference-" + UUID.randomUUID().toString().substring(0, 8)));
        }
        StringBuilder tried = new StringBuilder();
        for (Path dir : candidates) {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                tried.append(dir).append(": ").append(e).append('\n');
                continue;
            }
            if (!dir.startsWith(tmp)) {
                outsideReference = dir;
            }
            if (supportsUserXattrs(dir)) {
                return dir;
            }
            tried.append(dir).append(" (").append(PosixScripts.fsType(dir)).append("): no user xattrs\n");
            Shell.run("rm -rf '" + dir + "'");
            outsideReference = null;
        }
        throw new AssertionError("no local directory with user extended attributes for the reference:\n" + tried);
    }

    private static boolean supportsUserXattrs(Path dir) {
        Path probe = dir.resolve("xattr-probe");
        Shell.Result r = Shell.exec(List.of("python3", "-c",
                "import os, sys; p = sys.argv[1]; open(p, 'w').close(); os.setxattr(p, 'user.probe', b'1');"
                        + " assert os.getxattr(p, 'user.probe') == b'1'; os.unlink(p)", probe.toString()),
                null, Map.of(), 30);
        try {
            Files.deleteIfExists(probe);
        } catch (IOException e) {
            // Left for the directory's own clean-up.
        }
        return r.exit() == 0;
    }
}
