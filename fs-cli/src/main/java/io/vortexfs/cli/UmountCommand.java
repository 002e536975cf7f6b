package io.vortexfs.cli;

import io.vortexfs.mount.fuse.FuseMount;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "umount", aliases = "unmount", mixinStandardHelpOptions = true,
        description = "Unmount a VortexFS mount; the process serving it then exits.")
final class UmountCommand implements Runnable {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT")
    Path mountPoint;

    @Option(names = {"-l", "--lazy"}, description = "Detach now even if files are open (also clears a stale mount).")
    boolean lazy;

    @Override
    public void run() {
        Path mp = mountPoint.toAbsolutePath().normalize();
        if (!FuseMount.isMounted(mp)) {
            throw new UserError(mp + " is not mounted");
        }
        String error = FuseMount.unmount(mp, lazy);
        if (error != null) {
            throw new UserError("cannot unmount " + mp + ": " + error + (lazy ? "" : " (try --lazy)"));
        }
    }
}
