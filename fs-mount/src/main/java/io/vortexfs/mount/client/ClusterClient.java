package io.vortexfs.mount.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ChunkSlot;
import io.vortexfs.protocol.ContentHash;
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
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Topology;
import io.vortexfs.protocol.placement.Chains;
import io.vortexfs.protocol.placement.Partitions;
import io.vortexfs.protocol.placement.Quorum;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of a VortexFS cluster. It learns the members from any node it is given, refreshes that
 * view every second (and at once when a node says it is out of date), and sends each request
 * straight to the node concerned, one hop: a metadata request to the coordinator of the inode's
 * partition (its first live owner), a chunk to every live owner of its content hash — in parallel in
 * an all-to-all cluster, down a chain in a ring — and a read to the first owner that answers with
 * bytes matching the hash. All calls block with a deadline and fail with an {@link FsException}.
 */
public final class ClusterClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterClient.class);

    /** How often the view of the members is refreshed in the background. */
    private static final Duration REFRESH = Duration.ofSeconds(1);

    private final ClientConfig config;
    private final EventLoopGroup group;
    private final ConnectionPool pool;
    private final List<HostPort> seeds;
    private final String clientName;
    private volatile Response.ClusterView view;
    /** The keyed naming of chunks, for a cluster that encrypts at rest; null without a key. */
    private final ContentHash keyedIds;
    /** Placement only: the ring's member records keep the states of when it was built. */
    private volatile HashRing ring;
    /** The current record, state included, of every member by id. */
    private volatile java.util.Map<String, MemberInfo> members = java.util.Map.of();
    private volatile ScheduledFuture<?> refresher;
    /** Which source the next background refresh asks first; only the refresher's thread moves it. */
    private int refreshTurn;
    /** Reads of chunks from the files of nodes on this machine; null when the config turns them off. */
    private final LocalChunks local;
    /** Writes of chunk files for nodes on this machine; null when the config turns them off. */
    private final LocalWrites localWrites;

    private ClusterClient(ClientConfig config, EventLoopGroup group, ConnectionPool pool, List<HostPort> seeds,
            String clientName, LocalChunks.Asker offers) {
        this.config = config;
        this.group = group;
        this.pool = pool;
        this.seeds = List.copyOf(seeds);
        this.clientName = clientName;
        this.keyedIds = config.key() == null ? null : config.key().contentIds();
        LocalChunks files = config.localReads() || config.localWrites()
                ? new LocalChunks(offers != null ? offers : this::localStoreOf, this::blockSumsOf) : null;
        this.local = config.localReads() ? files : null;
        this.localWrites = config.localWrites() ? new LocalWrites(files) : null;
    }

    /** Connects through the first reachable seed. The exception message is fit for a user. */
    public static ClusterClient connect(List<HostPort> seeds, ClientConfig config, String clientName) throws FsException {
        return connect(seeds, config, clientName, null);
    }

    /** As above, with the nodes' offers of their chunk files taken from {@code offers} when it is not null (for tests). */
    static ClusterClient connect(List<HostPort> seeds, ClientConfig config, String clientName, LocalChunks.Asker offers)
            throws FsException {
        EventLoopGroup group = EventLoops.newGroup(2, "vortex-client");
        ConnectionPool pool = new ConnectionPool(group, config.connectTimeout(), config.maxInFlightPerNode(), config.key(),
                config.tls());
        ClusterClient client = new ClusterClient(config, group, pool, seeds, clientName, offers);
        FsException last = null;
        for (HostPort seed : seeds) {
            try (Reply r = pool.get(seed).callSync(new Request.Hello(FrameFormat.VERSION, clientName), null,
                    config.requestTimeout())) {
                client.adopt((Response.ClusterView) r.response());
                client.refresher = group.scheduleWithFixedDelay(client::refreshInBackground, REFRESH.toMillis(),
                        REFRESH.toMillis(), TimeUnit.MILLISECONDS);
                return client;
            } catch (FsException e) {
                LOG.debug("seed {} failed: {}", seed, e.getMessage());
                last = e;
            } catch (ClassCastException e) {
                last = new FsException(ErrorCode.PROTOCOL, seed + " did not answer Hello with a cluster view");
            }
        }
        client.close();
        // A node that holds a key closes, without a word, a connection that does not prove it.
        boolean keyMayBeMissing = config.key() == null && last != null && last.getMessage().endsWith(" closed");
        throw new FsException(ErrorCode.UNAVAILABLE, "cannot reach the cluster at " + seeds
                + (last == null ? "" : ": " + last.getMessage())
                + (keyMayBeMissing ? " (if the cluster has a key, give it with --key-file)" : ""));
    }

    private synchronized void adopt(Response.ClusterView v) throws FsException {
        if (v.members().isEmpty() || v.partitions() <= 0 || v.vnodes() <= 0) {
            throw new FsException(ErrorCode.PROTOCOL, "the cluster sent a view without members, partitions or vnodes");
        }
        Response.ClusterView old = view;
        if (old == null || !sameMembers(old, v) || old.vnodes() != v.vnodes()) {
            this.ring = new HashRing(v.members().stream().filter(m -> m.state().ownsKeys()).toList(), v.vnodes());
        }
        java.util.Map<String, MemberInfo> byId = new java.util.HashMap<>();
        for (MemberInfo m : v.members()) {
            byId.put(m.nodeId(), m);
        }
        this.members = byId;
        this.view = v;
    }

    private static boolean sameMembers(Response.ClusterView a, Response.ClusterView b) {
        if (a.members().size() != b.members().size()) {
            return false;
        }
        for (int i = 0; i < a.members().size(); i++) {
            MemberInfo x = a.members().get(i);
            MemberInfo y = b.members().get(i);
            if (!x.nodeId().equals(y.nodeId()) || x.state().ownsKeys() != y.state().ownsKeys()) {
                return false;
            }
        }
        return true;
    }

    /** Where a fresh view may be had: the members not known down, then the seeds. */
    private List<HostPort> viewSources() {
        List<HostPort> out = new ArrayList<>();
        for (MemberInfo m : view.members()) {
            if (m.state().isUp()) {
                out.add(address(m));
            }
        }
        out.addAll(seeds);
        return out;
    }

    /**
     * Asks a live member (or, failing that, a seed) for its view; never blocks the event loop. Each
     * time a different one is asked first: a member cut off by the network keeps its connection open
     * but never answers, and must not be the only one asked while it still looks alive.
     */
    private void refreshInBackground() {
        List<HostPort> sources = viewSources();
        int start = Math.floorMod(refreshTurn++, sources.size());
        for (int i = 0; i < sources.size(); i++) {
            HostPort h = sources.get((start + i) % sources.size());
            RpcClient c = pool.getIfOpen(h);
            if (c != null) {
                c.call(new Request.Hello(FrameFormat.VERSION, clientName), null, config.connectTimeout()).whenComplete((r, e) -> {
                    if (r != null) {
                        try (r) {
                            adopt((Response.ClusterView) r.response());
                        } catch (FsException | ClassCastException ex) {
                            LOG.debug("ignoring a view from {}: {}", h, ex.toString());
                        }
                    }
                });
                return;
            }
        }
    }

    /** Fetches a fresh view now, from the first member or seed that answers; keeps the old one if none does. */
    private void refreshNow() {
        for (HostPort h : viewSources()) {
            try (Reply r = pool.get(h).callSync(new Request.Hello(FrameFormat.VERSION, clientName), null,
                    config.connectTimeout())) {
                adopt((Response.ClusterView) r.response());
                return;
            } catch (FsException | ClassCastException e) {
                LOG.debug("refreshing the view from {} failed: {}", h, e.toString());
            }
        }
    }

    public Response.ClusterView view() {
        return view;
    }

    /**
     * How this cluster names chunks: by SHA-256, or by an HMAC under the cluster key when it encrypts
     * at rest (a client of such a cluster holds the key, or it could not have connected).
     */
    public ContentHash contentIds() {
        if (!view.encrypted()) {
            return ContentHash.SHA256;
        }
        if (keyedIds == null) {
            throw new IllegalStateException("the cluster encrypts at rest, but this client holds no key");
        }
        return keyedIds;
    }

    /** Asks the members for their view now and returns it (the one held, if none answers). */
    public Response.ClusterView freshView() {
        refreshNow();
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

    /**
     * Capacity as a user can fill it: summed over the live members and divided by the copies each
     * byte takes. Inodes: the most any member holds (every owner of the metadata holds it all).
     */
    public Response.FsStats statFs() throws FsException {
        Response.ClusterView v = view;
        long total = 0;
        long free = 0;
        long files = 0;
        FsException last = null;
        int answered = 0;
        for (MemberInfo m : v.members()) {
            if (!m.state().isUp()) {
                continue;
            }
            try (Reply r = call(m, new Request.StatFs(), null)) {
                Response.FsStats s = (Response.FsStats) r.response();
                total += s.totalBytes();
                free += s.freeBytes();
                files = Math.max(files, s.files());
                answered++;
            } catch (FsException e) {
                last = e;
            }
        }
        if (answered == 0) {
            throw last != null ? last : new FsException(ErrorCode.UNAVAILABLE, "no member answered statfs");
        }
        long owning = v.members().stream().filter(m -> m.state().ownsKeys()).count();
        int copies = (int) Math.max(1, Math.min(v.replicas(), owning));
        return new Response.FsStats(total / copies, free / copies, files);
    }

    /** Runs a node's full check; slow on a large node, so it gets a long deadline. */
    public Response.FsckReport fsck(MemberInfo member, java.time.Duration timeout) throws FsException {
        RpcClient c = pool.get(new HostPort(member.host(), member.port()));
        try (Reply r = c.callSync(new Request.Fsck(), null, timeout)) {
            return (Response.FsckReport) r.response();
        }
    }

    /** Asks {@code member} to leave the cluster (see {@link Request.Decommission}). */
    public Response.Drain decommission(MemberInfo member) throws FsException {
        try (Reply r = call(member, new Request.Decommission(member.nodeId()), null)) {
            return (Response.Drain) r.response();
        }
    }

    public Response.Drain drain(MemberInfo member) throws FsException {
        try (Reply r = call(member, new Request.GetDrain(), null)) {
            return (Response.Drain) r.response();
        }
    }

    public Response.NodeStats nodeStats(MemberInfo member) throws FsException {
        try (Reply r = call(member, new Request.GetStats(), null)) {
            return (Response.NodeStats) r.response();
        }
    }

    // ---- chunks ----

    /**
     * Stores {@code length} bytes of {@code data} as a chunk on the live owners of its id, and
     * returns once the write quorum holds it durably. {@code chunk} is what
     * {@link ContentHash#summed} gave for those bytes: the owners check the bytes against its block
     * sums rather than hash them again.
     *
     * <p>The sums and bytes are copied once into a pooled direct buffer that every copy shares. Sent
     * from the heap array, each connection would copy them into a direct buffer of its own, which for
     * a chunk above the event loop's pooled sizes means allocating, zeroing and freeing it once per
     * copy. An owner on this machine gets its copy as a file written into its staging directory
     * ({@link LocalWrites}), from the same buffer; for that the bytes start at an aligned address.
     */
    public void putChunk(ContentHash.Summed chunk, byte[] data, int length) throws FsException {
        ChunkId id = chunk.id();
        Response.ClusterView v = view;
        List<MemberInfo> owners = ring.owners(HashRing.pointOf(id), v.replicas());
        List<MemberInfo> live = new ArrayList<>();
        for (MemberInfo m : aliveFirst(owners)) {
            if (m.state().isUp()) {
                live.add(m);
            }
        }
        if (live.isEmpty()) {
            live.add(owners.get(0)); // Our view may be stale: try rather than refuse.
        }
        boolean chained = Topology.parse(v.topology()) == Topology.RING;
        List<Path> staging = new ArrayList<>();
        boolean anyLocal = false;
        for (MemberInfo m : live) {
            Path dir = chained || localWrites == null || length == 0 ? null : localWrites.stagingOf(m);
            staging.add(dir);
            anyLocal |= dir != null;
        }
        LocalWrites.Outgoing out = anyLocal ? LocalWrites.Outgoing.of(chunk, data, length, PooledByteBufAllocator.DEFAULT) : null;
        ByteBuf shared = anyLocal ? out.putPayload()
                : Request.PutChunk.summedPayload(chunk, data, length, PooledByteBufAllocator.DEFAULT);
        if (out != null) {
            out.release(); // held by shared from here
        }
        int required = Quorum.required(v.writeQuorum(), owners.size());
        String what = "chunk " + id;
        CompletableFuture<Void> done;
        try {
            if (chained) {
                List<HostPort> chain = live.stream().map(ClusterClient::address).toList();
                done = Chains.along(chain, c -> sendChunk(c, id, length, shared)).thenApply(copies -> {
                    try {
                        Quorum.check(copies, required, what, null);
                    } catch (FsException e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                    return null;
                });
            } else {
                List<CompletableFuture<Integer>> branches = new ArrayList<>();
                for (int i = 0; i < live.size(); i++) {
                    MemberInfo m = live.get(i);
                    branches.add(staging.get(i) == null ? sendChunk(List.of(address(m)), id, length, shared)
                            : storeLocally(m, staging.get(i), id, out, shared));
                }
                done = Chains.quorum(branches, required, what);
            }
        } catch (RuntimeException e) {
            shared.release();
            throw e;
        }
        // Released when every copy has been made: a chain's retries start before the result completes.
        done.whenComplete((r, e) -> shared.release());
        awaitStored(done, what);
    }

    /**
     * Writes the chunk into {@code member}'s staging directory on this machine and has the node put it
     * in place; sends it over the network instead when that fails for any reason but the node being
     * unreachable. Holds a reference to {@code shared}, which holds {@code out}, until it completes.
     */
    private CompletableFuture<Integer> storeLocally(MemberInfo member, Path staging, ChunkId id, LocalWrites.Outgoing out,
            ByteBuf shared) {
        HostPort node = address(member);
        java.util.concurrent.Executor after = localWrites.continuations();
        shared.retain(); // held until this copy is made, whatever happens to the other copies meanwhile
        CompletableFuture<Integer> copy = localWrites.write(member, staging, out).thenCompose(file -> {
            CompletableFuture<Integer> adopted;
            try {
                adopted = Chains.copies(pool.get(node).call(new Request.AdoptChunk(id, out.length(), file), out.sums(),
                        config.requestTimeout()));
            } catch (FsException e) {
                adopted = CompletableFuture.failedFuture(e);
            }
            return adopted.whenCompleteAsync((n, e) -> {
                if (e != null) {
                    LocalWrites.discard(staging, file); // the node removes it too, if it got the request
                    FsException f = Chains.unwrap(e);
                    if (!Quorum.unreachable(f)) {
                        // Not the node's directory after all, or a node that does not take files.
                        localWrites.backOff(member, "the node did not take chunk file " + file + " (" + f.getMessage() + ")");
                    }
                }
            }, after);
        }).handleAsync((n, e) -> {
            if (e == null) {
                return CompletableFuture.completedFuture(n);
            }
            FsException f = Chains.unwrap(e);
            if (Quorum.unreachable(f)) {
                return CompletableFuture.<Integer>failedFuture(f);
            }
            return sendChunk(List.of(node), id, out.length(), shared);
        }, after).thenCompose(f -> f);
        copy.whenComplete((n, e) -> shared.release());
        return copy;
    }

    private void awaitStored(CompletableFuture<Void> done, String what) throws FsException {
        try {
            done.get(config.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw Chains.unwrap(e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new FsException(ErrorCode.TIMEOUT, what + " not stored within " + config.requestTimeout().toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(ErrorCode.TIMEOUT, "interrupted");
        }
    }

    /** Sends a chunk to the head of {@code chain}, which passes it on along the rest. */
    private CompletableFuture<Integer> sendChunk(List<HostPort> chain, ChunkId id, int length, ByteBuf payload) {
        List<String> rest = new ArrayList<>();
        for (HostPort h : chain.subList(1, chain.size())) {
            rest.add(h.toString());
        }
        RpcClient c;
        try {
            c = pool.get(chain.get(0));
        } catch (FsException e) {
            return CompletableFuture.failedFuture(e);
        }
        return Chains.copies(c.call(new Request.PutChunk(id, length, rest, true), payload.retainedDuplicate(),
                config.requestTimeout()));
    }

    /** Reads chunk {@code id} from the first owner that returns bytes matching the id. */
    public byte[] getChunk(ChunkId id) throws FsException {
        return fromAnyHolder(id, m -> fetchChunk(m, id));
    }

    /**
     * Bytes {@code [offset, offset + length)} of chunk {@code id}, cut at its end, each covering block
     * checked against the CRC-32C the node sent with it (see {@link Response.ChunkRange}).
     */
    public byte[] readChunk(ChunkId id, int offset, int length) throws FsException {
        return fromAnyHolder(id, m -> fetchRange(m, id, offset, length));
    }

    private interface ChunkRead {
        byte[] from(MemberInfo member) throws FsException;
    }

    private byte[] fromAnyHolder(ChunkId id, ChunkRead read) throws FsException {
        try {
            return fromAnyHolderOnce(id, read);
        } catch (FsException e) {
            // A view from before a member joined does not know where the chunk went: look again.
            Response.ClusterView before = view;
            refreshNow();
            if (view == before) {
                throw e;
            }
            try {
                return fromAnyHolderOnce(id, read);
            } catch (FsException again) {
                throw moreTelling(e, again);
            }
        }
    }

    /**
     * Of two failures to read a chunk, the one to report: a damaged copy over any other, since the
     * holder that sent it may have moved it aside (after {@link #reportDamaged}) by the time it is
     * asked again, and "not found" would hide why; otherwise the later one.
     */
    private static FsException moreTelling(FsException earlier, FsException later) {
        if (earlier == null) {
            return later;
        }
        return earlier.code() == ErrorCode.CORRUPT && later.code() != ErrorCode.CORRUPT ? earlier : later;
    }

    private byte[] fromAnyHolderOnce(ChunkId id, ChunkRead read) throws FsException {
        List<MemberInfo> owners = aliveFirst(ring.owners(HashRing.pointOf(id), view.replicas()));
        FsException last = null;
        for (MemberInfo owner : owners) {
            try {
                return read.from(owner);
            } catch (FsException e) {
                last = moreTelling(last, e);
            }
        }
        // Just after the ring changed (a member joined, returned or went OUT) a new owner may not have
        // been given the chunk yet. Its former holders keep their copies until every owner has one, so
        // one of the other members still has it.
        java.util.Set<String> asked = new java.util.HashSet<>();
        owners.forEach(o -> asked.add(o.nodeId()));
        for (MemberInfo m : view.members()) {
            if (m.state().isUp() && !asked.contains(m.nodeId())) {
                try {
                    return read.from(m);
                } catch (FsException e) {
                    if (last == null || e.code() == ErrorCode.CORRUPT) {
                        last = e;
                    }
                }
            }
        }
        throw last != null ? last : new FsException(ErrorCode.UNAVAILABLE, "no owner of chunk " + id);
    }

    /**
     * The chunk's bytes from {@code member}, checked against its id: from its files when it runs on
     * this machine and is alive, else (or when that fails) over the network.
     */
    private byte[] fetchChunk(MemberInfo member, ChunkId id) throws FsException {
        if (local != null && member.state() == MemberState.ALIVE) {
            byte[] bytes = local.read(member, id, contentIds());
            if (bytes != null) {
                return bytes;
            }
        }
        try (Reply r = call(member, new Request.GetChunk(id), null)) {
            byte[] bytes = new byte[r.payload().readableBytes()];
            r.payload().getBytes(r.payload().readerIndex(), bytes);
            ChunkId actual = contentIds().of(bytes, 0, bytes.length);
            if (!actual.equals(id)) {
                FsException e = new FsException(ErrorCode.CORRUPT, member.address() + " sent bytes of " + actual + " for " + id);
                LOG.warn(e.getMessage());
                reportDamaged(member, id);
                throw e;
            }
            return bytes;
        }
    }

    /** Asks {@code member} where its chunk files are, under the connect timeout. */
    private CompletableFuture<Response.LocalStore> localStoreOf(MemberInfo member) {
        return askBriefly(member, new Request.GetLocalStore(), r -> r.response() instanceof Response.LocalStore store ? store : null);
    }

    /** Asks {@code member} for its block sums of chunk {@code id}, under the connect timeout; null when it has none. */
    private CompletableFuture<LocalChunks.Sums> blockSumsOf(MemberInfo member, ChunkId id) {
        return askBriefly(member, new Request.GetBlockSums(id), r -> LocalChunks.Sums.in(id, r.response(), r.payload()))
                .thenApply(found -> found.orElse(null));
    }

    /**
     * Sends {@code request} to {@code member} under the connect timeout, for an answer that only
     * speeds things up. {@code read} turns the reply into the result, or null when it is not the
     * answer expected, which fails the future.
     */
    private <T> CompletableFuture<T> askBriefly(MemberInfo member, Request request, Function<Reply, T> read) {
        RpcClient c;
        try {
            c = pool.get(address(member));
        } catch (FsException e) {
            return CompletableFuture.failedFuture(e);
        }
        return c.call(request, null, config.connectTimeout()).thenApply(r -> {
            try (r) {
                T answer = read.apply(r);
                if (answer == null) {
                    throw new java.util.concurrent.CompletionException(new FsException(ErrorCode.PROTOCOL,
                            member.address() + " answered " + request.getClass().getSimpleName() + " with " + r.response()));
                }
                return answer;
            }
        });
    }

    /** How many chunks were read from the files of nodes on this machine (see {@link LocalChunks}). */
    /** How many chunk copies were written as files for nodes on this machine (see {@link LocalWrites}). */
    public long localChunkWrites() {
        return localWrites == null ? 0 : localWrites.written();
    }

    public long localChunkReads() {
        return local == null ? 0 : local.served();
    }

    /** How many of those were checked with the node's block sums rather than hashed. */
    public long localChunkReadsCheckedBySums() {
        return local == null ? 0 : local.checkedBySums();
    }

    /**
     * A node sends whole chunks from their files without hashing them (zero-copy); the reader is the
     * one that checks. Asking it to verify its copy ({@code HasChunks} with verify) has it hash the
     * file and hand a damaged one to its scrub, which replaces it. Not awaited: the reader goes on to
     * another copy.
     */
    private void reportDamaged(MemberInfo member, ChunkId id) {
        try {
            pool.get(new HostPort(member.host(), member.port()))
                    .call(new Request.HasChunks(List.of(id), true), null, config.requestTimeout())
                    .whenComplete((r, e) -> {
                        if (r != null) {
                            r.close();
                        }
                    });
        } catch (FsException e) {
            LOG.debug("cannot tell {} that its copy of {} is damaged: {}", member.address(), id, e.toString());
        }
    }

    private byte[] fetchRange(MemberInfo member, ChunkId id, int offset, int length) throws FsException {
        try (Reply r = call(member, new Request.ReadChunk(id, offset, length), null)) {
            if (!(r.response() instanceof Response.ChunkRange range) || !range.id().equals(id)
                    || r.payload().readableBytes() != range.payloadBytes()
                    || offset < range.start() || offset >= range.start() + range.length()) {
                throw new FsException(ErrorCode.PROTOCOL, member.address() + " answered a read of part of " + id
                        + " with " + r.response());
            }
            ByteBuf p = r.payload();
            int sums = p.readerIndex();
            int data = sums + range.blocks() * Integer.BYTES;
            for (int i = 0; i < range.blocks(); i++) {
                int from = i * Response.ChunkRange.BLOCK;
                int sum = Response.ChunkRange.sum(p, data + from, Math.min(Response.ChunkRange.BLOCK, range.length() - from));
                if (sum != p.getInt(sums + i * Integer.BYTES)) {
                    FsException e = new FsException(ErrorCode.CORRUPT, member.address() + " sent a damaged block "
                            + (range.start() / Response.ChunkRange.BLOCK + i) + " of " + id);
                    LOG.warn(e.getMessage());
                    throw e;
                }
            }
            int skip = offset - range.start();
            byte[] out = new byte[Math.min(length, range.length() - skip)];
            p.getBytes(data + skip, out);
            return out;
        }
    }

    /** The owners in ring order, with their current states, those the view holds alive before the others. */
    private List<MemberInfo> aliveFirst(List<MemberInfo> ringOwners) {
        java.util.Map<String, MemberInfo> now = members;
        List<MemberInfo> owners = new ArrayList<>(ringOwners.size());
        for (MemberInfo m : ringOwners) {
            owners.add(now.getOrDefault(m.nodeId(), m));
        }
        List<MemberInfo> out = new ArrayList<>(owners.size());
        for (MemberInfo m : owners) {
            if (m.state() == MemberState.ALIVE) {
                out.add(m);
            }
        }
        for (MemberInfo m : owners) {
            if (m.state() != MemberState.ALIVE) {
                out.add(m);
            }
        }
        return out;
    }

    private static HostPort address(MemberInfo m) {
        return new HostPort(m.host(), m.port());
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

    /**
     * Sends a request about an inode to the coordinator of its partition. When the node says another
     * coordinates it, or cannot be reached before the request left, the view is refreshed and the
     * request tried again, until the deadline; a request that may have run is sent again only when
     * running it twice does no harm.
     */
    private Reply callInodeReply(long ino, Request request, byte[] payload) throws FsException {
        long deadline = System.nanoTime() + config.requestTimeout().toNanos();
        FsException last = null;
        for (int attempt = 0; ; attempt++) {
            Response.ClusterView v = view;
            int partition = Partitions.of(ino, v.partitions());
            List<MemberInfo> owners = aliveFirst(ring.owners(Partitions.point(partition), v.replicas()));
            MemberInfo target = owners.get(0);
            // With a single owner there is nobody to take over: waiting would only delay the error.
            boolean anotherMayTakeOver = owners.size() > 1;
            RpcClient c;
            try {
                c = pool.get(address(target));
            } catch (FsException e) {
                if (!anotherMayTakeOver) {
                    throw e;
                }
                last = e; // Not sent: safe to try again.
                c = null;
            }
            if (c != null) {
                long remaining = Math.max(1, deadline - System.nanoTime());
                // A coordinator cut off by the network answers nothing, not even a reset: a request
                // that may be sent again waits for it a third of the deadline, then the view is
                // refreshed and it goes to whoever took over, within the same deadline.
                long wait = anotherMayTakeOver && repeatable(request) ? Math.min(remaining, attemptNanos()) : remaining;
                try {
                    return c.callSync(request, payload == null ? null : Unpooled.wrappedBuffer(payload),
                            java.time.Duration.ofNanos(wait));
                } catch (FsException e) {
                    // Neither a node that says another coordinates nor one still starting has run it;
                    // the one starting will answer in a moment, even when no other can take over.
                    boolean retry = e.code() == ErrorCode.NOT_COORDINATOR || Response.Error.starting(e)
                            || (anotherMayTakeOver && repeatable(request) && Quorum.unreachable(e));
                    if (!retry) {
                        throw e;
                    }
                    last = e;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw last;
            }
            try {
                Thread.sleep(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, Math.min(50L << Math.min(attempt, 4), 500)));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw last;
            }
            refreshNow();
        }
    }

    /** How long one attempt of a repeatable request waits for a coordinator that may be cut off. */
    private long attemptNanos() {
        return Math.max(config.requestTimeout().toNanos() / 3, TimeUnit.SECONDS.toNanos(3));
    }

    /**
     * Requests that may be sent again when the node died before answering, whether or not they ran:
     * reads, and changes that set absolute values (a commit of chunk slots, attributes, an xattr
     * without CREATE or REPLACE), so that a coordinator's death during an fsync is a delay, not EIO.
     * Creating, removing and renaming names are not: run twice they fail the second time.
     */
    private static boolean repeatable(Request r) {
        return r instanceof Request.GetAttr || r instanceof Request.Lookup || r instanceof Request.ReadDir
                || r instanceof Request.GetLayout || r instanceof Request.GetXattr || r instanceof Request.ListXattr
                || r instanceof Request.CommitWrite || r instanceof Request.SetAttr
                || (r instanceof Request.SetXattr x && x.flags() == 0);
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
        ScheduledFuture<?> r = refresher;
        if (r != null) {
            r.cancel(false);
        }
        if (localWrites != null) {
            localWrites.close();
        }
        pool.close();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly(3,
                java.util.concurrent.TimeUnit.SECONDS);
    }
}
