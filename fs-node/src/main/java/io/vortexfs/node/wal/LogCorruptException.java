package io.vortexfs.node.wal;

import java.io.IOException;

/** The log is damaged before its tail: recovery cannot know what was lost, so it refuses to guess. */
public final class LogCorruptException extends IOException {
    private static final long serialVersionUID = 1L;

    public LogCorruptException(String message) {
        super(message);
    }
}
