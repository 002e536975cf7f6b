package io.vortexfs.cli;

import io.vortexfs.mount.client.ClientConfig;
import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.mount.fs.MountConfig;
import io.vortexfs.mount.fs.VortexFileSystem;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.rpc.HostPort;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The cluster options of the file commands (ls, put, get, rm), and the filesystem they work on: the
 * same logic a mount uses, without FUSE in front.
 */
class ClusterFiles {
    @Option(names = "--cluster", required = true, paramLabel = "HOST:PORT[,HOST:PORT...]",
            converter = Units.HostPortsConverter.class, description = "Any node(s) of the cluster.")
    List<HostPort> cluster;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "Deadline of each request to a node (default 30s).")
    java.time.Duration timeout = ClientConfig.DEFAULT.requestTimeout();

    @picocli.CommandLine.Mixin
    KeyOption key;

    /** A connected filesystem; close it to disconnect. */
    record Session(ClusterClient client, VortexFileSystem fs) implements AutoCloseable {
        @Override
        public void close() {
            fs.close();
            client.close();
        }
    }

    Session open(String clientName) {
        try {
            if (timeout.isZero() || timeout.isNegative()) {
                throw new UserError("--timeout must be positive");
            }
            ClientConfig cfg = key.apply(new ClientConfig(timeout, ClientConfig.DEFAULT.connectTimeout(),
                    ClientConfig.DEFAULT.maxInFlightPerNode()));
            ClusterClient client = ClusterClient.connect(cluster, cfg, clientName);
            return new Session(client, new VortexFileSystem(client, MountConfig.defaults()));
        } catch (FsException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** The calling user, who owns what put creates (as a mount would record them). */
    static int uid() {
        return (int) new com.sun.security.auth.module.UnixSystem().getUid();
    }

    static int gid() {
        return (int) new com.sun.security.auth.module.UnixSystem().getGid();
    }

    /**
     * A path in the cluster's namespace: always from its root, "docs/a" meaning "/docs/a". "." and
     * ".." are refused rather than resolved: a path names one file, and its last component is also
     * the name {@code get} gives the local copy, which must never be a way out of the directory given.
     */
    static String remote(String path) {
        for (String component : path.split("/")) {
            if (component.equals(".") || component.equals("..")) {
                throw new UserError("paths in the cluster start at its root and may not contain . or ..: " + path);
            }
        }
        if (path.isEmpty()) {
            return "/";
        }
        return path.startsWith("/") ? path : "/" + path;
    }

    /** One line for a user: what failed, on which path, and why. */
    static UserError failure(String what, String path, FsException e) {
        String why = switch (e.code()) {
            case NOT_FOUND -> "no such file or directory";
            case EXISTS -> "already exists";
            case NOT_DIRECTORY -> "not a directory";
            case IS_DIRECTORY -> "is a directory";
            case NOT_EMPTY -> "directory not empty";
            default -> e.getMessage();
        };
        return new UserError("cannot " + what + " " + path + ": " + why);
    }
}
