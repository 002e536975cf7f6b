package io.vortexfs.protocol;

/**
 * The attributes of one inode, as stat(2) shows them, plus what VortexFS needs to read the file:
 * the chunk size its layout was cut with and, for a directory, its parent (for cycle checks on
 * rename). Times are nanoseconds since the epoch. {@code version} grows by one on every change of
 * the inode, so replicas can tell the newer of two copies. {@code storedBytes} counts the bytes of
 * a file's chunks that hold data (holes excluded): what {@code st_blocks} reports. {@code xattrCount}
 * is how many extended attributes the inode has, so a mount can answer "none" without asking.
 */
public record Attr(
        long ino,
        int mode,
        int nlink,
        int uid,
        int gid,
        long size,
        long atimeNs,
        long mtimeNs,
        long ctimeNs,
        int chunkSize,
        long parent,
        String linkTarget,
        long version,
        long storedBytes,
        int xattrCount) {

    public Attr {
        if (ino <= 0) {
            throw new IllegalArgumentException("ino <= 0: " + ino);
        }
        if (!FileType.isSupported(mode)) {
            throw new IllegalArgumentException("unsupported file type in mode: 0" + Integer.toOctalString(mode));
        }
        if (size < 0) {
            throw new IllegalArgumentException("size < 0: " + size);
        }
        if (nlink < 0) {
            throw new IllegalArgumentException("nlink < 0: " + nlink);
        }
        if (xattrCount < 0) {
            throw new IllegalArgumentException("xattrCount < 0: " + xattrCount);
        }
        if (storedBytes < 0) {
            throw new IllegalArgumentException("storedBytes < 0: " + storedBytes);
        }
        if (chunkSize < 0) {
            throw new IllegalArgumentException("chunkSize < 0: " + chunkSize);
        }
    }

    public boolean isDirectory() {
        return FileType.isDirectory(mode);
    }

    public boolean isRegular() {
        return FileType.isRegular(mode);
    }

    public boolean isSymlink() {
        return FileType.isSymlink(mode);
    }

    /** This inode as changed by writes not yet saved: a new size and, if later, new mtime and ctime. */
    public Attr withUnsavedWrites(long newSize, long writeNs) {
        long m = Math.max(mtimeNs, writeNs);
        return new Attr(ino, mode, nlink, uid, gid, newSize, atimeNs, m, Math.max(ctimeNs, writeNs), chunkSize, parent,
                linkTarget, version, storedBytes, xattrCount);
    }

    public Attr withSize(long newSize) {
        return new Attr(ino, mode, nlink, uid, gid, newSize, atimeNs, mtimeNs, ctimeNs, chunkSize, parent, linkTarget, version,
                storedBytes, xattrCount);
    }

    public Attr withStoredBytes(long bytes) {
        return new Attr(ino, mode, nlink, uid, gid, size, atimeNs, mtimeNs, ctimeNs, chunkSize, parent, linkTarget, version,
                bytes, xattrCount);
    }

    public Attr withXattrCount(int count) {
        return new Attr(ino, mode, nlink, uid, gid, size, atimeNs, mtimeNs, ctimeNs, chunkSize, parent, linkTarget, version,
                storedBytes, count);
    }
}
