package io.vortexfs.protocol.wire;

/**
 * The bytes on a connection do not form a valid frame. The connection that sent them is closed; the
 * process goes on.
 */
public final class CorruptFrameException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CorruptFrameException(String message) {
        super(message, null, false, false);
    }

    public CorruptFrameException(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
