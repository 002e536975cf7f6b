package io.vortexfs.cli;

import io.vortexfs.node.Node;
import io.vortexfs.node.NodeConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Run a storage node in the foreground until interrupted.")
final class NodeCommand implements Runnable {
    /** The line a node prints on stdout once it serves; scripts and `vortex up` wait for it. */
    static final String READY = "VORTEX-NODE-READY";

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "Directory for this node's chunks and metadata.")
    Path data;

    @Option(names = "--port", paramLabel = "PORT", description = "TCP port to serve on (0 picks a free one; default ${DEFAULT-VALUE}).")
    int port = NodeConfig.DEFAULT_PORT;

    @Option(names = "--host", paramLabel = "HOST", description = "Address to listen on and to be reached at (default ${DEFAULT-VALUE}).")
    String host = NodeConfig.DEFAULT_HOST;

    @Option(names = "--workers", paramLabel = "N", description = "Threads for disk and metadata work (default ${DEFAULT-VALUE}).")
    int workers = 16;

    @Option(names = "--salvage-wal", description = "Start even if the write-ahead log is damaged before its end, dropping the damaged part.")
    boolean salvageWal;

    @Option(names = "--parent-pid", hidden = true, description = "Exit when this process exits (used by `vortex up`).")
    Long parentPid;

    @Override
    public void run() {
        if (port < 0 || port > 65535) {
            throw new UserError("--port must be between 0 and 65535: " + port);
        }
        if (workers < 1) {
            throw new UserError("--workers must be at least 1: " + workers);
        }
        NodeConfig base = NodeConfig.defaults(data.toAbsolutePath().normalize(), host, port);
        NodeConfig config = new NodeConfig(base.dataDir(), host, port, workers, base.queueDepth(),
                base.maxInFlightPerConnection(), base.stalledFrameTimeout(), salvageWal);
        Node node;
        try {
            node = Node.start(config);
        } catch (IOException e) {
            throw new UserError(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while starting");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stopped.countDown();
        }, "vortex-node-shutdown"));
        if (parentPid != null) {
            watchParent(parentPid);
        }
        System.out.println(READY + " " + host + ":" + node.port() + " " + node.identity().nodeId());
        System.out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A node started by `vortex up` must not outlive it, even when `up` is killed with SIGKILL. */
    private static void watchParent(long pid) {
        var timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vortex-parent-watch");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(() -> {
            boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            if (!alive) {
                System.exit(0);
            }
        }, 1, 1, TimeUnit.SECONDS);
    }
}
