package io.vortexfs.node.metadata;

import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;

/**
 * The limits on extended attributes, as Linux filesystems apply them; which names are kept is
 * {@link io.vortexfs.protocol.XattrNames}.
 */
final class Xattrs {
    static final int MAX_VALUE_BYTES = 64 * 1024;
    static final int MAX_COUNT = 1024;

    private Xattrs() {
    }

    static void checkValue(byte[] value) throws FsException {
        if (value.length > MAX_VALUE_BYTES) {
            throw new FsException(ErrorCode.TOO_BIG, "attribute value larger than 64 KiB");
        }
    }
}
