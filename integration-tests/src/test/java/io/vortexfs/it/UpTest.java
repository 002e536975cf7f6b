package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** `vortex up` through the launcher script: starts, serves, and on a signal leaves nothing behind. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class UpTest {
    @TempDir
    Path tmp;

    private String ready;

    private Vortex.Proc up(Path mp, Path data, String... more) throws Exception {
        // As from a terminal, where Ctrl-C reaches it: a suite started in the background (`bin/test &`) hands
        // its children SIGINT ignored, and the JVM then leaves it ignored.
        List<String> cmd = new java.util.ArrayList<>(List.of("env", "--default-signal=INT",
                Vortex.HOME.resolve("bin/vortex").toString(), "up", "--mount", mp.toString(), "--data", data.toString(),
                "--port", "0"));
        cmd.addAll(List.of(more));
        Vortex.Proc p = new Vortex.Proc(cmd, tmp.resolve("up.log"));
        ready = p.awaitLine("VORTEX-READY", 120);
        return p;
    }

    private String readyField(String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(name + "=(\\S+)").matcher(ready);
        assertTrue(m.find(), ready);
        return m.group(1);
    }

    /** The last lines of the logs of up and of its nodes, for a failure message (the temp dir goes with the test). */
    private String logs(Path data) {
        StringBuilder b = new StringBuilder();
        List<Path> logs = new java.util.ArrayList<>(List.of(tmp.resolve("up.log")));
        try (java.util.stream.Stream<Path> nodes = Files.list(data)) {
            nodes.filter(d -> d.getFileName().toString().startsWith("node-")).sorted()
                    .forEach(d -> logs.add(d.resolve("node.log")));
        } catch (java.io.IOException e) {
            b.append("--- ").append(data).append(": ").append(e).append('\n');
        }
        for (Path log : logs) {
            try {
                List<String> lines = Files.readAllLines(log);
                b.append("--- ").append(log).append('\n');
                lines.subList(Math.max(0, lines.size() - 30), lines.size()).forEach(l -> b.append(l).append('\n'));
            } catch (java.io.IOException e) {
                b.append("--- ").append(log).append(": ").append(e).append('\n');
            }
        }
        return b.toString();
    }

    private Shell.Result vortex(String... args) {
        return Shell.exec(Vortex.java("128m", args), tmp, java.util.Map.of(), 60);
    }

    /** Only holders of the key `vortex up` made can read, write or join. */
    private void onlyHoldersOfTheKeyGetIn(Path data, Path mp) throws Exception {
        String cluster = readyField("cluster");
        String key = readyField("key");
        assertEquals(data.resolve("cluster.key").toString(), key);
        Shell.run("head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > wrong.key", tmp).ok();

        assertTrue(vortex("ls", "/", "--cluster", cluster, "--key-file", key).ok().out().contains("f.bin"));
        Shell.Result none = vortex("ls", "/", "--cluster", cluster);
        assertEquals(1, none.exit(), none.out() + none.err());
        assertTrue(none.err().contains("give it with --key-file"), none.err());
        Shell.Result read = vortex("get", "/f.bin", "stolen", "--cluster", cluster, "--key-file", "wrong.key");
        assertEquals(1, read.exit(), read.out() + read.err());
        assertTrue(read.err().contains("does not hold this cluster's key"), read.err());
        assertFalse(Files.exists(tmp.resolve("stolen")));
        Shell.Result write = vortex("put", "f.bin", "/planted", "--cluster", cluster, "--key-file", "wrong.key");
        assertEquals(1, write.exit(), write.out() + write.err());
        assertFalse(Files.exists(mp.resolve("planted")));

        Shell.Result join = Shell.exec(Vortex.java("128m", "node", "--data", tmp.resolve("intruder").toString(), "--port", "0",
                "--join", cluster, "--key-file", "wrong.key"), tmp, java.util.Map.of(), 60);
        assertEquals(1, join.exit(), join.out() + join.err());
        assertTrue(join.err().contains("cannot join the cluster"), join.err());
        String members = vortex("status", "--cluster", cluster, "--key-file", key, "--json").ok().out();
        assertEquals(3, members.split("\\{\"nodeId\":").length - 1, "nobody joined: " + members);
    }

    @Test
    void upServesAMountAndStopsCleanlyOnInterruptAndTerminate() throws Exception {
        Path mp = Mounts.fresh("up").resolve("drive");
        Path data = tmp.resolve("data");
        try (Vortex.Proc first = up(mp, data)) {
            assertTrue(Mounts.isMounted(mp));
            Shell.run("head -c 5M /dev/urandom > f.bin && cp f.bin '" + mp + "/f.bin' && cmp f.bin '" + mp + "/f.bin'", tmp).ok();
            onlyHoldersOfTheKeyGetIn(data, mp);
            // Its status page is on, and says what the cluster is.
            String web = readyField("web");
            java.net.http.HttpResponse<String> status = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(web + "api/status")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, status.statusCode());
            assertTrue(status.body().contains("\"replicas\":3") && status.body().contains("\"state\":\"ALIVE\""),
                    status.body());
            List<ProcessHandle> children = first.process.descendants().toList();
            assertFalse(children.isEmpty(), "up runs its node as a child process");

            Shell.run("kill -INT " + first.process.pid()).ok();
            assertTrue(first.process.waitFor(60, TimeUnit.SECONDS), () -> "up did not exit after SIGINT\n" + logs(data));
            assertFalse(Mounts.isMounted(mp), "SIGINT left the mount behind");
            for (ProcessHandle c : children) {
                assertTrue(c.onExit().get(20, TimeUnit.SECONDS) != null && !c.isAlive(), "node " + c.pid() + " outlived up");
            }
        }

        // Again, with every connection under TLS: the same files, and only TLS clients get in.
        try (Vortex.Proc second = up(mp, data, "--tls")) {
            Shell.run("cmp f.bin '" + mp + "/f.bin'", tmp).ok();
            String cluster = readyField("cluster");
            String key = readyField("key");
            assertTrue(vortex("ls", "/", "--cluster", cluster, "--key-file", key, "--tls").ok().out().contains("f.bin"));
            Shell.Result plain = vortex("ls", "/", "--cluster", cluster, "--key-file", key);
            assertEquals(1, plain.exit(), plain.out() + plain.err());
            second.terminate(60);
            assertFalse(Mounts.isMounted(mp), "SIGTERM left the mount behind");
        }
        assertTrue(Files.isDirectory(data.resolve("node-1")));
    }
}
