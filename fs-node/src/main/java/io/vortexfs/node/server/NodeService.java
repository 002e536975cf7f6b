package io.vortexfs.node.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.vortexfs.node.NodeConfig;
import io.vortexfs.node.NodeIdentity;
import io.vortexfs.node.chunks.ChunkStore;
import io.vortexfs.node.metadata.MetadataStore;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.wire.FrameFormat;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.util.List;

/**
 * Answers requests from the node's own stores. Runs on worker threads, never on an event loop: every
 * call may touch the disk.
 */
public final class NodeService {
    private final NodeIdentity identity;
    private final NodeConfig config;
    private final ChunkStore chunks;
    private final MetadataStore metadata;
    private final ByteBufAllocator alloc;
    private volatile int boundPort;

    public NodeService(NodeIdentity identity, NodeConfig config, ChunkStore chunks, MetadataStore metadata,
            ByteBufAllocator alloc) {
        this.identity = identity;
        this.config = config;
        this.chunks = chunks;
        this.metadata = metadata;
        this.alloc = alloc;
        this.boundPort = config.port();
    }

    void boundTo(int port) {
        this.boundPort = port;
    }

    /** Handles one request. Does not release {@code payload}; the caller owns it. */
    public Reply handle(Request request, ByteBuf payload) {
        try {
            return dispatch(request, payload);
        } catch (FsException e) {
            return reply(new Response.Error(e.code(), e.getMessage()));
        }
    }

    private Reply dispatch(Request request, ByteBuf payload) throws FsException {
        if (request instanceof Request.Hello h) {
            if (h.protocolVersion() != FrameFormat.VERSION) {
                throw new FsException(ErrorCode.PROTOCOL, "protocol version " + h.protocolVersion()
                        + " is not supported; this node speaks " + FrameFormat.VERSION);
            }
            return reply(clusterView());
        } else if (request instanceof Request.GetStats) {
            long[] space = space();
            return reply(new Response.NodeStats(identity.nodeId(), chunks.count(), chunks.bytes(),
                    metadata.keyCount(), space[0], space[1], metadata.walFsyncs(), chunks.fsyncs()));
        } else if (request instanceof Request.PutChunk p) {
            if (payload.readableBytes() != p.length()) {
                throw new FsException(ErrorCode.INVALID, "payload has " + payload.readableBytes()
                        + " bytes, header says " + p.length());
            }
            chunks.put(p.id(), payload);
            return reply(new Response.Ok());
        } else if (request instanceof Request.GetChunk g) {
            ByteBuf data = chunks.get(g.id(), alloc);
            return new Reply(new Response.ChunkData(g.id(), data.readableBytes()), data);
        } else if (request instanceof Request.GetAttr g) {
            return reply(new Response.AttrReply(metadata.getAttr(g.ino())));
        } else if (request instanceof Request.Lookup l) {
            return reply(new Response.AttrReply(metadata.lookup(l.parent(), l.name())));
        } else if (request instanceof Request.ReadDir r) {
            return reply(new Response.DirListing(metadata.readDir(r.ino())));
        } else if (request instanceof Request.MakeNode m) {
            return reply(new Response.AttrReply(metadata.makeNode(m)));
        } else if (request instanceof Request.Link l) {
            return reply(new Response.AttrReply(metadata.link(l.ino(), l.newParent(), l.newName())));
        } else if (request instanceof Request.Remove r) {
            metadata.remove(r.parent(), r.name(), r.directory());
            return reply(new Response.Ok());
        } else if (request instanceof Request.Rename r) {
            metadata.rename(r.srcParent(), r.srcName(), r.dstParent(), r.dstName());
            return reply(new Response.Ok());
        } else if (request instanceof Request.SetAttr s) {
            return reply(new Response.AttrReply(metadata.setAttr(s)));
        } else if (request instanceof Request.GetLayout g) {
            return reply(metadata.getLayout(g.ino()));
        } else if (request instanceof Request.CommitWrite c) {
            for (var slot : c.slots()) {
                if (slot.ref() != null && !chunks.contains(slot.ref().id())) {
                    throw new FsException(ErrorCode.INVALID, "commit names chunk " + slot.ref().id() + ", which is not stored");
                }
            }
            return reply(new Response.AttrReply(metadata.commitWrite(c)));
        } else if (request instanceof Request.SetXattr x) {
            byte[] value = new byte[payload.readableBytes()];
            payload.getBytes(payload.readerIndex(), value);
            metadata.setXattr(x.ino(), x.name(), value, x.flags());
            return reply(new Response.Ok());
        } else if (request instanceof Request.GetXattr x) {
            byte[] value = metadata.getXattr(x.ino(), x.name());
            return new Reply(new Response.XattrValue(value.length), Unpooled.wrappedBuffer(value));
        } else if (request instanceof Request.ListXattr x) {
            return reply(new Response.XattrNames(metadata.listXattrs(x.ino())));
        } else if (request instanceof Request.RemoveXattr x) {
            metadata.removeXattr(x.ino(), x.name());
            return reply(new Response.Ok());
        } else if (request instanceof Request.Fsck) {
            return reply(fsck());
        } else if (request instanceof Request.StatFs) {
            long[] space = space();
            return reply(new Response.FsStats(space[0], space[1], metadata.inodeCount()));
        }
        throw new FsException(ErrorCode.NOT_SUPPORTED, "unsupported request " + request.getClass().getSimpleName());
    }

    /** Checks the namespace, then re-reads and re-hashes every chunk a file uses. */
    private Response.FsckReport fsck() {
        MetadataStore.CheckResult r = metadata.check();
        List<String> problems = new java.util.ArrayList<>(r.problems());
        long checked = 0;
        for (var e : r.chunkLengths().entrySet()) {
            try {
                ByteBuf data = chunks.get(e.getKey(), alloc);
                try {
                    if (data.readableBytes() < e.getValue()) {
                        problems.add("chunk " + e.getKey() + " has " + data.readableBytes() + " bytes; a file uses "
                                + e.getValue());
                    }
                } finally {
                    data.release();
                }
            } catch (FsException ex) {
                problems.add("chunk " + e.getKey() + ": " + ex.getMessage());
            }
            checked++;
        }
        return new Response.FsckReport(identity.nodeId(), r.inodes(), r.files(), checked, problems);
    }

    private Response.ClusterView clusterView() {
        MemberInfo self = new MemberInfo(identity.nodeId(), config.host(), boundPort, MemberState.ALIVE, identity.generation());
        return new Response.ClusterView(identity.clusterId(), "all-to-all", 1, List.of(self));
    }

    private long[] space() throws FsException {
        try {
            FileStore store = Files.getFileStore(config.dataDir());
            return new long[] {store.getTotalSpace(), store.getUsableSpace()};
        } catch (IOException e) {
            throw new FsException(ErrorCode.IO, "cannot read capacity: " + e.getMessage(), e);
        }
    }

    private static Reply reply(Response r) {
        return new Reply(r, Unpooled.EMPTY_BUFFER);
    }
}
