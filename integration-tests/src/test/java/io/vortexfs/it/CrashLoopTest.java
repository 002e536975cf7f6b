package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A writer copies files through the mount and fsyncs each one, while the node is killed with SIGKILL
 * at random moments, 12 times. After every restart each file whose fsync returned must be intact,
 * and at the end `vortex fsck` must find the cluster consistent.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class CrashLoopTest extends MountedNodeTest {
    /** Requests to the dead node fail fast, so the writer notices the kill at once. */
    @Override
    String[] mountFlags() {
        return new String[] {"--timeout", "5s"};
    }

    /**
     * A shell loop that writes {@code count} random files (1 KiB to 9 MiB: several chunks, partial
     * chunks, one-chunk files) to the mount with {@code dd conv=fsync}, and lists each whose fsync
     * returned in {@code manifest}. On the first failure it exits with {@code exitOnFailure}.
     */
    static String fsyncingWriter(String prefix, int count, Path local, Path mp, Path manifest, int exitOnFailure) {
        return "for i in $(seq 1 " + count + "); do n=" + prefix + "$i; "
                + "head -c $(( (RANDOM * 32768 + RANDOM) % 9437184 + 1024 )) /dev/urandom > '" + local + "'/$n "
                + "|| exit " + exitOnFailure + "; "
                + "dd if='" + local + "'/$n of='" + mp + "'/$n bs=128k conv=fsync status=none || exit " + exitOnFailure + "; "
                + "echo $n >> '" + manifest + "'; done";
    }

    @Test
    void everyFsyncedFileSurvivesTwelveKillsOfTheNode() throws Exception {
        TestCluster.Node node = cluster.node(0);
        Path local = Files.createDirectories(tmp.resolve("local"));
        Path manifest = tmp.resolve("manifest");
        Files.createFile(manifest);
        Random rnd = new Random(20261122);
        int verified = 0;

        for (int round = 0; round < 12; round++) {
            String writer = fsyncingWriter("r" + round + "f", 1000, local, mp, manifest, 0);
            Process w = new ProcessBuilder("bash", "-c", writer).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            Thread.sleep(300 + rnd.nextInt(1500));
            node.kill();
            if (!w.waitFor(60, TimeUnit.SECONDS)) {
                w.destroyForcibly();
                throw new AssertionError("the writer hung after the node died (round " + round + ")");
            }
            node.restart();

            List<String> acknowledged = Files.readAllLines(manifest);
            for (String name : acknowledged) {
                Shell.run("cmp '" + local + "/" + name + "' '" + mp + "/" + name + "'").ok();
            }
            verified = acknowledged.size();
        }
        assertTrue(verified >= 12, "the writer got too few files through: " + verified);

        Shell.Result fsck = Shell.exec(Vortex.java("128m", "fsck", "--cluster", cluster.seeds()), null, Map.of(), 120);
        assertEquals(0, fsck.exit(), "fsck: " + fsck.out() + fsck.err());
        assertTrue(fsck.out().contains("consistent"), fsck.out());
    }
}
