package dev.latitude.internal;

import dev.failsafe.CircuitBreaker;
import dev.failsafe.event.CircuitBreakerStateChangedEvent;
import dev.latitude.BreakerConfig;
import dev.latitude.CircuitState;
import dev.latitude.FailureKind;
import dev.latitude.ProbeState;
import dev.latitude.RegionSpec;
import dev.latitude.RegionStatus;
import dev.latitude.spi.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Everything the engine tracks about one region: circuit breaker, probe verdict, latency and calls in flight.
 *
 * <p>The breaker is a Failsafe {@link CircuitBreaker} that counts outcomes and enforces half-open permits; its own
 * open delay is set out of reach so that the open → half-open transition happens here, on the engine's
 * {@link Ticker}, where tests can drive it.
 */
public final class RegionState {
    /** Receives this region's health transitions. */
    interface Events {
        void circuitChanged(RegionState region, CircuitState from, CircuitState to);

        void probeChanged(RegionState region, ProbeState from, ProbeState to);
    }

    private static final Duration NEVER = Duration.ofDays(3650);

    final RegionSpec spec;
    final int index;
    final LatencyTracker latency;
    final long estimatedLatencyNanos;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final CircuitBreaker<Object> breaker;
    private final long openDelayNanos;
    private final Ticker ticker;
    private final Events events;
    private volatile long openedAtNanos;
    private volatile long halfOpenedAtNanos;

    // Probe verdict; counters are guarded by 'this' (one probe per region runs at a time).
    private volatile ProbeState probe = ProbeState.UNKNOWN;
    private int probeFailures;
    private int probeSuccesses;

    RegionState(RegionSpec spec, int index, LatencyTracker latency, long estimatedLatencyNanos, BreakerConfig config,
            Ticker ticker, Events events) {
        this.spec = spec;
        this.index = index;
        this.latency = latency;
        this.estimatedLatencyNanos = estimatedLatencyNanos;
        this.openDelayNanos = config.openDelay().toNanos();
        this.ticker = ticker;
        this.events = events;
        this.breaker = CircuitBreaker.builder()
                .withFailureThreshold(config.failureThreshold(), config.failureWindow())
                .withSuccessThreshold(config.successThreshold())
                .withDelay(NEVER)
                .onOpen(e -> transition(e, CircuitState.OPEN))
                .onHalfOpen(e -> transition(e, CircuitState.HALF_OPEN))
                .onClose(e -> transition(e, CircuitState.CLOSED))
                .build();
    }

    private void transition(CircuitBreakerStateChangedEvent e, CircuitState to) {
        long now = ticker.read();
        if (to == CircuitState.OPEN) {
            openedAtNanos = now;
        } else if (to == CircuitState.HALF_OPEN) {
            halfOpenedAtNanos = now;
        }
        CircuitState from = map(e.getPreviousState());
        if (from != to) {
            events.circuitChanged(this, from, to);
        }
    }

    private static CircuitState map(CircuitBreaker.State s) {
        switch (s) {
            case OPEN:
                return CircuitState.OPEN;
            case HALF_OPEN:
                return CircuitState.HALF_OPEN;
            default:
                return CircuitState.CLOSED;
        }
    }

    /**
     * Returns whether the planner may put this region among the healthy ones at {@code now}; moves an open circuit
     * whose delay has passed to half-open, and reopens a half-open circuit whose trials have not concluded within
     * the open delay (their permits were lost to cancelled attempts).
     *
     * @param now the current ticker reading
     * @return whether the region is available
     */
    boolean available(long now) {
        if (probe == ProbeState.DOWN) {
            return false;
        }
        CircuitBreaker.State s = breaker.getState();
        if (s == CircuitBreaker.State.OPEN) {
            if (now - openedAtNanos < openDelayNanos) {
                return false;
            }
            breaker.halfOpen();
        } else if (s == CircuitBreaker.State.HALF_OPEN && now - halfOpenedAtNanos >= openDelayNanos) {
            // Trial calls did not conclude within a whole open delay (they were cancelled or abandoned and never
            // reported back, so their permits are gone): treat the trial as failed; it restarts after the delay.
            breaker.open();
            return false;
        }
        return true;
    }

    /** Returns when the circuit last opened, to order unavailable regions (the longest-open is the least bad). */
    long openedAtNanos() {
        return breaker.isOpen() ? openedAtNanos : Long.MIN_VALUE;
    }

    /** Asks the breaker for a permit; false while open or while half-open trial calls are all taken. */
    boolean tryAcquirePermit() {
        return breaker.tryAcquirePermit();
    }

    void attemptStarted() {
        inFlight.incrementAndGet();
    }

    /**
     * Records how an attempt ended and releases its in-flight slot.
     *
     * @param failure how it failed, or {@code null} for success; {@link FailureKind#CALLER} and
     *     {@link FailureKind#STALE_READ} count as success (the region answered)
     * @param latencyNanos how long it ran
     * @param lastResort whether the attempt was sent while the region was unavailable (panic or plan exhausted)
     * @param now the current ticker reading
     */
    void attemptEnded(FailureKind failure, long latencyNanos, boolean lastResort, long now) {
        inFlight.decrementAndGet();
        if (failure == null || failure == FailureKind.CALLER || failure == FailureKind.STALE_READ) {
            latency.record(latencyNanos, now);
            if (breaker.isOpen()) {
                if (!lastResort) {
                    return; // a late answer to an attempt sent before the circuit opened proves little
                }
                breaker.halfOpen(); // a last-resort attempt got through: let trial calls decide
            }
            breaker.recordSuccess();
        } else if (failure != FailureKind.CIRCUIT_OPEN) {
            // Failures and timeouts charge the breaker but not the latency EWMA: a region that timed out would
            // otherwise look slow forever to the latency policy, since it gets no traffic to prove otherwise.
            breaker.recordFailure();
        }
    }

    /**
     * Records a primary attempt that a hedge to another region beat: it was slower than this region's hedging
     * percentile plus the other region's round trip, which counts as a failure for the breaker (a slow-call signal,
     * so that a blackholed region is detected by hedged calls as fast as by timed-out ones).
     */
    void attemptOutpaced() {
        inFlight.decrementAndGet();
        if (!breaker.isOpen()) {
            breaker.recordFailure();
        }
    }

    /** Releases the in-flight slot of an attempt abandoned because the call ended (deadline or another winner). */
    void attemptAbandoned() {
        inFlight.decrementAndGet();
    }

    int inFlight() {
        return inFlight.get();
    }

    /** Returns the EWMA latency or, before any observation, the distance-based estimate. */
    long latencyNanos() {
        long ewma = latency.ewmaNanos();
        return ewma < 0 ? estimatedLatencyNanos : ewma;
    }

    CircuitState circuit() {
        return map(breaker.getState());
    }

    ProbeState probe() {
        return probe;
    }

    /**
     * Records a probe result.
     *
     * @param success whether the probe succeeded
     * @param latencyNanos its round trip, if it succeeded
     * @param successThreshold consecutive successes that mark the region up
     * @param failureThreshold consecutive failures that mark the region down
     */
    void probeResult(boolean success, long latencyNanos, int successThreshold, int failureThreshold) {
        ProbeState from;
        ProbeState to;
        synchronized (this) {
            from = probe;
            if (success) {
                probeFailures = 0;
                probeSuccesses++;
                to = probeSuccesses >= successThreshold ? ProbeState.UP : from;
            } else {
                probeSuccesses = 0;
                probeFailures++;
                to = probeFailures >= failureThreshold ? ProbeState.DOWN : from;
            }
            probe = to;
        }
        if (success) {
            latency.updateEwma(latencyNanos);
            if (to == ProbeState.UP && breaker.isOpen()) {
                breaker.halfOpen(); // the region answers again: try real calls now rather than after the delay
            }
        } else if (to == ProbeState.DOWN && !breaker.isOpen()) {
            breaker.open(); // the probe knows the region is down: the circuit says so too
        }
        if (from != to) {
            events.probeChanged(this, from, to);
        }
    }

    RegionStatus status(long now) {
        return new RegionStatus(spec, circuit(), probe, available(now), latency.ewmaNanos(),
                latency.percentileNanos(now), inFlight());
    }
}
