package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** `vortex up` through the launcher script: starts, serves, and on a signal leaves nothing behind. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class UpTest {
    @TempDir
    Path tmp;

    private Vortex.Proc up(Path mp, Path data) throws Exception {
        Vortex.Proc p = new Vortex.Proc(List.of(Vortex.HOME.resolve("bin/vortex").toString(), "up", "--mount", mp.toString(),
                "--data", data.toString(), "--port", "0"), tmp.resolve("up.log"));
        p.awaitLine("VORTEX-READY", 120);
        return p;
    }

    @Test
    void upServesAMountAndStopsCleanlyOnInterruptAndTerminate() throws Exception {
        Path mp = Mounts.fresh("up").resolve("drive");
        Path data = tmp.resolve("data");
        try (Vortex.Proc first = up(mp, data)) {
            assertTrue(Mounts.isMounted(mp));
            Shell.run("head -c 5M /dev/urandom > f.bin && cp f.bin '" + mp + "/f.bin' && cmp f.bin '" + mp + "/f.bin'", tmp).ok();
            List<ProcessHandle> children = first.process.descendants().toList();
            assertFalse(children.isEmpty(), "up runs its node as a child process");

            Shell.run("kill -INT " + first.process.pid()).ok();
            assertTrue(first.process.waitFor(60, TimeUnit.SECONDS), "up did not exit after SIGINT");
            assertFalse(Mounts.isMounted(mp), "SIGINT left the mount behind");
            for (ProcessHandle c : children) {
                assertTrue(c.onExit().get(20, TimeUnit.SECONDS) != null && !c.isAlive(), "node " + c.pid() + " outlived up");
            }
        }

        try (Vortex.Proc second = up(mp, data)) {
            Shell.run("cmp f.bin '" + mp + "/f.bin'", tmp).ok();
            second.terminate(60);
            assertFalse(Mounts.isMounted(mp), "SIGTERM left the mount behind");
        }
        assertTrue(Files.isDirectory(data.resolve("node-1")));
    }
}
