package io.vortexfs.mount.fs;

import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Bounds the bytes of written-but-not-uploaded data across all open files of a mount, so a mount's
 * memory does not grow with the number of files being written.
 */
final class DirtyBudget {
    private static final int UNIT = 4096;
    private final Semaphore permits;

    DirtyBudget(long bytes) {
        this.permits = new Semaphore((int) Math.min(Integer.MAX_VALUE, bytes / UNIT));
    }

    void acquire(int bytes, Duration timeout) throws FsException {
        try {
            if (!permits.tryAcquire(units(bytes), timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new FsException(ErrorCode.TIMEOUT, "no write buffer became free within " + timeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(ErrorCode.TIMEOUT, "interrupted while waiting for a write buffer");
        }
    }

    /** Takes the bytes only if they are free right now. */
    boolean tryAcquire(int bytes) {
        return permits.tryAcquire(units(bytes));
    }

    void release(int bytes) {
        permits.release(units(bytes));
    }

    private static int units(int bytes) {
        return (bytes + UNIT - 1) / UNIT;
    }
}
