package io.vortexfs.cli;

import io.vortexfs.mount.client.ClientConfig;
import io.vortexfs.protocol.rpc.ClusterKey;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The cluster key a command proves on every connection to a node. */
class KeyOption {
    @Option(names = "--key-file", paramLabel = "PATH",
            description = "The cluster's key, for a cluster that has one (`vortex up` keeps it in DATA/cluster.key).")
    Path keyFile;

    /** The key, or null when none was given. */
    ClusterKey key() {
        if (keyFile == null) {
            return null;
        }
        try {
            return ClusterKey.load(keyFile);
        } catch (IOException e) {
            throw new UserError(e.getMessage());
        }
    }

    ClientConfig apply(ClientConfig config) {
        return config.withKey(key());
    }
}
