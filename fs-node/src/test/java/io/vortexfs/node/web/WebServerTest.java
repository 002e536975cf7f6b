package io.vortexfs.node.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vortexfs.node.Node;
import io.vortexfs.node.NodeConfig;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.Request;
import io.vortexfs.protocol.rpc.HostPort;
import io.vortexfs.protocol.rpc.Reply;
import io.vortexfs.protocol.rpc.RpcClient;
import io.vortexfs.protocol.testing.ClientLoop;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** One node's HTTP port, in process: what each path answers, and what it does with what is not HTTP. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebServerTest {
    @RegisterExtension
    static final ClientLoop LOOP = new ClientLoop(1);

    @TempDir
    Path dir;

    private Node node;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        node = Node.start(NodeConfig.defaults(dir, "127.0.0.1", 0).withHttpPort(0));
    }

    @AfterEach
    void stop() {
        node.close();
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder at(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + path));
    }

    @Test
    void servesThePageTheStatusAndTheMetrics() throws Exception {
        try (RpcClient c = RpcClient.connect(LOOP.group(), new HostPort("127.0.0.1", node.port()), Duration.ofSeconds(5), 8);
                Reply r = c.callSync(new Request.MakeNode(1, "d", FileType.S_IFDIR | 0755, 0, 0, null, 0), null,
                        Duration.ofSeconds(5))) {
            // A request served, to be counted.
        }
        HttpResponse<String> page = send(at("/"));
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<title>VortexFS cluster</title>"));

        HttpResponse<String> status = send(at("/api/status"));
        assertEquals(200, status.statusCode());
        String s = status.body();
        assertTrue(s.startsWith("{\"node\":\"" + node.identity().nodeId() + "\""), s);
        assertTrue(s.contains("\"state\":\"ALIVE\"") && s.contains("\"self\":true") && s.contains("\"ringShare\":1.0"), s);
        assertTrue(s.contains("\"metadataKeys\":"), s);

        String m = send(at("/metrics")).body();
        assertTrue(m.contains("vortex_requests_total{kind=\"MakeNode\",outcome=\"ok\"} 1.0"), m);
        assertTrue(m.contains("vortex_request_seconds_bucket{kind=\"MakeNode\",le=\"+Inf\"} 1"), m);
        assertTrue(m.contains("vortex_members{state=\"alive\"} 1.0"), m);
        assertTrue(m.contains("# TYPE vortex_wal_fsync_seconds_total counter"), m);
    }

    @Test
    void answersWhatIsNotAPageOrNotAGetWithTheRightStatus() throws Exception {
        assertEquals(404, send(at("/etc/passwd")).statusCode());
        assertEquals(404, send(at("/../../etc/passwd")).statusCode());
        HttpResponse<String> post = send(at("/metrics").POST(HttpRequest.BodyPublishers.ofString("x")));
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("allow").orElse(""));
        HttpResponse<String> head = send(at("/api/status").method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
        assertTrue(Long.parseLong(head.headers().firstValue("content-length").orElse("0")) > 0);
    }

    @Test
    void garbageAndOversizedRequestsAreRefusedAndTheNodeGoesOn() throws Exception {
        try (Socket s = new Socket("127.0.0.1", node.httpPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("\u0001\u0002 this is not HTTP\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 400"), answer);
        }
        try (Socket s = new Socket("127.0.0.1", node.httpPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.isEmpty() || !answer.startsWith("HTTP/1.1 200"), answer);
        } catch (java.net.SocketException reset) {
            // Closed while the headers were still being sent: refused all the same.
        }
        assertEquals(200, send(at("/api/status")).statusCode());
    }
}
