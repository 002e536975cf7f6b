package io.vortexfs.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Unique mountpoints for tests, and clean-up of stale ones a killed test may have left. Some tests
 * keep their cluster's data beside the mountpoint, so each directory handed out is removed when
 * the test JVM exits, and directories an earlier, killed run left behind are removed once they are
 * older than any run and nothing is mounted in them.
 */
final class Mounts {
    static final Path ROOT = Path.of("/tmp/vortex-it");

    /** Older than any suite runs, so a directory this old has no test left to use it. */
    private static final Duration ABANDONED = Duration.ofHours(2);

    private static final List<Path> HANDED_OUT = new ArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            synchronized (HANDED_OUT) {
                for (Path dir : HANDED_OUT) {
                    unmountUnder(dir);
                    deleteUnlessMounted(dir);
                }
            }
        }, "remove-test-mountpoints"));
        removeAbandoned();
    }

    private Mounts() {
    }

    /** A fresh, empty directory to mount on, unique to this test. */
    static Path fresh(String testName) throws IOException {
        clearStale();
        Path mp = ROOT.resolve(testName + "-" + UUID.randomUUID().toString().substring(0, 8));
        Files.createDirectories(mp);
        synchronized (HANDED_OUT) {
            HANDED_OUT.add(mp);
        }
        return mp;
    }

    private static void removeAbandoned() {
        Instant before = Instant.now().minus(ABANDONED);
        try (Stream<Path> dirs = Files.list(ROOT)) {
            // Anything mounted is left alone, unread: its daemon may belong to a run still going.
            dirs.filter(d -> mountedUnder(d).isEmpty() && modifiedBefore(d, before)).forEach(Mounts::deleteUnlessMounted);
        } catch (IOException e) {
            // No root yet, or unreadable: nothing of ours to remove.
        }
    }

    private static boolean modifiedBefore(Path p, Instant when) {
        try {
            return Files.getLastModifiedTime(p).compareTo(FileTime.from(when)) < 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes the tree at {@code dir} as far as it can, unless something is mounted in it. */
    private static void deleteUnlessMounted(Path dir) {
        if (!mountedUnder(dir).isEmpty() || !Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    file.toFile().delete();
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) {
                    d.toFile().delete();
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // Best effort: what stays is removed by a later run once it is old.
        }
    }

    /** Lazily unmounts every mount under the test root: a SIGKILLed mount leaves one behind. */
    static void clearStale() {
        unmountUnder(ROOT);
    }

    private static void unmountUnder(Path root) {
        for (String mp : mountedUnder(root)) {
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
                if (f.length > 1 && (f[1].equals(root.toString()) || f[1].startsWith(root + "/"))) {
                    out.add(f[1]);
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read /proc/self/mounts", e);
        }
        return out;
    }
}
