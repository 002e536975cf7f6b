package io.vortexfs.node.metadata;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MapDB hashes with xxHash from lz4-java, which unpacks its native library into java.io.tmpdir
 * and removes it only when the JVM exits normally. A node killed with SIGKILL, or by the OOM
 * killer, would leave its copy behind. Once the library is loaded, the mapping in this process
 * keeps it alive, so the file can go at once, as Netty does with the libraries it unpacks.
 */
final class UnpackedLibraries {
    private static final Logger LOG = LoggerFactory.getLogger(UnpackedLibraries.class);
    private static final String PREFIX = "liblz4-java-";

    private UnpackedLibraries() {
    }

    /** Makes MapDB load its hashing library, then removes the copies this process has mapped. */
    static void loadAndForget() {
        var loaded = org.mapdb.CC.HASH_FACTORY; // MapDB picks its xxHash, and so loads the library, when CC starts
        forget(Path.of("/proc/self/maps"), Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** Deletes the files under {@code tmpdir} named like lz4-java's copies that {@code maps} lists. */
    static void forget(Path maps, Path tmpdir) {
        List<String> lines;
        try {
            lines = Files.readAllLines(maps);
        } catch (IOException e) {
            return; // not Linux: the library removes its copy at a normal exit
        }
        Path dir = tmpdir.toAbsolutePath().normalize();
        lines.stream()
                .map(l -> l.indexOf('/') < 0 ? null : Path.of(l.substring(l.indexOf('/'))))
                .filter(p -> p != null && dir.equals(p.getParent()) && p.getFileName().toString().startsWith(PREFIX))
                .distinct()
                .forEach(p -> {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        LOG.debug("cannot remove the unpacked library {}: {}", p, e.toString());
                    }
                });
    }
}
