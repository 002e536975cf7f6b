package io.vortexfs.protocol.placement;

import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;

/**
 * When a replicated write may be acknowledged. A writer sends to every owner it believes alive and
 * waits for all of them. An owner that answers with an error fails the write; one that cannot be
 * reached is taken as down and is tolerated, as long as the copies made reach the quorum: the
 * configured count, or by default a majority of the owners.
 */
public final class Quorum {
    private Quorum() {
    }

    /** Copies needed for a key with {@code owners} owners; {@code configured} 0 means the default rule. */
    public static int required(int configured, int owners) {
        if (configured > 0) {
            return Math.min(configured, owners);
        }
        return owners / 2 + 1;
    }

    /** True for failures that mean "this owner is down or cut off", which a quorum may tolerate. */
    public static boolean unreachable(FsException e) {
        return e.code() == ErrorCode.UNAVAILABLE || e.code() == ErrorCode.TIMEOUT;
    }

    /** Throws unless {@code copies} reach the quorum; {@code last} is the failure to report. */
    public static void check(int copies, int required, String what, FsException last) throws FsException {
        if (copies < required) {
            throw new FsException(ErrorCode.UNAVAILABLE, what + ": " + copies + " of " + required
                    + " required copies written" + (last == null ? "" : " (" + last.getMessage() + ")"));
        }
    }
}
