package io.vortexfs.node.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MoveLeaseTest {
    private static final Duration LENGTH = Duration.ofSeconds(10);
    private final AtomicLong now = new AtomicLong(1_000);
    private final MoveLease lease = new MoveLease(now::get);

    @Test
    void oneHolderAtATimeUntilItGivesTheLeaseBack() {
        assertTrue(lease.take(1, LENGTH));
        assertFalse(lease.take(2, LENGTH));
        assertTrue(lease.take(1, LENGTH), "taking it again extends the holder's own lease");
        lease.giveBack(2);
        assertFalse(lease.take(2, LENGTH), "only the holder frees it");
        lease.giveBack(1);
        assertTrue(lease.take(2, LENGTH));
    }

    @Test
    void aLeaseThatRanOutGoesToTheNextAskerAndTheOldHolderCannotFreeIt() {
        assertTrue(lease.take(1, LENGTH));
        now.addAndGet(LENGTH.toNanos() - 1);
        assertFalse(lease.take(2, LENGTH));
        now.addAndGet(1);
        assertTrue(lease.take(2, LENGTH));
        lease.giveBack(1);
        assertFalse(lease.take(3, LENGTH), "the late holder's give-back must not free the new holder's lease");
    }
}
