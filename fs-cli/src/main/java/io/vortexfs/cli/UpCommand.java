package io.vortexfs.cli;

import io.vortexfs.node.NodeConfig;
import io.vortexfs.protocol.rpc.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "up", mixinStandardHelpOptions = true,
        description = {"Start a local VortexFS cluster and mount it; Ctrl-C unmounts and stops it all.",
            "Data stays in the data directory, so the next `vortex up` finds every file again."})
final class UpCommand implements Runnable {
    /** Printed once the mount serves; scripts wait for this line. */
    static final String READY = "VORTEX-READY";

    @Option(names = "--mount", required = true, paramLabel = "DIR", description = "Where to mount (created if missing).")
    Path mountDir;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Where the nodes keep their data (default $XDG_DATA_HOME/vortexfs or ~/.local/share/vortexfs).")
    Path dataDir;

    @Option(names = "--host", paramLabel = "HOST", description = "Address the nodes listen on (default ${DEFAULT-VALUE}).")
    String host = NodeConfig.DEFAULT_HOST;

    @Option(names = "--port", paramLabel = "PORT", description = "Port of the node (0 picks a free one; default ${DEFAULT-VALUE}).")
    int port = NodeConfig.DEFAULT_PORT;

    @Option(names = "--node-heap", paramLabel = "SIZE", description = "Java heap of each node (default ${DEFAULT-VALUE}).")
    String nodeHeap = "512m";

    @Mixin
    MountOptions options;

    @Override
    public void run() {
        if (port < 0 || port > 65535) {
            throw new UserError("--port must be between 0 and 65535: " + port);
        }
        Path data = (dataDir != null ? dataDir : defaultDataDir()).toAbsolutePath().normalize();
        Path mp = mountDir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(mp);
        } catch (IOException e) {
            throw new UserError("cannot create mountpoint " + mp + ": " + e.getMessage());
        }
        Mounting.checkMountPoint(mp);

        List<NodeProcess> nodes = new ArrayList<>();
        Mounting mounting = null;
        Thread hook = null;
        try {
            NodeProcess node = NodeProcess.start(data.resolve("node-1"), host, port, nodeHeap);
            nodes.add(node);
            String address = node.awaitReady(Duration.ofSeconds(60));
            mounting = Mounting.start(List.of(HostPort.parse(address)), mp, options);
            Mounting m = mounting;
            hook = new Thread(() -> shutDown(m, nodes), "vortex-up-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            System.out.println("VortexFS is up.");
            System.out.println("  cluster  " + address + "  (1 node, data in " + data + ")");
            System.out.println("  mounted  " + mp);
            System.out.println("Try:  cp -r /etc/ssh " + mp + "/ && ls -l " + mp + "/ssh");
            System.out.println("Ctrl-C unmounts and stops the cluster; your files stay in " + data + ".");
            System.out.println(READY + " mount=" + mp + " cluster=" + address);
            System.out.flush();
            mounting.mount().awaitUnmounted();
        } catch (IOException e) {
            throw new UserError(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            // Reached when the mount was unmounted from outside, or when start-up failed.
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    return; // The hook is already running and does the work.
                }
            }
            shutDown(mounting, nodes);
        }
    }

    private static void shutDown(Mounting mounting, List<NodeProcess> nodes) {
        if (mounting != null) {
            mounting.close();
        }
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).stop();
        }
    }

    static Path defaultDataDir() {
        String xdg = System.getenv("XDG_DATA_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "share");
        return base.resolve("vortexfs");
    }
}
