package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What an operator installs: packaging/install lays out the command, the mount helper and the
 * systemd units; the helper mounts a cluster the way mount(8) calls it, and so do
 * {@code mount -t fuse.vortex} and an fstab line. Root only: mount(8) helpers are for root.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class PackagingTest extends ClusterTest {
    /** Where mount(8) looks for the helper of type fuse.vortex (/sbin is /usr/sbin on Debian 12). */
    private static final Path SYSTEM_HELPER = Path.of("/usr/sbin/mount.fuse.vortex");

    private Shell.Result run(Map<String, String> env, String... cmd) {
        return Shell.exec(List.of(cmd), tmp, env, 120);
    }

    private static void assertServes(Path mp) {
        assertTrue(Mounts.isMounted(mp), mp + " is not mounted");
        assertEquals("through-the-helper", Shell.run("cat '" + mp + "/a'").ok().out().trim());
    }

    /** Unmounts {@code mp} and waits for the mount process behind it to exit. */
    private static void unmount(Path mp) throws InterruptedException {
        Shell.run("umount '" + mp + "'").ok();
        for (int i = 0; i < 100 && Shell.run("pgrep -f 'vortex.jar mount " + mp + " '").exit() == 0; i++) {
            Thread.sleep(100);
        }
        assertFalse(Shell.run("pgrep -f 'vortex.jar mount " + mp + " '").exit() == 0, "the mount process outlived umount");
    }

    @Test
    void theInstalledHelperMountsAClusterAsMountAndFstabAskIt() throws Exception {
        assumeTrue(Shell.run("test \"$(id -u)\" = 0").exit() == 0, "mount(8) helpers are for root");
        Path root = tmp.resolve("root");
        run(Map.of(), "bash", Vortex.HOME.resolve("packaging/install").toString(), "--root", root.toString()).ok();
        for (String f : List.of("opt/vortexfs/bin/vortex", "opt/vortexfs/lib/vortex.jar", "usr/local/bin/vortex",
                "sbin/mount.fuse.vortex", "etc/systemd/system/vortex-node.service", "etc/systemd/system/mnt-vortex.mount",
                "etc/vortexfs/node.env")) {
            assertTrue(Files.exists(root.resolve(f), java.nio.file.LinkOption.NOFOLLOW_LINKS), f + " was not installed");
        }
        Path vortex = root.resolve("opt/vortexfs/bin/vortex");
        assertTrue(run(Map.of(), vortex.toString(), "version").ok().out().startsWith("vortex "),
                "the installed command runs its own jar");
        if (Shell.run("command -v systemd-analyze").exit() == 0) {
            // The node unit as installed, but pointing at this install of the command.
            Path units = Files.createDirectories(tmp.resolve("units"));
            Files.writeString(units.resolve("vortex-node.service"), Files.readString(
                    root.resolve("etc/systemd/system/vortex-node.service")).replace("/opt/vortexfs/", root + "/opt/vortexfs/"));
            Files.copy(root.resolve("etc/systemd/system/mnt-vortex.mount"), units.resolve("mnt-vortex.mount"));
            Shell.Result verify = run(Map.of(), "systemd-analyze", "verify", "--man=no",
                    units.resolve("vortex-node.service").toString(), units.resolve("mnt-vortex.mount").toString());
            assertEquals("", verify.err().trim(), "systemd finds fault with the units");
            verify.ok();
        }
        Map<String, String> env = Map.of("VORTEX", vortex.toString());
        String helper = root.resolve("sbin/mount.fuse.vortex").toString();

        Path key = tmp.resolve("cluster.key");
        cluster = new TestCluster(tmp, null, 1).withNodeArgs("--key-file=" + key);
        cluster.startNode();
        String seeds = cluster.seeds();

        // As mount(8) calls it: source, mountpoint, -o and the options.
        Path mp = Mounts.fresh("mount-helper");
        run(env, helper, seeds, mp.toString(), "-o", "key_file=" + key + ",_netdev,nofail,attr_timeout=2s,no_local_writes").ok();
        Shell.run("echo through-the-helper > '" + mp + "/a'").ok();
        assertServes(mp);
        unmount(mp);

        Shell.Result bad = run(env, helper, seeds, mp.toString(), "-o", "frobnicate");
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains("unknown option frobnicate"), bad.err());
        Shell.Result unreachable = run(env, helper, "127.0.0.1:1", mp.toString(), "-o", "key_file=" + key);
        assertEquals(32, unreachable.exit(), "mount's code for a failed mount");
        assertTrue(unreachable.err().contains("cannot reach the cluster"), unreachable.err());
        assertFalse(Mounts.isMounted(mp));

        // Through mount(8) itself, with the helper where it looks for it.
        boolean placed = !Files.exists(SYSTEM_HELPER, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        assumeTrue(placed || Files.isSymbolicLink(SYSTEM_HELPER), SYSTEM_HELPER + " belongs to an installed VortexFS");
        if (placed) {
            Files.createSymbolicLink(SYSTEM_HELPER, Path.of(helper));
        }
        try {
            Path viaType = Mounts.fresh("mount-t");
            run(env, "mount", "-t", "fuse.vortex", seeds, viaType.toString(), "-o", "key_file=" + key).ok();
            assertServes(viaType);
            unmount(viaType);

            Path viaFstab = Mounts.fresh("fstab");
            Path fstab = tmp.resolve("fstab");
            Files.writeString(fstab, "# an /etc/fstab line\n" + seeds + "  " + viaFstab
                    + "  fuse.vortex  key_file=" + key + ",_netdev,nofail  0 0\n");
            run(env, "mount", "--fstab", fstab.toString(), viaFstab.toString()).ok();
            assertServes(viaFstab);
            unmount(viaFstab);
        } finally {
            if (placed) {
                Files.deleteIfExists(SYSTEM_HELPER);
            }
        }
    }
}
