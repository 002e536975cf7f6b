package io.vortexfs.protocol;

/**
 * Why an operation failed, as it travels on the wire. Each constant has a fixed numeric code that is
 * never reused: peers of different builds must agree on it. The mount turns these into errno values
 * in exactly one place.
 */
public enum ErrorCode {
    NOT_FOUND(1),
    EXISTS(2),
    NOT_DIRECTORY(3),
    IS_DIRECTORY(4),
    NOT_EMPTY(5),
    INVALID(6),
    NAME_TOO_LONG(7),
    NO_SPACE(8),
    IO(9),
    BUSY(10),
    CORRUPT(11),
    TIMEOUT(12),
    UNAVAILABLE(13),
    PERMISSION(14),
    NOT_SUPPORTED(15),
    TOO_MANY_LINKS(16),
    PROTOCOL(17),
    /** No such extended attribute (ENODATA). */
    NO_DATA(18),
    /** A value or list is larger than allowed (E2BIG). */
    TOO_BIG(19),
    /** A replica is behind or on an older epoch and needs a snapshot before it can apply more. */
    STALE(20),
    /** The node does not coordinate what the request is about; the client should ask another. */
    NOT_COORDINATOR(21);

    private final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /**
     * Whether the cluster, not the caller, is at fault: a node down, slow, confused or holding bad
     * bytes. The answer to a wrong path or name (not found, exists, invalid...) is not.
     */
    public boolean isClusterFault() {
        return switch (this) {
            case IO, BUSY, CORRUPT, TIMEOUT, UNAVAILABLE, PROTOCOL, STALE, NOT_COORDINATOR -> true;
            default -> false;
        };
    }

    /** The constant for a wire code; an unknown code (a newer peer) is reported as {@link #IO}. */
    public static ErrorCode ofCode(int code) {
        for (ErrorCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return IO;
    }
}
