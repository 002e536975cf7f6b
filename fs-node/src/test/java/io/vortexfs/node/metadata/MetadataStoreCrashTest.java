package io.vortexfs.node.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.Request;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store in another JVM takes changes from several threads and checkpoints every few
 * milliseconds, and is killed with SIGKILL at random moments. After every kill the store must open,
 * hold every change that was acknowledged, and pass its own check.
 */
class MetadataStoreCrashTest {
    private static final int THREADS = 16;
    private static final int KILLS = 12;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void everyAcknowledgedChangeSurvivesKillsDuringCheckpoints() throws Exception {
        Random random = new Random(20261124);
        List<Map<Integer, Integer>> rounds = new java.util.ArrayList<>();
        for (int round = 0; round < KILLS; round++) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-cp", System.getProperty("java.class.path"), Writer.class.getName(), dir.toString(),
                    Integer.toString(round)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Map<Integer, Integer> thisRound = new HashMap<>();
            long killAfterMs = 300 + random.nextInt(900);
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                assertEquals("open", out.readLine(), "the writer did not open the store in round " + round);
                // Killed from another thread, so a writer that stops printing cannot hold up the reading.
                // ProcessHandle's kill leaves this end of the pipe open; Process.destroyForcibly would close it.
                CompletableFuture.delayedExecutor(killAfterMs, TimeUnit.MILLISECONDS)
                        .execute(() -> child.toHandle().destroyForcibly());
                for (String line; (line = out.readLine()) != null; ) {
                    // The last line may be cut short by the kill: a shorter number, or none.
                    if (line.matches("[0-9]+ [0-9]+")) {
                        String[] f = line.split(" ");
                        thisRound.merge(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Math::max);
                    }
                }
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            } finally {
                child.toHandle().destroyForcibly();
            }
            assertEquals(128 + 9, child.exitValue(), "the writer ended before it was killed in round " + round);
            assertEquals(THREADS, thisRound.size(), "every writer thread got a change through in round " + round);

            try (MetadataStore store = MetadataStore.open(dir, Clock.systemUTC())) {
                Set<String> names = new HashSet<>();
                for (DirEntry e : store.readDir(MetadataStore.ROOT)) {
                    names.add(e.name());
                }
                rounds.add(thisRound);
                for (int r = 0; r < rounds.size(); r++) {
                    for (Map.Entry<Integer, Integer> t : rounds.get(r).entrySet()) {
                        for (int n = 0; n <= t.getValue(); n++) {
                            String name = Writer.name(r, t.getKey(), n);
                            boolean removedBefore = Writer.removes(n + 2) && n + 2 <= t.getValue();
                            boolean mayBeRemoved = Writer.removes(n + 2) && n + 2 == t.getValue() + 1;
                            if (Writer.removes(n) || mayBeRemoved) {
                                continue;
                            }
                            assertEquals(!removedBefore, names.contains(name), name + " after kill " + round);
                        }
                    }
                }
                List<String> problems = store.check(p -> true, p -> true).problems();
                assertEquals(List.of(), problems, "after kill " + round);
            } catch (java.io.IOException e) {
                fail("the store did not open after kill " + round + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * The store's writer: {@value #THREADS} threads, each making files {@code r<round>t<thread>n<n>}
     * in the root and removing every fourth one it made two steps before, printing
     * {@code <thread> <n>} once change {@code n} is acknowledged; and a checkpoint every 20 ms.
     */
    public static final class Writer {
        static String name(int round, int thread, int n) {
            return "r" + round + "t" + thread + "n" + n;
        }

        /** Whether change {@code n} of a thread removes the file of its change {@code n - 2}. */
        static boolean removes(int n) {
            return n % 4 == 3;
        }

        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            int round = Integer.parseInt(args[1]);
            PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
            MetadataStore store = MetadataStore.open(dir, Clock.systemUTC());
            out.println("open");
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                Thread w = new Thread(() -> {
                    try {
                        for (int n = 0; ; n++) {
                            if (removes(n)) {
                                store.remove(MetadataStore.ROOT, name(round, thread, n - 2), false);
                            } else {
                                store.makeNode(new Request.MakeNode(MetadataStore.ROOT, name(round, thread, n),
                                        FileType.S_IFREG | 0644, 0, 0, null, 4096));
                            }
                            synchronized (out) {
                                out.println(thread + " " + n);
                            }
                        }
                    } catch (Throwable e) {
                        e.printStackTrace();
                        System.exit(2);
                    }
                });
                w.start();
            }
            try {
                while (true) {
                    Thread.sleep(20);
                    store.checkpoint();
                }
            } catch (Throwable e) {
                e.printStackTrace();
                System.exit(3);
            }
        }
    }
}
