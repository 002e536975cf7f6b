package io.vortexfs.node.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.FileRegion;
import io.vortexfs.node.NodeConfig;
import io.vortexfs.node.NodeIdentity;
import io.vortexfs.node.chunks.BlockSums;
import io.vortexfs.node.chunks.ChunkStore;
import io.vortexfs.node.cluster.ChunkCollector;
import io.vortexfs.node.cluster.ChunkRepair;
import io.vortexfs.node.cluster.ChunkScrub;
import io.vortexfs.node.cluster.CopyCensus;
import io.vortexfs.node.cluster.Departure;
import io.vortexfs.node.cluster.Membership;
import io.vortexfs.node.cluster.NamespaceOps;
import io.vortexfs.node.cluster.PartitionReplicator;
import io.vortexfs.node.cluster.Peers;
import io.vortexfs.node.metadata.MetadataStore;
import io.vortexfs.protocol.BootId;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.ThinFile;
import io.vortexfs.protocol.placement.Chains;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.wire.FrameFormat;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Answers requests from the node's own stores. Runs on worker threads, never on an event loop: every
 * call may touch the disk.
 */
public final class NodeService implements AutoCloseable, io.vortexfs.node.web.NodeMetrics.Source {
    /** How long a member may take to re-hash one batch of chunks for fsck. */
    private static final java.time.Duration CENSUS_BATCH_TIMEOUT = java.time.Duration.ofMinutes(1);

    private final NodeIdentity identity;
    private final NodeConfig config;
    private final ChunkStore chunks;
    /**
     * Whole chunks go out as file regions (sendfile): not under TLS, which must encrypt the bytes in
     * memory, nor from a sealed store, which must open them. The node then does not hash what it
     * sends; the receiver does, and reports a mismatch ({@code HasChunks} with verify).
     */
    private final boolean sendFiles;
    private final MetadataStore metadata;
    private final Membership membership;
    private final Peers peers;
    private final ChunkRepair repair;
    private final ChunkScrub scrub;
    private final ChunkCollector collector;
    private final Departure departure;
    private final CopyCensus census;
    private final PartitionReplicator replicator;
    private final NamespaceOps namespace;
    private final ByteBufAllocator alloc;
    /** Applies replicated changes, one at a time in arrival order. */
    private final ThreadPoolExecutor applier;
    /** Membership and partition hand-over: never queued behind data work, so heartbeats stay timely. */
    private final ThreadPoolExecutor control;
    /**
     * What one node's namespace operation asks of another's partitions: its own threads, so that
     * workers waiting on each other's nodes can never take all of them.
     */
    private final ThreadPoolExecutor partitionWork;

    public NodeService(NodeIdentity identity, NodeConfig config, ChunkStore chunks, MetadataStore metadata,
            Membership membership, Peers peers, ChunkRepair repair, ChunkScrub scrub, ChunkCollector collector,
            Departure departure, ByteBufAllocator alloc) {
        this.identity = identity;
        this.config = config;
        this.chunks = chunks;
        this.sendFiles = chunks.sendsFiles() && !config.cluster().tls();
        this.metadata = metadata;
        this.membership = membership;
        this.peers = peers;
        this.repair = repair;
        this.scrub = scrub;
        this.collector = collector;
        this.departure = departure;
        this.census = new CopyCensus(membership, chunks, scrub, peers, CENSUS_BATCH_TIMEOUT);
        this.alloc = alloc;
        this.applier = executor(1, "vortex-apply");
        this.control = executor(4, "vortex-control");
        this.partitionWork = executor(4, "vortex-partition");
        this.replicator = new PartitionReplicator(membership, peers, metadata, applier, config.peerTimeout());
        metadata.replicateWith(replicator);
        this.namespace = new NamespaceOps(metadata, membership, peers, replicator, config.peerTimeout());
    }

    private static ThreadPoolExecutor executor(int threads, String name) {
        return new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(4096),
                new io.netty.util.concurrent.DefaultThreadFactory(name, true));
    }

    /** The executor a request runs on: data work on the node's workers, peer traffic on its own threads. */
    Executor executorFor(Request request, Executor workers) {
        if (request instanceof Request.GetBlockSums) {
            // A lookup in memory, answered on the event loop: a reader waits for it, and must not
            // queue behind disk-bound chunk requests.
            return Runnable::run;
        }
        if (request instanceof Request.Replicate) {
            return applier;
        }
        if (request instanceof Request.Gossip || request instanceof Request.Join || request instanceof Request.Hello
                || request instanceof Request.GetPartitionVersion || request instanceof Request.GetPartitionSnapshot) {
            return control;
        }
        if (request instanceof Request.PartitionStep || request instanceof Request.GetAttrs
                || request instanceof Request.GetEntry || request instanceof Request.MoveLease) {
            return partitionWork;
        }
        return workers;
    }

    /**
     * Handles one request; the reply may come later (a chained write waits for the rest of its
     * chain). Does not release {@code payload}: the caller owns it, and may release it as soon as
     * this returns.
     */
    public CompletableFuture<Reply> handle(Request request, ByteBuf payload) {
        try {
            return dispatch(request, payload);
        } catch (FsException e) {
            return CompletableFuture.completedFuture(error(e));
        }
    }

    private static Reply error(FsException e) {
        return reply(new Response.Error(e.code(), e.getMessage()));
    }

    private CompletableFuture<Reply> dispatch(Request request, ByteBuf payload) throws FsException {
        if (request instanceof Request.PutChunk p) {
            return putChunk(p, payload);
        } else if (request instanceof Request.AdoptChunk a) {
            return CompletableFuture.completedFuture(adoptChunk(a, payload));
        } else if (request instanceof Request.Replicate r) {
            byte[] change = new byte[payload.readableBytes()];
            payload.getBytes(payload.readerIndex(), change);
            return replicator.onReplicate(r, change).handle((copies, e) -> e == null
                    ? reply(new Response.Stored(copies)) : error(Chains.unwrap(e)));
        } else if (request instanceof Request.Forwarded f) {
            return CompletableFuture.completedFuture(dispatchNow(f.request(), payload));
        } else if (request instanceof Request.PartitionStep || request instanceof Request.GetAttrs
                || request instanceof Request.GetEntry || request instanceof Request.MoveLease) {
            return CompletableFuture.completedFuture(namespace.serve(request, payload));
        }
        long ino = Request.routingInode(request);
        MemberInfo coordinator = ino > 0 ? membership.coordinator(metadata.partitionOf(ino)) : null;
        if (coordinator != null && !membership.isSelf(coordinator)) {
            // Any node takes any request: a metadata request goes on to its coordinator, one hop.
            ByteBuf copy = payload.readableBytes() == 0 ? null : payload.retainedDuplicate();
            return peers.call(Peers.address(coordinator), new Request.Forwarded(request), copy, config.peerTimeout())
                    .handle((r, e) -> e == null ? r : error(Chains.unwrap(e)));
        }
        return CompletableFuture.completedFuture(dispatchNow(request, payload));
    }

    /** Stores a chunk here, durably, then passes it down the rest of its chain. */
    private CompletableFuture<Reply> putChunk(Request.PutChunk p, ByteBuf payload) throws FsException {
        if (payload.readableBytes() != p.sumBytes() + p.length()) {
            throw new FsException(ErrorCode.INVALID, "payload has " + payload.readableBytes()
                    + " bytes, header says " + (p.sumBytes() + p.length()));
        }
        if (p.summed()) {
            int[] sums = Response.ChunkRange.readSums(payload, payload.readerIndex(), p.sumBytes() / Integer.BYTES);
            chunks.putSummed(p.id(), payload.slice(payload.readerIndex() + p.sumBytes(), p.length()), sums);
        } else {
            chunks.put(p.id(), payload);
        }
        if (p.forward().isEmpty()) {
            return CompletableFuture.completedFuture(reply(new Response.Stored(1)));
        }
        List<HostPort> chain = new java.util.ArrayList<>();
        for (String a : p.forward()) {
            chain.add(HostPort.parse(a));
        }
        ByteBuf held = payload.retainedDuplicate();
        CompletableFuture<Integer> down = Chains.along(chain, c -> {
            List<String> rest = new java.util.ArrayList<>();
            for (HostPort h : c.subList(1, c.size())) {
                rest.add(h.toString());
            }
            return Chains.copies(peers.call(c.get(0), new Request.PutChunk(p.id(), p.length(), rest, p.summed()),
                    held.retainedDuplicate(), config.peerTimeout()));
        });
        down.whenComplete((n, e) -> held.release());
        // This copy is durable whatever happens downstream; the writer counts the copies.
        return down.handle((n, e) -> reply(new Response.Stored(1 + (e == null ? n : 0))));
    }

    /** Puts in place a chunk file that a writer on this machine staged here (a short-circuit write). */
    private Reply adoptChunk(Request.AdoptChunk a, ByteBuf payload) throws FsException {
        int[] sums = payload.readableBytes() != a.sumBytes() ? null
                : Response.ChunkRange.readSums(payload, payload.readerIndex(), a.sumBytes() / Integer.BYTES);
        // A plain name, checked when the request was decoded, so the file is in the staging directory.
        Path file = chunks.staging().resolve(a.file());
        chunks.adopt(a.id(), file, a.length(), sums);
        return reply(new Response.Stored(1));
    }

    private Reply dispatchNow(Request request, ByteBuf payload) throws FsException {
        if (request instanceof Request.Hello h) {
            if (h.protocolVersion() != FrameFormat.VERSION) {
                throw new FsException(ErrorCode.PROTOCOL, "protocol version " + h.protocolVersion()
                        + " is not supported; this node speaks " + FrameFormat.VERSION);
            }
            return reply(membership.view());
        } else if (request instanceof Request.Join j) {
            return reply(membership.onJoin(j));
        } else if (request instanceof Request.Gossip g) {
            membership.onGossip(g);
            return reply(new Response.Ok());
        } else if (request instanceof Request.GetPartitionVersion v) {
            return reply(replicator.version(v.partition(), v.promise()));
        } else if (request instanceof Request.GetPartitionSnapshot g) {
            MetadataStore.Snapshot snap = metadata.snapshot(g.partition());
            return new Reply(new Response.PartitionSnapshot(g.partition(), snap.epoch(), snap.seq()),
                    Unpooled.wrappedBuffer(snap.bytes()));
        } else if (request instanceof Request.GetStats) {
            return reply(stats());
        } else if (request instanceof Request.GetLocalStore) {
            // Sealed chunk files are of no use to a reader without the key; under TLS they still are
            // (the reader never crosses the network), and the bytes are checked against their ids.
            return reply(new Response.LocalStore(BootId.current(),
                    chunks.sendsFiles() ? chunks.root().toAbsolutePath().toString() : ""));
        } else if (request instanceof Request.GetBlockSums g) {
            BlockSums.Sums sums = chunks.knownSums(g.id());
            if (sums == null) {
                return reply(new Response.BlockSums(g.id(), Response.BlockSums.UNKNOWN));
            }
            ByteBuf out = Unpooled.buffer(sums.blocks().length * Integer.BYTES);
            Response.ChunkRange.writeSums(out, sums.blocks());
            return new Reply(new Response.BlockSums(g.id(), sums.length()), out);
        } else if (request instanceof Request.GetChunk g) {
            if (sendFiles) {
                FileRegion file = chunks.region(g.id());
                return new Reply(new Response.ChunkData(g.id(), (int) file.count()), file);
            }
            ByteBuf data;
            try {
                data = chunks.get(g.id(), alloc);
            } catch (FsException e) {
                if (e.code() == ErrorCode.CORRUPT) {
                    scrub.damaged(g.id()); // The reader takes another owner's copy; this one is replaced.
                }
                throw e;
            }
            return new Reply(new Response.ChunkData(g.id(), data.readableBytes()), data);
        } else if (request instanceof Request.ReadChunk rc) {
            ChunkStore.Range range;
            try {
                range = chunks.readRange(rc.id(), rc.offset(), rc.length(), alloc);
            } catch (FsException e) {
                if (e.code() == ErrorCode.CORRUPT) {
                    scrub.damaged(rc.id());
                }
                throw e;
            }
            return new Reply(range.header(), range.payload());
        } else if (request instanceof Request.HasChunks h) {
            if (h.verify()) {
                return reply(new Response.ChunksHeld(List.copyOf(census.verifyHere(h.ids()).keySet())));
            }
            List<ChunkId> held = new java.util.ArrayList<>();
            for (ChunkId id : h.ids()) {
                if (chunks.contains(id)) {
                    held.add(id);
                }
            }
            return reply(new Response.ChunksHeld(held));
        } else if (request instanceof Request.Fsck) {
            return reply(fsck());
        } else if (request instanceof Request.Decommission d) {
            if (!d.nodeId().equals(identity.nodeId())) {
                throw new FsException(ErrorCode.INVALID, "this is node " + identity.nodeId() + ", not " + d.nodeId());
            }
            departure.leave();
            return reply(departure.status());
        } else if (request instanceof Request.GetDrain) {
            return reply(departure.status());
        } else if (request instanceof Request.ListChunkRefs l) {
            if (l.partition() >= membership.settings().partitions()) {
                throw new FsException(ErrorCode.INVALID, "no metadata partition " + l.partition());
            }
            replicator.ensureCoordinator(l.partition());
            namespace.settle(l.partition());
            return reply(metadata.chunkRefs(l.partition(), l.afterIno(), l.afterIndex(), l.limit()));
        } else if (request instanceof Request.StatFs) {
            long[] space = space();
            return reply(new Response.FsStats(space[0], space[1], metadata.inodeCount()));
        } else if (request instanceof Request.Authenticate || request instanceof Request.Prove) {
            // A node with a key answers these at its gate, before they get here.
            throw new FsException(ErrorCode.PERMISSION, "this node has no cluster key");
        }
        long ino = Request.routingInode(request);
        if (ino <= 0) {
            throw new FsException(ErrorCode.NOT_SUPPORTED, "unsupported request " + request.getClass().getSimpleName());
        }
        replicator.ensureCoordinator(metadata.partitionOf(ino));
        namespace.settle(metadata.partitionOf(ino));
        if (request instanceof Request.GetAttr g) {
            return reply(new Response.AttrReply(metadata.getAttr(g.ino())));
        } else if (request instanceof Request.Lookup l) {
            return reply(new Response.AttrReply(namespace.lookup(l.parent(), l.name())));
        } else if (request instanceof Request.ReadDir r) {
            return reply(new Response.DirListing(namespace.readDir(r.ino())));
        } else if (request instanceof Request.MakeNode m) {
            return reply(new Response.AttrReply(namespace.makeNode(m)));
        } else if (request instanceof Request.Link l) {
            return reply(new Response.AttrReply(namespace.link(l.ino(), l.newParent(), l.newName())));
        } else if (request instanceof Request.Remove r) {
            namespace.remove(r.parent(), r.name(), r.directory());
            return reply(new Response.Ok());
        } else if (request instanceof Request.Rename r) {
            namespace.rename(r.srcParent(), r.srcName(), r.dstParent(), r.dstName());
            return reply(new Response.Ok());
        } else if (request instanceof Request.SetAttr s) {
            return reply(new Response.AttrReply(metadata.setAttr(s)));
        } else if (request instanceof Request.GetLayout g) {
            return reply(metadata.getLayout(g.ino()));
        } else if (request instanceof Request.CommitWrite c) {
            // The chunks live on their own owners, which acknowledged them before the writer commits.
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
        }
        throw new FsException(ErrorCode.NOT_SUPPORTED, "unsupported request " + request.getClass().getSimpleName());
    }

    /**
     * Checks the namespace this node holds; then, for the chunks used by the files of the partitions
     * it coordinates, has every live member that should hold a copy re-hash it, and lists the files
     * left with fewer good copies than the cluster keeps. Run on every member, that covers every file
     * whose partition has a live owner, each once.
     */
    private Response.FsckReport fsck() {
        java.util.function.IntPredicate coordinated = p -> {
            MemberInfo c = membership.coordinator(p);
            return c != null && membership.isSelf(c);
        };
        MetadataStore.CheckResult r = metadata.check(
                p -> membership.partitionOwners(p).stream().anyMatch(membership::isSelf), coordinated);
        List<String> problems = new java.util.ArrayList<>(r.problems());
        CopyCensus.Count count = census.count(r.chunkLengths().keySet());
        problems.addAll(count.problems());
        Set<ChunkId> thin = new java.util.HashSet<>();
        r.chunkLengths().forEach((id, used) -> {
            Integer here = count.lengthsHere().get(id);
            if (here != null && here < used) {
                problems.add("chunk " + id + " has " + here + " bytes; a file uses " + used);
            }
            if (count.good().get(id) < count.wanted().get(id)) {
                thin.add(id);
            }
        });
        List<ThinFile> thinFiles = new java.util.ArrayList<>();
        metadata.filesUsing(thin, coordinated).forEach((ino, ids) -> thinFiles.add(new ThinFile(ino, ids.size(),
                ids.stream().mapToInt(count.good()::get).min().orElseThrow(),
                ids.stream().mapToInt(count.wanted()::get).max().orElseThrow())));
        return new Response.FsckReport(identity.nodeId(), r.inodes(), r.files(), r.chunkLengths().size(), problems,
                thinFiles);
    }

    @Override
    public void close() {
        namespace.close();
        replicator.close();
        RequestHandler.dropped(applier.shutdownNow());
        RequestHandler.dropped(control.shutdownNow());
        RequestHandler.dropped(partitionWork.shutdownNow());
    }

    /** What this node stores and how its upkeep stands, as GetStats answers it. */
    @Override
    public Response.NodeStats stats() throws FsException {
        long[] space = space();
        return new Response.NodeStats(identity.nodeId(), chunks.count(), chunks.bytes(), metadata.keyCount(), space[0],
                space[1], metadata.walFsyncs(), chunks.fsyncs(), repair.progress(), scrub.progress(), collector.progress());
    }

    @Override
    public long walFsyncNanos() {
        return metadata.walFsyncNanos();
    }

    @Override
    public List<MemberInfo> members() {
        return membership.members();
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
