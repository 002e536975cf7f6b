package io.vortexfs.protocol;

/**
 * Health of a member as seen by the failure detector. Wire codes are fixed.
 *
 * <p>A DEAD member still owns its keys: its replicas on live members serve them, and a node that
 * restarts finds its data where it left it. A member dead for longer than the repair grace is OUT:
 * it no longer owns anything, and its keys are copied to their new owners until each has all its
 * copies again. An OUT member that comes back is ALIVE and an owner again.
 *
 * <p>A member being decommissioned is DRAINING: it still answers, but owns nothing, and hands what
 * it holds to the owners; once they hold all of it, it stops and is LEFT for good.
 */
public enum MemberState {
    ALIVE(1),
    SUSPECT(2),
    DEAD(3),
    LEFT(4),
    OUT(5),
    DRAINING(6);

    private final int code;

    MemberState(int code) {
        this.code = code;
    }

    /** True when the member answers requests, as far as its observer knows. */
    public boolean isUp() {
        return this == ALIVE || this == SUSPECT || this == DRAINING;
    }

    /** True when the member has a place on the hash ring and owns keys. */
    public boolean ownsKeys() {
        return this != OUT && this != LEFT && this != DRAINING;
    }

    public int code() {
        return code;
    }

    public static MemberState ofCode(int code) {
        for (MemberState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown member state code: " + code);
    }
}
