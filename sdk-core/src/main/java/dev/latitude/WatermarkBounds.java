package dev.latitude;

import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which session watermarks a deployment can have produced: those of a region in its topology and no further ahead
 * than its hybrid logical clock's skew bound ({@link HybridLogicalClock#admits(long)}). A watermark outside them is
 * forged, from another deployment, or stamped by a host with a broken clock; used as a requirement it would make
 * every replica look behind (each read tries every region and fails, or piles onto the writer), so it is treated as
 * absent: dropped from decoded tokens ({@link SessionTokenCodec.Builder#bounds(WatermarkBounds)}), from tokens a
 * bounded {@link Session} observes, from the requirements the engine routes by, and never recorded as a write.
 * Dropping only ever weakens the consistency of the session that carried the watermark, never anyone else's.
 *
 * <p>Every watermark is checked as an HLC timestamp. An ordered position such as a PostgreSQL LSN stays far below any
 * current HLC timestamp (it would have to exceed 2<sup>56</sup>, some 64 PiB of WAL), so it is only checked for its
 * region. Thread-safe; the counters are cumulative.
 *
 * <pre>{@code
 * WatermarkBounds bounds = latitude.watermarkBounds();   // the engine's topology and clock
 * }</pre>
 */
public final class WatermarkBounds {
    private final Set<String> regions;
    private final HybridLogicalClock clock;
    private final AtomicLong foreignRegion = new AtomicLong();
    private final AtomicLong beyondClock = new AtomicLong();

    private WatermarkBounds(Set<String> regions, HybridLogicalClock clock) {
        this.regions = regions;
        this.clock = clock;
    }

    /**
     * Returns the bounds of a deployment.
     *
     * @param topology its regions
     * @param clock its hybrid logical clock, whose wall clock and skew bound limit how far ahead a watermark may be
     * @return the bounds
     */
    public static WatermarkBounds of(Topology topology, HybridLogicalClock clock) {
        Objects.requireNonNull(topology, "topology");
        Objects.requireNonNull(clock, "clock");
        Set<String> ids = new TreeSet<>();
        topology.regions().forEach(r -> ids.add(r.id()));
        return new WatermarkBounds(Set.copyOf(ids), clock);
    }

    /**
     * Returns whether a watermark is within the bounds, counting it if it is not.
     *
     * @param region the region that took the write
     * @param value the watermark value
     * @return whether the region is in the topology and the value at most the skew bound ahead of the clock
     */
    public boolean admits(String region, long value) {
        if (region == null || !regions.contains(region)) {
            foreignRegion.incrementAndGet();
            return false;
        }
        if (!clock.admits(value)) {
            beyondClock.incrementAndGet();
            return false;
        }
        return true;
    }

    /**
     * Returns whether a watermark is within the bounds, counting it if it is not.
     *
     * @param watermark the watermark
     * @return whether it is admitted
     */
    public boolean admits(Watermark watermark) {
        return admits(watermark.region(), watermark.value());
    }

    /**
     * Returns {@code token} without the watermarks outside the bounds (each one counted). A key entry dropped leaves
     * the key to its class watermark; a class watermark dropped leaves the class to its key entries.
     *
     * @param token the token
     * @return the token with every watermark admitted (the same instance if nothing was dropped)
     */
    public SessionToken clamp(SessionToken token) {
        return token.retain(this::admits);
    }

    /** Returns how many watermarks were dropped because their region is not in the topology. */
    public long droppedForeignRegion() {
        return foreignRegion.get();
    }

    /** Returns how many watermarks were dropped because they were beyond the clock's skew bound. */
    public long droppedBeyondClock() {
        return beyondClock.get();
    }

    @Override
    public String toString() {
        return "WatermarkBounds[regions=" + regions + ", maxSkew=" + clock.maxSkewMillis() + "ms, droppedForeignRegion="
                + foreignRegion.get() + ", droppedBeyondClock=" + beyondClock.get() + "]";
    }
}
