package dev.latitude.spi;

import dev.latitude.RegionSpec;
import java.util.concurrent.CompletionStage;

/**
 * An active health check of one region, supplied by an adapter (a cheap read against the region's endpoint).
 *
 * <p>The engine calls {@link #probe(RegionSpec)} every probe interval for each region, bounds it with the probe
 * timeout, and counts consecutive failures and successes to mark a region down or up (see
 * {@code ProbeConfig}). The round-trip time of a successful probe also feeds the region's latency estimate, so a
 * region that stopped receiving traffic can win it back once it is fast again.
 *
 * <p>Implementations must not block the calling thread: return a stage that completes when the check is done. A
 * stage that completes exceptionally, or not within the timeout, is a failed probe.
 */
@FunctionalInterface
public interface HealthProbe {

    /**
     * Checks {@code region}.
     *
     * @param region the region to check
     * @return a stage that completes normally when the region is healthy
     */
    CompletionStage<?> probe(RegionSpec region);
}
