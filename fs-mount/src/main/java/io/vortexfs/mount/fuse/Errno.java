package io.vortexfs.mount.fuse;

import io.vortexfs.protocol.ErrorCode;
import ru.serce.jnrfuse.ErrorCodes;

/** The one place where a VortexFS error becomes an errno. Values are positive; callers negate them. */
final class Errno {
    private Errno() {
    }

    static int of(ErrorCode code) {
        return switch (code) {
            case NOT_FOUND -> ErrorCodes.ENOENT();
            case EXISTS -> ErrorCodes.EEXIST();
            case NOT_DIRECTORY -> ErrorCodes.ENOTDIR();
            case IS_DIRECTORY -> ErrorCodes.EISDIR();
            case NOT_EMPTY -> ErrorCodes.ENOTEMPTY();
            case INVALID -> ErrorCodes.EINVAL();
            case NAME_TOO_LONG -> ErrorCodes.ENAMETOOLONG();
            case NO_SPACE -> ErrorCodes.ENOSPC();
            case PERMISSION -> ErrorCodes.EPERM();
            case NOT_SUPPORTED -> ErrorCodes.EOPNOTSUPP();
            case TOO_MANY_LINKS -> ErrorCodes.EMLINK();
            case TIMEOUT -> ErrorCodes.ETIMEDOUT();
            case PROTOCOL -> ErrorCodes.EPROTO();
            case NO_DATA -> ErrorCodes.ENODATA();
            case TOO_BIG -> ErrorCodes.E2BIG();
            // A node that is down, overloaded, or holds a corrupt copy with no good one left: the data
            // cannot be had right now, which is what EIO means to every program.
            case IO, BUSY, CORRUPT, UNAVAILABLE, STALE, NOT_COORDINATOR -> ErrorCodes.EIO();
        };
    }

    static int io() {
        return ErrorCodes.EIO();
    }
}
