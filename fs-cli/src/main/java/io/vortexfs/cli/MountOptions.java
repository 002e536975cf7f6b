package io.vortexfs.cli;

import io.vortexfs.mount.client.ClientConfig;
import io.vortexfs.mount.fs.MountConfig;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The options of a mount, shared by `vortex mount` and `vortex up`. */
final class MountOptions {
    @Option(names = "--chunk-size", paramLabel = "SIZE", converter = Units.SizeConverter.class,
            description = "Chunk size of new files, 4KiB to 64MiB (default 4MiB).")
    long chunkSize = MountConfig.DEFAULT_CHUNK_SIZE;

    @Option(names = "--attr-timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "How long attributes and names are cached (default 1s).")
    Duration attrTimeout = Duration.ofSeconds(1);

    @Option(names = "--commit-after", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "The longest data uploaded for a file that stays open waits to be committed to it "
                    + "(default 30s; keep it far below the nodes' --gc-grace).")
    Duration commitAfter = MountConfig.DEFAULT_COMMIT_AFTER;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Units.DurationConverter.class,
            description = "Deadline of each request to a node (default 30s).")
    Duration timeout = ClientConfig.DEFAULT.requestTimeout();

    @Option(names = "--no-local-reads", negatable = false,
            description = "Read every chunk over the network, even from nodes on this machine, whose chunk "
                    + "files the mount otherwise reads itself.")
    boolean noLocalReads;

    @Option(names = "--no-local-writes", negatable = false,
            description = "Send every chunk over the network, even to nodes on this machine, whose chunk "
                    + "files the mount otherwise writes itself and has the node take.")
    boolean noLocalWrites;

    @picocli.CommandLine.Mixin
    KeyOption key;

    MountConfig mountConfig() {
        if (chunkSize < MountConfig.MIN_CHUNK_SIZE || chunkSize > MountConfig.MAX_CHUNK_SIZE) {
            throw new UserError("--chunk-size must be between 4KiB and 64MiB: " + Units.humanBytes(chunkSize));
        }
        if (attrTimeout.toSeconds() > 60) {
            throw new UserError("--attr-timeout must be at most 60s");
        }
        if (commitAfter.isZero() || commitAfter.isNegative()) {
            throw new UserError("--commit-after must be positive");
        }
        return MountConfig.withChunkSize((int) chunkSize).withAttrTimeout(attrTimeout).withCommitAfter(commitAfter);
    }

    ClientConfig clientConfig() {
        if (timeout.isZero() || timeout.isNegative()) {
            throw new UserError("--timeout must be positive");
        }
        return key.apply(new ClientConfig(timeout, ClientConfig.DEFAULT.connectTimeout(),
                ClientConfig.DEFAULT.maxInFlightPerNode())).withLocalReads(!noLocalReads).withLocalWrites(!noLocalWrites);
    }
}
