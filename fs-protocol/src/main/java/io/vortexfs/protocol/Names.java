package io.vortexfs.protocol;

import java.nio.charset.StandardCharsets;

/** The rules for a single path component, shared by every side that accepts one. */
public final class Names {
    public static final int MAX_NAME_BYTES = 255;

    private Names() {
    }

    /** Throws IllegalArgumentException for a name that can never be valid on the wire. */
    public static void check(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("empty name");
        }
        if (name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("name contains '/' or NUL: " + name);
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("name is . or ..");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("name longer than 255 bytes");
        }
    }

    /** The same rule, as an FsException with the code a user expects. */
    public static void validate(String name) throws FsException {
        if (name != null && name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new FsException(ErrorCode.NAME_TOO_LONG, "name longer than 255 bytes");
        }
        try {
            check(name);
        } catch (IllegalArgumentException e) {
            throw new FsException(ErrorCode.INVALID, e.getMessage());
        }
    }
}
