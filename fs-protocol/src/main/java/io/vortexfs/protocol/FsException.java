package io.vortexfs.protocol;

/**
 * A filesystem-level failure with a wire {@link ErrorCode}. Thrown by the node's services and by the
 * client; the FUSE adapter maps the code to an errno. It carries no stack trace: it is an expected
 * outcome, not a bug.
 */
public final class FsException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public FsException(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public FsException(ErrorCode code, String message, Throwable cause) {
        super(message, cause, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    @Override
    public String toString() {
        return code + ": " + getMessage();
    }
}
