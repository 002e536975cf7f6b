package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A cluster that loses nodes heals back to R copies by itself: a member dead for longer than
 * {@code --repair-after} leaves the ring, its chunks and metadata are copied to their new owners, and
 * when it returns the copies move back and the surplus ones are dropped.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class SelfHealingTest extends ClusterTest {
    /** One member as `vortex status --json` shows it. */
    private record Member(String state, long metadataKeys, long copied, long dropped) {
    }

    private Map<String, Member> status(TestCluster.Node via) {
        String json = Shell.exec(Vortex.java("128m", "status", "--cluster", via.address, "--json"), tmp, Map.of(), 60)
                .ok().out();
        Map<String, Member> out = new HashMap<>();
        for (String member : json.split("\\{\"nodeId\":")) {
            String id = field(member, "^\"([^\"]+)\"");
            if (id != null) {
                out.put(id, new Member(field(member, "\"state\":\"([A-Z]+)\""), number(member, "metadataKeys"),
                        number(member, "copied"), number(member, "dropped")));
            }
        }
        return out;
    }

    private static String field(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? m.group(1) : null;
    }

    private static long number(String text, String name) {
        String v = field(text, "\"" + name + "\":(\\d+)");
        return v == null ? -1 : Long.parseLong(v);
    }

    private static String nodeId(TestCluster.Node n) throws Exception {
        return Files.readString(n.data.resolve("node.id")).trim().split("\\s+")[0];
    }

    /** How many of {@code nodes} hold each chunk that any node (these or others) holds. */
    private Map<String, Integer> copies(List<TestCluster.Node> nodes) throws Exception {
        Map<String, Integer> out = new HashMap<>();
        for (TestCluster.Node n : nodes) {
            for (String id : n.chunkIds()) {
                out.merge(id, 1, Integer::sum);
            }
        }
        return out;
    }

    private static void await(String what, int seconds, Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        String last = "";
        while (System.nanoTime() < deadline) {
            last = check.failure();
            if (last == null) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError(what + " within " + seconds + " s: " + last);
    }

    private interface Check {
        /** Null when the condition holds, else what is still wrong. */
        String failure() throws Exception;
    }

    @Test
    void aNodeKilledDuringABigCopyIsReplacedAndComesBackWithoutSurplus() throws Exception {
        cluster = new TestCluster(tmp, null, 3).withNodeArgs("--repair-after=5s");
        for (int i = 0; i < 4; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh("heal-one-of-four");
        cluster.mount(mp, "256m");
        Shell.run("head -c 500M /dev/urandom > src", tmp).ok();
        Path big = mp.resolve("big");
        Process cp = new ProcessBuilder("cp", tmp.resolve("src").toString(), big.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("cp.log").toFile()).start();

        // The node the mount was given first dies in the middle of the copy.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (cp.isAlive() && (!Files.exists(big) || Files.size(big) < (150L << 20)) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(cp.isAlive(), "the copy ended before the kill; cp: " + Files.readString(tmp.resolve("cp.log")));
        TestCluster.Node victim = cluster.node(0);
        String victimId = nodeId(victim);
        victim.kill();
        assertTrue(cp.waitFor(240, TimeUnit.SECONDS), "cp did not finish");
        assertEquals(0, cp.exitValue(), "cp: " + Files.readString(tmp.resolve("cp.log")));
        Shell.run("cmp src '" + big + "'", tmp).ok();

        // After the grace the survivors are the owners of everything: each holds every chunk.
        List<TestCluster.Node> survivors = List.of(cluster.node(1), cluster.node(2), cluster.node(3));
        await("every chunk on all three survivors", 180, () -> {
            Map<String, Integer> c = copies(survivors);
            if (c.size() != 125) {
                return c.size() + " distinct chunks, not the 500 MiB file's 125";
            }
            long short_ = c.values().stream().filter(n -> n != 3).count();
            return short_ == 0 ? null : short_ + " chunks still have fewer than 3 copies";
        });
        assertTrue(copies(survivors).keySet().containsAll(victim.chunkIds()), "a chunk only the dead node holds");

        // Metadata too: every survivor owns every partition now, and holds the same keys.
        Map<String, Member> afterLoss = new HashMap<>();
        await("the dead node OUT and the metadata on every survivor", 60, () -> {
            afterLoss.clear();
            afterLoss.putAll(status(cluster.node(1)));
            Member dead = afterLoss.get(victimId);
            if (dead == null || !dead.state().equals("OUT")) {
                return "the killed node is " + (dead == null ? "missing" : dead.state()) + ": " + afterLoss;
            }
            Set<Long> keys = new HashSet<>();
            for (TestCluster.Node n : survivors) {
                keys.add(afterLoss.get(nodeId(n)).metadataKeys());
            }
            return keys.size() == 1 ? null : "survivors hold different metadata: " + afterLoss;
        });
        long copied = 0;
        for (TestCluster.Node n : survivors) {
            copied += afterLoss.get(nodeId(n)).copied();
        }
        assertTrue(copied >= 125 / 4, "the repair shows what it copied in `vortex status`: " + afterLoss);
        Shell.Result fsck = Shell.exec(Vortex.java("128m", "fsck", "--cluster", cluster.node(1).address), tmp, Map.of(), 120);
        assertEquals(0, fsck.exit(), "fsck: " + fsck.out() + fsck.err());
        assertTrue(fsck.out().contains("OUT, not checked"), fsck.out());

        // The node returns: it owns its share again, gets what it lacks, and the others give up
        // the copies they no longer own once it holds them — three copies of each chunk, no more.
        victim.start();
        List<TestCluster.Node> all = List.of(victim, cluster.node(1), cluster.node(2), cluster.node(3));
        await("three copies of each chunk over the four nodes", 180, () -> {
            Map<String, Integer> c = copies(all);
            long off = c.values().stream().filter(n -> n != 3).count();
            return c.size() == 125 && off == 0 ? null : c.size() + " chunks, " + off + " of them not on exactly 3 nodes";
        });
        Map<String, Member> back = status(cluster.node(2));
        long dropped = back.values().stream().mapToLong(Member::dropped).sum();
        assertTrue(dropped > 0, "surplus copies were dropped: " + back);
        assertEquals("ALIVE", back.get(victimId).state(), back.toString());
        Shell.run("cmp src '" + big + "'", tmp).ok();
    }

    @Test
    void twoOfFiveNodesKilledAtOnceLoseNoFile() throws Exception {
        cluster = new TestCluster(tmp, null, 3).withNodeArgs("--repair-after=3s");
        for (int i = 0; i < 5; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh("heal-two-of-five");
        cluster.mount(mp, "256m");
        List<String> files = new ArrayList<>();
        StringBuilder script = new StringBuilder("set -e\n");
        for (int d = 0; d < 6; d++) {
            script.append("mkdir -p '").append(mp).append("/d").append(d).append("'\n");
            for (int f = 0; f < 5; f++) {
                String name = "d" + d + "/f" + f;
                files.add(name);
                script.append("head -c ").append(100_000 + 70_000 * f).append(" /dev/urandom > src-").append(d).append('-')
                        .append(f).append(" && cp src-").append(d).append('-').append(f).append(" '").append(mp).append('/')
                        .append(name).append("'\n");
            }
        }
        Shell.run(script.toString(), tmp).ok();
        Shell.run("sync -f '" + mp + "'").ok();

        cluster.node(1).kill();
        cluster.node(3).kill();
        // Partitions that lost two of their three owners wait for the grace; then every file reads back.
        StringBuilder check = new StringBuilder("set -e\n");
        for (String name : files) {
            String src = "src-" + name.replace("/f", "-").substring(1);
            check.append("cmp ").append(src).append(" '").append(mp).append('/').append(name).append("'\n");
        }
        await("every file readable with two of five nodes dead", 90,
                () -> {
                    Shell.Result r = Shell.run(check.toString(), tmp, Map.of(), 120);
                    return r.exit() == 0 ? null : r.err();
                });
        Set<String> dirs = Set.of(Shell.run("ls '" + mp + "'").ok().out().trim().split("\\s+"));
        assertEquals(Set.of("d0", "d1", "d2", "d3", "d4", "d5"), dirs);
        // And the cluster takes writes again.
        Shell.run("echo after > '" + mp + "/d0/after' && cat '" + mp + "/d0/after'").ok();
    }

    @Test
    void aChunkCopyDamagedOnDiskIsReadAroundAndReplaced() throws Exception {
        cluster = new TestCluster(tmp, null, 3).withNodeArgs("--scrub-every=2s");
        for (int i = 0; i < 3; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh("heal-damaged");
        cluster.mount(mp, "256m");
        Shell.run("head -c 20M /dev/urandom > src && cp src '" + mp + "/f' && sync '" + mp + "/f'", tmp).ok();

        // One chunk rots on two of its three owners: a bit flipped in the middle of the file.
        String id = cluster.node(0).chunkIds().iterator().next();
        List<Path> damaged = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path file = cluster.node(i).data.resolve("chunks").resolve(id.substring(0, 2)).resolve(id);
            byte[] b = Files.readAllBytes(file);
            b[b.length / 2] ^= 0x01;
            Files.write(file, b);
            damaged.add(file);
        }
        // A reader that meets a damaged copy takes the next owner's (a new process: no cache helps).
        Shell.exec(Vortex.java("256m", "get", "/f", tmp.resolve("back").toString(), "--cluster", cluster.seeds()), tmp,
                Map.of(), 120).ok();
        Shell.run("cmp src back", tmp).ok();

        await("both damaged copies replaced by good ones", 60, () -> {
            for (Path file : damaged) {
                if (!Files.exists(file)) {
                    return file + " is missing";
                }
                String sum = Shell.run("sha256sum '" + file + "'").ok().out().split("\\s+")[0];
                if (!sum.equals(id)) {
                    return file + " still holds damaged bytes";
                }
            }
            return null;
        });
        for (int i = 0; i < 2; i++) {
            assertTrue(Files.exists(cluster.node(i).data.resolve("damaged-chunks").resolve(id)),
                    "the damaged copy is kept aside for the operator");
        }
        String json = Shell.exec(Vortex.java("128m", "status", "--cluster", cluster.seeds(), "--json"), tmp, Map.of(), 60)
                .ok().out();
        long healed = 0;
        for (String member : json.split("\\{\"nodeId\":")) {
            long h = number(member, "healed");
            healed += Math.max(0, h);
        }
        assertEquals(2, healed, "`vortex status` counts the healed copies: " + json);
        Shell.Result fsck = Shell.exec(Vortex.java("128m", "fsck", "--cluster", cluster.seeds()), tmp, Map.of(), 120);
        assertEquals(0, fsck.exit(), "fsck: " + fsck.out() + fsck.err());
    }

    @Test
    void fsckListsTheFilesWithFewerGoodCopiesThanTheClusterKeeps() throws Exception {
        cluster = new TestCluster(tmp, null, 3);
        for (int i = 0; i < 3; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh("fsck-thin");
        cluster.mount(mp, "256m");
        Shell.run("head -c 6M /dev/urandom > one && head -c 1M /dev/urandom > two && mkdir '" + mp + "/a' '" + mp
                + "/b' && cp one '" + mp + "/a/one' && cp two '" + mp + "/b/two' && sync -f '" + mp + "'", tmp).ok();
        assertEquals("consistent", fsck().out().lines().reduce((a, b) -> b).orElse(""));

        // The first chunk of /a/one rots on one of its three owners.
        String id = Shell.run("head -c 4M one | sha256sum", tmp).ok().out().split("\\s+")[0];
        Path copy = cluster.node(0).data.resolve("chunks").resolve(id.substring(0, 2)).resolve(id);
        byte[] b = Files.readAllBytes(copy);
        b[12345] ^= 0x40;
        Files.write(copy, b);
        Shell.Result thin = fsck();
        assertEquals(1, thin.exit(), thin.out() + thin.err());
        assertTrue(thin.out().contains("file /a/one: 1 chunk(s) with fewer than 3 good copies, the fewest 2"), thin.out());
        assertTrue(!thin.out().contains("/b/two"), thin.out());
        // Counting met the damaged copy: it is replaced, and the next check finds everything whole.
        await("the damaged copy replaced", 60, () -> {
            Shell.Result r = fsck();
            return r.exit() == 0 ? null : r.out();
        });

        // Copies on a node that is down count as none: every file is short of one.
        String downId = nodeId(cluster.node(2));
        cluster.node(2).kill();
        await("the killed node seen down", 30, () -> {
            Member m = status(cluster.node(0)).get(downId);
            return m != null && !m.state().equals("ALIVE") && !m.state().equals("SUSPECT") ? null : "it is " + m;
        });
        Shell.Result down = fsck();
        assertEquals(1, down.exit(), down.out() + down.err());
        assertTrue(down.out().contains("file /a/one: 2 chunk(s) with fewer than 3 good copies, the fewest 2"), down.out());
        assertTrue(down.out().contains("file /b/two: 1 chunk(s) with fewer than 3 good copies, the fewest 2"), down.out());
        assertTrue(down.out().contains("not checked"), down.out());
    }

    private Shell.Result fsck() {
        return Shell.exec(Vortex.java("128m", "fsck", "--cluster", cluster.node(0).address), tmp, Map.of(), 120);
    }

    @Test
    void aDecommissionedNodeHandsOverEverythingAndLeaves() throws Exception {
        cluster = new TestCluster(tmp, null, 3);
        for (int i = 0; i < 4; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh("decommission");
        cluster.mount(mp, "256m");
        StringBuilder write = new StringBuilder("set -e\n");
        for (int d = 0; d < 6; d++) {
            write.append("mkdir '").append(mp).append("/d").append(d).append("' && head -c 10M /dev/urandom > src-")
                    .append(d).append(" && cp src-").append(d).append(" '").append(mp).append("/d").append(d)
                    .append("/f'\n");
        }
        Shell.run(write.toString(), tmp).ok();
        List<TestCluster.Node> all = List.of(cluster.node(0), cluster.node(1), cluster.node(2), cluster.node(3));
        int distinct = copies(all).size();
        assertEquals(18, distinct, "six 10 MiB files in 4 MiB chunks");

        TestCluster.Node leaving = cluster.node(3);
        String id = nodeId(leaving);
        Shell.Result r = Shell.exec(Vortex.java("128m", "node", "decommission", id.substring(0, 8), "--cluster",
                cluster.node(0).address, "--progress"), tmp, Map.of(), 240);
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("has left the cluster"), r.out());
        assertTrue(r.err().contains("hands over") && r.err().contains("] 100% "), "a progress bar: " + r.err());
        assertTrue(leaving.proc.process.waitFor(30, TimeUnit.SECONDS), "the node stops once it has left");
        assertEquals(0, leaving.proc.process.exitValue());

        assertTrue(leaving.chunkIds().isEmpty(), "the leaving node gave up every copy: " + leaving.chunkIds().size());
        List<TestCluster.Node> rest = List.of(cluster.node(0), cluster.node(1), cluster.node(2));
        Map<String, Integer> c = copies(rest);
        assertEquals(distinct, c.size());
        c.forEach((chunk, n) -> assertEquals(3, n, "copies of chunk " + chunk));
        await("the others to see it LEFT", 30, () -> {
            Member m = status(cluster.node(1)).get(id);
            return m != null && m.state().equals("LEFT") ? null : "it is " + m;
        });

        StringBuilder check = new StringBuilder("set -e\n");
        for (int d = 0; d < 6; d++) {
            check.append("cmp src-").append(d).append(" '").append(mp).append("/d").append(d).append("/f'\n");
        }
        check.append("echo after > '").append(mp).append("/d0/after' && mv '").append(mp).append("/d0/after' '")
                .append(mp).append("/d5/'\n");
        Shell.run(check.toString(), tmp).ok();
        Shell.Result fsck = Shell.exec(Vortex.java("128m", "fsck", "--cluster", cluster.node(0).address), tmp, Map.of(), 120);
        assertEquals(0, fsck.exit(), "fsck: " + fsck.out() + fsck.err());
    }

    @Test
    void aNodeJoiningAClusterHolding1GiBGetsItsShareWhileEveryReadSucceeds() throws Exception {
        // One copy of each chunk: a read finds it only if the moves never leave it nowhere to be had.
        cluster = new TestCluster(tmp, null, 1).withNodeArgs("--repair-rate=0");
        for (int i = 0; i < 3; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh("join-1g");
        cluster.mount(mp, "256m");
        Shell.run("head -c 1G /dev/urandom > src && cp src '" + mp + "/big' && sync '" + mp + "/big'", tmp, Map.of(), 240)
                .ok();
        long gib = 1L << 30;

        // Reads in a separate process, with no cache between them and the nodes, all through the move.
        Process reader = new ProcessBuilder("bash", "-c", "while [ ! -e stop ]; do java -Xmx256m -jar '" + Vortex.JAR
                + "' get /big back --cluster " + cluster.seeds() + " && cmp src back && rm back && echo ok || exit 1; done")
                .directory(tmp.toFile()).redirectErrorStream(true).redirectOutput(tmp.resolve("reader.log").toFile()).start();
        TestCluster.Node joined = cluster.startNode();
        long[] share = {0};
        await("the new node's share to arrive and the surplus copies to go", 180, () -> {
            assertTrue(reader.isAlive(), "a read failed during the move: " + Files.readString(tmp.resolve("reader.log")));
            long total = 0;
            for (int i = 0; i < cluster.size(); i++) {
                total += cluster.node(i).chunkBytes();
            }
            share[0] = joined.chunkBytes();
            return total == gib && share[0] > 0 ? null : "the new node holds " + share[0] + " bytes; all hold " + total;
        });
        // Let the reader finish the read under way, over the settled cluster.
        Files.createFile(tmp.resolve("stop"));
        assertTrue(reader.waitFor(120, TimeUnit.SECONDS));
        String log = Files.readString(tmp.resolve("reader.log"));
        assertEquals(0, reader.exitValue(), "a read failed: " + log);
        assertTrue(log.contains("ok"), "at least one whole read ran during the move: " + log);
        // 1024 points per node on the ring: a quarter, give or take.
        assertTrue(share[0] > gib * 15 / 100 && share[0] < gib * 35 / 100,
                "the new node's share of 1 GiB: " + share[0] + " bytes");
    }

    @Test
    void statusWaitsUntilTheChunksHaveMovedToANodeThatJoined() throws Exception {
        cluster = new TestCluster(tmp, null, 1);
        for (int i = 0; i < 3; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh("status-wait");
        cluster.mount(mp, "256m", "--chunk-size", "1M");
        Shell.run("head -c 48M /dev/urandom > src && cp src '" + mp + "/f' && sync '" + mp + "/f'", tmp).ok();
        TestCluster.Node joined = cluster.startNode();
        Shell.Result r = Shell.exec(Vortex.java("128m", "status", "--wait", "--progress", "--cluster", cluster.seeds()),
                tmp, Map.of(), 180);
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("] 100% "), "a progress bar that ends full: " + r.err());
        assertTrue(r.out().contains("members 4 (4 alive)"), r.out());
        // 48 chunks, a quarter of them the new node's: it holds them as soon as the wait is over.
        assertFalse(joined.chunkIds().isEmpty(), "the wait ended before the new node got its share");
        List<TestCluster.Node> all = List.of(cluster.node(0), cluster.node(1), cluster.node(2), joined);
        assertEquals(48, copies(all).size(), "every chunk is somewhere");
        Shell.run("cmp src '" + mp + "/f'", tmp).ok();
    }
}
