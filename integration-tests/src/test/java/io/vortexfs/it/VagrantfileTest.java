package io.vortexfs.it;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Vagrantfile is valid for Vagrant (VMs cannot run here; bin/netns-demo runs its steps instead).
 * bin/test installs vagrant; without it the test is skipped.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class VagrantfileTest {
    @TempDir
    Path tmp;

    @Test
    void vagrantValidatesTheVagrantfile() {
        assumeTrue(Shell.run("command -v vagrant").exit() == 0, "vagrant is not installed");
        Shell.Result r = Shell.run("vagrant validate --ignore-provider", Vortex.HOME,
                Map.of("VAGRANT_HOME", tmp.resolve("vagrant.d").toString(), "VAGRANT_CHECKPOINT_DISABLE", "1"), 150);
        r.ok();
        assertTrue(r.out().contains("validated successfully"), r.out());
    }
}
