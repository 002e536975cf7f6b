package io.vortexfs.cli;

import io.vortexfs.node.NodeConfig;
import io.vortexfs.protocol.Topology;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.rpc.ClusterKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "up", mixinStandardHelpOptions = true,
        description = {"Start a local VortexFS cluster of separate node processes and mount it; Ctrl-C unmounts and "
                + "stops it all.",
            "Data stays in the data directory (node-1, node-2, ... under it), so the next `vortex up` finds every file again."})
final class UpCommand implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(UpCommand.class);
    /** Printed once the mount serves; scripts wait for this line. */
    static final String READY = "VORTEX-READY";
    static final int DEFAULT_HTTP_PORT = 7480;

    @Option(names = "--mount", required = true, paramLabel = "DIR", description = "Where to mount (created if missing).")
    Path mountDir;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Where the nodes keep their data (default $XDG_DATA_HOME/vortexfs or ~/.local/share/vortexfs).")
    Path dataDir;

    @Option(names = "--host", paramLabel = "HOST", description = "Address the nodes listen on (default ${DEFAULT-VALUE}).")
    String host = NodeConfig.DEFAULT_HOST;

    @Option(names = "--port", paramLabel = "PORT",
            description = "Port of the first node; the others take the next ones (0 picks free ports; default ${DEFAULT-VALUE}).")
    int port = NodeConfig.DEFAULT_PORT;

    @Option(names = "--http-port", paramLabel = "PORT",
            description = {"Port of the first node's status page and metrics; the others take the next ones "
                    + "(0 picks free ports, -1 serves none; default 7480, or 0 with --port 0)."})
    Integer httpPort;

    @Option(names = "--nodes", paramLabel = "N", description = "Nodes to start (default ${DEFAULT-VALUE}).")
    int nodeCount = 3;

    @Option(names = "--replicas", paramLabel = "R", description = "Copies of everything, capped by --nodes (default ${DEFAULT-VALUE}).")
    int replicas = 3;

    @Option(names = "--topology", paramLabel = "ring|all-to-all", description = "How the nodes talk (default ${DEFAULT-VALUE}).")
    String topology = "all-to-all";

    @Option(names = "--encrypt", description = "Encrypt chunks and metadata on the nodes' disks (AES-256-GCM under the "
            + "cluster key); fixed when the cluster is first started.")
    boolean encrypt;

    @Option(names = "--node-heap", paramLabel = "SIZE", description = "Java heap of each node (default ${DEFAULT-VALUE}).")
    String nodeHeap = "512m";

    @Mixin
    MountOptions options;

    @Override
    public void run() {
        if (port < 0 || port + Math.max(0, nodeCount - 1) > 65535) {
            throw new UserError("--port must be between 0 and 65535: " + port);
        }
        int web = httpPort != null ? httpPort : port == 0 ? 0 : DEFAULT_HTTP_PORT;
        if (web < -1 || web + Math.max(0, nodeCount - 1) > 65535) {
            throw new UserError("--http-port must be between -1 and 65535: " + web);
        }
        if (nodeCount < 1 || nodeCount > 64) {
            throw new UserError("--nodes must be between 1 and 64: " + nodeCount);
        }
        if (replicas < 1) {
            throw new UserError("--replicas must be at least 1: " + replicas);
        }
        try {
            Topology.parse(topology);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        Path data = (dataDir != null ? dataDir : defaultDataDir()).toAbsolutePath().normalize();
        Path mp = mountDir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(mp);
        } catch (IOException e) {
            throw new UserError("cannot create mountpoint " + mp + ": " + e.getMessage());
        }
        Mounting.checkMountPoint(mp);

        // Only holders of the key may talk to the cluster; the mount and the CLI prove it too.
        if (options.key.keyFile == null) {
            options.key.keyFile = data.resolve(ClusterKey.FILE);
            try {
                ClusterKey.loadOrCreate(options.key.keyFile);
            } catch (IOException e) {
                throw new UserError("cannot create the cluster key " + options.key.keyFile + ": " + e.getMessage());
            }
        }
        Path keyFile = options.key.keyFile.toAbsolutePath().normalize();
        List<NodeProcess> nodes = new ArrayList<>();
        Mounting mounting = null;
        Thread hook = null;
        try {
            List<HostPort> addresses = startNodes(data, keyFile, nodes, web);
            String address = addresses.get(0).toString();
            mounting = Mounting.start(addresses, mp, options);
            Mounting m = mounting;
            hook = new Thread(() -> shutDown(m, nodes), "vortex-up-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            System.out.println("VortexFS is up.");
            System.out.println("  cluster  " + address + "  (" + nodeCount + (nodeCount == 1 ? " node" : " nodes")
                    + ", " + Math.min(replicas, nodeCount) + (Math.min(replicas, nodeCount) == 1 ? " copy" : " copies")
                    + " of everything, topology " + topology + (encrypt ? ", encrypted at rest" : "") + ", data in "
                    + data + ")");
            System.out.println("  key      " + keyFile + "  (every connection proves it; give it to other commands)");
            System.out.println("  status   vortex status --cluster " + address + " --key-file " + keyFile
                    + (options.key.tls ? " --tls" : ""));
            String page = nodes.get(0).http();
            if (page != null) {
                System.out.println("  web      http://" + page + "/  (the cluster's page; /api/status as JSON, /metrics "
                        + "for Prometheus)");
                System.out.println("  files    curl -H \"Authorization: Bearer $(vortex token --key-file " + keyFile
                        + ")\" http://" + page + "/api/files/  (REST: GET, PUT, DELETE)");
            }
            System.out.println("  mounted  " + mp);
            System.out.println("Try:  cp -r /etc/ssh " + mp + "/ && ls -l " + mp + "/ssh");
            System.out.println("Ctrl-C unmounts and stops the cluster; your files stay in " + data + ".");
            System.out.println(READY + " mount=" + mp + " cluster=" + address + " key=" + keyFile
                    + (page == null ? "" : " web=http://" + page + "/"));
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

    /**
     * Starts the first node, which founds the cluster (or, on a later run, finds its members again),
     * then the others, each joining it, one at a time so each sees the last.
     */
    private List<HostPort> startNodes(Path data, Path keyFile, List<NodeProcess> nodes, int web) throws IOException {
        List<HostPort> addresses = new ArrayList<>();
        for (int i = 0; i < nodeCount; i++) {
            List<String> args = new ArrayList<>();
            args.add("--key-file=" + keyFile);
            if (options.key.tls) {
                args.add("--tls");
            }
            if (encrypt) {
                args.add("--encrypt");
            }
            args.add("--topology=" + topology);
            if (web >= 0) {
                args.add("--http-port=" + (web == 0 ? 0 : web + i));
            }
            args.add("--replicas=" + replicas);
            if (i > 0) {
                args.add("--join=" + addresses.get(0));
            }
            NodeProcess node = NodeProcess.start(data.resolve("node-" + (i + 1)), host, port == 0 ? 0 : port + i,
                    nodeHeap, args);
            nodes.add(node);
            addresses.add(HostPort.parse(node.awaitReady(Duration.ofSeconds(60))));
        }
        return addresses;
    }

    private static void shutDown(Mounting mounting, List<NodeProcess> nodes) {
        long start = System.nanoTime();
        if (mounting != null) {
            mounting.close();
        }
        long unmounted = System.nanoTime();
        // All at once: each closes its own files, and none needs the others to do so.
        for (NodeProcess n : nodes) {
            n.askToStop();
        }
        for (NodeProcess n : nodes) {
            n.awaitStop();
        }
        if (mounting != null) {
            LOG.info("shut down: the mount in {} ms, {} nodes in {} ms", TimeUnit.NANOSECONDS.toMillis(unmounted - start),
                    nodes.size(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - unmounted));
        }
    }

    static Path defaultDataDir() {
        String xdg = System.getenv("XDG_DATA_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "share");
        return base.resolve("vortexfs");
    }
}
