package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node cut off from the others while it stays alive: nodes in network namespaces this test makes,
 * the mount outside them, and a link taken down. The majority side goes on; the cut-off node serves
 * nobody a state the others have moved past; when the link comes back, nothing acknowledged is lost.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class NetworkPartitionTest {
    @TempDir
    Path tmp;

    private NetworkNamespaces hosts;
    private TestCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        if (hosts != null) {
            hosts.close();
        }
    }

    /** `vortex get` of {@code path} run inside host {@code i}, talking only to the node there. */
    private Shell.Result getFromInside(int i, String path, Path to) {
        List<String> cmd = hosts.inHost(i, Vortex.java("128m", "get", path, to.toString(), "--cluster",
                cluster.node(i).address, "--timeout", "5s"));
        return Shell.exec(cmd, tmp, Map.of(), 60);
    }

    @Test
    void aCutOffNodeServesNothingStaleAndLosesNothingWhenTheLinkReturns() throws Exception {
        assumeTrue(NetworkNamespaces.available(), "needs root and iproute2 to make network namespaces");
        hosts = new NetworkNamespaces(3);
        cluster = new TestCluster(tmp, null, 3).inHosts(hosts);
        for (int i = 0; i < 3; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh("partition");
        cluster.mount(mp, "256m");
        // Several directories, so that partitions the cut-off node coordinates are among them.
        StringBuilder before = new StringBuilder("set -e\n");
        for (int d = 0; d < 8; d++) {
            before.append("mkdir '").append(mp).append("/d").append(d).append("' && echo old-").append(d)
                    .append(" > '").append(mp).append("/d").append(d).append("/f'\n");
        }
        before.append("head -c 9M /dev/urandom > big-old && cp big-old '").append(mp).append("/big'\n");
        Shell.run(before.toString(), tmp).ok();

        hosts.cut(2);
        // The majority side goes on: every change below is acknowledged while node 3 is cut off.
        StringBuilder during = new StringBuilder("set -e\n");
        for (int d = 0; d < 8; d++) {
            during.append("echo new-").append(d).append(" > '").append(mp).append("/d").append(d).append("/f'\n");
        }
        during.append("head -c 9M /dev/urandom > big-new && cp big-new '").append(mp).append("/big'\n")
                .append("mkdir '").append(mp).append("/made-while-cut' && mv '").append(mp).append("/d0/f' '")
                .append(mp).append("/made-while-cut/moved'\n");
        Shell.run(during.toString(), tmp, Map.of(), 180).ok();

        // From inside the cut-off host nothing may come back that the others have replaced.
        for (int d = 1; d < 8; d++) {
            Path out = tmp.resolve("inside-" + d);
            Shell.Result r = getFromInside(2, "/d" + d + "/f", out);
            if (r.exit() == 0) {
                assertNotEquals("old-" + d, Files.readString(out).trim(), "the cut-off node served a stale file");
            }
        }
        Shell.Result big = getFromInside(2, "/big", tmp.resolve("inside-big"));
        if (big.exit() == 0) {
            Shell.run("! cmp -s big-old inside-big", tmp).ok();
        }

        hosts.heal(2);
        // Once the link is back, everything acknowledged meanwhile is there, through the mount and
        // through the node that was cut off, which has caught up.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> wrong = new ArrayList<>();
        do {
            wrong.clear();
            Thread.sleep(1000);
            for (int d = 1; d < 8; d++) {
                Path out = tmp.resolve("healed-" + d);
                Files.deleteIfExists(out);
                Shell.Result r = getFromInside(2, "/d" + d + "/f", out);
                if (r.exit() != 0 || !Files.readString(out).trim().equals("new-" + d)) {
                    wrong.add("d" + d + ": " + (r.exit() != 0 ? r.err().trim() : Files.readString(out).trim()));
                }
            }
        } while (!wrong.isEmpty() && System.nanoTime() < deadline);
        assertEquals(List.of(), wrong, "through the healed node");
        Files.deleteIfExists(tmp.resolve("healed-big"));
        assertEquals(0, getFromInside(2, "/big", tmp.resolve("healed-big")).exit());
        Shell.run("cmp big-new healed-big", tmp).ok();

        StringBuilder check = new StringBuilder("set -e\n");
        for (int d = 1; d < 8; d++) {
            check.append("grep -qx new-").append(d).append(" '").append(mp).append("/d").append(d).append("/f'\n");
        }
        check.append("grep -qx new-0 '").append(mp).append("/made-while-cut/moved'\n")
                .append("test ! -e '").append(mp).append("/d0/f'\n")
                .append("cmp big-new '").append(mp).append("/big'\n");
        Shell.run(check.toString(), tmp).ok();
        // Each node checks the copies it holds; the returning node's copies of partitions others
        // coordinate catch up when those take them over again, moments after the link is back.
        long settled = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> fsckCommand = Vortex.java("128m", "fsck", "--cluster", cluster.seeds());
        Shell.Result fsck = Shell.exec(fsckCommand, tmp, Map.of(), 120);
        while (fsck.exit() != 0 && System.nanoTime() < settled) {
            Thread.sleep(1000);
            fsck = Shell.exec(fsckCommand, tmp, Map.of(), 120);
        }
        assertEquals(0, fsck.exit(), "fsck: " + fsck.out() + fsck.err());
    }
}
