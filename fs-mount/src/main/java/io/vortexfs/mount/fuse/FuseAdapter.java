package io.vortexfs.mount.fuse;

import io.vortexfs.mount.fs.VortexFileSystem;
import io.vortexfs.protocol.Attr;
import io.vortexfs.protocol.DirEntry;
import io.vortexfs.protocol.FileType;
import io.vortexfs.protocol.FsException;
import io.vortexfs.protocol.Response;
import java.nio.charset.StandardCharsets;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The jnr-fuse face of a {@link VortexFileSystem}. Every operation is one call through
 * {@link #run}, which turns an {@link FsException} into its negative errno and any other throwable
 * into -EIO with a log line: native code never sees an exception. Operations not overridden here are
 * left to the kernel's defaults (jnr-fuse registers only what a subclass implements).
 */
public final class FuseAdapter extends FuseStubFS {
    private static final Logger LOG = LoggerFactory.getLogger(FuseAdapter.class);

    private static final long UTIME_NOW = (1L << 30) - 1;
    private static final long UTIME_OMIT = (1L << 30) - 2;
    private static final int O_EXCL = 0200;
    private static final int BLOCK = 4096;

    private final VortexFileSystem fs;

    public FuseAdapter(VortexFileSystem fs) {
        this.fs = fs;
        setOperationFlags();
    }

    /**
     * jnr-fuse leaves libfuse 2.9's flag bits of {@code struct fuse_operations} at zero (it declares
     * them as padding bytes). We need two of them, bits of the first byte of that word:
     * <ul>
     *   <li>{@code flag_nullpath_ok} (bit 0): with {@code hard_remove}, operations on a file that was
     *       unlinked while open arrive with a null path; every such operation here goes by handle;</li>
     *   <li>{@code flag_utime_omit_ok} (bit 2): without it libfuse drops any utimensat that leaves one
     *       of the two times as UTIME_OMIT ({@code touch -m}, tar restoring mtimes).</li>
     * </ul>
     */
    private void setOperationFlags() {
        Pointer memory = jnr.ffi.Struct.getMemory(fuseOperations);
        long offset = flagsOffset();
        memory.putByte(offset, (byte) (memory.getByte(offset) | 0b101));
    }

    /**
     * Where the flag word sits: right after the 38 function pointers getattr..bmap. jnr-ffi knows the
     * padding member's offset but keeps the accessor in a package-private class, so it is read
     * reflectively and checked against the layout of libfuse 2.9's header.
     */
    private long flagsOffset() {
        long expected = 38L * Runtime.getSystemRuntime().addressSize();
        long actual;
        try {
            Object member = fuseOperations.getClass().getField("flag_nullpath_ok").get(fuseOperations);
            java.lang.reflect.Method m = member.getClass().getMethod("offset");
            m.setAccessible(true);
            actual = (Long) m.invoke(member);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("cannot read the flag offset from jnr-ffi ({}); using {}", e.toString(), expected);
            return expected;
        }
        if (actual != expected) {
            // Writing at the wrong place would overwrite a function pointer: refuse to mount instead.
            throw new IllegalStateException("fuse_operations flags at offset " + actual + ", expected " + expected
                    + ": this jnr-fuse does not match libfuse 2.9's layout");
        }
        return actual;
    }

    private interface Op {
        int run() throws FsException;
    }

    private int run(String op, String path, Op body) {
        try {
            return body.run();
        } catch (FsException e) {
            if (e.code().isClusterFault()) {
                // The user sees only EIO or ETIMEDOUT: the reason is kept here.
                LOG.warn("{} {}: {}", op, path, e.getMessage());
            } else {
                LOG.debug("{} {}: {}", op, path, e.toString());
            }
            return -Errno.of(e.code());
        } catch (Throwable t) {
            LOG.error("{} {} failed unexpectedly", op, path, t);
            return -Errno.io();
        }
    }

    @Override
    public int getattr(String path, FileStat stat) {
        return run("getattr", path, () -> fill(fs.getattr(path), stat));
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        return run("fgetattr", path, () -> fill(fs.fgetattr(fi.fh.get()), stat));
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filler, long offset, FuseFileInfo fi) {
        return run("readdir", path, () -> {
            var entries = fs.readdir(path);
            filler.apply(buf, ".", null, 0);
            filler.apply(buf, "..", null, 0);
            FileStat stat = new FileStat(Runtime.getSystemRuntime());
            for (DirEntry e : entries) {
                fill(e.attr(), stat);
                if (filler.apply(buf, e.name(), stat, 0) != 0) {
                    break;
                }
            }
            return 0;
        });
    }

    @Override
    public int mkdir(String path, long mode) {
        return run("mkdir", path, () -> {
            fs.mkdir(path, (int) mode, uid(), gid());
            return 0;
        });
    }

    @Override
    public int mknod(String path, long mode, long rdev) {
        return run("mknod", path, () -> {
            fs.mknod(path, (int) mode, uid(), gid());
            return 0;
        });
    }

    @Override
    public int rmdir(String path) {
        return run("rmdir", path, () -> {
            fs.rmdir(path);
            return 0;
        });
    }

    @Override
    public int unlink(String path) {
        return run("unlink", path, () -> {
            fs.unlink(path);
            return 0;
        });
    }

    @Override
    public int symlink(String target, String linkPath) {
        return run("symlink", linkPath, () -> {
            fs.symlink(target, linkPath, uid(), gid());
            return 0;
        });
    }

    @Override
    public int readlink(String path, Pointer buf, long size) {
        return run("readlink", path, () -> {
            byte[] target = fs.readlink(path).getBytes(StandardCharsets.UTF_8);
            int n = (int) Math.min(target.length, size - 1);
            buf.put(0, target, 0, n);
            buf.putByte(n, (byte) 0);
            return 0;
        });
    }

    @Override
    public int rename(String from, String to) {
        return run("rename", from, () -> {
            fs.rename(from, to);
            return 0;
        });
    }

    @Override
    public int link(String existing, String newPath) {
        return run("link", newPath, () -> {
            fs.link(existing, newPath);
            return 0;
        });
    }

    @Override
    public int chmod(String path, long mode) {
        return run("chmod", path, () -> {
            fs.chmod(path, (int) mode);
            return 0;
        });
    }

    @Override
    public int chown(String path, long uid, long gid) {
        return run("chown", path, () -> {
            fs.chown(path, unsetIsMinusOne(uid), unsetIsMinusOne(gid));
            return 0;
        });
    }

    @Override
    public int truncate(String path, long size) {
        return run("truncate", path, () -> {
            fs.truncate(path, size);
            return 0;
        });
    }

    @Override
    public int ftruncate(String path, long size, FuseFileInfo fi) {
        return run("ftruncate", path, () -> {
            fs.ftruncate(fi.fh.get(), size);
            return 0;
        });
    }

    @Override
    public int utimens(String path, Timespec[] times) {
        return run("utimens", path, () -> {
            fs.utimens(path, timeOf(times[0]), timeOf(times[1]));
            return 0;
        });
    }

    @Override
    public int create(String path, long mode, FuseFileInfo fi) {
        return run("create", path, () -> {
            fi.fh.set(fs.create(path, (int) mode, uid(), gid(), (fi.flags.get() & O_EXCL) != 0));
            return 0;
        });
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return run("open", path, () -> {
            fi.fh.set(fs.open(path));
            return 0;
        });
    }

    @Override
    public int read(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
        return run("read", path, () -> fs.read(fi.fh.get(), offset, new NativeBuffer(buf), (int) size));
    }

    @Override
    public int write(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
        return run("write", path, () -> {
            fs.write(fi.fh.get(), offset, new NativeBuffer(buf), (int) size);
            return (int) size;
        });
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        return run("flush", path, () -> {
            fs.flush(fi.fh.get());
            return 0;
        });
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return run("fsync", path, () -> {
            fs.flush(fi.fh.get());
            return 0;
        });
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        return run("release", path, () -> {
            fs.release(fi.fh.get());
            return 0;
        });
    }

    @Override
    public int setxattr(String path, String name, Pointer value, long size, int flags) {
        return run("setxattr", path, () -> {
            byte[] v = new byte[(int) size];
            value.get(0, v, 0, v.length);
            fs.setxattr(path, name, v, flags);
            return 0;
        });
    }

    @Override
    public int getxattr(String path, String name, Pointer value, long size) {
        return run("getxattr", path, () -> copyOut(fs.getxattr(path, name), value, size));
    }

    @Override
    public int listxattr(String path, Pointer list, long size) {
        return run("listxattr", path, () -> {
            java.io.ByteArrayOutputStream names = new java.io.ByteArrayOutputStream();
            for (String n : fs.listxattr(path)) {
                names.writeBytes(n.getBytes(StandardCharsets.UTF_8));
                names.write(0);
            }
            return copyOut(names.toByteArray(), list, size);
        });
    }

    @Override
    public int removexattr(String path, String name) {
        return run("removexattr", path, () -> {
            fs.removexattr(path, name);
            return 0;
        });
    }

    /** The xattr calling convention: size 0 asks for the length; a smaller buffer is ERANGE. */
    private static int copyOut(byte[] data, Pointer buf, long size) {
        if (size == 0) {
            return data.length;
        }
        if (size < data.length) {
            return -ErrorCodes.ERANGE();
        }
        buf.put(0, data, 0, data.length);
        return data.length;
    }

    @Override
    public int statfs(String path, Statvfs st) {
        return run("statfs", path, () -> {
            Response.FsStats s = fs.statfs();
            st.f_bsize.set(BLOCK);
            st.f_frsize.set(BLOCK);
            st.f_blocks.set(s.totalBytes() / BLOCK);
            st.f_bfree.set(s.freeBytes() / BLOCK);
            st.f_bavail.set(s.freeBytes() / BLOCK);
            st.f_files.set(s.files() + s.freeBytes() / BLOCK);
            st.f_ffree.set(s.freeBytes() / BLOCK);
            st.f_favail.set(s.freeBytes() / BLOCK);
            st.f_namemax.set(255);
            return 0;
        });
    }

    private int fill(Attr a, FileStat stat) {
        stat.st_ino.set(a.ino());
        stat.st_mode.set(a.mode());
        stat.st_nlink.set(a.nlink());
        stat.st_uid.set(a.uid());
        stat.st_gid.set(a.gid());
        stat.st_size.set(a.size());
        stat.st_blksize.set(BLOCK);
        // Blocks the data really takes: holes take none, as on a local disk.
        stat.st_blocks.set(FileType.isRegular(a.mode()) ? (a.storedBytes() + 511) / 512 : a.isDirectory() ? 8 : 0);
        setTime(stat.st_atim, a.atimeNs());
        setTime(stat.st_mtim, a.mtimeNs());
        setTime(stat.st_ctim, a.ctimeNs());
        return 0;
    }

    private static void setTime(Timespec t, long ns) {
        t.tv_sec.set(Math.floorDiv(ns, 1_000_000_000L));
        t.tv_nsec.set(Math.floorMod(ns, 1_000_000_000L));
    }

    private static Long timeOf(Timespec t) {
        long nsec = t.tv_nsec.longValue();
        if (nsec == UTIME_OMIT) {
            return null;
        }
        if (nsec == UTIME_NOW) {
            java.time.Instant now = java.time.Instant.now();
            return now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }
        return t.tv_sec.get() * 1_000_000_000L + nsec;
    }

    private static int unsetIsMinusOne(long id) {
        return id == -1 || id == 0xFFFFFFFFL ? -1 : (int) id;
    }

    private int uid() {
        return (int) getContext().uid.get();
    }

    private int gid() {
        return (int) getContext().gid.get();
    }
}
