package io.vortexfs.cli;

import picocli.CommandLine.Command;

@Command(name = "version", description = "Print the version.", mixinStandardHelpOptions = true)
final class VersionCommand implements Runnable {
    @Override
    public void run() {
        System.out.println("vortex " + Main.version());
    }
}
