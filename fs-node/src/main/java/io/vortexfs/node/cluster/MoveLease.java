package io.vortexfs.node.cluster;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The cluster's one lease on moving a directory to another parent, kept by the coordinator of the
 * root's metadata partition. A rename that moves a directory holds it from before its "not into
 * itself" walk until its last step, so two such moves never run at once: run together, each could
 * pass its walk and the two would make a loop that no path from the root reaches (CephFS, and the
 * Linux VFS within one filesystem, serialise these moves the same way).
 *
 * <p>A lease runs out, so a node that dies holding it stops other moves only for a while. It is kept
 * in memory: a new coordinator of the root's partition starts with it free.
 */
final class MoveLease {
    private final LongSupplier nanoClock;
    private long holder;
    private long expiresAt;

    MoveLease(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** Grants the lease to {@code holder} for {@code length}: when free, run out, or already its own. */
    synchronized boolean take(long holder, Duration length) {
        long now = nanoClock.getAsLong();
        if (this.holder != 0 && this.holder != holder && now - expiresAt < 0) {
            return false;
        }
        this.holder = holder;
        this.expiresAt = now + length.toNanos();
        return true;
    }

    /** Frees the lease if {@code holder} has it; a holder whose lease ran out and was taken frees nothing. */
    synchronized void giveBack(long holder) {
        if (this.holder == holder) {
            this.holder = 0;
        }
    }
}
