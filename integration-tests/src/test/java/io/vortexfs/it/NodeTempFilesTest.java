package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node unpacks a native library (xxHash, for its metadata store) into the JVM's temporary
 * directory. Nodes get killed: by tests, by the OOM killer, by operators. Each kill used to leave
 * its copy behind for good, thousands of them in a busy week. Now a node removes its copy as soon
 * as the library is loaded, and removes copies more than an hour old that others left.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class NodeTempFilesTest {
    @TempDir
    Path tmp;

    @Test
    void nodesLeaveNoNativeLibraryInTheTemporaryDirectoryAndRemoveOldOnes() throws Exception {
        Path javaTmp = Files.createDirectories(tmp.resolve("java-tmp"));
        Instant twoHoursAgo = Instant.now().minus(Duration.ofHours(2));
        Path stale = old(javaTmp.resolve("liblz4-java-1234.so"), twoHoursAgo);
        Path staleLock = old(javaTmp.resolve("liblz4-java-1234.so.lck"), twoHoursAgo);
        Path unrelated = old(javaTmp.resolve("libother-1234.so"), twoHoursAgo);

        try (Vortex.Proc killed = node(javaTmp, "killed")) {
            killed.kill();
        }
        assertFalse(Files.exists(stale), "an hour-old copy was left");
        assertFalse(Files.exists(staleLock), "an hour-old lock was left");
        assertTrue(Files.exists(unrelated), "another program's file was removed");
        assertEquals(List.of(), libraries(javaTmp), "the killed node's own copy");

        try (Vortex.Proc stopped = node(javaTmp, "stopped")) {
            assertEquals(List.of(), libraries(javaTmp), "a running node's copy");
            stopped.terminate(30);
            assertTrue(stopped.logText().matches("(?s).*node \\S+ stopped\\R.*"), stopped.logText());
        }
        assertEquals(List.of(), libraries(javaTmp), "the stopped node's copy");
    }

    private Vortex.Proc node(Path javaTmp, String name) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(Vortex.java("128m", "node", "--data", tmp.resolve(name).toString(),
                "--port", "0"));
        cmd.add(1, "-Djava.io.tmpdir=" + javaTmp);
        // Not a copy installed on the host (Debian's liblz4-jni): the one the node unpacks.
        cmd.add(1, "-Djava.library.path=" + Files.createDirectories(tmp.resolve("no-libraries")));
        Vortex.Proc node = new Vortex.Proc(cmd, tmp.resolve(name + ".log"));
        node.awaitLine(TestCluster.NODE_READY, 60);
        return node;
    }

    private static Path old(Path file, Instant when) throws IOException {
        Files.writeString(file, "left by a node killed long ago");
        Files.setLastModifiedTime(file, FileTime.from(when));
        return file;
    }

    private static List<Path> libraries(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("liblz4-java")).sorted().toList();
        }
    }
}
