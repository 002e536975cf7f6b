package io.vortexfs.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real `vortex` jar as separate processes, the way users run it, and waits for the lines
 * it prints when ready. Every process is killed when the test ends.
 */
final class Vortex {
    static final Path JAR = Path.of(System.getProperty("vortex.jar", "../fs-cli/target/vortex.jar")).toAbsolutePath().normalize();
    static final Path HOME = Path.of(System.getProperty("vortex.home", "..")).toAbsolutePath().normalize();

    private static final java.util.Set<String> LONG_LIVED = java.util.Set.of("node", "mount", "up");

    private Vortex() {
    }

    static List<String> java(String heap, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        cmd.add("-XX:+UseSerialGC");
        if (args.length == 0 || !LONG_LIVED.contains(args[0])) {
            // A command that runs a moment starts faster on the first compiler alone; nodes and mounts
            // hash every byte they carry, which wants the optimising one (SHA-256 intrinsics).
            cmd.add("-XX:TieredStopAtLevel=1");
        }
        cmd.add("-jar");
        cmd.add(JAR.toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** A running vortex process whose stdout lines can be awaited; stderr goes to a log file. */
    static final class Proc implements AutoCloseable {
        final Process process;
        final Path log;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final List<String> seen = new ArrayList<>();

        Proc(List<String> cmd, Path log) throws IOException {
            this.log = log;
            Files.createDirectories(log.getParent());
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().remove("VORTEX_JAVA_OPTS");
            this.process = pb.start();
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // Process ended.
                }
            }, "it-stdout-" + process.pid());
            t.setDaemon(true);
            t.start();
        }

        /** Waits for a stdout line starting with {@code prefix} and returns it. */
        String awaitLine(String prefix, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line != null) {
                    seen.add(line);
                    if (line.startsWith(prefix)) {
                        return line;
                    }
                }
                if (!process.isAlive() && lines.isEmpty()) {
                    break;
                }
            }
            throw new AssertionError("no line '" + prefix + "' within " + seconds + " s; stdout " + seen
                    + "; log:\n" + logText());
        }

        String logText() {
            try {
                return Files.exists(log) ? Files.readString(log) : "(no log)";
            } catch (IOException e) {
                return "(unreadable log)";
            }
        }

        /** SIGKILL: the process gets no chance to clean up. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        /** SIGTERM, as Ctrl-C or systemd would stop it; returns the exit code. */
        int terminate(int seconds) throws InterruptedException {
            process.destroy();
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                throw new AssertionError("process " + process.pid() + " did not exit within " + seconds + " s after SIGTERM");
            }
            return process.exitValue();
        }

        @Override
        public void close() throws InterruptedException {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
