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

    @Option(names = "--tls", description = "Talk to the nodes under TLS (for nodes started with --tls; needs --key-file).")
    boolean tls;

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
        ClusterKey k = key();
        if (tls && k == null) {
            throw new UserError("--tls needs --key-file: the key is what proves who is at the other end");
        }
        return config.withKey(k).withTls(tls);
    }
}
