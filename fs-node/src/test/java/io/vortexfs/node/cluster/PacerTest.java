package io.vortexfs.node.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PacerTest {
    @Test
    void piecesGoOneSlotAfterAnotherAtTheRate() {
        Pacer pacer = new Pacer(10L << 20, System::nanoTime);
        long start = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            pacer.pace(1L << 20);
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        // The first MiB goes at once, each of the next four waits a tenth of a second.
        assertTrue(ms >= 390, "5 MiB at 10 MiB/s took only " + ms + " ms");
    }

    @Test
    void aRateOfZeroMeansNoLimit() {
        Pacer pacer = new Pacer(0, System::nanoTime);
        long start = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            pacer.pace(1L << 30);
        }
        assertTrue(System.nanoTime() - start < 1_000_000_000L);
    }

    @Test
    void idleTimeIsNotSavedUpIntoABurst() throws Exception {
        long[] now = {0};
        Pacer pacer = new Pacer(1000, () -> now[0]);
        pacer.pace(1000); // slot at 0, the next one second later
        now[0] = 60_000_000_000L; // a minute idle
        long before = System.nanoTime();
        pacer.pace(1000); // its slot is now: no wait
        now[0] += 1; // a nanosecond later the next must wait its full second
        Thread t = new Thread(() -> {
            try {
                pacer.pace(1);
            } catch (IllegalStateException interrupted) {
                // Ended by the test.
            }
        });
        t.start();
        t.join(300);
        assertTrue(t.isAlive(), "after an idle minute the second piece still waited for its slot");
        t.interrupt();
        t.join();
        assertTrue(System.nanoTime() - before < 5_000_000_000L);
    }
}
