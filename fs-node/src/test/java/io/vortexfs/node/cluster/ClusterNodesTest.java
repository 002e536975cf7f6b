package io.vortexfs.node.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.vortexfs.node.Node;
import io.vortexfs.node.NodeConfig;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.ChunkId;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.MemberInfo;
import io.vortexfs.protocol.MemberState;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.Topology;
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
                .withCluster(new NodeConfig.Cluster(join, topology, replicas, 0, 0, FAST, Duration.ofSeconds(5)));
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

    /** The node that coordinates metadata partition 0, as the first running node sees it. */
    private Node coordinator() {
        Node any = nodes.stream().filter(n -> n != null).findFirst().orElseThrow();
        MemberInfo c = any.membership().coordinator(0);
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
        for (Node n : nodes) {
            try (Reply r = call(n, new Request.GetChunk(id), null)) {
                assertEquals(data.length, r.payload().readableBytes());
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
        Node other = nodes.stream().filter(n -> n != c).findFirst().orElseThrow();
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
        Node c = coordinator();
        callOk(c, new Request.MakeNode(1, "made-while-away", FileType.S_IFREG | 0644, 0, 0, null, 4096));

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
            Response.PartitionVersion v = (Response.PartitionVersion) callOk(n, new Request.GetPartitionVersion(0));
            return new long[] {v.epoch(), v.seq()};
        } catch (FsException e) {
            throw new AssertionError(e);
        }
    }
}
