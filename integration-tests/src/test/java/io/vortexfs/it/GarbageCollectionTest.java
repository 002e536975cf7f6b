package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Chunks that no file references any more are deleted, and only those: after overwrites and
 * deletes the nodes store what the remaining files need times R, and a file held open for longer
 * than the grace keeps every chunk it uploaded.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class GarbageCollectionTest extends ClusterTest {
    private static final long MIB = 1L << 20;

    @Test
    void overwrittenAndDeletedFilesGiveTheirSpaceBackAndNothingElse() throws Exception {
        int replicas = 2;
        // A grace of seconds instead of a day, and a mount that commits within one, so that passes
        // run many times during the test; the grace stays well above the mount's bound, as it must.
        cluster = new TestCluster(tmp, null, replicas).withNodeArgs("--gc-every=1s", "--gc-grace=4s");
        for (int i = 0; i < 3; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh("gc");
        cluster.mount(mp, "256m", "--commit-after=1s");
        StringBuilder write = new StringBuilder("set -e\n");
        for (int i = 0; i < 12; i++) {
            write.append("head -c ").append(3 + i % 4).append("M /dev/urandom > src-").append(i).append('\n')
                    .append("cp src-").append(i).append(" '").append(mp).append("/f").append(i).append("'\n");
        }
        Shell.run(write.toString(), tmp).ok();

        // Four overwritten with 2 MiB each, four deleted; a fifth written through one descriptor held
        // open across several passes, longer than the grace.
        StringBuilder change = new StringBuilder("set -e\n");
        for (int i = 0; i < 4; i++) {
            change.append("head -c 2M /dev/urandom > src-").append(i).append(" && cp src-").append(i).append(" '")
                    .append(mp).append("/f").append(i).append("'\n");
        }
        for (int i = 4; i < 8; i++) {
            change.append("rm '").append(mp).append("/f").append(i).append("' && rm src-").append(i).append('\n');
        }
        // One process, one descriptor: every close of a descriptor (a dup's too) makes the mount commit.
        change.append("head -c 16M /dev/urandom > held-a && head -c 5M /dev/urandom > held-b\n")
                .append("python3 -c 'import os, sys, time\n")
                .append("fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)\n")
                .append("os.write(fd, open(\"held-a\", \"rb\").read())\ntime.sleep(8)\n")
                .append("os.write(fd, open(\"held-b\", \"rb\").read())\nos.close(fd)' '").append(mp).append("/held'\n")
                .append("cat held-a held-b > src-held\n");
        Shell.run(change.toString(), tmp, Map.of(), 120).ok();

        long need = 0;
        for (int i = 0; i < 4; i++) {
            need += 2 * MIB;
        }
        for (int i = 8; i < 12; i++) {
            need += (3 + i % 4) * MIB;
        }
        need += 21 * MIB;
        long expected = replicas * need;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long stored;
        while (true) {
            stored = 0;
            for (int i = 0; i < cluster.size(); i++) {
                stored += cluster.node(i).chunkBytes();
            }
            if (stored == expected || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(500);
        }
        assertTrue(stored == expected, "the nodes store " + stored + " bytes; the remaining files need " + expected
                + " (" + need + " times " + replicas + ")");

        StringBuilder check = new StringBuilder("set -e\n");
        for (int i : new int[] {0, 1, 2, 3, 8, 9, 10, 11}) {
            check.append("cmp src-").append(i).append(" '").append(mp).append("/f").append(i).append("'\n");
        }
        check.append("cmp src-held '").append(mp).append("/held'\n");
        Shell.run(check.toString(), tmp).ok();
        // `vortex get` reads from the nodes, not from the mount's caches.
        Shell.exec(Vortex.java("256m", "get", "/held", tmp.resolve("held-back").toString(), "--cluster", cluster.seeds()),
                tmp, Map.of(), 120).ok();
        Shell.run("cmp src-held held-back", tmp).ok();

        String json = Shell.exec(Vortex.java("128m", "status", "--cluster", cluster.seeds(), "--json"), tmp, Map.of(), 60)
                .ok().out();
        assertTrue(json.matches("(?s).*\"reclaimed\":[1-9].*"), "`vortex status` shows what was reclaimed: " + json);
    }
}
