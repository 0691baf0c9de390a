package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static dev.latitude.Engines.READ;
import static dev.latitude.Engines.planIds;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import org.junit.jupiter.api.Test;

class FailoverPolicyTest {
    private final ManualClock clock = new ManualClock();
    private final Topology topology = Topology.builder()
            .region(RegionSpec.builder("a").writer().build())
            .region(RegionSpec.builder("b").build())
            .region(RegionSpec.builder("c").build())
            .region(RegionSpec.builder("d").build())
            .localRegion("a")
            .build();

    @Test
    void plan_priority_followsPriorityOrder() {
        try (Latitude latitude = Engines.engine(topology,
                RoutingPolicy.failover().priority("d", "b", "c", "a").build(), clock, 1)) {
            assertThat(planIds(latitude, READ)).containsExactly("d", "b", "c", "a");
        }
    }

    @Test
    void plan_unlistedRegions_lastInTopologyOrder() {
        try (Latitude latitude = Engines.engine(topology, RoutingPolicy.failover().priority("c", "b").build(), clock,
                1)) {
            assertThat(planIds(latitude, READ)).containsExactly("c", "b", "a", "d");
        }
    }

    @Test
    void priority_empty_throws() {
        assertConfigError(() -> RoutingPolicy.failover().priority(), "failover.priority", "empty",
                "most preferred first");
    }

    @Test
    void priority_repeatedRegion_throwsNamingIt() {
        assertConfigError(() -> RoutingPolicy.failover().priority("a", "b", "a"), "failover.priority",
                "'a' appears twice in [a, b, a]", "list each region once");
    }

    @Test
    void build_noPriority_throws() {
        assertConfigError(() -> RoutingPolicy.failover().build(), "failover.priority", "not set");
    }

    @Test
    void toString_listsPriority() {
        assertThat(RoutingPolicy.failover().priority("a", "b").build()).hasToString("failover[a, b]");
    }
}
