package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets one line on stderr and a non-zero exit code, never a stack trace. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class CliErrorsTest {
    @TempDir
    Path tmp;

    private static Shell.Result vortex(String... args) {
        return Shell.exec(Vortex.java("128m", args), null, Map.of(), 60);
    }

    private static void assertOneLineError(Shell.Result r, String mustContain) {
        assertNotEquals(0, r.exit(), "exit code");
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), "stderr must be one line, was:\n" + r.err());
        assertTrue(lines.get(0).startsWith("vortex: "), lines.get(0));
        assertTrue(lines.get(0).contains(mustContain), lines.get(0));
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
    }

    @Test
    void unknownFlagIsAUsageError() {
        Shell.Result r = vortex("mount", tmp.toString(), "--cluster", "127.0.0.1:1", "--frobnicate");
        assertOneLineError(r, "--frobnicate");
        assertEquals(2, r.exit());
    }

    @Test
    void unknownCommandIsAUsageError() {
        Shell.Result r = vortex("explode");
        assertOneLineError(r, "explode");
        assertEquals(2, r.exit());
    }

    @Test
    void unreachableClusterIsReported() throws Exception {
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Shell.Result r = vortex("mount", tmp.toString(), "--cluster", "127.0.0.1:" + port);
        assertOneLineError(r, "cannot reach the cluster");
        assertEquals(1, r.exit());
    }

    @Test
    void missingMountpointIsReported() {
        Shell.Result r = vortex("mount", tmp.resolve("nope").toString(), "--cluster", "127.0.0.1:7400");
        assertOneLineError(r, "does not exist");
    }

    @Test
    void malformedAddressIsAUsageError() {
        Shell.Result r = vortex("status", "--cluster", "localhost");
        assertOneLineError(r, "HOST:PORT");
        assertEquals(2, r.exit());
    }

    @Test
    void badChunkSizeIsReported() {
        Shell.Result r = vortex("mount", tmp.toString(), "--cluster", "127.0.0.1:7400", "--chunk-size", "1k");
        assertOneLineError(r, "chunk-size");
    }

    @Test
    void nodeOnABusyPortIsReported() throws Exception {
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            Shell.Result r = vortex("node", "--data", tmp.resolve("d").toString(), "--port", Integer.toString(s.getLocalPort()));
            List<String> vortexLines = r.err().lines().filter(l -> l.startsWith("vortex: ")).toList();
            assertNotEquals(0, r.exit());
            assertEquals(1, vortexLines.size(), r.err());
            assertTrue(vortexLines.get(0).contains("cannot listen"), vortexLines.get(0));
            assertFalse(r.err().contains("\tat "), r.err());
        }
    }

    @Test
    void dotDotInAClusterPathIsRefusedBeforeAnythingIsTouched() throws Exception {
        java.nio.file.Files.createDirectories(tmp.resolve("out"));
        for (String[] args : List.of(new String[] {"get", "/docs/..", tmp.resolve("out").toString()},
                new String[] {"put", "/etc/hostname", "../../escape"}, new String[] {"ls", "/a/./b"},
                new String[] {"rm", "-r", "/.."})) {
            List<String> all = new java.util.ArrayList<>(List.of(args));
            all.addAll(List.of("--cluster", "127.0.0.1:1"));
            Shell.Result r = vortex(all.toArray(String[]::new));
            assertOneLineError(r, "may not contain . or ..");
            assertEquals(1, r.exit());
        }
        assertEquals(List.of(), java.nio.file.Files.list(tmp.resolve("out")).toList(), "nothing was written");
    }
}
