package io.vortexfs.node;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything a node is started with. Each value has its default here and reaches the code that uses
 * it through this record.
 *
 * @param dataDir    where chunks, metadata and the node's identity live
 * @param host       address the node listens on and tells others to reach it at
 * @param port       TCP port of the protocol (0 picks a free one)
 * @param workers    threads that run blocking disk and metadata work
 * @param queueDepth requests that may wait for a worker before the node answers BUSY
 * @param maxInFlightPerConnection requests one connection may have outstanding before the node
 *                   stops reading from it
 * @param stalledFrameTimeout how long a connection may sit on half a frame before it is closed
 * @param salvageWal start even when the write-ahead log is damaged before its tail, dropping the
 *                   damaged part and everything after it (an operator's decision, never a default)
 */
public record NodeConfig(Path dataDir, String host, int port, int workers, int queueDepth, int maxInFlightPerConnection,
        Duration stalledFrameTimeout, boolean salvageWal) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 7400;

    public NodeConfig {
        if (dataDir == null) {
            throw new IllegalArgumentException("dataDir == null");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (workers <= 0 || queueDepth <= 0 || maxInFlightPerConnection <= 0) {
            throw new IllegalArgumentException("workers, queueDepth and maxInFlightPerConnection must be positive");
        }
    }

    public static NodeConfig defaults(Path dataDir, String host, int port) {
        return new NodeConfig(dataDir, host, port, 16, 4096, 256, Duration.ofSeconds(30), false);
    }

    public NodeConfig withStalledFrameTimeout(Duration d) {
        return new NodeConfig(dataDir, host, port, workers, queueDepth, maxInFlightPerConnection, d, salvageWal);
    }
}
