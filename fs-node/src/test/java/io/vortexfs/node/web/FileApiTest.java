package io.vortexfs.node.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vortexfs.node.Node;
import io.vortexfs.node.NodeConfig;
import io.vortexfs.node.cluster.Membership;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.rpc.ClusterKey;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The REST file API of a node's HTTP port, in process, over files kept in memory. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FileApiTest {
    @TempDir
    Path dir;

    private Node node;
    private String token;
    private final MemoryFiles files = new MemoryFiles();
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        Path keyFile = dir.resolve("cluster.key");
        token = ClusterKey.loadOrCreate(keyFile).apiToken();
        node = Node.start(NodeConfig.defaults(dir.resolve("node"), "127.0.0.1", 0).withHttpPort(0)
                .withCluster(new NodeConfig.Cluster(List.of(), null, 0, 0, 0, 0, Membership.Timing.DEFAULT,
                        Duration.ofSeconds(10), keyFile)));
    }

    @AfterEach
    void stop() {
        node.close();
    }

    private HttpRequest.Builder at(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + path))
                .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + token);
    }

    private HttpResponse<byte[]> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void filesGoUpAndComeBackWholeOrByRangeAndGo() throws Exception {
        assertEquals(503, send(at("/api/files/")).statusCode(), "no files before they are given");
        node.serveFiles(files);
        files.mkdir("/docs");
        byte[] big = new byte[5_000_000];
        new Random(5).nextBytes(big);
        // Streamed: the client sends it chunked, without a length.
        HttpResponse<byte[]> put = send(at("/api/files/docs/big%20file.bin")
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))));
        assertEquals(201, put.statusCode(), text(put));
        assertArrayEquals(big, files.content("/docs/big file.bin"));
        assertEquals(204, send(at("/api/files/docs/big%20file.bin").PUT(HttpRequest.BodyPublishers.ofByteArray(big)))
                .statusCode(), "replaced");
        assertTrue(files.handlesOpen() == 0, "every handle was closed");

        HttpResponse<byte[]> whole = send(at("/api/files/docs/big%20file.bin"));
        assertEquals(200, whole.statusCode());
        assertArrayEquals(big, whole.body());
        assertEquals("bytes", whole.headers().firstValue("accept-ranges").orElse(""));
        HttpResponse<byte[]> part = send(at("/api/files/docs/big%20file.bin").header("Range", "bytes=1000-2999"));
        assertEquals(206, part.statusCode());
        assertEquals("bytes 1000-2999/5000000", part.headers().firstValue("content-range").orElse(""));
        assertArrayEquals(Arrays.copyOfRange(big, 1000, 3000), part.body());
        HttpResponse<byte[]> tail = send(at("/api/files/docs/big%20file.bin").header("Range", "bytes=-7"));
        assertArrayEquals(Arrays.copyOfRange(big, big.length - 7, big.length), tail.body());
        HttpResponse<byte[]> past = send(at("/api/files/docs/big%20file.bin").header("Range", "bytes=5000000-"));
        assertEquals(416, past.statusCode());
        assertEquals("bytes */5000000", past.headers().firstValue("content-range").orElse(""));
        HttpResponse<byte[]> head = send(at("/api/files/docs/big%20file.bin").method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertEquals(200, head.statusCode());
        assertEquals("5000000", head.headers().firstValue("content-length").orElse(""));
        assertEquals(0, head.body().length);

        String listing = text(send(at("/api/files/docs")));
        assertTrue(listing.startsWith("{\"path\":\"/docs\",\"entries\":[{\"name\":\"big file.bin\",\"type\":\"file\","
                + "\"size\":5000000,\"mode\":\"0644\""), listing);
        String stat = text(send(at("/api/stat/docs")));
        assertTrue(stat.startsWith("{\"name\":\"docs\",\"type\":\"directory\""), stat);

        assertEquals(409, send(at("/api/files/docs").DELETE()).statusCode(), "a directory that is not empty");
        assertEquals(204, send(at("/api/files/docs/big%20file.bin").DELETE()).statusCode());
        HttpResponse<byte[]> gone = send(at("/api/files/docs/big%20file.bin"));
        assertEquals(404, gone.statusCode());
        assertTrue(text(gone).startsWith("{\"error\":"), text(gone));
        assertEquals(204, send(at("/api/files/docs").DELETE()).statusCode());
        assertEquals(0, files.handlesOpen());
    }

    @Test
    void badPathsMethodsAndTokensAreRefused() throws Exception {
        node.serveFiles(files);
        for (String bad : List.of("/api/files/a/../b", "/api/files/%2E%2E/x", "/api/files/a%2Fb", "/api/files/a//b")) {
            HttpResponse<byte[]> r = send(at(bad).PUT(HttpRequest.BodyPublishers.ofString("x")));
            assertEquals(400, r.statusCode(), bad + ": " + text(r));
        }
        assertEquals(List.of(), files.names(), "nothing was written");
        HttpResponse<byte[]> post = send(at("/api/files/x").POST(HttpRequest.BodyPublishers.ofString("x")));
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD, PUT, DELETE", post.headers().firstValue("allow").orElse(""));
        assertEquals(404, send(at("/api/files/missing")).statusCode());

        HttpRequest.Builder anonymous = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/api/files/"));
        HttpResponse<byte[]> none = send(anonymous);
        assertEquals(401, none.statusCode());
        assertTrue(none.headers().firstValue("www-authenticate").orElse("").startsWith("Bearer"));
        assertEquals(401, send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/api/files/"))
                .header("Authorization", "Bearer " + ClusterKey.generate().apiToken())).statusCode());
        assertEquals(200, send(at("/api/files/")).statusCode());
        assertEquals(200, send(anonymous.copy().uri(URI.create("http://127.0.0.1:" + node.httpPort() + "/api/status")))
                .statusCode(), "the state pages need no token");
    }

    /** Files and directories in memory; handles count what is open. */
    private static final class MemoryFiles implements FileService {
        private final Map<String, byte[]> content = new TreeMap<>();
        private final Map<Long, String> reading = new ConcurrentHashMap<>();
        private final Map<Long, ByteArrayOutputStream> writing = new ConcurrentHashMap<>();
        private final Map<Long, String> writingPath = new ConcurrentHashMap<>();
        private final AtomicLong handles = new AtomicLong();

        MemoryFiles() {
            content.put("/", null);
        }

        synchronized void mkdir(String path) {
            content.put(path, null);
        }

        synchronized byte[] content(String path) {
            return content.get(path);
        }

        synchronized List<String> names() {
            return new ArrayList<>(content.keySet()).subList(1, content.size());
        }

        int handlesOpen() {
            return reading.size() + writing.size();
        }

        private static Attr attr(String path, byte[] bytes) {
            int mode = bytes == null ? FileType.S_IFDIR | 0755 : FileType.S_IFREG | 0644;
            long size = bytes == null ? 0 : bytes.length;
            return new Attr(path.hashCode() & 0xffff, mode, 1, 0, 0, size, 0, 1_700_000_000_000_000_000L, 0,
                    bytes == null ? 0 : 4096, 1, null, 1, size, 0);
        }

        @Override
        public synchronized Attr stat(String path) throws FsException {
            if (!content.containsKey(path)) {
                throw new FsException(ErrorCode.NOT_FOUND, "no " + path);
            }
            return attr(path, content.get(path));
        }

        @Override
        public synchronized List<DirEntry> list(String path) throws FsException {
            stat(path);
            String prefix = path.equals("/") ? "/" : path + "/";
            List<DirEntry> out = new ArrayList<>();
            for (Map.Entry<String, byte[]> e : content.entrySet()) {
                String name = e.getKey().startsWith(prefix) ? e.getKey().substring(prefix.length()) : "";
                if (!name.isEmpty() && !name.contains("/")) {
                    out.add(new DirEntry(name, attr(e.getKey(), e.getValue())));
                }
            }
            return out;
        }

        @Override
        public long open(String path) throws FsException {
            stat(path);
            long h = handles.incrementAndGet();
            reading.put(h, path);
            return h;
        }

        @Override
        public synchronized int read(long handle, long offset, byte[] dst, int length) {
            byte[] b = content.get(reading.get(handle));
            int n = (int) Math.max(0, Math.min(length, b.length - offset));
            System.arraycopy(b, (int) offset, dst, 0, n);
            return n;
        }

        @Override
        public synchronized long create(String path) throws FsException {
            String parent = path.substring(0, Math.max(1, path.lastIndexOf('/')));
            if (!content.containsKey(parent)) {
                throw new FsException(ErrorCode.NOT_FOUND, "no " + parent);
            }
            long h = handles.incrementAndGet();
            writing.put(h, new ByteArrayOutputStream());
            writingPath.put(h, path);
            content.put(path, new byte[0]);
            return h;
        }

        @Override
        public void write(long handle, long offset, byte[] src, int length) {
            ByteArrayOutputStream out = writing.get(handle);
            assertEquals(out.size(), offset, "writes come in order");
            out.write(src, 0, length);
        }

        @Override
        public synchronized void close(long handle) {
            if (reading.remove(handle) == null) {
                content.put(writingPath.remove(handle), writing.remove(handle).toByteArray());
            }
        }

        @Override
        public synchronized void delete(String path) throws FsException {
            if (stat(path).isDirectory() && !list(path).isEmpty()) {
                throw new FsException(ErrorCode.NOT_EMPTY, path + " is not empty");
            }
            content.remove(path);
        }
    }
}
