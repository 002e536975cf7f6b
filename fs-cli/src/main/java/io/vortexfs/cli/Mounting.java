package io.vortexfs.cli;

import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.mount.fs.VortexFileSystem;
import io.vortexfs.mount.fuse.FuseMount;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.rpc.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Connects to a cluster and mounts it; the pieces `mount` and `up` share. */
final class Mounting implements AutoCloseable {
    private final ClusterClient client;
    private final VortexFileSystem fs;
    private final FuseMount mount;

    private Mounting(ClusterClient client, VortexFileSystem fs, FuseMount mount) {
        this.client = client;
        this.fs = fs;
        this.mount = mount;
    }

    static void checkMountPoint(Path mountPoint) {
        if (FuseMount.isMounted(mountPoint)) {
            throw new UserError(mountPoint + " is already mounted (run: vortex umount " + mountPoint + ")");
        }
        if (!Files.exists(mountPoint)) {
            throw new UserError("mountpoint " + mountPoint + " does not exist");
        }
        if (!Files.isDirectory(mountPoint)) {
            throw new UserError("mountpoint " + mountPoint + " is not a directory");
        }
        try (var entries = Files.list(mountPoint)) {
            if (entries.findAny().isPresent()) {
                throw new UserError("mountpoint " + mountPoint + " is not empty");
            }
        } catch (IOException e) {
            throw new UserError("cannot read mountpoint " + mountPoint + ": " + e.getMessage());
        }
    }

    static Mounting start(List<HostPort> cluster, Path mountPoint, MountOptions options) {
        Path mp = mountPoint.toAbsolutePath().normalize();
        checkMountPoint(mp);
        var mountConfig = options.mountConfig();
        ClusterClient client;
        try {
            client = ClusterClient.connect(cluster, options.clientConfig(), "mount:" + mp);
        } catch (FsException e) {
            throw new UserError(e.getMessage());
        }
        VortexFileSystem fs = new VortexFileSystem(client, mountConfig);
        try {
            FuseMount mount = FuseMount.mount(fs, mp, FuseMount.options(), Duration.ofSeconds(20));
            return new Mounting(client, fs, mount);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw new UserError(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    FuseMount mount() {
        return mount;
    }

    @Override
    public void close() {
        mount.close();
        fs.close();
        client.close();
    }
}
