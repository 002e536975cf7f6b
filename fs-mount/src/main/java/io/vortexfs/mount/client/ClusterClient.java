package io.vortexfs.mount.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ChunkSlot;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.placement.HashRing;
import io.vortexfs.protocol.rpc.ConnectionPool;
import io.vortexfs.protocol.rpc.EventLoops;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.rpc.RpcClient;
import io.vortexfs.protocol.wire.FrameFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of a VortexFS cluster: learns the members from any node it is given and sends each
 * request straight to an owner of what it is about — the owners of an inode for metadata, the owners
 * of a content hash for a chunk — trying the next owner when one cannot be reached. All calls block
 * with a deadline and fail with an {@link FsException}.
 */
public final class ClusterClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterClient.class);

    private final ClientConfig config;
    private final EventLoopGroup group;
    private final ConnectionPool pool;
    private volatile Response.ClusterView view;
    private volatile HashRing ring;

    private ClusterClient(ClientConfig config, EventLoopGroup group, ConnectionPool pool) {
        this.config = config;
        this.group = group;
        this.pool = pool;
    }

    /** Connects through the first reachable seed. The exception message is fit for a user. */
    public static ClusterClient connect(List<HostPort> seeds, ClientConfig config, String clientName) throws FsException {
        EventLoopGroup group = EventLoops.newGroup(2, "vortex-client");
        ConnectionPool pool = new ConnectionPool(group, config.connectTimeout(), config.maxInFlightPerNode());
        ClusterClient client = new ClusterClient(config, group, pool);
        FsException last = null;
        for (HostPort seed : seeds) {
            try (Reply r = pool.get(seed).callSync(new Request.Hello(FrameFormat.VERSION, clientName), null,
                    config.requestTimeout())) {
                client.adopt((Response.ClusterView) r.response());
                return client;
            } catch (FsException e) {
                LOG.debug("seed {} failed: {}", seed, e.getMessage());
                last = e;
            } catch (ClassCastException e) {
                last = new FsException(ErrorCode.PROTOCOL, seed + " did not answer Hello with a cluster view");
            }
        }
        client.close();
        throw new FsException(ErrorCode.UNAVAILABLE, "cannot reach the cluster at " + seeds
                + (last == null ? "" : ": " + last.getMessage()));
    }

    private void adopt(Response.ClusterView v) throws FsException {
        if (v.members().isEmpty()) {
            throw new FsException(ErrorCode.UNAVAILABLE, "the cluster has no members");
        }
        this.view = v;
        this.ring = new HashRing(v.members(), HashRing.DEFAULT_VNODES);
    }

    public Response.ClusterView view() {
        return view;
    }

    public ClientConfig config() {
        return config;
    }

    // ---- metadata ----

    public Attr getAttr(long ino) throws FsException {
        return attrOf(callInode(ino, new Request.GetAttr(ino)));
    }

    public Attr lookup(long parent, String name) throws FsException {
        return attrOf(callInode(parent, new Request.Lookup(parent, name)));
    }

    public List<DirEntry> readDir(long ino) throws FsException {
        return ((Response.DirListing) callInode(ino, new Request.ReadDir(ino))).entries();
    }

    public Attr makeNode(Request.MakeNode r) throws FsException {
        return attrOf(callInode(r.parent(), r));
    }

    public Attr link(long ino, long newParent, String newName) throws FsException {
        return attrOf(callInode(newParent, new Request.Link(ino, newParent, newName)));
    }

    public void remove(long parent, String name, boolean directory) throws FsException {
        callInode(parent, new Request.Remove(parent, name, directory));
    }

    public void rename(long srcParent, String srcName, long dstParent, String dstName) throws FsException {
        callInode(srcParent, new Request.Rename(srcParent, srcName, dstParent, dstName));
    }

    public Attr setAttr(Request.SetAttr r) throws FsException {
        return attrOf(callInode(r.ino(), r));
    }

    public Response.Layout getLayout(long ino) throws FsException {
        return (Response.Layout) callInode(ino, new Request.GetLayout(ino));
    }

    public Attr commitWrite(long ino, List<ChunkSlot> slots, long minSize, long mtimeNs) throws FsException {
        return attrOf(callInode(ino, new Request.CommitWrite(ino, slots, minSize, mtimeNs)));
    }

    public void setXattr(long ino, String name, byte[] value, int flags) throws FsException {
        callInode(ino, new Request.SetXattr(ino, name, flags), value);
    }

    public byte[] getXattr(long ino, String name) throws FsException {
        return callInodeForPayload(ino, new Request.GetXattr(ino, name));
    }

    public List<String> listXattr(long ino) throws FsException {
        return ((Response.XattrNames) callInode(ino, new Request.ListXattr(ino))).names();
    }

    public void removeXattr(long ino, String name) throws FsException {
        callInode(ino, new Request.RemoveXattr(ino, name));
    }

    /** Capacity summed over the members; inode count from the node that holds the root. */
    public Response.FsStats statFs() throws FsException {
        long total = 0;
        long free = 0;
        long files = 0;
        FsException last = null;
        int answered = 0;
        for (MemberInfo m : view.members()) {
            try (Reply r = call(m, new Request.StatFs(), null)) {
                Response.FsStats s = (Response.FsStats) r.response();
                total += s.totalBytes();
                free += s.freeBytes();
                files += s.files();
                answered++;
            } catch (FsException e) {
                last = e;
            }
        }
        if (answered == 0) {
            throw last != null ? last : new FsException(ErrorCode.UNAVAILABLE, "no member answered statfs");
        }
        return new Response.FsStats(total, free, files);
    }

    /** Runs a node's full check; slow on a large node, so it gets a long deadline. */
    public Response.FsckReport fsck(MemberInfo member, java.time.Duration timeout) throws FsException {
        RpcClient c = pool.get(new HostPort(member.host(), member.port()));
        try (Reply r = c.callSync(new Request.Fsck(), null, timeout)) {
            return (Response.FsckReport) r.response();
        }
    }

    public Response.NodeStats nodeStats(MemberInfo member) throws FsException {
        try (Reply r = call(member, new Request.GetStats(), null)) {
            return (Response.NodeStats) r.response();
        }
    }

    // ---- chunks ----

    /** Stores {@code length} bytes of {@code data} as chunk {@code id} on every owner of the id. */
    public void putChunk(ChunkId id, byte[] data, int length) throws FsException {
        List<MemberInfo> owners = ring.owners(HashRing.pointOf(id), view.replicas());
        for (MemberInfo owner : owners) {
            try (Reply r = call(owner, new Request.PutChunk(id, length), Unpooled.wrappedBuffer(data, 0, length))) {
                // Ok: nothing else to read.
            }
        }
    }

    /** Reads chunk {@code id} from the first owner that returns bytes matching the id. */
    public byte[] getChunk(ChunkId id) throws FsException {
        List<MemberInfo> owners = ring.owners(HashRing.pointOf(id), view.replicas());
        FsException last = null;
        for (MemberInfo owner : owners) {
            try (Reply r = call(owner, new Request.GetChunk(id), null)) {
                byte[] bytes = new byte[r.payload().readableBytes()];
                r.payload().getBytes(r.payload().readerIndex(), bytes);
                ChunkId actual = ChunkId.of(bytes);
                if (!actual.equals(id)) {
                    last = new FsException(ErrorCode.CORRUPT, owner.address() + " sent bytes of " + actual + " for " + id);
                    LOG.warn(last.getMessage());
                    continue;
                }
                return bytes;
            } catch (FsException e) {
                last = e;
            }
        }
        throw last != null ? last : new FsException(ErrorCode.UNAVAILABLE, "no owner of chunk " + id);
    }

    // ---- plumbing ----

    private Response callInode(long ino, Request request) throws FsException {
        return callInode(ino, request, null);
    }

    /** Sends a request about an inode to its first owner that can be reached; {@code payload} may be null. */
    private Response callInode(long ino, Request request, byte[] payload) throws FsException {
        try (Reply r = callInodeReply(ino, request, payload)) {
            return r.response();
        }
    }

    private byte[] callInodeForPayload(long ino, Request request) throws FsException {
        try (Reply r = callInodeReply(ino, request, null)) {
            byte[] bytes = new byte[r.payload().readableBytes()];
            r.payload().getBytes(r.payload().readerIndex(), bytes);
            return bytes;
        }
    }

    private Reply callInodeReply(long ino, Request request, byte[] payload) throws FsException {
        List<MemberInfo> owners = ring.owners(HashRing.pointOfInode(ino), view.replicas());
        FsException last = null;
        for (MemberInfo owner : owners) {
            try {
                return call(owner, request, payload == null ? null : Unpooled.wrappedBuffer(payload));
            } catch (FsException e) {
                if (e.code() != ErrorCode.UNAVAILABLE) {
                    throw e;
                }
                last = e;
            }
        }
        throw last != null ? last : new FsException(ErrorCode.UNAVAILABLE, "no owner of inode " + ino);
    }

    private Reply call(MemberInfo member, Request request, ByteBuf payload) throws FsException {
        RpcClient c;
        try {
            c = pool.get(new HostPort(member.host(), member.port()));
        } catch (FsException e) {
            if (payload != null) {
                payload.release();
            }
            throw e;
        }
        return c.callSync(request, payload, config.requestTimeout());
    }

    private static Attr attrOf(Response r) {
        return ((Response.AttrReply) r).attr();
    }

    @Override
    public void close() {
        pool.close();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly(3,
                java.util.concurrent.TimeUnit.SECONDS);
    }
}
