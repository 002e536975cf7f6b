package io.vortexfs.node.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.vortexfs.node.Node;
import io.vortexfs.node.NodeConfig;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ContentHash;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.Topology;
import io.vortexfs.protocol.placement.Partitions;
import io.vortexfs.protocol.rpc.ConnectionPool;
import io.vortexfs.protocol.rpc.EventLoops;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.rpc.Reply;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Several nodes in one JVM, on loopback, with fast heartbeats: membership, the topology switch,
 * chained chunk writes and metadata replication with a change of coordinator.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ClusterNodesTest {
    private static final Membership.Timing FAST = new Membership.Timing(Duration.ofMillis(50), Duration.ofMillis(300),
            Duration.ofMillis(600));
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final List<Node> nodes = new ArrayList<>();
    private EventLoopGroup group;
    private ConnectionPool pool;

    @BeforeEach
    void client() {
        group = EventLoops.newGroup(1, "test-client");
        pool = new ConnectionPool(group, Duration.ofSeconds(2), 64);
    }

    @AfterEach
    void stop() {
        pool.close();
        for (Node n : nodes) {
            if (n != null) {
                n.close();
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    private Node start(int i, Topology topology, int replicas, Node seed) throws Exception {
        return start(i, topology, replicas, seed, 0);
    }

    private Node start(int i, Topology topology, int replicas, Node seed, int port) throws Exception {
        List<HostPort> join = seed == null ? List.of() : List.of(new HostPort("127.0.0.1", seed.port()));
        NodeConfig c = NodeConfig.defaults(dir.resolve("node-" + i), "127.0.0.1", port)
                .withCluster(new NodeConfig.Cluster(join, topology, replicas, 0, 0, 0, FAST, Duration.ofSeconds(5)));
        Node n = Node.start(c);
        while (nodes.size() <= i) {
            nodes.add(null);
        }
        nodes.set(i, n);
        return n;
    }

    private List<Node> cluster(int count, Topology topology, int replicas) throws Exception {
        Node first = start(0, topology, replicas, null);
        for (int i = 1; i < count; i++) {
            start(i, topology, replicas, first);
        }
        awaitTrue(() -> nodes.stream().allMatch(n -> alive(n) == count), "every node sees " + count + " alive members");
        // The coordinator takes the metadata over at once and brings every owner up to date; until then
        // only the founder holds the root.
        if (replicas >= count) {
            awaitTrue(() -> nodes.stream().allMatch(n -> version(n)[0] > 0 && java.util.Arrays.equals(version(n),
                    version(nodes.get(0)))), "every owner holds the metadata");

        }
        return nodes;
    }

    private static long alive(Node n) {
        return n.membership().members().stream().filter(m -> m.state() == MemberState.ALIVE).count();
    }

    private void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                StringBuilder versions = new StringBuilder();
                for (Node n : nodes) {
                    if (n != null) {
                        versions.append(' ').append(n.port()).append('=').append(java.util.Arrays.toString(version(n)));
                    }
                }
                throw new AssertionError("timed out waiting until " + what + "; partition versions:" + versions);
            }
            Thread.sleep(20);
        }
    }

    private Reply call(Node n, Request r, byte[] payload) throws FsException {
        return pool.get(new HostPort("127.0.0.1", n.port())).callSync(r, payload == null ? null : Unpooled.wrappedBuffer(payload),
                TIMEOUT);
    }

    private Response callOk(Node n, Request r) throws FsException {
        try (Reply reply = call(n, r, null)) {
            return reply.response();
        }
    }

    /** The partition of the root directory. */
    private int rootPartition() {
        Node any = nodes.stream().filter(n -> n != null).findFirst().orElseThrow();
        return io.vortexfs.protocol.placement.Partitions.of(1, any.membership().settings().partitions());
    }

    /** The node that coordinates the root's metadata partition, as the first running node sees it. */
    private Node coordinator() {
        return coordinator(rootPartition());
    }

    private Node coordinator(int partition) {
        Node any = nodes.stream().filter(n -> n != null).findFirst().orElseThrow();
        MemberInfo c = any.membership().coordinator(partition);
        return nodes.stream().filter(n -> n != null && n.identity().nodeId().equals(c.nodeId())).findFirst().orElseThrow();
    }

    @ParameterizedTest
    @EnumSource(Topology.class)
    void everyNodeLearnsEveryMember(Topology topology) throws Exception {
        cluster(5, topology, 3);
        for (Node n : nodes) {
            Response.ClusterView v = n.membership().view();
            assertEquals(5, v.members().size());
            assertEquals(topology.label(), v.topology());
        }
        int fanOut = nodes.get(0).membership().heartbeatFanOut();
        assertEquals(topology == Topology.RING ? 2 : 4, fanOut, "heartbeat targets per node");
    }

    @ParameterizedTest
    @EnumSource(Topology.class)
    void aSilentNodeIsDeclaredDeadAndComesBackWithANewGeneration(Topology topology) throws Exception {
        cluster(4, topology, 3);
        Node victim = nodes.get(2);
        String id = victim.identity().nodeId();
        int port = victim.port();
        victim.close();
        nodes.set(2, null);
        awaitTrue(() -> stateSeenBy(nodes.get(0), id) == MemberState.DEAD
                && stateSeenBy(nodes.get(3), id) == MemberState.DEAD, "the others call it dead");
        Node back = start(2, null, 0, null, port);
        assertEquals(id, back.identity().nodeId(), "a node's id survives its restart");
        awaitTrue(() -> stateSeenBy(nodes.get(0), id) == MemberState.ALIVE
                && stateSeenBy(nodes.get(3), id) == MemberState.ALIVE, "the others see it again");
        long generation = nodes.get(0).membership().members().stream().filter(m -> m.nodeId().equals(id))
                .findFirst().orElseThrow().generation();
        assertEquals(back.identity().generation(), generation);
    }

    private static MemberState stateSeenBy(Node n, String id) {
        return n.membership().members().stream().filter(m -> m.nodeId().equals(id)).findFirst()
                .map(MemberInfo::state).orElse(null);
    }

    @Test
    void aNodeOfTheOtherTopologyIsRefusedAtJoin() throws Exception {
        Node ring = start(0, Topology.RING, 3, null);
        IOException e = assertThrows(IOException.class, () -> start(1, Topology.ALL_TO_ALL, 3, ring));
        assertTrue(e.getMessage().contains("this cluster uses --topology ring; the node was started with --topology all-to-all"),
                e.getMessage());
        IOException r = assertThrows(IOException.class, () -> start(2, null, 2, ring));
        assertTrue(r.getMessage().contains("--replicas 3"), r.getMessage());
        Node adopts = start(3, null, 0, ring);
        assertEquals(Topology.RING, adopts.membership().settings().topology(), "a node started without --topology takes the cluster's");
    }

    @ParameterizedTest
    @EnumSource(Topology.class)
    void aChunkIsStoredOnEveryNodeOfItsChain(Topology topology) throws Exception {
        cluster(3, topology, 3);
        byte[] data = "chained".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ChunkId id = ChunkId.of(data);
        List<String> rest = List.of("127.0.0.1:" + nodes.get(1).port(), "127.0.0.1:" + nodes.get(2).port());
        try (Reply r = call(nodes.get(0), new Request.PutChunk(id, data.length, rest), data)) {
            assertEquals(new Response.Stored(3), r.response());
        }
        // A writer's block sums go down the chain with the bytes, and every link checks them.
        byte[] summedData = new byte[3 * Response.ChunkRange.BLOCK + 5];
        new java.util.Random(3).nextBytes(summedData);
        ContentHash.Summed summed = ContentHash.SHA256.summed(summedData, 0, summedData.length);
        ByteBuf built = Request.PutChunk.summedPayload(summed, summedData, summedData.length, UnpooledByteBufAllocator.DEFAULT);
        byte[] payload = ByteBufUtil.getBytes(built);
        built.release();
        try (Reply r = call(nodes.get(0), new Request.PutChunk(summed.id(), summedData.length, rest, true), payload)) {
            assertEquals(new Response.Stored(3), r.response());
        }
        for (Node n : nodes) {
            try (Reply r = call(n, new Request.GetChunk(id), null)) {
                assertEquals(data.length, r.payload().readableBytes());
            }
            try (Reply r = call(n, new Request.GetChunk(summed.id()), null)) {
                assertArrayEquals(summedData, ByteBufUtil.getBytes(r.payload()));
            }
        }
        // A dead link in the chain is stepped over; the copies say how many were made.
        nodes.get(1).close();
        nodes.set(1, null);
        byte[] more = "stepped over".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (Reply r = call(nodes.get(0), new Request.PutChunk(ChunkId.of(more), more.length, rest), more)) {
            assertEquals(new Response.Stored(2), r.response());
        }
    }

    @ParameterizedTest
    @EnumSource(Topology.class)
    void metadataIsOnEveryOwnerAndSurvivesItsCoordinator(Topology topology) throws Exception {
        cluster(3, topology, 3);
        Node c = coordinator();
        Attr dir = ((Response.AttrReply) callOk(c, new Request.MakeNode(1, "d", FileType.S_IFDIR | 0755, 0, 0, null, 0))).attr();
        for (Node n : nodes) {
            assertArrayEquals(version(c), version(n),
                    "every owner holds the change before it is acknowledged");
        }
        // Any node takes any request: one that does not coordinate the partition passes it on.
        Node dirCoordinator = coordinator(io.vortexfs.protocol.placement.Partitions.of(dir.ino(),
                c.membership().settings().partitions()));
        Node other = nodes.stream().filter(n -> n != dirCoordinator).findFirst().orElseThrow();
        assertEquals(dir, ((Response.AttrReply) callOk(other, new Request.GetAttr(dir.ino()))).attr());
        byte[] value = "v".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        call(other, new Request.SetXattr(dir.ino(), "user.k", 0), value).close();
        try (Reply r = call(other, new Request.GetXattr(dir.ino(), "user.k"), null)) {
            assertEquals(1, r.payload().readableBytes(), "payloads travel both ways through the extra hop");
        }
        // A coordinator refuses, rather than passes on, what was forwarded to it by mistake.
        FsException refused = assertThrows(FsException.class,
                () -> call(other, new Request.Forwarded(new Request.GetAttr(dir.ino())), null));
        assertEquals(ErrorCode.NOT_COORDINATOR, refused.code());
        Attr acknowledged = ((Response.AttrReply) callOk(c, new Request.GetAttr(dir.ino()))).attr();

        Stopped stopped = stopAndAwaitDead(c);
        Node next = coordinator();
        assertEquals(acknowledged, ((Response.AttrReply) callOk(next, new Request.GetAttr(dir.ino()))).attr(),
                "the next owner serves what the dead coordinator acknowledged");
        callOk(next, new Request.MakeNode(dir.ino(), "while-away", FileType.S_IFREG | 0644, 0, 0, null, 4096));

        // The old coordinator comes back behind; it catches up before it coordinates again.
        Node back = start(stopped.index(), null, 0, null, stopped.port());
        awaitTrue(() -> nodes.stream().allMatch(n -> alive(n) == 3), "all three are alive again");
        Node now = coordinator();
        Response.DirListing listing = (Response.DirListing) callOk(now, new Request.ReadDir(dir.ino()));
        assertEquals(List.of("while-away"), listing.entries().stream().map(e -> e.name()).toList());
        callOk(now, new Request.MakeNode(dir.ino(), "after", FileType.S_IFREG | 0644, 0, 0, null, 4096));
        awaitTrue(() -> java.util.Arrays.equals(version(back), version(now)), "the restarted node holds the latest change");
    }

    @Test
    void aReturningNodeGetsTheChunksAndMetadataItMissed() throws Exception {
        cluster(3, Topology.ALL_TO_ALL, 3);
        Stopped away = stopAndAwaitDead(nodes.stream().filter(n -> n != coordinator()).findFirst().orElseThrow());

        byte[] data = "written while one owner was away".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ChunkId chunk = ChunkId.of(data);
        for (Node n : nodes) {
            if (n != null) {
                call(n, new Request.PutChunk(chunk, data.length), data).close();
            }
        }
        // The member going DEAD may start a takeover of the root's partition that the coordinator
        // then refuses changes for (NOT_COORDINATOR), which a client asks again on, as here.
        awaitTrue(() -> {
            try {
                callOk(coordinator(), new Request.MakeNode(1, "made-while-away", FileType.S_IFREG | 0644, 0, 0, null, 4096));
                return true;
            } catch (FsException e) {
                if (e.code() != ErrorCode.NOT_COORDINATOR) {
                    throw new AssertionError(e);
                }
                return false;
            }
        }, "a file made while one member is away");

        Node back = start(away.index(), null, 0, null, away.port());
        awaitTrue(() -> {
            try (Reply r = call(back, new Request.GetChunk(chunk), null)) {
                return r.payload().readableBytes() == data.length;
            } catch (FsException e) {
                return false;
            }
        }, "the returning node holds the chunk written while it was away");
        awaitTrue(() -> java.util.Arrays.equals(version(back), version(coordinator())),
                "the returning node holds the latest metadata without any new write");
    }

    private Attr mk(Node n, long parent, String name, int type) throws FsException {
        return ((Response.AttrReply) callOk(n, new Request.MakeNode(parent, name, type | 0755, 0, 0, null,
                type == FileType.S_IFREG ? 4096 : 0))).attr();
    }

    private List<String> names(Node n, long dir) throws FsException {
        return ((Response.DirListing) callOk(n, new Request.ReadDir(dir))).entries().stream().map(e -> e.name()).sorted()
                .toList();
    }

    private void assertFsckClean() throws FsException {
        for (Node n : nodes) {
            if (n != null) {
                Response.FsckReport r = (Response.FsckReport) callOk(n, new Request.Fsck());
                assertEquals(List.of(), r.problems(), "fsck on " + n.port());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Topology.class)
    void namespaceOperationsSpanPartitionsAndLeaveThemConsistent(Topology topology) throws Exception {
        cluster(4, topology, 2);
        awaitTrue(() -> nodes.stream().allMatch(n -> alive(n) == 4), "all four alive");
        Node any = nodes.get(3);
        int partitions = any.membership().settings().partitions();
        // Directories are born in partitions picked at random: a tree of them lands all over the
        // cluster. Twelve can still fall on two of the four nodes when the ring gives the other two
        // small shares, so more are made, up to 48, until three nodes coordinate some.
        java.util.Set<Integer> used = new java.util.HashSet<>();
        java.util.Set<String> coordinators = new java.util.HashSet<>();
        List<Attr> dirs = new ArrayList<>();
        for (int i = 0; i < 48 && (i < 12 || coordinators.size() < 3); i++) {
            Attr d = mk(nodes.get(i % 4), 1, "d" + i, FileType.S_IFDIR);
            dirs.add(d);
            int p = io.vortexfs.protocol.placement.Partitions.of(d.ino(), partitions);
            used.add(p);
            coordinators.add(any.membership().coordinator(p).nodeId());
        }
        assertTrue(used.size() >= 6, dirs.size() + " directories in " + used.size() + " partitions");
        assertTrue(coordinators.size() >= 3, "their partitions are coordinated by " + coordinators.size() + " nodes");
        Attr d0 = dirs.get(0);
        Attr d1 = dirs.get(1);
        Attr sub = mk(any, d0.ino(), "sub", FileType.S_IFDIR);
        Attr file = mk(any, d0.ino(), "f", FileType.S_IFREG);
        assertEquals(2 + 1, ((Response.AttrReply) callOk(any, new Request.GetAttr(d0.ino()))).attr().nlink(),
                "a subdirectory counts in its parent's links");

        // A file moves to a directory of another partition; a hard link and an unlink across partitions.
        callOk(any, new Request.Rename(d0.ino(), "f", d1.ino(), "g"));
        assertEquals(List.of("sub"), names(any, d0.ino()));
        assertEquals(List.of("g"), names(any, d1.ino()));
        Attr linked = ((Response.AttrReply) callOk(any, new Request.Link(file.ino(), d0.ino(), "f-again"))).attr();
        assertEquals(2, linked.nlink());
        callOk(any, new Request.Remove(d1.ino(), "g", false));
        assertEquals(1, ((Response.AttrReply) callOk(any, new Request.Lookup(d0.ino(), "f-again"))).attr().nlink());

        // A directory moves across, keeping its contents; its old and new parents count it.
        mk(any, sub.ino(), "inside", FileType.S_IFREG);
        callOk(any, new Request.Rename(d0.ino(), "sub", d1.ino(), "moved"));
        assertEquals(2, ((Response.AttrReply) callOk(any, new Request.GetAttr(d0.ino()))).attr().nlink());
        assertEquals(3, ((Response.AttrReply) callOk(any, new Request.GetAttr(d1.ino()))).attr().nlink());
        assertEquals(d1.ino(), ((Response.AttrReply) callOk(any, new Request.GetAttr(sub.ino()))).attr().parent());
        assertEquals(List.of("inside"), names(nodes.get(0), sub.ino()));

        // Refusals change nothing.
        FsException intoItself = assertThrows(FsException.class,
                () -> callOk(any, new Request.Rename(d1.ino(), "moved", sub.ino(), "x")));
        assertEquals(ErrorCode.INVALID, intoItself.code());
        FsException notEmpty = assertThrows(FsException.class, () -> callOk(any, new Request.Remove(d1.ino(), "moved", true)));
        assertEquals(ErrorCode.NOT_EMPTY, notEmpty.code());
        Attr target = mk(any, 1, "target", FileType.S_IFDIR);
        mk(any, target.ino(), "keep", FileType.S_IFREG);
        FsException ontoFull = assertThrows(FsException.class,
                () -> callOk(any, new Request.Rename(d1.ino(), "moved", 1, "target")));
        assertEquals(ErrorCode.NOT_EMPTY, ontoFull.code());
        assertEquals(List.of("keep"), names(any, target.ino()));
        assertEquals(List.of("moved"), names(any, d1.ino()));
        FsException exists = assertThrows(FsException.class, () -> mk(any, 1, "target", FileType.S_IFDIR));
        assertEquals(ErrorCode.EXISTS, exists.code());

        // A directory replaces an empty one; then everything is taken down again.
        Attr empty = mk(any, 1, "empty", FileType.S_IFDIR);
        callOk(any, new Request.Rename(d1.ino(), "moved", 1, "empty"));
        assertThrows(FsException.class, () -> callOk(any, new Request.GetAttr(empty.ino())));
        callOk(any, new Request.Remove(sub.ino(), "inside", false));
        callOk(any, new Request.Remove(1, "empty", true));
        callOk(any, new Request.Remove(target.ino(), "keep", false));
        callOk(any, new Request.Remove(1, "target", true));
        callOk(any, new Request.Remove(d0.ino(), "f-again", false));
        assertThrows(FsException.class, () -> callOk(any, new Request.GetAttr(file.ino())), "the last name took the file");
        assertFsckClean();
        for (int i = 0; i < 12; i++) {
            callOk(nodes.get(i % 4), new Request.Remove(1, "d" + i, true));
        }
        assertEquals(List.of(), names(any, 1));
        assertFsckClean();
    }

    @Test
    void twoDirectoriesMovedIntoEachOtherAtOnceNeverMakeALoop() throws Exception {
        cluster(3, Topology.ALL_TO_ALL, 3);
        int partitions = nodes.get(0).membership().settings().partitions();
        ExecutorService movers = Executors.newFixedThreadPool(2);
        try {
            int raced = 0;
            for (int round = 0; raced < 10 && round < 100; round++) {
                Attr p = mk(nodes.get(0), 1, "p" + round, FileType.S_IFDIR);
                Attr q = mk(nodes.get(1), 1, "q" + round, FileType.S_IFDIR);
                // Each rename is run by the coordinator of its source's parent: two different partitions.
                if (Partitions.of(p.ino(), partitions) == Partitions.of(q.ino(), partitions)) {
                    continue;
                }
                raced++;
                Attr a = mk(nodes.get(0), p.ino(), "a", FileType.S_IFDIR);
                Attr b = mk(nodes.get(1), q.ino(), "b", FileType.S_IFDIR);
                CountDownLatch go = new CountDownLatch(1);
                Future<FsException> aIntoB = movers.submit(() -> renameWhen(go, nodes.get(0), p.ino(), "a", b.ino()));
                Future<FsException> bIntoA = movers.submit(() -> renameWhen(go, nodes.get(1), q.ino(), "b", a.ino()));
                go.countDown();
                List<FsException> refusals = new ArrayList<>();
                for (Future<FsException> f : List.of(aIntoB, bIntoA)) {
                    FsException e = f.get(30, TimeUnit.SECONDS);
                    if (e != null) {
                        assertEquals(ErrorCode.INVALID, e.code(), "round " + round + ": " + e.getMessage());
                        refusals.add(e);
                    }
                }
                long aParent = ((Response.AttrReply) callOk(nodes.get(2), new Request.GetAttr(a.ino()))).attr().parent();
                long bParent = ((Response.AttrReply) callOk(nodes.get(2), new Request.GetAttr(b.ino()))).attr().parent();
                assertFalse(aParent == b.ino() && bParent == a.ino(), "round " + round + ": a and b hold each other");
                assertEquals(1, refusals.size(), "round " + round + ": exactly one move is refused as a move into itself");
            }
            assertEquals(10, raced, "rounds whose two renames ran in different partitions");
        } finally {
            movers.shutdownNow();
        }
        assertFsckClean();
    }

    /** Renames {@code parent/name} into {@code into} once {@code go} opens; the refusal, or null. */
    private FsException renameWhen(CountDownLatch go, Node n, long parent, String name, long into) throws Exception {
        go.await();
        try {
            callOk(n, new Request.Rename(parent, name, into, name));
            return null;
        } catch (FsException e) {
            return e;
        }
    }

    @Test
    void anOperationLeftHalfDoneIsFinishedByThePartitionsCoordinator() throws Exception {
        cluster(3, Topology.ALL_TO_ALL, 3);
        Node c = coordinator();
        int home = rootPartition();
        int partitions = c.membership().settings().partitions();
        int there = (home + 1) % partitions;
        long now = System.currentTimeMillis() * 1_000_000L;
        // As a coordinator that died after the first step of a mkdir would leave it.
        NamespaceOps.Plan plan = new NamespaceOps.Plan(home, now);
        long ino = 1000L * partitions + there;
        plan.add(new Request.PartitionStep(there, plan.intent, 0, Request.PartitionStep.MAKE_DIR, ino, 1, "", 0, 0,
                FileType.S_IFDIR | 0755, 0, 0, now), Request.PartitionStep.of(there, plan.intent, 100,
                Request.PartitionStep.DROP_DIR, ino, now));
        plan.add(Request.PartitionStep.entry(home, plan.intent, 1, Request.PartitionStep.PUT_ENTRY, 1, "half", ino, 0, 1,
                now), null);
        call(coordinator(home), Request.PartitionStep.of(home, plan.intent, 0, Request.PartitionStep.BEGIN, 0, now),
                plan.encode()).close();
        call(coordinator(there), plan.steps.get(0), null).close();
        // Until it is finished the directory has no name; then it has, once, and the plan is gone.
        awaitTrue(() -> {
            try {
                return names(c, 1).contains("half");
            } catch (FsException e) {
                return false;
            }
        }, "the left-over mkdir is finished");
        assertEquals(ino, ((Response.AttrReply) callOk(c, new Request.Lookup(1, "half"))).attr().ino());
        awaitTrue(() -> {
            try {
                assertFsckClean();
                return true;
            } catch (FsException | AssertionError e) {
                return false;
            }
        }, "fsck is clean on every node");
    }

    private record Stopped(int index, int port) {
    }

    /** Stops a node and waits until every other node calls it dead; says where to restart it. */
    private Stopped stopAndAwaitDead(Node victim) throws InterruptedException {
        int index = nodes.indexOf(victim);
        String id = victim.identity().nodeId();
        Stopped s = new Stopped(index, victim.port());
        victim.close();
        nodes.set(index, null);
        awaitTrue(() -> nodes.stream().filter(n -> n != null).allMatch(n -> stateSeenBy(n, id) == MemberState.DEAD),
                "the others call " + id + " dead");
        return s;
    }

    private long[] version(Node n) {
        try {
            Response.PartitionVersion v = (Response.PartitionVersion) callOk(n, new Request.GetPartitionVersion(rootPartition()));
            return new long[] {v.epoch(), v.seq()};
        } catch (FsException e) {
            throw new AssertionError(e);
        }
    }
}
