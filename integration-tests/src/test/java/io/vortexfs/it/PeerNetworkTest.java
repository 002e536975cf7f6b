package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clusters of real node processes on loopback, mounted through FUSE: where the bytes land, what
 * `vortex status` says, and that the cluster keeps serving when a node is killed.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class PeerNetworkTest extends ClusterTest {
    private Path startMounted(String topology, int replicas, int nodes, String test) throws Exception {
        cluster = new TestCluster(tmp, topology, replicas);
        for (int i = 0; i < nodes; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh(test);
        cluster.mount(mp, "256m");
        return mp;
    }

    @ParameterizedTest
    @ValueSource(strings = {"all-to-all", "ring"})
    void everyChunkOfAFileIsStoredOnExactlyReplicasNodes(String topology) throws Exception {
        Path mp = startMounted(topology, 2, 4, "r-copies-" + topology);
        Shell.run("head -c 50M /dev/urandom > '" + mp + "/f' && sync '" + mp + "/f'").ok();
        Map<String, Integer> copies = new HashMap<>();
        for (int i = 0; i < cluster.size(); i++) {
            for (String id : cluster.node(i).chunkIds()) {
                copies.merge(id, 1, Integer::sum);
            }
        }
        assertEquals(13, copies.size(), "50 MiB in 4 MiB chunks");
        copies.forEach((id, n) -> assertEquals(2, n, "copies of chunk " + id));
        int holders = 0;
        for (int i = 0; i < cluster.size(); i++) {
            holders += cluster.node(i).chunkIds().isEmpty() ? 0 : 1;
        }
        assertTrue(holders >= 3, "chunks spread over the nodes, not piled on two: " + holders + " nodes hold some");
    }

    @Test
    void oneGibibyteWithOneReplicaPutsAboutAThirdOnEachOfThreeNodes() throws Exception {
        Path mp = startMounted("all-to-all", 1, 3, "gib-spread");
        // Random bytes: zeros would all be one chunk, stored once.
        Shell.run("head -c 1G /dev/urandom > '" + mp + "/big' && sync '" + mp + "/big'", tmp, Map.of(), 280).ok();
        assertEquals("1073741824", Shell.run("stat -c %s '" + mp + "/big'").ok().out().trim());
        long total = 0;
        long[] bytes = new long[3];
        for (int i = 0; i < 3; i++) {
            bytes[i] = cluster.node(i).chunkBytes();
            total += bytes[i];
        }
        assertEquals(1L << 30, total, "one copy of every byte, and nothing more");
        // 256 chunks at random points of a ring of random node ids: a simulation with the real ring
        // puts a node outside 25-42% in 1.4% of clusters, outside 20-47% in 1 of 20,000.
        for (int i = 0; i < 3; i++) {
            double share = (double) bytes[i] / total;
            assertTrue(share > 0.20 && share < 0.47, "node " + (i + 1) + " holds " + Math.round(share * 100) + "% of the bytes");
        }
    }

    @Test
    void aDirectoryTreeSpreadsItsMetadataOverTheNodesAndStaysConsistent() throws Exception {
        // One copy of everything, so what a node holds is its share alone.
        Path mp = startMounted("all-to-all", 1, 3, "meta-spread");
        Shell.run("cd '" + mp + "' && for i in $(seq 1 100); do mkdir -p d$i/sub && echo $i > d$i/f && touch d$i/sub/g; done",
                tmp, Map.of(), 120).ok();
        String json = Shell.exec(Vortex.java("128m", "status", "--cluster", cluster.node(0).address, "--json"), tmp,
                Map.of(), 60).ok().out();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"metadataKeys\":(\\d+)").matcher(json);
        List<Long> keys = new java.util.ArrayList<>();
        while (m.find()) {
            keys.add(Long.parseLong(m.group(1)));
        }
        assertEquals(3, keys.size(), json);
        long total = keys.stream().mapToLong(Long::longValue).sum();
        // 200 directories, 200 files: 400 inodes and as many names, plus the root.
        assertTrue(total >= 800, "metadata keys " + keys);
        for (long k : keys) {
            // Each node coordinates about a third of the 32 partitions, but hashing the nodes' random
            // ids gives one of them 4 or fewer in about 2% of clusters, and the directories fall at
            // random. Against a share of at least 1/24, a simulation with the real ring fails 1 in
            // 4,000 (it failed about 1 in 90 with 60 directories and 1/12, and once did in CI); a
            // tree born in its parent's partition would leave two nodes next to nothing.
            assertTrue(k >= total / 24, "every node holds a share of the namespace: " + keys);
        }

        // Moves and removals across partitions, as users make them, leave a consistent namespace.
        Shell.run("cd '" + mp + "' && for i in $(seq 1 10); do mv d$i/f d$((i + 10))/moved && mv d$i/sub d$((i + 10))/sub2; done"
                + " && ln d11/moved d12/hard && rm -r d1 d2 d3 && mv d20 d21/d20", tmp, Map.of(), 120).ok();
        assertEquals("1\n11\n", Shell.run("cat '" + mp + "/d11/moved' '" + mp + "/d11/f'").ok().out());
        assertEquals("2", Shell.run("stat -c %h '" + mp + "/d12/hard'").ok().out().trim());
        assertEquals("d21/d20/sub/g\nd21/d20/sub2/g\n", Shell.run("cd '" + mp + "' && find d21/d20 -name g | sort").ok().out());
        Shell.exec(Vortex.java("128m", "fsck", "--cluster", cluster.seeds()), null, Map.of(), 120).ok();
    }

    @Test
    void statusListsTheMembersTheTopologyAndWhatEachStores() throws Exception {
        Path mp = startMounted("ring", 3, 3, "status-ring");
        Shell.run("head -c 9M /dev/urandom > '" + mp + "/f' && mkdir '" + mp + "/d' && sync '" + mp + "/f'").ok();
        String json = Shell.exec(Vortex.java("128m", "status", "--cluster", cluster.node(1).address, "--json"), tmp,
                Map.of(), 60).ok().out();
        assertTrue(json.contains("\"topology\":\"ring\""), json);
        assertTrue(json.contains("\"replicas\":3"), json);
        assertEquals(3, json.split("\"state\":\"ALIVE\"", -1).length - 1, json);
        assertEquals(3, json.split("\"chunks\":3,", -1).length - 1, "three chunks on each of three nodes: " + json);
        String table = Shell.exec(Vortex.java("128m", "status", "--cluster", cluster.node(2).address), tmp, Map.of(), 60)
                .ok().out();
        assertTrue(table.contains("topology ring"), table);
        assertTrue(table.contains("members 3 (3 alive)"), table);
        for (int i = 0; i < 3; i++) {
            assertTrue(table.contains(cluster.node(i).address), table);
        }
    }

    @Test
    void aNodeStartedWithTheOtherTopologyIsRefusedWithAClearMessage() throws Exception {
        cluster = new TestCluster(tmp, "ring", 3);
        TestCluster.Node first = cluster.startNode();
        Shell.Result r = Shell.exec(Vortex.java("128m", "node", "--data", tmp.resolve("stranger").toString(), "--port", "0",
                "--topology", "all-to-all", "--join", first.address), tmp, Map.of(), 60);
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("this cluster uses --topology ring; the node was started with --topology all-to-all"),
                r.err());
        assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"all-to-all", "ring"})
    void theMountKeepsWorkingWhileNodesAreKilledAndRestartedOneAtATime(String topology) throws Exception {
        Path mp = startMounted(topology, 3, 3, "kill-one-" + topology);
        List<String> files = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            TestCluster.Node victim = cluster.node(round);
            Shell.run("head -c 6M /dev/urandom > src-" + round + " && mkdir -p '" + mp + "/r" + round + "' && cp src-"
                    + round + " '" + mp + "/r" + round + "/f'", tmp).ok();
            files.add("r" + round + "/f");
            victim.kill();
            // Reads and writes go on with two of three alive: a majority holds every acknowledged change.
            Shell.run("cmp src-" + round + " '" + mp + "/r" + round + "/f' && echo after > '" + mp + "/after-" + round
                    + "' && ls '" + mp + "' > /dev/null", tmp, Map.of(), 120).ok();
            victim.restart();
        }
        // With every node restarted once, each file is still whole and the namespace complete.
        for (int round = 0; round < 3; round++) {
            Shell.run("cmp src-" + round + " '" + mp + "/" + files.get(round) + "' && test -f '" + mp + "/after-" + round + "'",
                    tmp, Map.of(), 120).ok();
        }
        Set<String> names = Set.of(Shell.run("ls '" + mp + "'").ok().out().trim().split("\\s+"));
        assertEquals(Set.of("r0", "r1", "r2", "after-0", "after-1", "after-2"), names);

        // Each node missed the chunks written while it was down; it gets them back without a new write.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            Set<String> all = new java.util.HashSet<>();
            List<Set<String>> held = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                held.add(cluster.node(i).chunkIds());
                all.addAll(held.get(i));
            }
            if (held.stream().allMatch(h -> h.equals(all))) {
                break;
            }
            assertTrue(System.nanoTime() < deadline, "some node still lacks chunks written while it was down");
            Thread.sleep(200);
        }
    }
}
