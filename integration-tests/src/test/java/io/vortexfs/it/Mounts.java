package io.vortexfs.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Unique mountpoints for tests, and clean-up of stale ones a killed test may have left. */
final class Mounts {
    static final Path ROOT = Path.of("/tmp/vortex-it");

    private Mounts() {
    }

    /** A fresh, empty directory to mount on, unique to this test. */
    static Path fresh(String testName) throws IOException {
        clearStale();
        Path mp = ROOT.resolve(testName + "-" + UUID.randomUUID().toString().substring(0, 8));
        Files.createDirectories(mp);
        return mp;
    }

    /** Lazily unmounts every mount under the test root: a SIGKILLed mount leaves one behind. */
    static void clearStale() {
        for (String mp : mountedUnder(ROOT)) {
            Shell.run("umount -l '" + mp + "' 2>/dev/null || fusermount -u -z '" + mp + "' 2>/dev/null || true");
        }
    }

    static boolean isMounted(Path p) {
        return mountedUnder(p).contains(p.toAbsolutePath().normalize().toString());
    }

    static List<String> mountedUnder(Path root) {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length > 1 && f[1].startsWith(root.toString())) {
                    out.add(f[1]);
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read /proc/self/mounts", e);
        }
        return out;
    }
}
