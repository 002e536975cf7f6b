package io.vortexfs.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ArrivalWindowTest {
    private static final long MS = 1_000_000;

    private static ArrivalWindow steady(long gapMs, int beats) {
        ArrivalWindow w = new ArrivalWindow();
        for (int i = 0; i <= beats; i++) {
            w.arrived(i * gapMs * MS);
        }
        return w;
    }

    @Test
    void itNeedsAFewGapsBeforeItJudges() {
        ArrivalWindow w = steady(100, ArrivalWindow.MIN_SAMPLES - 1);
        assertFalse(w.trained());
        w.arrived(ArrivalWindow.MIN_SAMPLES * 100 * MS);
        assertTrue(w.trained());
    }

    @Test
    void phiGrowsWithSilenceAndCrossesEightJustPastMeanPlusPause() {
        ArrivalWindow w = steady(100, 50);
        double early = w.phi(100 * MS, 500 * MS, 30 * MS);
        double atPause = w.phi(600 * MS, 500 * MS, 30 * MS);
        double late = w.phi(900 * MS, 500 * MS, 30 * MS);
        assertTrue(early < 1, "a normal gap is not suspicious: " + early);
        assertEquals(0.3, atPause, 0.01, "at the mean plus the pause the chance is one half");
        assertTrue(late > Membership.PHI_DEAD, "ten deviations past it is: " + late);
        for (long ms = 100; ms < 2000; ms += 10) {
            assertTrue(w.phi((ms + 10) * MS, 500 * MS, 30 * MS) >= w.phi(ms * MS, 500 * MS, 30 * MS), "monotonic at " + ms);
        }
    }

    @Test
    void irregularHeartbeatsWidenWhatIsNormal() {
        ArrivalWindow steady = steady(300, 100);
        ArrivalWindow loaded = new ArrivalWindow();
        Random rnd = new Random(5);
        long t = 0;
        for (int i = 0; i <= 100; i++) {
            loaded.arrived(t);
            t += (50 + rnd.nextInt(1500)) * MS; // a loaded machine: gaps of 50 ms to 1.5 s
        }
        long silence = 4_000 * MS;
        long pause = 2_700 * MS;
        long minDeviation = 100 * MS;
        assertTrue(steady.phi(silence, pause, minDeviation) > Membership.PHI_DEAD);
        assertTrue(loaded.phi(silence, pause, minDeviation) < Membership.PHI_DEAD,
                "4 s of silence is within what a loaded member shows: phi " + loaded.phi(silence, pause, minDeviation));
    }
}
