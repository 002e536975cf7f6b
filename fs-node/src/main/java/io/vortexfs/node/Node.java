package io.vortexfs.node;

import io.netty.buffer.PooledByteBufAllocator;
import io.vortexfs.node.chunks.ChunkStore;
import io.vortexfs.node.metadata.MetadataStore;
import io.vortexfs.node.server.NodeServer;
import io.vortexfs.node.server.NodeService;
import io.vortexfs.node.wal.WriteAheadLog;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running VortexFS node: its identity, stores and server, started in that order and closed in the
 * reverse. The data directory is locked for the node's lifetime so two nodes never share one.
 */
public final class Node implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Node.class);

    private final FileChannel lockChannel;
    private final FileLock lock;
    private final NodeIdentity identity;
    private final MetadataStore metadata;
    private final NodeServer server;
    private final int port;

    private Node(FileChannel lockChannel, FileLock lock, NodeIdentity identity,
            MetadataStore metadata, NodeServer server, int port) {
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.identity = identity;
        this.metadata = metadata;
        this.server = server;
        this.port = port;
    }

    /** Opens the data directory and starts serving. The message of an IOException is fit for a user. */
    public static Node start(NodeConfig config) throws IOException, InterruptedException {
        Files.createDirectories(config.dataDir());
        FileChannel lockChannel = FileChannel.open(config.dataDir().resolve("lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IOException("data directory " + config.dataDir() + " is in use by another node");
        }
        MetadataStore metadata = null;
        NodeServer server = null;
        try {
            NodeIdentity identity = NodeIdentity.loadOrCreate(config.dataDir());
            metadata = MetadataStore.open(config.dataDir(), Clock.systemUTC(),
                    WriteAheadLog.Options.DEFAULT.withSalvage(config.salvageWal()));
            ChunkStore chunks = new ChunkStore(config.dataDir());
            NodeService service = new NodeService(identity, config, chunks, metadata, PooledByteBufAllocator.DEFAULT);
            server = new NodeServer(config.workers(), config.queueDepth(), config.stalledFrameTimeout());
            int port;
            try {
                port = server.start(config.host(), config.port(), service, config.maxInFlightPerConnection());
            } catch (Exception e) {
                throw new IOException("cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
            }
            LOG.info("node {} (generation {}) serving {} chunks and {} inodes from {}", identity.nodeId(),
                    identity.generation(), chunks.count(), metadata.inodeCount(), config.dataDir());
            return new Node(lockChannel, lock, identity, metadata, server, port);
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            if (metadata != null) {
                metadata.close();
            }
            lock.release();
            lockChannel.close();
            throw e;
        }
    }

    public int port() {
        return port;
    }

    public NodeIdentity identity() {
        return identity;
    }

    @Override
    public void close() {
        server.close();
        metadata.close();
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            LOG.warn("releasing the data directory lock failed: {}", e.toString());
        }
        LOG.info("node {} stopped", identity.nodeId());
    }
}
