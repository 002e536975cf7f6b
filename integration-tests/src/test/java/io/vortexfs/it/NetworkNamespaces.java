package io.vortexfs.it;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Hosts of a test's own, made of Linux network namespaces: each has one address on a bridge that
 * this test creates in the root namespace, where the mount runs. Cutting a host takes its link
 * down: the node in it stays alive but can reach nobody and nobody can reach it. Everything is
 * removed on close. Needs root and iproute2.
 */
final class NetworkNamespaces implements AutoCloseable {
    private final String tag = "vx" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
    private final int subnet = ThreadLocalRandom.current().nextInt(1, 250);
    private final int hosts;
    private final List<String> created = new ArrayList<>();

    NetworkNamespaces(int hosts) {
        this.hosts = hosts;
        String bridge = tag + "br";
        sh("ip link add " + bridge + " type bridge && ip addr add " + gateway() + "/24 dev " + bridge
                + " && ip link set " + bridge + " up");
        created.add("ip link del " + bridge);
        for (int i = 0; i < hosts; i++) {
            String ns = namespace(i);
            sh("ip netns add " + ns);
            created.add(0, "ip netns del " + ns);
            sh("ip link add " + hostSide(i) + " type veth peer name " + tag + "p" + i
                    + " && ip link set " + tag + "p" + i + " netns " + ns
                    + " && ip -n " + ns + " addr add " + address(i) + "/24 dev " + tag + "p" + i
                    + " && ip -n " + ns + " link set " + tag + "p" + i + " up"
                    + " && ip -n " + ns + " link set lo up"
                    + " && ip link set " + hostSide(i) + " master " + bridge + " && ip link set " + hostSide(i) + " up");
        }
    }

    /** True when this machine lets a test make namespaces (root, with iproute2). */
    static boolean available() {
        return Shell.run("test \"$(id -u)\" = 0 && command -v ip >/dev/null && ip netns list >/dev/null").exit() == 0;
    }

    int size() {
        return hosts;
    }

    String gateway() {
        return "10.213." + subnet + ".1";
    }

    String address(int i) {
        return "10.213." + subnet + "." + (10 + i);
    }

    String namespace(int i) {
        return tag + "n" + i;
    }

    private String hostSide(int i) {
        return tag + "h" + i;
    }

    /** {@code cmd}, run inside host {@code i}. */
    List<String> inHost(int i, List<String> cmd) {
        List<String> out = new ArrayList<>(List.of("ip", "netns", "exec", namespace(i)));
        out.addAll(cmd);
        return out;
    }

    /** Cuts host {@code i} off from everyone: its link goes down, its processes go on. */
    void cut(int i) {
        sh("ip link set " + hostSide(i) + " down");
    }

    void heal(int i) {
        sh("ip link set " + hostSide(i) + " up");
    }

    private static void sh(String script) {
        Shell.run("set -e\n" + script).ok();
    }

    @Override
    public void close() {
        for (String undo : created) {
            Shell.run(undo + " 2>/dev/null || true");
        }
    }
}
