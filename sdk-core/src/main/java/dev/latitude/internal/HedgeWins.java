package dev.latitude.internal;

import java.util.concurrent.atomic.LongAdder;

/**
 * How often hedges to other regions beat one region's attempts, over a sliding window of two halves: the share of
 * its attempts that lost to a hedge. One lost race is noise (a pause, a busy core, a packet retransmitted); a region
 * that loses often is slower than its neighbours for a reason, and its callers should be free to take the hedge's
 * answer. Counting is approximate under concurrency (an attempt counted while the window rolls may land in either
 * half), which a share of this kind tolerates. Thread-safe.
 */
final class HedgeWins {
    private final long halfNanos;
    private final int perMille;
    private final LongAdder attempts = new LongAdder();
    private volatile long halfStartedAt;
    private volatile int wins;
    private volatile long previousAttempts;
    private volatile int previousWins;

    /**
     * Creates the counter.
     *
     * @param windowNanos how far back the share looks
     * @param perMille how many attempts in a thousand must lose to a hedge for the losses to be {@link #frequent}
     * @param now the current ticker reading
     */
    HedgeWins(long windowNanos, int perMille, long now) {
        this.halfNanos = Math.max(1, windowNanos / 2);
        this.perMille = perMille;
        this.halfStartedAt = now;
    }

    /** Counts an attempt sent to the region. */
    void attempt() {
        attempts.increment();
    }

    /**
     * Counts an attempt of the region's that a hedge beat.
     *
     * @param now the current ticker reading
     */
    synchronized void beaten(long now) {
        roll(now);
        wins++;
    }

    /**
     * Returns whether hedges beat the region's attempts often in the window: at least the configured share of its
     * attempts, and at least once.
     *
     * @param now the current ticker reading
     * @return whether they do
     */
    boolean frequent(long now) {
        if (now - halfStartedAt >= halfNanos) {
            synchronized (this) {
                roll(now);
            }
        }
        long w = (long) wins + previousWins;
        return w > 0 && w * 1000 >= (previousAttempts + attempts.sum()) * perMille;
    }

    /** Starts a new half when the current one is over; a gap of a whole window or more leaves nothing behind. */
    private void roll(long now) {
        long age = now - halfStartedAt;
        if (age < halfNanos) {
            return;
        }
        long sent = attempts.sumThenReset();
        boolean gap = age >= 2 * halfNanos;
        previousAttempts = gap ? 0 : sent;
        previousWins = gap ? 0 : wins;
        wins = 0;
        halfStartedAt = now;
    }
}
