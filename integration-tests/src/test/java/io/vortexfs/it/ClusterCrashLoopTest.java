package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The crash loop on three nodes: a writer copies files through the mount and fsyncs each one while
 * a node, picked at random, is killed with SIGKILL and restarted, six times. With two of three
 * alive the writer never stops; every file whose fsync returned must be intact, and `vortex fsck`
 * must find every node consistent at the end. Beside the writer, a second process makes, moves and
 * removes directories — operations that span metadata partitions — so that kills land in the
 * middle of them; their plans must all be finished by the next coordinators, leaving no orphan, no
 * wrong link count and no open plan for fsck to find.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class ClusterCrashLoopTest extends MountedNodeTest {
    @Override
    Layout layout() {
        return Layout.THREE_ALL_TO_ALL;
    }

    @Test
    void everyFsyncedFileSurvivesSixKillsOfRandomNodes() throws Exception {
        Path local = Files.createDirectories(tmp.resolve("local"));
        Path manifest = tmp.resolve("manifest");
        Files.createFile(manifest);
        Random rnd = new Random(20261123);
        for (int round = 0; round < 6; round++) {
            String writer = CrashLoopTest.fsyncingWriter("r" + round + "f", 12, local, mp, manifest, 1);
            Process w = new ProcessBuilder("bash", "-c", writer).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("writer-" + round + ".log").toFile()).start();
            // A namespace operation caught by the kill may fail (EIO, like NFS); the churner goes on.
            String r = "\"" + mp + "/ns/r" + round;
            Process churn = new ProcessBuilder("bash", "-c", "mkdir -p '" + mp + "/ns'; for i in $(seq 1 25); do "
                    + "mkdir -p " + r + "_$i/x\" " + r + "_$i/y\"; echo $i > " + r + "_$i/x/f\"; "
                    + "mv " + r + "_$i/x\" " + r + "_$i/y/x2\"; mv " + r + "_$i/y/x2/f\" " + r + "_$i/f2\"; "
                    + "ln " + r + "_$i/f2\" " + r + "_$i/y/f3\"; rm -rf " + r + "_$((i - 1))\"; done; true")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            Thread.sleep(300 + rnd.nextInt(1500));
            TestCluster.Node victim = cluster.node(rnd.nextInt(3));
            victim.kill();
            assertTrue(w.waitFor(120, TimeUnit.SECONDS), "the writer hung after a node died (round " + round + ")");
            assertEquals(0, w.exitValue(), "with two of three nodes alive every write must succeed (round " + round
                    + "): " + Files.readString(tmp.resolve("writer-" + round + ".log")));
            assertTrue(churn.waitFor(120, TimeUnit.SECONDS), "namespace operations hung after a node died (round " + round + ")");
            victim.restart();
            for (String name : Files.readAllLines(manifest)) {
                Shell.run("cmp '" + local + "/" + name + "' '" + mp + "/" + name + "'").ok();
            }
        }
        assertEquals(6 * 12, Files.readAllLines(manifest).size());
        // The node restarted last may still be receiving the chunks it missed; fsck is clean once it has.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Shell.Result fsck;
        do {
            Thread.sleep(500);
            fsck = Shell.exec(Vortex.java("128m", "fsck", "--cluster", cluster.seeds()), null, Map.of(), 120);
        } while (fsck.exit() != 0 && System.nanoTime() < deadline);
        assertEquals(0, fsck.exit(), "fsck: " + fsck.out() + fsck.err());
        assertTrue(fsck.out().contains("consistent"), fsck.out());
        assertEquals(3, fsck.out().lines().filter(l -> l.startsWith("node ")).count(), "every node checked: " + fsck.out());
    }
}
