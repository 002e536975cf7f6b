package io.vortexfs.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code vortex} command. Usage errors print one line and exit 2; failures print one line and
 * exit 1; no command ever shows a user a stack trace (run with {@code VORTEX_DEBUG=1} to log them).
 */
@Command(name = "vortex",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "VortexFS: a distributed filesystem you mount as a drive.",
        subcommands = {
            UpCommand.class,
            NodeCommand.class,
            MountCommand.class,
            UmountCommand.class,
            StatusCommand.class,
            FsckCommand.class,
            BenchCommand.class,
            BenchTopologyCommand.class,
            FileCommands.Ls.class,
            FileCommands.Put.class,
            FileCommands.Get.class,
            FileCommands.Rm.class,
            TokenCommand.class,
            CompletionCommand.class,
            VersionCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;
    /** How the commands that look after a cluster (status, fsck, decommission) talk to it. */
    static final io.vortexfs.mount.client.ClientConfig ADMIN_CLIENT = new io.vortexfs.mount.client.ClientConfig(
            java.time.Duration.ofSeconds(10), java.time.Duration.ofSeconds(3), 16);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Read by {@link #run(String...)} before the command line is parsed; here for the help only. */
    @CommandLine.Option(names = "--config", paramLabel = "FILE", description = {
        "Defaults for any command's options (key = value, e.g. cluster = node1:7400, key-file = /etc/vortexfs/cluster.key, "
            + "mount.attr-timeout = 2s); flags win. Default: $VORTEX_CONFIG, else ~/.config/vortexfs/config.properties, "
            + "else /etc/vortexfs/vortex.properties. Must come before the command."})
    java.nio.file.Path config;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (see 'vortex --help')");
    }

    public static void main(String[] args) {
        Logging.configure(System.getenv("VORTEX_DEBUG") != null);
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        String named = null;
        if (args.length > 0 && (args[0].equals("--config") || args[0].startsWith("--config="))) {
            if (args[0].equals("--config") && args.length < 2) {
                cli.getErr().println("vortex: --config needs a FILE (see 'vortex --help')");
                return EXIT_USAGE;
            }
            int used = args[0].equals("--config") ? 2 : 1;
            named = used == 2 ? args[1] : args[0].substring("--config=".length());
            args = java.util.Arrays.copyOfRange(args, used, args.length);
        }
        try {
            ConfigFile config = ConfigFile.find(named);
            if (config != null) {
                config.checkKeys(cli.getCommandSpec());
                cli.setDefaultValueProvider(config);
            }
        } catch (UserError e) {
            cli.getErr().println("vortex: " + firstLine(e.getMessage()));
            return EXIT_FAILURE;
        }
        cli.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            String cmd = ex.getCommandLine().getCommandSpec().qualifiedName();
            err.println("vortex: " + firstLine(ex.getMessage()) + " (see '" + cmd + " --help')");
            return EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((ex, c, parsed) -> {
            PrintWriter err = c.getErr();
            if (ex instanceof UserError) {
                err.println("vortex: " + firstLine(ex.getMessage()));
            } else {
                org.slf4j.LoggerFactory.getLogger(Main.class).debug("command failed", ex);
                err.println("vortex: unexpected error: " + firstLine(String.valueOf(ex)));
            }
            return EXIT_FAILURE;
        });
        return cli.execute(args);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-SNAPSHOT" : v;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"vortex " + version() + " (Java " + System.getProperty("java.version") + ")"};
        }
    }
}
