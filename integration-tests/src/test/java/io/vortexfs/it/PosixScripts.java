package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The python3 scripts under {@code src/test/resources/posix} that the conformance tests run, once on
 * a local reference directory and once on the mount.
 */
final class PosixScripts {
    private PosixScripts() {
    }

    /** The script's path in the test classpath (target/test-classes/posix). */
    static Path path(String name) {
        URL url = PosixScripts.class.getResource("/posix/" + name);
        if (url == null) {
            throw new AssertionError("test resource posix/" + name + " is missing");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError("bad resource URL " + url, e);
        }
    }

    /** Runs {@code python3 SCRIPT ARGS...} with a deadline; never throws for a non-zero exit. */
    static Shell.Result run(String script, int timeoutSeconds, String... args) {
        List<String> cmd = new ArrayList<>(List.of("python3", path(script).toString()));
        cmd.addAll(List.of(args));
        return Shell.exec(cmd, null, Map.of("PYTHONDONTWRITEBYTECODE", "1"), timeoutSeconds);
    }

    /**
     * A directory under the module's target/ that outlives the test's temp directory, for outputs a
     * failure message points at. Overwritten by the next run.
     */
    static Path reportDir(String name) throws IOException {
        Path dir = Path.of("target", name).toAbsolutePath();
        Files.createDirectories(dir);
        return dir;
    }

    /** Fails unless python3 can be run: bin/test installs it on a fresh machine. */
    static void requirePython() {
        Shell.Result r = Shell.run("python3 -c 'import sys; print(sys.version_info >= (3, 9))'");
        assertEquals("True", r.out().trim(), "these tests need python3 >= 3.9: " + r.err());
    }

    /** The filesystem type of {@code dir} as stat -f names it (ext2/ext3, tmpfs, overlayfs, fuseblk...). */
    static String fsType(Path dir) {
        return Shell.run("stat -f -c %T '" + dir + "'").ok().out().trim();
    }
}
