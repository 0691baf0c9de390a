package dev.latitude;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A hybrid logical clock (Kulkarni et al., as in CockroachDB and MongoDB's cluster time): timestamps that follow
 * the wall clock, never go backwards in this process even when the wall clock steps back, and order causally
 * related events across processes whose clocks disagree by less than a bounded skew. Thread-safe and lock-free.
 *
 * <p>A timestamp is one {@code long}: the upper 48 bits are milliseconds since the epoch, the lower 16 bits a logical
 * counter that orders events within one millisecond. Timestamps compare as plain longs.
 *
 * <pre>{@code
 * HybridLogicalClock hlc = HybridLogicalClock.create(Clock.systemUTC(), Duration.ofMillis(500));
 * long stamp = hlc.now();          // stamp a write
 * hlc.observe(stampFromElsewhere); // after reading a stamp another process produced
 * }</pre>
 *
 * <p>{@link #observe(long)} moves this clock past a remote timestamp so that later local events order after it;
 * a remote timestamp more than the maximum skew ahead of the local wall clock is not followed (it would drag every
 * later stamp into the future) and is reported with {@link ClockSkewException}.
 */
public final class HybridLogicalClock {
    private static final int LOGICAL_BITS = 16;
    private static final long LOGICAL_MASK = (1L << LOGICAL_BITS) - 1;
    private static final long MAX_MILLIS = (1L << (Long.SIZE - 1 - LOGICAL_BITS)) - 1;

    private final Clock wall;
    private final long maxSkewMillis;
    private final AtomicLong last = new AtomicLong();

    private HybridLogicalClock(Clock wall, long maxSkewMillis) {
        this.wall = wall;
        this.maxSkewMillis = maxSkewMillis;
    }

    /**
     * Creates a clock.
     *
     * @param wall the wall clock (tests pass a fixed or manual {@link Clock})
     * @param maxSkew the largest clock difference between processes to tolerate, 1 ms to 1 h
     * @return the clock
     * @throws LatitudeConfigException if the skew is out of range
     */
    public static HybridLogicalClock create(Clock wall, Duration maxSkew) {
        Objects.requireNonNull(wall, "wall");
        if (maxSkew == null || maxSkew.compareTo(Duration.ofMillis(1)) < 0 || maxSkew.compareTo(Duration.ofHours(1)) > 0) {
            throw new LatitudeConfigException("hybridClock.maxSkew", maxSkew
                    + " is outside [1 ms, 1 h]; use the clock error you expect between hosts, such as 500 ms");
        }
        return new HybridLogicalClock(wall, maxSkew.toMillis());
    }

    /**
     * Returns the timestamp for {@code millis} and {@code logical}.
     *
     * @param millis milliseconds since the epoch, 0 to 2^47 − 1
     * @param logical the counter, 0 to 65,535
     * @return the timestamp
     * @throws IllegalArgumentException if either is out of range
     */
    public static long timestamp(long millis, int logical) {
        if (millis < 0 || millis > MAX_MILLIS || logical < 0 || logical > LOGICAL_MASK) {
            throw new IllegalArgumentException("HLC timestamp out of range: millis=" + millis + ", logical=" + logical);
        }
        return (millis << LOGICAL_BITS) | logical;
    }

    /** Returns the wall-clock part of a timestamp, in milliseconds since the epoch. */
    public static long millis(long timestamp) {
        return timestamp >>> LOGICAL_BITS;
    }

    /** Returns the logical part of a timestamp. */
    public static int logical(long timestamp) {
        return (int) (timestamp & LOGICAL_MASK);
    }

    /** Returns the largest tolerated skew in milliseconds. */
    public long maxSkewMillis() {
        return maxSkewMillis;
    }

    /**
     * Returns a new timestamp for a local event (a write): greater than every timestamp this clock returned or
     * observed before, and at least the wall clock.
     *
     * @return the timestamp
     */
    public long now() {
        long physical = physical();
        while (true) {
            long prev = last.get();
            long next = Math.max(prev + 1, physical);
            if (last.compareAndSet(prev, next)) {
                return next;
            }
        }
    }

    /**
     * Moves this clock past {@code remote}, a timestamp produced elsewhere, so that later local timestamps order
     * after it.
     *
     * @param remote the remote timestamp
     * @throws ClockSkewException if {@code remote} is more than the maximum skew ahead of the local wall clock; the
     *     clock is then not moved
     */
    public void observe(long remote) {
        long aheadMillis = aheadMillis(remote);
        if (aheadMillis > maxSkewMillis) {
            throw new ClockSkewException(aheadMillis, maxSkewMillis);
        }
        last.accumulateAndGet(remote, Math::max);
    }

    /**
     * Returns whether {@code remote} is within the maximum skew of the local wall clock, so that
     * {@link #observe(long)} would follow it. A timestamp beyond it cannot come from a host of this deployment whose
     * clock is sane: session watermarks beyond it are treated as absent (see {@link WatermarkBounds}).
     *
     * @param remote a timestamp produced elsewhere
     * @return whether it is at most the maximum skew ahead of the wall clock now
     */
    public boolean admits(long remote) {
        return aheadMillis(remote) <= maxSkewMillis;
    }

    private long aheadMillis(long remote) {
        return millis(remote) - millis(physical());
    }

    private long physical() {
        long ms = Math.max(0, Math.min(MAX_MILLIS, wall.millis()));
        return ms << LOGICAL_BITS;
    }

    @Override
    public String toString() {
        long l = last.get();
        return "HybridLogicalClock[" + millis(l) + "." + logical(l) + ", maxSkew=" + maxSkewMillis + "ms]";
    }
}
