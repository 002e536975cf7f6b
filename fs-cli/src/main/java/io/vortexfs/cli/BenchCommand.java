package io.vortexfs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code vortex bench}: the benchmark of a checkout, {@code bench/run}, which needs fio, bindfs and a
 * shell as much as the jar: this command finds it beside the launcher (bin/vortex tells where) and
 * hands it the arguments. See docs/BENCHMARKS.md for what it measures.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmark VortexFS against the local disk and a plain FUSE passthrough in the same run "
                + "(runs bench/run of the checkout; see docs/BENCHMARKS.md).",
            "Options: [--size 1G] [--files 10000] [--seconds 10] [--dir DIR] [--replicas 3] [--tls] [--encrypt]"})
final class BenchCommand implements Runnable {
    /** Everything after `bench`, options included, is bench/run's. */
    @Unmatched
    List<String> options = new ArrayList<>();

    @Override
    public void run() {
        String home = System.getProperty("vortex.home");
        Path script = home == null ? null : Path.of(home, "bench", "run");
        if (script == null || !Files.isRegularFile(script)) {
            throw new UserError("vortex bench runs bench/run from a VortexFS checkout: run bin/vortex bench there");
        }
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString()));
        cmd.addAll(options);
        try {
            Process p = new ProcessBuilder(cmd).inheritIO().start();
            int exit = p.waitFor();
            if (exit != 0) {
                throw new UserError("bench/run failed (exit " + exit + ")");
            }
        } catch (IOException e) {
            throw new UserError("cannot run " + script + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted");
        }
    }
}
