package io.vortexfs.cli;

import io.vortexfs.protocol.rpc.HostPort;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "mount", mixinStandardHelpOptions = true,
        description = "Mount a VortexFS cluster at MOUNTPOINT and serve it until unmounted or interrupted.")
final class MountCommand implements Runnable {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT", description = "An existing, empty directory.")
    Path mountPoint;

    @Option(names = "--cluster", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]",
            converter = Units.HostPortsConverter.class, description = "Any node(s) of the cluster.")
    List<HostPort> cluster;

    @Mixin
    MountOptions options;

    @Override
    public void run() {
        Mounting m = Mounting.start(cluster, mountPoint, options);
        Runtime.getRuntime().addShutdownHook(new Thread(m::close, "vortex-unmount"));
        System.out.println("mounted " + m.mount().mountPoint() + " (cluster " + cluster.get(0) + "); Ctrl-C unmounts");
        System.out.flush();
        try {
            m.mount().awaitUnmounted();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        m.close();
    }
}
