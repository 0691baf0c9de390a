package dev.latitude;

import java.util.List;

/**
 * The ordered regions the engine would try for an operation right now, from {@link Latitude#plan(Operation)}.
 *
 * <p>The first {@code healthyCount} regions passed the health filter and are in routing-policy order; the rest
 * follow as last resorts, least bad first (the longest-open circuit first). When no region is healthy the plan is in
 * panic mode: the engine still tries the least bad one rather than failing without trying.
 *
 * @param regions the regions in the order they would be tried
 * @param healthyCount how many leading regions are healthy
 */
public record Plan(List<RegionSpec> regions, int healthyCount) {

    /** Creates a plan; the list is copied. */
    public Plan {
        regions = List.copyOf(regions);
    }

    /** Returns whether no region is healthy, so the plan consists only of last resorts. */
    public boolean panic() {
        return healthyCount == 0;
    }
}
