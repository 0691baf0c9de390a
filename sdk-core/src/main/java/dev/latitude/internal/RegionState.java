package dev.latitude.internal;

import dev.latitude.BreakerConfig;
import dev.latitude.CircuitState;
import dev.latitude.FailureKind;
import dev.latitude.ProbeState;
import dev.latitude.RegionSpec;
import dev.latitude.RegionStatus;
import dev.latitude.spi.Ticker;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Everything the engine tracks about one region: circuit breaker, probe verdict, latency, calls in flight and the
 * bulkhead that bounds the attempts holding its threads and connections.
 *
 * <p>The breaker ({@link RegionBreaker}) runs on the engine's {@link Ticker}: the open → half-open transition happens
 * here when the planner looks at the region, where tests can drive it.
 */
public final class RegionState {
    /** Receives this region's health transitions. */
    interface Events {
        void circuitChanged(RegionState region, CircuitState from, CircuitState to);

        void probeChanged(RegionState region, ProbeState from, ProbeState to);
    }

    final RegionSpec spec;
    final int index;
    final LatencyTracker latency;
    final long estimatedLatencyNanos;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger occupied = new AtomicInteger();
    private final AtomicInteger slowInFlight = new AtomicInteger();
    private final int maxOccupied;
    private final RegionBreaker breaker;
    private final long openDelayNanos;
    private final Ticker ticker;
    private final Events events;
    private volatile long openedAtNanos;
    private volatile long lastAnswerAtNanos = Long.MIN_VALUE;
    private volatile long halfOpenedAtNanos;
    /** When the region last showed trouble (see {@link #troubled}); {@code Long.MIN_VALUE}: never. */
    private volatile long troubleAtNanos = Long.MIN_VALUE;
    private final long calmNanos;
    private final HedgeWins hedgeWins;

    // Probe verdict; counters are guarded by 'this' (one probe per region runs at a time).
    private volatile ProbeState probe = ProbeState.UNKNOWN;
    private int probeFailures;
    private int probeSuccesses;

    RegionState(RegionSpec spec, int index, LatencyTracker latency, long estimatedLatencyNanos, BreakerConfig config,
            int maxConcurrentAttempts, long calmNanos, int beatenPerMille, Ticker ticker, Events events) {
        this.spec = spec;
        this.index = index;
        this.latency = latency;
        this.estimatedLatencyNanos = estimatedLatencyNanos;
        this.openDelayNanos = config.openDelay().toNanos();
        this.maxOccupied = maxConcurrentAttempts;
        this.ticker = ticker;
        this.events = events;
        this.calmNanos = calmNanos;
        this.hedgeWins = new HedgeWins(calmNanos, beatenPerMille, ticker.read());
        this.breaker = new RegionBreaker(config, this::transition);
    }

    private void transition(CircuitState from, CircuitState to, long now) {
        if (to == CircuitState.OPEN) {
            openedAtNanos = now;
            synchronized (this) {
                probeSuccesses = 0; // each outage needs its own run of probe successes before trial calls
            }
        } else if (to == CircuitState.HALF_OPEN) {
            halfOpenedAtNanos = now;
        }
        events.circuitChanged(this, from, to);
    }

    /**
     * Returns whether the planner may put this region among the healthy ones at {@code now}; moves an open circuit
     * whose delay has passed to half-open, and reopens a half-open circuit whose trials have not concluded within
     * the open delay (their permits were lost to cancelled attempts). The probe's verdict acts through the circuit
     * (a region going down opens it, coming up half-opens it), so a probe that never answers cannot keep a region out
     * longer than the open delay: after it, trial calls decide.
     *
     * @param now the current ticker reading
     * @return whether the region is available
     */
    boolean available(long now) {
        CircuitState s = breaker.state();
        if (s == CircuitState.OPEN) {
            if (now - openedAtNanos < openDelayNanos) {
                return false;
            }
            breaker.halfOpen(now);
        } else if (s == CircuitState.HALF_OPEN && now - halfOpenedAtNanos >= openDelayNanos
                && breaker.trialsTaken()) {
            // Trial calls did not conclude within a whole open delay (they were cancelled or abandoned and never
            // reported back, so their permits are gone): treat the trial as failed; it restarts after the delay. A
            // half-open region that got no trial call at all (no traffic) just stays half-open.
            breaker.open(now);
            return false;
        }
        return true;
    }

    /** Returns when the circuit last opened, to order unavailable regions (the longest-open is the least bad). */
    long openedAtNanos() {
        return breaker.state() == CircuitState.OPEN ? openedAtNanos : Long.MIN_VALUE;
    }

    /** Asks the breaker for a permit; false while open or while half-open trial calls are all taken. */
    boolean tryAcquirePermit() {
        return breaker.tryAcquirePermit();
    }

    /**
     * Takes a place in the region's bulkhead for an attempt about to be sent; false when the region already holds its
     * maximum of attempts whose work has not ended (threads blocked on sockets, connections waiting).
     */
    boolean tryOccupy() {
        while (true) {
            int n = occupied.get();
            if (n >= maxOccupied) {
                return false;
            }
            if (occupied.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Gives back a bulkhead place: the attempt's work has ended (its thread returned, its future completed). */
    void release() {
        occupied.decrementAndGet();
    }

    int occupied() {
        return occupied.get();
    }

    void attemptStarted() {
        inFlight.incrementAndGet();
        hedgeWins.attempt();
    }

    /** An attempt here ran past the attempt timeout and is still running. */
    void attemptSlow() {
        slowInFlight.incrementAndGet();
        troubled(ticker.read());
    }

    /**
     * Notes that the region showed trouble at {@code now}: an attempt outlived its timeout or failed for a reason of
     * the region's. Until it has been calm for the calm window, a hedgeable blocking read's first attempt here runs on
     * the attempt threads, where a winning hedge or a fallback can answer at once.
     *
     * @param now the current ticker reading
     */
    void troubled(long now) {
        troubleAtNanos = now;
    }

    /**
     * Whether the region is calm: its circuit closed, no trouble ({@link #troubled}) for the calm window, and hedges
     * beat few of its attempts in that window (fewer than the configured share). A hedgeable blocking read may then
     * run its first attempt on the calling thread: a hedge is unlikely to be needed, and saving the hand-off to an
     * attempt thread is worth more than answering at once in the rare case one wins.
     *
     * <p>A single lost race to a hedge is not trouble: on a busy host some always happen (a pause, a core taken), and
     * once reads go to the attempt threads, the hand-off itself makes them lose more often, which would keep the region
     * away from its callers for good. A region whose attempts lose often is.
     *
     * @param now the current ticker reading
     * @return whether it is calm
     */
    boolean calm(long now) {
        long at = troubleAtNanos;
        return (at == Long.MIN_VALUE || now - at >= calmNanos) && breaker.state() == CircuitState.CLOSED
                && !hedgeWins.frequent(now);
    }

    /**
     * Whether this region is itself slow right now: most of its attempts in flight are past their timeout. A call
     * does not start an extra attempt here beside a slow one elsewhere: when every region is slow (a cold start, a
     * stalled host), fanning out would only multiply the load.
     */
    boolean slowNow() {
        int slow = slowInFlight.get();
        return slow > 0 && slow * 2 >= inFlight.get();
    }

    /**
     * Records how an attempt ended and releases its in-flight slot.
     *
     * @param failure how it failed, or {@code null} for success; {@link FailureKind#CALLER} and
     *     {@link FailureKind#STALE_READ} count as success (the region answered)
     * @param latencyNanos how long it ran
     * @param lastResort whether the attempt was sent while the region was unavailable (panic or plan exhausted)
     * @param slow whether it ran past the attempt timeout
     * @param now the current ticker reading
     */
    void attemptEnded(FailureKind failure, long latencyNanos, boolean lastResort, boolean slow, long now) {
        inFlight.decrementAndGet();
        if (slow) {
            slowInFlight.decrementAndGet();
        }
        if (failure == null || failure == FailureKind.CALLER || failure == FailureKind.STALE_READ) {
            long startedAt = now - latencyNanos;
            lastAnswerAtNanos = now;
            // Slow is not dead: an answer past the attempt timeout is an answer, not a failure (a cold process, a
            // busy host). Routing by latency and hedging deal with slowness; the breaker with regions that fail or
            // never answer. Slow answers do not feed the latency estimate either (a cold start's would linger).
            if (!slow) {
                latency.record(latencyNanos, now);
            }
            if (breaker.state() == CircuitState.OPEN) {
                if (!lastResort) {
                    return; // a late answer to an attempt sent before the circuit opened proves little
                }
                breaker.halfOpen(now); // a last-resort attempt got through: it is the first trial
                startedAt = now;
            }
            breaker.recordSuccess(now, startedAt);
        } else if (failure != FailureKind.CIRCUIT_OPEN && failure != FailureKind.BULKHEAD_FULL) {
            // Failures and timeouts charge the breaker but not the latency EWMA: a region that timed out would
            // otherwise look slow forever to the latency policy, since it gets no traffic to prove otherwise.
            troubled(now);
            breaker.recordFailure(now, now - latencyNanos);
        }
    }

    /**
     * Records an attempt the call stopped waiting for because it was beaten: a primary that a hedge to another region
     * beat (slower than this region's hedging percentile plus the other region's round trip), or an attempt past its
     * timeout that another region answered first or the deadline cut. It counts as a failure for the breaker, so a
     * blackholed region is detected as fast by hedged and fallen-back calls as by failed ones. Not if the region has
     * answered any attempt since this one was sent: then it is alive, only slow (a cold start, a busy host), and a
     * trial's permit is given back.
     *
     * @param slow whether it ran past the attempt timeout
     * @param permitted whether it was sent with a breaker permit (not as a last resort)
     * @param startedAt when it was sent
     */
    void attemptOutpaced(boolean slow, boolean permitted, long startedAt) {
        inFlight.decrementAndGet();
        if (slow) {
            slowInFlight.decrementAndGet();
            troubled(ticker.read());
        } else {
            hedgeWins.beaten(ticker.read());
        }
        if (lastAnswerAtNanos > startedAt) {
            // The region has answered since this attempt was sent: slow (a cold start, a busy host), not dead.
            if (permitted) {
                breaker.returnTrialPermit(startedAt);
            }
            return;
        }
        breaker.recordFailure(ticker.read(), startedAt);
    }

    /**
     * Releases the in-flight slot of an attempt abandoned because the call ended (another winner, the caller), with no
     * verdict on the region.
     *
     * @param slow whether it ran past the attempt timeout
     * @param permitted whether it was sent with a breaker permit (not as a last resort): a trial's permit is given
     *     back
     * @param startedAt when it was sent
     */
    void attemptAbandoned(boolean slow, boolean permitted, long startedAt) {
        inFlight.decrementAndGet();
        if (slow) {
            slowInFlight.decrementAndGet();
        }
        if (permitted) {
            breaker.returnTrialPermit(startedAt);
        }
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
        return breaker.state();
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
        boolean upAgain;
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
            upAgain = probeSuccesses >= successThreshold;
        }
        long now = ticker.read();
        if (success) {
            latency.updateEwma(latencyNanos);
            if (upAgain) {
                breaker.halfOpen(now); // the region answers again: try real calls now rather than after the delay
            }
        } else if (to == ProbeState.DOWN && from != ProbeState.DOWN) {
            breaker.open(now); // the probe saw the region go down: the circuit says so too, for one open delay
        }
        if (from != to) {
            events.probeChanged(this, from, to);
        }
    }

    RegionStatus status(long now) {
        boolean available = available(now); // first: it may move the circuit on (open -> half-open)
        return new RegionStatus(spec, circuit(), probe, available, latency.ewmaNanos(),
                latency.percentileNanos(now), inFlight());
    }
}
