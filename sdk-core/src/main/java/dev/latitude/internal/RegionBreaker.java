package dev.latitude.internal;

import dev.latitude.BreakerConfig;
import dev.latitude.CircuitState;

/**
 * One region's circuit breaker, timed by the engine's ticker so tests drive it with a manual clock.
 *
 * <p>Closed, it keeps the outcomes of the last {@code window} attempts with the time each was judged; it opens when
 * at least {@code failures} of those judged within the volume period failed <em>and</em> at least
 * {@code minimumVolume} were judged within it. The volume rule is the cold-start guard (Envoy's minimum request volume): a handful of slow or
 * failed first calls, or a trickle of old outcomes, cannot open a circuit. Open, it refuses permits until the open
 * delay has passed, then half-opens. Half-open, it grants {@code successThreshold} trial permits; that many successes
 * close it, one failure reopens it; only attempts started after it half-opened are trials. Thread-safe: every method
 * but the two on every call's path ({@link #state()}, and {@link #tryAcquirePermit()} when closed) holds the breaker's
 * lock briefly, and transitions are reported, in order, under it.
 */
final class RegionBreaker {
    /** Receives transitions, in order, under the breaker's lock: must be fast. */
    interface Listener {
        void transitioned(CircuitState from, CircuitState to, long now);
    }

    private final int failureThreshold;
    private final int minimumVolume;
    private final long volumePeriodNanos;
    private final int successThreshold;
    private final Listener listener;

    // Guarded by this.
    private final boolean[] failed;
    private final long[] judgedAt;
    private int size;
    private int head; // next slot to write
    private CircuitState state = CircuitState.CLOSED;
    /**
     * The state once its transition has been reported, for readers without the lock: every call reads it while
     * planning, from many threads at once, and must not queue on this lock for it. Written after the listener, so a
     * reader that sees a new state also sees what the listener recorded with it (when the circuit opened).
     */
    private volatile CircuitState published = CircuitState.CLOSED;
    private int permits;
    private int trialSuccesses;
    private long halfOpenedAt;

    RegionBreaker(BreakerConfig config, Listener listener) {
        this.failureThreshold = config.failureThreshold();
        this.minimumVolume = config.minimumVolume();
        this.volumePeriodNanos = config.volumePeriod().toNanos();
        this.successThreshold = config.successThreshold();
        this.failed = new boolean[config.failureWindow()];
        this.judgedAt = new long[config.failureWindow()];
        this.listener = listener;
    }

    /** Returns the state as of the last transition reported; takes no lock. */
    CircuitState state() {
        return published;
    }

    /** Whether a half-open circuit has handed out any of its trial permits. */
    synchronized boolean trialsTaken() {
        return state == CircuitState.HALF_OPEN && permits < successThreshold;
    }

    /**
     * Grants a permit: always when closed (without taking the lock: the common case, on every call's path), never
     * when open, one of the trial permits when half-open.
     */
    boolean tryAcquirePermit() {
        if (published == CircuitState.CLOSED) {
            return true;
        }
        synchronized (this) {
            switch (state) {
                case CLOSED:
                    return true;
                case HALF_OPEN:
                    if (permits > 0) {
                        permits--;
                        return true;
                    }
                    return false;
                default:
                    return false;
            }
        }
    }

    /**
     * Records a success: closed, it fills the window; half-open, a trial's success counts towards closing (an attempt
     * started before the circuit half-opened is not a trial and proves nothing).
     */
    synchronized void recordSuccess(long now, long startedAt) {
        if (state == CircuitState.CLOSED) {
            add(false, now);
        } else if (state == CircuitState.HALF_OPEN && startedAt >= halfOpenedAt
                && ++trialSuccesses >= successThreshold) {
            size = 0;
            moveTo(CircuitState.CLOSED, now);
        }
    }

    /**
     * Records a failure: closed, it may open the circuit (threshold and volume met); half-open, a trial's failure
     * reopens it (a failure of an attempt started before the circuit half-opened does not).
     */
    synchronized void recordFailure(long now, long startedAt) {
        if (state == CircuitState.CLOSED) {
            add(true, now);
            if (thresholdMet(now)) {
                open(now);
            }
        } else if (state == CircuitState.HALF_OPEN && startedAt >= halfOpenedAt) {
            open(now);
        }
    }

    /**
     * Gives back the trial permit of an attempt that ended without a verdict (abandoned before its timeout, beaten by
     * an answer that was slow too, or its region answered since), so that another call takes the trial instead of
     * the circuit waiting a whole open delay for lost trials. No-op unless the attempt started in the current
     * half-open period.
     */
    synchronized void returnTrialPermit(long startedAt) {
        if (state == CircuitState.HALF_OPEN && startedAt >= halfOpenedAt
                && permits < successThreshold - trialSuccesses) {
            permits++;
        }
    }

    /** Opens the circuit (a probe saw the region down, or trials failed); no-op if already open. */
    synchronized void open(long now) {
        if (state != CircuitState.OPEN) {
            permits = 0;
            size = 0;
            moveTo(CircuitState.OPEN, now);
        }
    }

    /** Half-opens an open circuit: trial permits are granted again. No-op unless open. */
    synchronized void halfOpen(long now) {
        if (state == CircuitState.OPEN) {
            permits = successThreshold;
            trialSuccesses = 0;
            halfOpenedAt = now;
            moveTo(CircuitState.HALF_OPEN, now);
        }
    }

    /**
     * Changes state and reports it while holding the lock, so listeners see transitions in the order they happened
     * (they must be fast and must not block on another thread that uses this breaker).
     */
    private void moveTo(CircuitState to, long now) {
        CircuitState from = state;
        state = to;
        try {
            listener.transitioned(from, to, now);
        } finally {
            published = to;
        }
    }

    private void add(boolean failure, long now) {
        failed[head] = failure;
        judgedAt[head] = now;
        head = (head + 1) % failed.length;
        if (size < failed.length) {
            size++;
        }
    }

    private boolean thresholdMet(long now) {
        int failures = 0;
        int recent = 0;
        for (int i = 0; i < size; i++) {
            if (now - judgedAt[i] <= volumePeriodNanos) {
                recent++;
                if (failed[i]) {
                    failures++;
                }
            }
        }
        return failures >= failureThreshold && recent >= minimumVolume;
    }
}
