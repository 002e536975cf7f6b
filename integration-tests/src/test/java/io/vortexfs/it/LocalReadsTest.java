package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A mount on the machine of the nodes reads whole chunks from their files (short-circuit reads),
 * checks them, and goes over the network for any copy that fails the check; it writes their copies
 * of new chunks as files too (short-circuit writes).
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class LocalReadsTest extends ClusterTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** Whole chunks the nodes have sent over the network, by every outcome. */
    private long chunksSent() throws Exception {
        return served("GetChunk");
    }

    /** Requests of {@code kind} the nodes have served, by every outcome. */
    private long served(String kind) throws Exception {
        long n = 0;
        for (int i = 0; i < cluster.size(); i++) {
            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://" + cluster.node(i).http + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
            for (String line : metrics.split("\n")) {
                if (line.startsWith("vortex_requests_total{kind=\"" + kind + "\"")) {
                    n += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        }
        return n;
    }

    /** Reads {@code /f} through a fresh mount (nothing cached) and compares it with {@code src}. */
    private void readThroughNewMount(String name, String... options) throws Exception {
        Path mp = Mounts.fresh(name);
        cluster.mount(mp, "256m", options);
        Shell.run("cmp src '" + mp + "/f'", tmp).ok();
    }

    /** Starts 3 nodes (3 copies) and writes 40 MiB of random bytes, {@code src}, to {@code /f} through a new mount. */
    private Path writeThroughNewMount(String name) throws Exception {
        assertFalse(Shell.run("cat /proc/sys/kernel/random/boot_id").ok().out().isBlank(), "this machine has no boot id");
        cluster = new TestCluster(tmp, null, 3).withNodeArgs("--http-port", "0");
        for (int i = 0; i < 3; i++) {
            cluster.startNode();
        }
        Path writer = Mounts.fresh(name);
        cluster.mount(writer, "256m");
        Shell.run("head -c 40M /dev/urandom > src && cp src '" + writer + "/f' && sync '" + writer + "/f'", tmp).ok();
        return writer;
    }

    @Test
    void aMountBesideTheNodesReadsTheirFilesAndTheNetworkOnlyForDamagedCopies() throws Exception {
        writeThroughNewMount("local-reads-w");
        long before = chunksSent();

        readThroughNewMount("local-reads-1");
        assertEquals(before, chunksSent(), "a mount beside the nodes asked them for whole chunks");

        readThroughNewMount("local-reads-2", "--no-local-reads");
        long network = chunksSent() - before;
        assertTrue(network >= 10, "40 MiB in 4 MiB chunks over the network, but " + network + " chunks were sent");

        // Every chunk rots on two of its three owners. The mount tries an owner's file first, and a
        // damaged one over the network, where the mount finds it bad and tells the owner, which
        // moves it aside and fetches a good copy; then the mount takes the next owner. Only if every
        // one of the 10 chunks started at its good owner would no damage be reported: a chance of 3^-10.
        int chunks = cluster.node(0).chunkIds().size();
        assertEquals(10, chunks);
        for (int i = 0; i < 2; i++) {
            for (String id : cluster.node(i).chunkIds()) {
                Path file = cluster.node(i).data.resolve("chunks").resolve(id.substring(0, 2)).resolve(id);
                byte[] b = Files.readAllBytes(file);
                b[b.length / 3] ^= 0x10;
                Files.write(file, b);
            }
        }
        readThroughNewMount("local-reads-3");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (movedAside() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertTrue(movedAside() > 0, "no damaged copy was reported by the mount and moved aside");
    }

    /**
     * A mount on the machine of the nodes writes their copies of each chunk into their staging
     * directories itself (short-circuit writes) and the nodes take the files; the copies are the
     * bytes written, as a mount that reads only over the network finds. Without local writes the
     * chunks are sent.
     */
    @Test
    void aMountBesideTheNodesWritesTheirChunkFilesAndTheyTakeThem() throws Exception {
        Path writer = writeThroughNewMount("local-writes-w");
        assertEquals(30, served("AdoptChunk"), "10 chunks, 3 copies each");
        assertEquals(0, served("PutChunk"));
        for (int i = 0; i < 3; i++) {
            assertEquals(10, cluster.node(i).chunkIds().size());
            try (var staged = Files.list(cluster.node(i).data.resolve("chunks").resolve("tmp"))) {
                assertEquals(0, staged.count(), "a staged file was left behind");
            }
        }
        Path sender = Mounts.fresh("local-writes-s");
        cluster.mount(sender, "256m", "--no-local-writes");
        Shell.run("head -c 8M /dev/urandom > src2 && cp src2 '" + sender + "/g' && sync '" + sender + "/g'", tmp).ok();
        assertEquals(30, served("AdoptChunk"));
        assertEquals(6, served("PutChunk"), "2 chunks, 3 copies each, sent");
        // Read back over the network only, through a mount that has cached nothing.
        Path reader = Mounts.fresh("local-writes-r");
        cluster.mount(reader, "256m", "--no-local-reads");
        Shell.run("cmp src '" + reader + "/f' && cmp src2 '" + reader + "/g'", tmp).ok();
    }

    /** Chunk files the first two nodes moved aside as damaged. */
    private long movedAside() throws Exception {
        long n = 0;
        for (int i = 0; i < 2; i++) {
            Path dir = cluster.node(i).data.resolve("damaged-chunks");
            if (Files.isDirectory(dir)) {
                try (var files = Files.list(dir)) {
                    n += files.count();
                }
            }
        }
        return n;
    }
}
