package io.vortexfs.protocol;

import java.util.List;

/**
 * Requests a client (a mount, the CLI, or another node) sends to a node. Each is answered by exactly
 * one {@link Response}, or by {@link Response.Error}. Metadata requests name the inode they are
 * about first, so a client can route them to that inode's owner.
 */
public sealed interface Request extends Message {

    /** First request on a connection: the node answers with the cluster as it sees it. */
    record Hello(int protocolVersion, String clientName) implements Request {
        public Hello {
            requireText(clientName, "clientName");
        }
    }

    /** Asks a node for its own storage figures. */
    record GetStats() implements Request {
    }

    /** Stores a chunk whose bytes follow as the frame payload; the node checks them against the id. */
    record PutChunk(ChunkId id, int length) implements Request {
        public PutChunk {
            require(id != null, "id == null");
            require(length >= 0, "length < 0");
        }
    }

    /** Reads a whole chunk; the answer carries its bytes as payload. */
    record GetChunk(ChunkId id) implements Request {
        public GetChunk {
            require(id != null, "id == null");
        }
    }

    record GetAttr(long ino) implements Request {
        public GetAttr {
            requireIno(ino);
        }
    }

    record Lookup(long parent, String name) implements Request {
        public Lookup {
            requireIno(parent);
            requireText(name, "name");
        }
    }

    /** Lists a directory with the attributes of every entry, in one round trip. */
    record ReadDir(long ino) implements Request {
        public ReadDir {
            requireIno(ino);
        }
    }

    /**
     * Creates a file, directory, symlink or FIFO named {@code name} in {@code parent}. The type is in
     * the mode's S_IFMT bits; {@code linkTarget} is set for symlinks only.
     */
    record MakeNode(long parent, String name, int mode, int uid, int gid, String linkTarget, int chunkSize)
            implements Request {
        public MakeNode {
            requireIno(parent);
            requireText(name, "name");
            require(FileType.isSupported(mode), "unsupported file type");
            require(FileType.isSymlink(mode) == (linkTarget != null), "linkTarget must be set for symlinks only");
            require(chunkSize >= 0, "chunkSize < 0");
        }
    }

    /** Adds another name for an existing inode (a hard link). */
    record Link(long ino, long newParent, String newName) implements Request {
        public Link {
            requireIno(ino);
            requireIno(newParent);
            requireText(newName, "newName");
        }
    }

    /** Removes a name: unlink(2) when {@code directory} is false, rmdir(2) when true. */
    record Remove(long parent, String name, boolean directory) implements Request {
        public Remove {
            requireIno(parent);
            requireText(name, "name");
        }
    }

    record Rename(long srcParent, String srcName, long dstParent, String dstName) implements Request {
        public Rename {
            requireIno(srcParent);
            requireText(srcName, "srcName");
            requireIno(dstParent);
            requireText(dstName, "dstName");
        }
    }

    /**
     * Changes the attributes whose bit is set in {@code valid} (see the SET_* constants). A size
     * change truncates or extends the file; extended bytes read as zeros.
     */
    record SetAttr(long ino, int valid, int mode, int uid, int gid, long size, long atimeNs, long mtimeNs)
            implements Request {
        public static final int SET_MODE = 1;
        public static final int SET_UID = 1 << 1;
        public static final int SET_GID = 1 << 2;
        public static final int SET_SIZE = 1 << 3;
        public static final int SET_ATIME = 1 << 4;
        public static final int SET_MTIME = 1 << 5;

        public SetAttr {
            requireIno(ino);
            require(size >= 0, "size < 0");
        }
    }

    /** Fetches a file's attributes and its whole chunk layout. */
    record GetLayout(long ino) implements Request {
        public GetLayout {
            requireIno(ino);
        }
    }

    /**
     * Points chunk slots of a file at newly stored chunks and grows its size to at least
     * {@code minSize}. Sent after every chunk in {@code slots} is stored.
     */
    record CommitWrite(long ino, List<ChunkSlot> slots, long minSize, long mtimeNs) implements Request {
        public CommitWrite {
            requireIno(ino);
            slots = Lists.checked(slots, ChunkSlot.class);
            require(minSize >= 0, "minSize < 0");
        }
    }

    /**
     * Sets extended attribute {@code name} to the frame's payload. {@code flags} is 0, or
     * {@link #XATTR_CREATE} (fail if it exists) or {@link #XATTR_REPLACE} (fail if it does not).
     */
    record SetXattr(long ino, String name, int flags) implements Request {
        public static final int XATTR_CREATE = 1;
        public static final int XATTR_REPLACE = 2;

        public SetXattr {
            requireIno(ino);
            requireText(name, "name");
            require(flags >= 0 && flags <= 3, "bad xattr flags: " + flags);
        }
    }

    /** Reads one extended attribute; the value comes back as payload. */
    record GetXattr(long ino, String name) implements Request {
        public GetXattr {
            requireIno(ino);
            requireText(name, "name");
        }
    }

    record ListXattr(long ino) implements Request {
        public ListXattr {
            requireIno(ino);
        }
    }

    record RemoveXattr(long ino, String name) implements Request {
        public RemoveXattr {
            requireIno(ino);
            requireText(name, "name");
        }
    }

    /**
     * Asks a node to check everything it stores: names point at inodes, link counts match names,
     * every inode is reachable, and every chunk a file uses is present and hashes to its id.
     */
    record Fsck() implements Request {
    }

    /** Capacity and usage, for statfs(2). */
    record StatFs() implements Request {
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    private static void requireIno(long ino) {
        if (ino <= 0) {
            throw new IllegalArgumentException("inode number must be positive: " + ino);
        }
    }

    private static void requireText(String value, String what) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
    }
}
