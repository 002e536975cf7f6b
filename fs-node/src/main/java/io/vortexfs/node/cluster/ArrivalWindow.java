package io.vortexfs.node.cluster;

/**
 * The recent gaps between a member's heartbeats, and how suspicious a silence is given them: the phi
 * accrual failure detector (Hayashibara et al., 2004), as Cassandra and Akka use it.
 *
 * <p>phi is -log10 of the chance that a heartbeat still arrives after a silence this long, if gaps
 * follow a normal distribution with the window's mean and deviation. A phi of 8 means a chance of
 * one in a hundred million. A member whose heartbeats come steadily is judged by a tight
 * distribution; one whose heartbeats come late and irregularly because its machine or the network
 * is loaded is judged by a wide one, and is not called dead for a silence that is normal for it.
 *
 * <p>Two floors keep it from being too quick: an acceptable pause is added to the mean (a garbage
 * collection or a hiccup that nothing in the window predicts), and the deviation is never taken as
 * smaller than a minimum. Not thread-safe; {@link Membership} guards it.
 */
final class ArrivalWindow {
    static final int SIZE = 100;
    /** Fewer gaps than this say too little; the caller falls back on a fixed timeout. */
    static final int MIN_SAMPLES = 4;

    private final long[] gaps = new long[SIZE];
    private int count;
    private int next;
    private double sum;
    private double sumOfSquares;
    private long last = -1;

    /** A heartbeat arrived at {@code nanos}. */
    void arrived(long nanos) {
        if (last >= 0 && nanos > last) {
            long gap = nanos - last;
            if (count == SIZE) {
                long old = gaps[next];
                sum -= old;
                sumOfSquares -= (double) old * old;
            } else {
                count++;
            }
            gaps[next] = gap;
            next = (next + 1) % SIZE;
            sum += gap;
            sumOfSquares += (double) gap * gap;
        }
        last = nanos;
    }

    boolean trained() {
        return count >= MIN_SAMPLES;
    }

    /**
     * How suspicious a silence of {@code silentNanos} is. Uses the logistic approximation of the
     * normal distribution's tail that Akka uses, accurate to 10^-4 and defined for every input.
     */
    double phi(long silentNanos, long acceptablePauseNanos, long minDeviationNanos) {
        double mean = sum / count;
        double variance = Math.max(0, sumOfSquares / count - mean * mean);
        double deviation = Math.max(Math.sqrt(variance), minDeviationNanos);
        double y = (silentNanos - (mean + acceptablePauseNanos)) / deviation;
        double e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
        return y > 0 ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e));
    }
}
