package io.vortexfs.protocol;

/** Health of a member as seen by the failure detector. Wire codes are fixed. */
public enum MemberState {
    ALIVE(1),
    SUSPECT(2),
    DEAD(3),
    LEFT(4);

    private final int code;

    MemberState(int code) {
        this.code = code;
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
