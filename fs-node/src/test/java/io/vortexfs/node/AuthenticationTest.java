package io.vortexfs.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vortexfs.node.cluster.Membership;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.Response;
import io.vortexfs.protocol.rpc.ClusterKey;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.testing.ClientLoop;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.rpc.RpcClient;
import io.vortexfs.protocol.testing.LeakCheck;
import io.vortexfs.protocol.wire.FrameFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A node with a cluster key serves only connections that prove it, and proves it in return. */
@ExtendWith(LeakCheck.class)
class AuthenticationTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @RegisterExtension
    static final ClientLoop LOOP = new ClientLoop(1);

    @TempDir
    Path dir;

    private Path keyFile;
    private ClusterKey key;
    private Node node;

    @BeforeEach
    void start() throws Exception {
        keyFile = dir.resolve("the.key");
        key = ClusterKey.loadOrCreate(keyFile);
        node = Node.start(config(dir.resolve("node"), keyFile));
    }

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static NodeConfig config(Path data, Path keyFile) {
        return NodeConfig.defaults(data, "127.0.0.1", 0).withCluster(new NodeConfig.Cluster(List.of(), null, 0, 0, 0, 0,
                Membership.Timing.DEFAULT, Duration.ofSeconds(10), keyFile));
    }

    private HostPort address() {
        return new HostPort("127.0.0.1", node.port());
    }

    private static void hello(RpcClient c) throws FsException {
        try (Reply r = c.callSync(new Request.Hello(FrameFormat.VERSION, "test"), null, TIMEOUT)) {
            assertTrue(r.response() instanceof Response.ClusterView, r.response().toString());
        }
    }

    @Test
    void aClientWithTheKeyIsServedAndTheNodeKeepsTheKey() throws Exception {
        try (RpcClient c = RpcClient.connect(LOOP.group(), address(), TIMEOUT, 16, key)) {
            hello(c);
        }
        assertEquals(Files.readString(keyFile), Files.readString(dir.resolve("node").resolve(ClusterKey.FILE)));
        assertEquals("[OWNER_READ, OWNER_WRITE]",
                Files.getPosixFilePermissions(keyFile).stream().sorted().toList().toString());

        // Started again without naming the key, it uses the one it kept.
        node.close();
        node = Node.start(NodeConfig.defaults(dir.resolve("node"), "127.0.0.1", 0));
        try (RpcClient c = RpcClient.connect(LOOP.group(), address(), TIMEOUT, 16, key)) {
            hello(c);
        }
        try (RpcClient c = RpcClient.connect(LOOP.group(), address(), TIMEOUT, 16)) {
            assertThrows(FsException.class, () -> hello(c));
        }
    }

    @Test
    void aClientWithoutTheKeyGetsAClosedConnectionAndNothingElse() throws Exception {
        try (RpcClient c = RpcClient.connect(LOOP.group(), address(), TIMEOUT, 16)) {
            FsException e = assertThrows(FsException.class, () -> hello(c));
            assertEquals(ErrorCode.UNAVAILABLE, e.code(), e.getMessage());
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertTrue(!c.isOpen());
        }
    }

    @Test
    void aClientWithAnotherKeyIsRefusedBeforeItSendsAnything() throws Exception {
        FsException e = assertThrows(FsException.class,
                () -> RpcClient.connect(LOOP.group(), address(), TIMEOUT, 16, ClusterKey.generate()));
        assertEquals(ErrorCode.PERMISSION, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains("does not hold this cluster's key"), e.getMessage());
    }

    @Test
    void aRecordedHandshakeIsWorthNothingOnAnotherConnection() throws Exception {
        String nonce = ClusterKey.nonce();
        String proof;
        try (RpcClient c = RpcClient.connect(LOOP.group(), address(), TIMEOUT, 16)) {
            Response.Challenge first;
            try (Reply r = c.callSync(new Request.Authenticate(nonce), null, TIMEOUT)) {
                first = (Response.Challenge) r.response();
            }
            assertEquals(key.proof(ClusterKey.NODE, nonce, first.nonce()), first.proof(), "the node proves the key");
            proof = key.proof(ClusterKey.CLIENT, first.nonce(), nonce);
            c.callSync(new Request.Prove(proof), null, TIMEOUT).close();
            hello(c);
        }
        // The same two messages again: the node chose a new nonce, so the old proof does not fit it.
        try (RpcClient c = RpcClient.connect(LOOP.group(), address(), TIMEOUT, 16)) {
            try (Reply r = c.callSync(new Request.Authenticate(nonce), null, TIMEOUT)) {
                assertNotEquals(proof, key.proof(ClusterKey.CLIENT, ((Response.Challenge) r.response()).nonce(), nonce));
            }
            assertThrows(FsException.class, () -> c.callSync(new Request.Prove(proof), null, TIMEOUT).close());
            assertThrows(FsException.class, () -> hello(c));
        }
    }

    @Test
    void aNodeWithoutAKeyCannotPassForAMember() throws Exception {
        Node plain = Node.start(NodeConfig.defaults(dir.resolve("plain"), "127.0.0.1", 0));
        try {
            FsException e = assertThrows(FsException.class,
                    () -> RpcClient.connect(LOOP.group(), new HostPort("127.0.0.1", plain.port()), TIMEOUT, 16, key));
            assertEquals(ErrorCode.PERMISSION, e.code(), e.getMessage());
        } finally {
            plain.close();
        }
    }

    @Test
    void aNodeOfOneClusterIsNotStartedWithAnothersKey() throws Exception {
        node.close();
        Path other = dir.resolve("other.key");
        ClusterKey.loadOrCreate(other);
        IOException e = assertThrows(IOException.class, () -> Node.start(config(dir.resolve("node"), other)));
        assertTrue(e.getMessage().contains("belongs to the cluster whose key is in"), e.getMessage());
        node = null;
    }

    @Test
    void aNodeWithAnotherKeyCannotJoin() throws Exception {
        Path other = dir.resolve("other.key");
        ClusterKey.loadOrCreate(other);
        NodeConfig joiner = config(dir.resolve("joiner"), other);
        joiner = joiner.withCluster(new NodeConfig.Cluster(List.of(address()), null, 0, 0, 0, 0, Membership.Timing.DEFAULT,
                Duration.ofSeconds(5), other));
        NodeConfig j = joiner;
        IOException e = assertThrows(IOException.class, () -> Node.start(j));
        assertTrue(e.getMessage().contains("cannot join"), e.getMessage());
        assertTrue(e.getMessage().contains("does not hold this cluster's key"), e.getMessage());
    }
}
