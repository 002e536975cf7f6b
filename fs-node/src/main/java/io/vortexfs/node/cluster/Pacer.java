package io.vortexfs.node.cluster;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Paces background work to a number of bytes per second, so that user I/O goes on beside it: each
 * piece waits for its slot, one after another, and idle time is never saved up into a burst. Used by
 * one thread at a time.
 */
final class Pacer {
    private final long bytesPerSecond;
    private final LongSupplier nanoTime;
    private long nextSlotNanos;

    /** @param bytesPerSecond 0 for no limit */
    Pacer(long bytesPerSecond, LongSupplier nanoTime) {
        this.bytesPerSecond = bytesPerSecond;
        this.nanoTime = nanoTime;
    }

    /** Waits until {@code length} more bytes may go. */
    void pace(long length) {
        if (bytesPerSecond <= 0) {
            return;
        }
        long now = nanoTime.getAsLong();
        long slot = Math.max(nextSlotNanos, now);
        nextSlotNanos = slot + (long) (length * 1e9 / bytesPerSecond);
        if (slot > now) {
            try {
                TimeUnit.NANOSECONDS.sleep(slot - now);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while pacing background work");
            }
        }
    }
}
