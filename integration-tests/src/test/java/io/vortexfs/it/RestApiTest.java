package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The REST file API of the nodes' HTTP ports, driven with curl against three node processes and
 * checked through a mount of the same cluster: a streamed upload to one node, whole and ranged
 * downloads from another, a listing, a delete, and a request without the token.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RestApiTest extends ClusterTest {
    @Test
    void curlPutsGetsListsAndDeletesFilesThatTheMountSees() throws Exception {
        Path key = tmp.resolve("cluster.key");
        cluster = new TestCluster(tmp, null, 3).withNodeArgs("--key-file=" + key, "--http-port=0");
        for (int i = 0; i < 3; i++) {
            cluster.startNode();
        }
        Path mp = Mounts.fresh("rest-api");
        cluster.mount(mp, "256m", "--key-file", key.toString());
        String token = Shell.exec(Vortex.java("128m", "token", "--key-file", key.toString()), tmp, Map.of(), 60)
                .ok().out().trim();
        String auth = " -H 'Authorization: Bearer " + token + "' ";
        String one = "http://" + cluster.node(0).http + "/api/files";
        String two = "http://" + cluster.node(1).http + "/api/files";

        Shell.run("head -c 30M /dev/urandom > big.bin && mkdir '" + mp + "/up'", tmp).ok();
        // Streamed: chunked, no length given; then the file is in the cluster for every client.
        String put = Shell.run("curl -sS -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked'" + auth
                + "-T big.bin '" + one + "/up/big%20file.bin'", tmp).ok().out();
        assertEquals("201", put);
        Shell.run("cmp big.bin '" + mp + "/up/big file.bin'", tmp).ok();

        Shell.run("curl -sSf" + auth + "-o back.bin '" + two + "/up/big%20file.bin' && cmp big.bin back.bin", tmp).ok();
        Shell.run("curl -sSf" + auth + "-r 12345678-12399999 -o part.bin '" + two + "/up/big%20file.bin'"
                + " && test \"$(stat -c %s part.bin)\" = 54322 && cmp -i 12345678:0 -n 54322 big.bin part.bin", tmp).ok();
        String listing = Shell.run("curl -sSf" + auth + "'" + two + "/up/'", tmp).ok().out();
        assertTrue(listing.contains("{\"name\":\"big file.bin\",\"type\":\"file\",\"size\":31457280,"), listing);

        String anonymous = Shell.run("curl -s -o /dev/null -w '%{http_code}' '" + two + "/up/big%20file.bin'", tmp).out();
        assertEquals("401", anonymous);
        String escape = Shell.run("curl -s -o /dev/null -w '%{http_code}' --path-as-is" + auth + "'" + one
                + "/up/../../etc/passwd'", tmp).out();
        assertEquals("400", escape);

        assertEquals("204", Shell.run("curl -s -o /dev/null -w '%{http_code}' -X DELETE" + auth + "'" + one
                + "/up/big%20file.bin'", tmp).out());
        Thread.sleep(1500); // the mount's attribute cache
        assertFalse(Files.exists(mp.resolve("up/big file.bin")), "the mount sees the delete");
        assertEquals("404", Shell.run("curl -s -o /dev/null -w '%{http_code}'" + auth + "'" + two
                + "/up/big%20file.bin'", tmp).out());
    }
}
