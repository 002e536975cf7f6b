package io.vortexfs.cli;

import io.vortexfs.mount.client.ClientConfig;
import io.vortexfs.mount.client.ClusterClient;
import io.vortexfs.mount.fs.MountConfig;
import io.vortexfs.mount.fs.VortexFileSystem;
import io.vortexfs.node.web.FileService;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.rpc.HostPort;
import java.util.List;

/**
 * The files a node's REST API serves: the cluster's namespace through a client of the cluster, the
 * same filesystem logic a mount runs, connected through the node itself when first asked for (the
 * node may still be joining when it starts serving HTTP).
 */
final class RestFiles implements FileService, AutoCloseable {
    private final HostPort node;
    private final ClientConfig config;
    private ClusterFiles.Session session;
    private boolean closed;

    RestFiles(HostPort node, ClientConfig config) {
        this.node = node;
        this.config = config;
    }

    private synchronized VortexFileSystem fs() throws FsException {
        if (closed) {
            throw new FsException(io.vortexfs.protocol.ErrorCode.UNAVAILABLE, "the node is stopping");
        }
        if (session == null) {
            ClusterClient client = ClusterClient.connect(List.of(node), config, "rest");
            session = new ClusterFiles.Session(client, new VortexFileSystem(client, MountConfig.defaults()));
        }
        return session.fs();
    }

    @Override
    public Attr stat(String path) throws FsException {
        return fs().getattr(path);
    }

    @Override
    public List<DirEntry> list(String path) throws FsException {
        return fs().readdir(path);
    }

    @Override
    public long open(String path) throws FsException {
        return fs().open(path);
    }

    @Override
    public int read(long handle, long offset, byte[] dst, int length) throws FsException {
        return fs().read(handle, offset, dst, length);
    }

    @Override
    public long create(String path) throws FsException {
        VortexFileSystem fs = fs();
        long fh = fs.create(path, 0644, ClusterFiles.uid(), ClusterFiles.gid(), false);
        try {
            fs.ftruncate(fh, 0);
        } catch (FsException e) {
            fs.release(fh);
            throw e;
        }
        return fh;
    }

    @Override
    public void write(long handle, long offset, byte[] src, int length) throws FsException {
        fs().write(handle, offset, src, length);
    }

    @Override
    public void close(long handle) throws FsException {
        VortexFileSystem fs = fs();
        try {
            fs.flush(handle);
        } finally {
            fs.release(handle);
        }
    }

    @Override
    public void delete(String path) throws FsException {
        VortexFileSystem fs = fs();
        if (fs.getattr(path).isDirectory()) {
            fs.rmdir(path);
        } else {
            fs.unlink(path);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (session != null) {
            session.close();
            session = null;
        }
    }
}
