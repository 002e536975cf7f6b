package io.vortexfs.protocol;

/** The file type bits of a POSIX mode (S_IFMT), with the values Linux uses. */
public final class FileType {
    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFIFO = 0010000;
    /** Permission and set-id/sticky bits. */
    public static final int PERMISSION_BITS = 07777;

    private FileType() {
    }

    public static boolean isDirectory(int mode) {
        return (mode & S_IFMT) == S_IFDIR;
    }

    public static boolean isRegular(int mode) {
        return (mode & S_IFMT) == S_IFREG;
    }

    public static boolean isSymlink(int mode) {
        return (mode & S_IFMT) == S_IFLNK;
    }

    /** True for the types VortexFS stores: directories, regular files, symlinks and FIFOs. */
    public static boolean isSupported(int mode) {
        int type = mode & S_IFMT;
        return type == S_IFDIR || type == S_IFREG || type == S_IFLNK || type == S_IFIFO;
    }
}
