package io.vortexfs.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Defaults for the options of every command from a properties file, so that a cluster's address or
 * key file need not be typed each time. A flag on the command line always wins over the file.
 *
 * <p>Keys are an option's long name without its dashes ({@code cluster}, {@code key-file}), which
 * serves every command that has the option, or the same after the command's name ({@code
 * mount.attr-timeout}, {@code node.decommission.timeout}), which serves that command only and wins.
 * A key that names no option of any command is an error, so a typo does not go unnoticed.
 *
 * <p>The file is the one {@code vortex --config FILE} names, else {@code $VORTEX_CONFIG}, else
 * {@code $XDG_CONFIG_HOME/vortexfs/config.properties} (normally {@code ~/.config/...}), else
 * {@code /etc/vortexfs/vortex.properties}. A named file must exist; the usual places may be empty.
 */
final class ConfigFile implements CommandLine.IDefaultValueProvider {
    private final Path file;
    private final Properties settings;

    private ConfigFile(Path file, Properties settings) {
        this.file = file;
        this.settings = settings;
    }

    /** The file {@code named} (null: look in the usual places), or null when there is none. */
    static ConfigFile find(String named) {
        if (named != null) {
            return load(Path.of(named), true);
        }
        String env = System.getenv("VORTEX_CONFIG");
        if (env != null && !env.isBlank()) {
            return load(Path.of(env), true);
        }
        String xdg = System.getenv("XDG_CONFIG_HOME");
        Path user = (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config"))
                .resolve("vortexfs").resolve("config.properties");
        ConfigFile found = load(user, false);
        return found != null ? found : load(Path.of("/etc/vortexfs/vortex.properties"), false);
    }

    private static ConfigFile load(Path file, boolean mustExist) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (NoSuchFileException e) {
            if (mustExist) {
                throw new UserError("no config file " + file);
            }
            return null;
        } catch (IOException | IllegalArgumentException e) {
            throw new UserError("cannot read config file " + file + ": " + e.getMessage());
        }
        return new ConfigFile(file, p);
    }

    /** Refuses a key that names no option of {@code root} or of any command under it. */
    void checkKeys(CommandSpec root) {
        Set<String> known = new HashSet<>();
        collect(root, known);
        for (String key : settings.stringPropertyNames()) {
            if (!known.contains(key)) {
                throw new UserError("config file " + file + ": '" + key + "' is no option of any command");
            }
        }
    }

    private static void collect(CommandSpec spec, Set<String> known) {
        for (OptionSpec o : spec.options()) {
            if (o.usageHelp() || o.versionHelp()) {
                continue;
            }
            String name = name(o);
            known.add(name);
            known.add(prefix(spec) + name);
        }
        for (CommandLine sub : spec.subcommands().values()) {
            collect(sub.getCommandSpec(), known);
        }
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o) || o.usageHelp() || o.versionHelp()) {
            return null;
        }
        String name = name(o);
        String v = settings.getProperty(prefix(o.command()) + name);
        return v != null ? v : settings.getProperty(name);
    }

    private static String name(OptionSpec o) {
        return o.longestName().replaceFirst("^-+", "");
    }

    /** "mount." for `vortex mount`, "node.decommission." for `vortex node decommission`, "" for `vortex`. */
    private static String prefix(CommandSpec spec) {
        String q = spec.qualifiedName(".");
        int dot = q.indexOf('.');
        return dot < 0 ? "" : q.substring(dot + 1) + ".";
    }
}
