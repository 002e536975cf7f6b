package io.vortexfs.node.metadata;

import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import java.nio.charset.StandardCharsets;

/**
 * The rules for extended attributes, as Linux filesystems apply them. Names live in a namespace
 * ({@code user.}, {@code trusted.}, {@code security.}); {@code system.} names (POSIX ACLs) are
 * refused as unsupported, so that tools do not believe ACLs are enforced when they are not.
 */
final class Xattrs {
    static final int MAX_NAME_BYTES = 255;
    static final int MAX_VALUE_BYTES = 64 * 1024;
    static final int MAX_COUNT = 1024;

    private Xattrs() {
    }

    static void checkName(String name) throws FsException {
        if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new FsException(ErrorCode.TOO_BIG, "attribute name length out of range");
        }
        if (!(name.startsWith("user.") || name.startsWith("trusted.") || name.startsWith("security."))
                || name.indexOf('.') == name.length() - 1) {
            throw new FsException(ErrorCode.NOT_SUPPORTED, "attribute namespace not supported: " + name);
        }
    }

    static void checkValue(byte[] value) throws FsException {
        if (value.length > MAX_VALUE_BYTES) {
            throw new FsException(ErrorCode.TOO_BIG, "attribute value larger than 64 KiB");
        }
    }
}
