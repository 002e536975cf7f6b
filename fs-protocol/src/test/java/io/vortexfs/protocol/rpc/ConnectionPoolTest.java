package io.vortexfs.protocol.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.testing.ClientLoop;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectionPoolTest {
    @RegisterExtension
    static final ClientLoop loop = new ClientLoop(1);

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
            return s.getLocalPort();
        }
    }

    @Test
    void aRefusedAddressIsTriedAgainAtOnce() throws Exception {
        int port = freePort();
        HostPort address = new HostPort(LOOPBACK.getHostAddress(), port);
        try (ConnectionPool pool = new ConnectionPool(loop.group(), Duration.ofSeconds(2), 16)) {
            FsException refused = assertThrows(FsException.class, () -> pool.get(address));
            assertEquals(ErrorCode.UNAVAILABLE, refused.code());
            // A refusal costs nothing: a node starting up is connected to as soon as it listens.
            try (ServerSocket server = new ServerSocket(port, 16, LOOPBACK)) {
                assertTrue(pool.get(address).isOpen());
            }
        }
    }

    /**
     * A host that lets SYNs go unanswered: a listener whose accept queue is full. Callers that come
     * together share one connect timeout instead of waiting out one each, in turn.
     */
    @Test
    void callersOfASilentHostShareOneConnectTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 1, LOOPBACK)) {
            List<Socket> filling = new ArrayList<>();
            try {
                InetSocketAddress at = new InetSocketAddress(LOOPBACK, silent.getLocalPort());
                for (int i = 0; i < 4; i++) {
                    Socket s = new Socket();
                    try {
                        s.connect(at, 200);
                        filling.add(s);
                    } catch (java.io.IOException full) {
                        s.close();
                        break;
                    }
                }
                HostPort address = new HostPort(LOOPBACK.getHostAddress(), silent.getLocalPort());
                Duration connectTimeout = Duration.ofSeconds(1);
                try (ConnectionPool pool = new ConnectionPool(loop.group(), connectTimeout, 16)) {
                    long start = System.nanoTime();
                    List<CompletableFuture<FsException>> callers = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        callers.add(CompletableFuture.supplyAsync(() -> {
                            try {
                                pool.get(address);
                                return null;
                            } catch (FsException e) {
                                return e;
                            }
                        }));
                    }
                    for (CompletableFuture<FsException> c : callers) {
                        FsException e = c.get(30, TimeUnit.SECONDS);
                        assertTrue(e != null, "a connect to a silent host succeeded");
                    }
                    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    // One after another they would take four connect timeouts.
                    assertTrue(tookMs < 2 * connectTimeout.toMillis(), "took " + tookMs + " ms");

                    // A caller just after is told at once; after a moment the host is tried again.
                    long before = System.nanoTime();
                    FsException told = assertThrows(FsException.class, () -> pool.get(address));
                    assertTrue(told.getMessage().contains("not tried again yet"), told.getMessage());
                    assertTrue(System.nanoTime() - before < TimeUnit.MILLISECONDS.toNanos(500));
                    Thread.sleep(ConnectionPool.RETRY_AFTER.toMillis());
                    before = System.nanoTime();
                    FsException tried = assertThrows(FsException.class, () -> pool.get(address));
                    assertFalse(tried.getMessage().contains("not tried again yet"), tried.getMessage());
                    assertTrue(System.nanoTime() - before >= connectTimeout.toNanos() / 2);
                }
            } finally {
                for (Socket s : filling) {
                    s.close();
                }
            }
        }
    }
}
