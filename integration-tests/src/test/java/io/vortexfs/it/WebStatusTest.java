package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Each node's HTTP port, against a real three-node cluster: the status page, the cluster's state as
 * JSON, and the metrics a Prometheus server would scrape, before and after a node is killed.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class WebStatusTest extends ClusterTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> get(String address, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://" + address + path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** The value of a sample line of the metrics text, e.g. {@code vortex_members{state="alive"}}. */
    private static double sample(String metrics, String series) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no " + series + " in:\n" + metrics);
    }

    @Test
    void theStatusPageApiAndMetricsShowTheClusterAsItIs() throws Exception {
        cluster = new TestCluster(tmp).withNodeArgs("--http-port", "0");
        for (int i = 0; i < 3; i++) {
            cluster.startNode();
        }
        String web = cluster.node(0).http;
        byte[] random = new byte[2 << 20];
        new java.util.Random(7).nextBytes(random);
        Files.write(tmp.resolve("g"), random);
        Shell.exec(Vortex.java("128m", "put", "g", "/g", "--cluster", cluster.seeds()), tmp, Map.of(), 60).ok();

        HttpResponse<String> page = get(web, "/");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/html"));
        assertTrue(page.body().contains("VortexFS cluster") && page.body().contains("api/status"), page.body());

        HttpResponse<String> status = get(web, "/api/status");
        assertEquals(200, status.statusCode());
        assertEquals("application/json", status.headers().firstValue("content-type").orElse(""));
        String s = status.body();
        assertEquals(3, count(s, "\"state\":\"ALIVE\""), s);
        assertEquals(3, count(s, "\"stats\":\\{\"chunks\":[1-9]"), "every member stores a copy of the random chunk: " + s);
        for (int i = 0; i < 3; i++) {
            assertTrue(s.contains("\"address\":\"" + cluster.node(i).address + "\""), s);
        }
        assertTrue(s.contains("\"replicas\":3") && s.contains("\"topology\":\"all-to-all\""), s);

        HttpResponse<String> metrics = get(web, "/metrics");
        assertEquals(200, metrics.statusCode());
        String m = metrics.body();
        assertEquals(3.0, sample(m, "vortex_members{state=\"alive\"}"), m);
        // `vortex put` runs beside the nodes, so it writes their copies as files and has them take them.
        assertTrue(sample(m, "vortex_requests_total{kind=\"AdoptChunk\",outcome=\"ok\"}") >= 1, m);
        assertTrue(sample(m, "vortex_request_seconds_count{kind=\"AdoptChunk\"}") >= 1, m);
        assertTrue(sample(m, "vortex_chunks") >= 1, m);
        assertTrue(sample(m, "vortex_network_received_bytes_total") > 0, m);
        assertTrue(sample(m, "vortex_wal_fsyncs_total") >= 1, m);
        assertTrue(sample(m, "vortex_wal_fsync_seconds_total") > 0, m);

        // The page as a browser shows it, scripts run: a row for each member.
        assertTrue(Shell.run("command -v chromium").exit() == 0, "the page test needs chromium (bin/test installs it)");
        Shell.Result dom = Shell.exec(java.util.List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--virtual-time-budget=10000", "--dump-dom", "http://" + web + "/"), tmp, Map.of(), 60);
        assertEquals(0, dom.exit(), dom.err());
        assertEquals(3, count(dom.out(), "<tr class=\"member\">"), dom.out());
        for (int i = 0; i < 3; i++) {
            assertTrue(dom.out().contains("<td>" + cluster.node(i).address + "</td>"), dom.out());
        }
        assertTrue(dom.out().contains("3 of 3 alive"), dom.out());

        // Not a page, not a method, not HTTP: each gets its answer, and the node goes on.
        assertEquals(404, get(web, "/nope").statusCode());
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://" + web + "/api/status"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        String[] hostPort = web.split(":");
        try (Socket garbage = new Socket(hostPort[0], Integer.parseInt(hostPort[1]))) {
            OutputStream out = garbage.getOutputStream();
            out.write("\u0000\u00ff NOT HTTP AT ALL\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            garbage.setSoTimeout(10_000);
            String answer = new String(garbage.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 400"), answer);
        }

        // A member killed: the others' pages show it dead, without figures.
        cluster.node(2).kill();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String after;
        do {
            Thread.sleep(500);
            after = get(web, "/api/status").body();
        } while (count(after, "\"state\":\"DEAD\"") != 1 && System.nanoTime() < deadline);
        assertEquals(1, count(after, "\"state\":\"DEAD\""), after);
        assertEquals(2, count(after, "\"stats\":"), after);
        assertEquals(1.0, sample(get(web, "/metrics").body(), "vortex_members{state=\"dead\"}"));
    }
}
