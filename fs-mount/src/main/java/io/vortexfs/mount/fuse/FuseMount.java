package io.vortexfs.mount.fuse;

import io.vortexfs.mount.fs.VortexFileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mounted VortexFS: runs the FUSE loop on its own thread, reports ready only once the kernel
 * lists the mount and a stat through it answers, and unmounts on close.
 */
public final class FuseMount implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FuseMount.class);
    public static final String FS_TYPE = "fuse.vortex";

    private final Path mountPoint;
    private final VortexFileSystem fs;
    private final CompletableFuture<Void> loop;
    private volatile boolean closed;

    private FuseMount(Path mountPoint, VortexFileSystem fs, CompletableFuture<Void> loop) {
        this.mountPoint = mountPoint;
        this.fs = fs;
        this.loop = loop;
    }

    /**
     * Seconds the kernel may use attributes it was sent. The kernel rounds any value under one tick
     * of its clock up to one tick and keeps them until the tick after that ends: 4 to 8 ms at 250 Hz.
     * Zero would make it ask again for attributes that a LOOKUP returned a microsecond before.
     */
    static final String KERNEL_ATTR_TIMEOUT = "0.001";

    /**
     * The libfuse 2 options VortexFS mounts with.
     * <ul>
     *   <li>The kernel keeps no names ({@code entry_timeout=0}) and keeps attributes for a tick of its
     *       clock ({@link #KERNEL_ATTR_TIMEOUT}): libfuse 2's path-based layer gives every name of a
     *       hard-linked file its own kernel inode, so a longer kernel cache would show one name stale
     *       after a change through another. With no names kept, every path the kernel resolves ends
     *       in a LOOKUP, whose reply refreshes the attributes; the tick only lets the stat that
     *       follows in the same system call (and the permission checks of a path walk through a
     *       directory) use them instead of asking again: {@code ls -l} of a directory makes two
     *       requests per file instead of three to five.
     *       Only a call on an open descriptor ({@code fstat}, {@code lseek} to the end), or on a
     *       directory reached without a name (the mount's root, {@code .}, {@code ..}), can see
     *       attributes that are a tick old, and then only when they were changed through another
     *       name of the file (or by another mount) within that tick. The mount's
     *       own cache, keyed by inode and updated by every local change, answers the LOOKUPs and
     *       GETATTRs, and holds another mount's changes for at most the attribute timeout.</li>
     *   <li>No {@code hard_remove}: libfuse renames a file unlinked while open to a hidden name, which
     *       the mount turns into an unlink on the cluster while keeping the hidden path for the open
     *       descriptors (VortexFileSystem#hide): fstat on them keeps working, which it cannot with
     *       hard_remove (the kernel asks for attributes without the handle, and libfuse cannot name
     *       a removed node).</li>
     * </ul>
     */
    public static List<String> options() {
        List<String> o = new ArrayList<>(List.of("fsname=vortex", "subtype=vortex", "big_writes", "max_read=131072",
                "use_ino", "auto_cache", "default_permissions", "attr_timeout=" + KERNEL_ATTR_TIMEOUT, "entry_timeout=0",
                "negative_timeout=0"));
        if ("root".equals(System.getProperty("user.name"))) {
            o.add("allow_other");
        }
        return o;
    }

    /**
     * Mounts {@code fs} at {@code mountPoint} and waits until it serves requests. The message of an
     * IOException is fit for a user.
     */
    public static FuseMount mount(VortexFileSystem fs, Path mountPoint, List<String> options, Duration readyTimeout)
            throws IOException {
        Path mp = mountPoint.toAbsolutePath().normalize();
        if (!Files.isDirectory(mp)) {
            throw new IOException("mountpoint " + mp + " is not a directory");
        }
        if (isMounted(mp)) {
            throw new IOException(mp + " is already a mountpoint (unmount it first: vortex umount " + mp + ")");
        }
        FuseAdapter adapter = new FuseAdapter(fs);
        CompletableFuture<Void> loop = new CompletableFuture<>();
        String[] args = {"-o", String.join(",", options)};
        Thread t = new Thread(() -> {
            try {
                adapter.mount(mp, true, false, args);
                loop.complete(null);
            } catch (Throwable e) {
                loop.completeExceptionally(e);
            }
        }, "vortex-fuse-loop");
        t.setDaemon(true);
        t.start();
        FuseMount m = new FuseMount(mp, fs, loop);
        m.awaitReady(readyTimeout);
        return m;
    }

    private void awaitReady(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() - deadline < 0) {
            if (loop.isDone()) {
                throw new IOException("mounting " + mountPoint + " failed" + loopFailure()
                        + " (is libfuse2 installed and /dev/fuse usable?)");
            }
            if (isMounted(mountPoint)) {
                try {
                    Files.readAttributes(mountPoint, "unix:ino");
                    LOG.info("mounted at {}", mountPoint);
                    return;
                } catch (IOException | UnsupportedOperationException e) {
                    LOG.debug("mount not answering yet: {}", e.toString());
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        close();
        throw new IOException("mount at " + mountPoint + " did not become ready within " + timeout.toSeconds() + " s");
    }

    private String loopFailure() {
        try {
            loop.getNow(null);
            return "";
        } catch (Exception e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            while (c.getCause() != null) {
                c = c.getCause();
            }
            return ": " + c.getMessage();
        }
    }

    public Path mountPoint() {
        return mountPoint;
    }

    /** Blocks until the filesystem is unmounted, by {@link #close} or from outside. */
    public void awaitUnmounted() throws InterruptedException {
        try {
            loop.get();
        } catch (ExecutionException e) {
            LOG.warn("the FUSE loop ended with an error: {}", String.valueOf(e.getCause()));
        }
    }

    /** Saves buffered writes, then unmounts and waits for the FUSE loop to end. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        fs.flushAll();
        if (isMounted(mountPoint)) {
            unmount(mountPoint, true);
        }
        try {
            loop.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            LOG.warn("the FUSE loop at {} did not stop within 10 s", mountPoint);
        } catch (ExecutionException e) {
            LOG.debug("the FUSE loop ended with {}", String.valueOf(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("unmounted {}", mountPoint);
    }

    /** True when the kernel lists {@code path} as a mountpoint. */
    public static boolean isMounted(Path path) {
        String p = path.toAbsolutePath().normalize().toString();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length > 2 && unescape(f[1]).equals(p)) {
                    return true;
                }
            }
        } catch (IOException e) {
            LOG.debug("cannot read /proc/self/mounts: {}", e.toString());
        }
        return false;
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    /**
     * Unmounts a FUSE filesystem: fusermount first (works for the user who mounted), then umount(8).
     * {@code lazy} detaches it even while files are open. Returns the error output of the last tool
     * tried, or null on success.
     */
    public static String unmount(Path mountPoint, boolean lazy) {
        String mp = mountPoint.toAbsolutePath().normalize().toString();
        List<List<String>> attempts = List.of(
                lazy ? List.of("fusermount", "-u", "-z", mp) : List.of("fusermount", "-u", mp),
                lazy ? List.of("umount", "-l", mp) : List.of("umount", mp));
        String error = "no unmount tool found";
        for (List<String> cmd : attempts) {
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    error = String.join(" ", cmd) + " timed out";
                    continue;
                }
                if (p.exitValue() == 0) {
                    return null;
                }
                error = out.isEmpty() ? String.join(" ", cmd) + " failed" : out;
            } catch (IOException e) {
                error = e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }
        return error;
    }
}
