package io.vortexfs.mount.fs;

import io.vortexfs.protocol.ErrorCode;
import io.vortexfs.protocol.FsException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Bounds the memory of written-but-not-saved data across all open files of a mount, so a mount's
 * memory does not grow with the number of files being written. Buffers are charged for the memory
 * they really take, in 4 KiB units, as they grow.
 */
final class DirtyBudget {
    private static final int UNIT = 4096;
    private final Semaphore permits;

    DirtyBudget(long bytes) {
        this.permits = new Semaphore((int) Math.min(Integer.MAX_VALUE, bytes / UNIT));
    }

    /** Units of budget that {@code bytes} take; charges and refunds are counted in units. */
    static int units(int bytes) {
        return (bytes + UNIT - 1) / UNIT;
    }

    void acquire(int units, Duration timeout) throws FsException {
        try {
            if (!permits.tryAcquire(units, timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new FsException(ErrorCode.TIMEOUT, "no write buffer became free within " + timeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(ErrorCode.TIMEOUT, "interrupted while waiting for a write buffer");
        }
    }

    /** Takes the units only if they are free right now. */
    boolean tryAcquire(int units) {
        return permits.tryAcquire(units);
    }

    void release(int units) {
        permits.release(units);
    }
}
