package io.vortexfs.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A node run as a child process of `vortex up`: its own JVM, its log in {@code DATA/node.log}, tied
 * to this process so it exits when we do.
 */
final class NodeProcess {
    private final Process process;
    private final Path log;
    private final CompletableFuture<String> ready = new CompletableFuture<>();
    /** HOST:PORT of the node's status page, once it serves one. */
    private volatile String http;

    private NodeProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts a node; {@code clusterArgs} are further `vortex node` options (--join, --topology, ...). */
    static NodeProcess start(Path dataDir, String host, int port, String heap, List<String> clusterArgs) throws IOException {
        Files.createDirectories(dataDir);
        Path log = dataDir.resolve("node.log");
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.add("-Xmx" + heap);
        cmd.add("-XX:MaxDirectMemorySize=" + heap);
        cmd.add("-XX:+UseG1GC");
        cmd.add("-cp");
        cmd.add(ownJar());
        cmd.add(Main.class.getName());
        cmd.add("node");
        cmd.add("--data=" + dataDir);
        cmd.add("--host=" + host);
        cmd.add("--port=" + port);
        cmd.add("--parent-pid=" + ProcessHandle.current().pid());
        cmd.addAll(clusterArgs);
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        NodeProcess np = new NodeProcess(p, log);
        Thread reader = new Thread(np::readStdout, "vortex-node-stdout-" + p.pid());
        reader.setDaemon(true);
        reader.start();
        return np;
    }

    private void readStdout() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith(NodeCommand.READY + " ")) {
                    for (String field : line.split(" ")) {
                        if (field.startsWith("http=")) {
                            http = field.substring("http=".length());
                        }
                    }
                    ready.complete(line.split(" ")[1]);
                }
            }
        } catch (IOException e) {
            // The process went away; readiness below reports it.
        }
        ready.complete(null);
    }

    /** Waits until the node serves, returning its HOST:PORT; the message says why it did not. */
    String awaitReady(Duration timeout) {
        try {
            String address = ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (address != null) {
                return address;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // Timed out: fall through to the report.
        }
        stop();
        throw new UserError("node in " + log.getParent() + " did not start: " + lastLogLine());
    }

    /** HOST:PORT of the node's status page; null when it serves none (or is not ready). */
    String http() {
        return http;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** SIGKILL: the node gets no chance to say goodbye. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, then SIGKILL if the node has not stopped within 10 s. */
    void stop() {
        askToStop();
        awaitStop();
    }

    /** SIGTERM, without waiting: {@link #awaitStop} waits. */
    void askToStop() {
        if (process.isAlive()) {
            process.destroy();
        }
    }

    /** Waits up to 10 s for a node asked to stop, then SIGKILLs it. */
    void awaitStop() {
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private String lastLogLine() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--) {
                String l = lines.get(i).trim();
                if (!l.isEmpty()) {
                    return l.startsWith("vortex: ") ? l.substring(8) : l;
                }
            }
        } catch (IOException e) {
            return "no log at " + log;
        }
        return "it exited without a word (see " + log + ")";
    }

    static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    static String ownJar() {
        try {
            return Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (Exception e) {
            throw new UserError("cannot locate the vortex jar: " + e.getMessage());
        }
    }
}
