package dev.latitude;

import static dev.latitude.Engines.planIds;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.internal.PolicyChain;
import dev.latitude.testing.ManualClock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Chained policies through the engine's planner; latencies come from distances to us-east-1 (Virginia). */
class PolicyChainRoutingTest {
    private final ManualClock clock = new ManualClock();

    private static final Topology TOPOLOGY = Topology.builder()
            .region(RegionSpec.builder("ap-south-1").jurisdiction("IN").location(19.08, 72.88).build())       // ~13,000 km
            .region(RegionSpec.builder("eu-central-1").jurisdiction("EU").location(50.11, 8.68).build())      // ~6,600 km
            .region(RegionSpec.builder("us-west-2").jurisdiction("US").location(45.6, -121.2).build())        // ~3,700 km
            .region(RegionSpec.builder("sa-east-1").jurisdiction("BR").location(-23.55, -46.63).build())      // ~7,600 km
            .region(RegionSpec.builder("eu-west-1").jurisdiction("EU").location(53.35, -6.26).build())        // ~5,500 km
            .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").location(38.9, -77.4).build()) // local
            .localRegion("us-east-1")
            .build();

    private static final RoutingPolicy FASTEST = RoutingPolicy.latency().window(Duration.ZERO).build();
    private static final Operation EU_CALLER = Operation.read("X").callerJurisdiction("EU").build();

    @Test
    void plan_geolocationThenLatency_matchedSetFirstAndUnmatchedOrderedByLatency() {
        RoutingPolicy chain = RoutingPolicy.geolocation().jurisdiction("EU", "eu-central-1", "eu-west-1").build()
                .then(FASTEST);
        try (Latitude latitude = Engines.engine(TOPOLOGY, chain, clock, 1)) {
            List<String> plan = planIds(latitude, EU_CALLER);

            assertThat(plan.subList(0, 2)).containsExactlyInAnyOrder("eu-central-1", "eu-west-1");
            assertThat(plan.subList(2, 6)).containsExactly("us-east-1", "us-west-2", "sa-east-1", "ap-south-1");
        }
    }

    @Test
    void plan_geolocationWithDefaultThenLatency_defaultStaysBetweenMatchedAndUnmatched() {
        RoutingPolicy chain = RoutingPolicy.geolocation().jurisdiction("EU", "eu-west-1")
                .defaultRegion("ap-south-1").build().then(FASTEST);
        try (Latitude latitude = Engines.engine(TOPOLOGY, chain, clock, 1)) {
            assertThat(planIds(latitude, EU_CALLER)).containsExactly("eu-west-1", "ap-south-1", "us-east-1",
                    "us-west-2", "eu-central-1", "sa-east-1");
        }
    }

    @Test
    void plan_nestedChains_flattenAndBreakTiesLevelByLevel() {
        RoutingPolicy first = RoutingPolicy.failover().priority("sa-east-1").build();
        RoutingPolicy second = RoutingPolicy.geolocation().jurisdiction("EU", "eu-central-1").build();
        RoutingPolicy leftNested = first.then(second).then(FASTEST);
        RoutingPolicy rightNested = first.then(second.then(FASTEST));
        List<String> expected = List.of("sa-east-1", "eu-central-1", "us-east-1", "us-west-2", "eu-west-1",
                "ap-south-1");

        try (Latitude left = Engines.engine(TOPOLOGY, leftNested, clock, 1);
                Latitude right = Engines.engine(TOPOLOGY, rightNested, clock, 1)) {
            assertThat(planIds(left, EU_CALLER)).isEqualTo(expected);
            assertThat(planIds(right, EU_CALLER)).isEqualTo(expected);
        }
        assertThat(leftNested).isInstanceOf(PolicyChain.class);
        assertThat(leftNested.toString()).isEqualTo(rightNested.toString())
                .isEqualTo(first + " then " + second + " then " + FASTEST);
    }

    @Test
    void plan_failoverThenWeighted_weightedOnlyOrdersTheUnlistedTies() {
        RoutingPolicy chain = RoutingPolicy.failover().priority("us-east-1").build()
                .then(RoutingPolicy.weighted().weight("eu-west-1", 1).weight("eu-central-1", 1).build());
        try (Latitude latitude = Engines.engine(TOPOLOGY, chain, clock, 77)) {
            int westSecond = 0;
            for (int i = 0; i < 2000; i++) {
                List<String> plan = planIds(latitude, EU_CALLER);
                assertThat(plan.get(0)).isEqualTo("us-east-1");
                assertThat(plan.subList(1, 3)).containsExactlyInAnyOrder("eu-west-1", "eu-central-1");
                assertThat(plan.subList(3, 6)).containsExactly("ap-south-1", "us-west-2", "sa-east-1");
                westSecond += plan.get(1).equals("eu-west-1") ? 1 : 0;
            }
            assertThat(westSecond).isBetween(800, 1200);
        }
    }
}
