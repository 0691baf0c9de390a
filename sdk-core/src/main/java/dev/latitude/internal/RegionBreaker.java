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
 * close it, one failure reopens it. Thread-safe: every method holds the breaker's lock briefly, and transitions are
 * reported after it is released.
 */
final class RegionBreaker {
    /** Receives transitions, outside the breaker's lock. */
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
    private int permits;
    private int trialSuccesses;

    RegionBreaker(BreakerConfig config, Listener listener) {
        this.failureThreshold = config.failureThreshold();
        this.minimumVolume = config.minimumVolume();
        this.volumePeriodNanos = config.volumePeriod().toNanos();
        this.successThreshold = config.successThreshold();
        this.failed = new boolean[config.failureWindow()];
        this.judgedAt = new long[config.failureWindow()];
        this.listener = listener;
    }

    synchronized CircuitState state() {
        return state;
    }

    /** Whether a half-open circuit has handed out any of its trial permits. */
    synchronized boolean trialsTaken() {
        return state == CircuitState.HALF_OPEN && permits < successThreshold;
    }

    /** Grants a permit: always when closed, never when open, one of the trial permits when half-open. */
    synchronized boolean tryAcquirePermit() {
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

    /** Records a success: closed, it fills the window; half-open, it counts towards closing. */
    void recordSuccess(long now) {
        CircuitState from;
        synchronized (this) {
            from = state;
            if (state == CircuitState.CLOSED) {
                add(false, now);
                return;
            }
            if (state != CircuitState.HALF_OPEN || ++trialSuccesses < successThreshold) {
                return;
            }
            state = CircuitState.CLOSED;
            size = 0;
        }
        listener.transitioned(from, CircuitState.CLOSED, now);
    }

    /** Records a failure: closed, it may open the circuit (threshold and volume met); half-open, it reopens it. */
    void recordFailure(long now) {
        synchronized (this) {
            if (state == CircuitState.OPEN) {
                return;
            }
            if (state == CircuitState.CLOSED) {
                add(true, now);
                if (!thresholdMet(now)) {
                    return;
                }
            }
        }
        open(now);
    }

    /** Opens the circuit (a probe saw the region down, or trials failed); no-op if already open. */
    void open(long now) {
        CircuitState from;
        synchronized (this) {
            from = state;
            if (from == CircuitState.OPEN) {
                return;
            }
            state = CircuitState.OPEN;
            permits = 0;
            size = 0;
        }
        listener.transitioned(from, CircuitState.OPEN, now);
    }

    /** Half-opens an open circuit: trial permits are granted again. No-op unless open. */
    void halfOpen(long now) {
        synchronized (this) {
            if (state != CircuitState.OPEN) {
                return;
            }
            state = CircuitState.HALF_OPEN;
            permits = successThreshold;
            trialSuccesses = 0;
        }
        listener.transitioned(CircuitState.OPEN, CircuitState.HALF_OPEN, now);
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
