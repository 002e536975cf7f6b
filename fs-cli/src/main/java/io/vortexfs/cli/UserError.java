package io.vortexfs.cli;

/** A failure to report to the user as one line, with no stack trace, and exit code 1. */
final class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UserError(String message) {
        super(message, null, false, false);
    }
}
