package dev.latitude;

/**
 * A snapshot of what the engine knows about one region, from {@code Latitude.status()}; immutable.
 *
 * @param region the region
 * @param circuit its circuit-breaker state
 * @param probe its probe verdict
 * @param available whether the planner currently puts it among the healthy regions
 * @param latencyEwmaNanos the smoothed round trip in nanoseconds, or -1 before the first observation
 * @param hedgePercentileNanos the hedging percentile of call latency in nanoseconds, or -1 while too few samples
 * @param inFlight attempts in flight now
 */
public record RegionStatus(RegionSpec region, CircuitState circuit, ProbeState probe, boolean available,
        long latencyEwmaNanos, long hedgePercentileNanos, int inFlight) {
}
