package io.vortexfs.protocol;

import java.nio.charset.StandardCharsets;

/**
 * Which extended attribute names VortexFS keeps, shared by the nodes (which refuse the rest) and the
 * mount (which answers for them without asking a node).
 *
 * <p>Names live in the {@code user.}, {@code trusted.} and {@code security.} namespaces. Two kinds
 * are refused as unsupported, so that no tool believes they take effect: {@code system.} names
 * (POSIX ACLs, which VortexFS does not enforce) and {@code security.selinux} (a FUSE mount is
 * labelled by the SELinux policy as a whole; the kernel never reads a per-file label from it). The
 * refusal is also what lets {@code ls -l} stop asking: coreutils remembers a filesystem that answers
 * EOPNOTSUPP for ACLs or labels, and asks no other file on it, where a "no such attribute" answer
 * costs two round trips into the mount for every file listed.
 */
public final class XattrNames {
    public static final int MAX_NAME_BYTES = 255;

    private XattrNames() {
    }

    public static void check(String name) throws FsException {
        if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new FsException(ErrorCode.TOO_BIG, "attribute name length out of range");
        }
        if (!(name.startsWith("user.") || name.startsWith("trusted.") || name.startsWith("security."))
                || name.indexOf('.') == name.length() - 1 || name.equals("security.selinux")) {
            throw new FsException(ErrorCode.NOT_SUPPORTED, "attribute namespace not supported: " + name);
        }
    }
}
