package io.vortexfs.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "completion", mixinStandardHelpOptions = true,
        description = {"Print a bash/zsh completion script for vortex.", "Use it with: source <(bin/vortex completion)"})
final class CompletionCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        System.out.print(AutoComplete.bash("vortex", spec.parent().commandLine()));
    }
}
