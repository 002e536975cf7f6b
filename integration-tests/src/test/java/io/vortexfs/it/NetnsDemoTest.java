package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Vagrant demo's steps on the same topology in network namespaces (bin/netns-demo): three node
 * hosts and a client host, node2 cut off, every file read back by a fresh mount, the cluster whole
 * again after node2 returns. Root only.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class NetnsDemoTest {
    @Test
    void theVagrantDemoPassesInNetworkNamespaces() throws Exception {
        assumeTrue(NetworkNamespaces.available(), "needs root and iproute2 to make network namespaces");
        Path dir = Mounts.fresh("netns-demo");
        Shell.Result r = Shell.exec(List.of("bash", Vortex.HOME.resolve("bin/netns-demo").toString(), "--dir", dir.toString()),
                null, Map.of(), 280);
        assertEquals(0, r.exit(), "bin/netns-demo failed:\n" + r.out() + r.err());
        assertTrue(r.out().contains("every file read back whole with node2 cut off"), r.out());
        assertTrue(r.out().contains("written while node2 was away"), r.out());
        assertTrue(r.out().contains("done: the demo's steps all passed"), r.out());
        assertTrue(Mounts.mountedUnder(dir).isEmpty(), "the demo unmounts what it mounted");
        assertTrue(Shell.run("ip netns list | grep -q vxdemo").exit() != 0, "the demo removes its namespaces");
        assertTrue(Shell.run("pgrep -f -- '--data " + dir + "/node'").exit() != 0, "a node of the demo outlived it");
    }
}
