package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static dev.latitude.Engines.READ;
import static dev.latitude.Engines.planIds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.latitude.testing.ManualClock;
import java.util.List;
import org.junit.jupiter.api.Test;

class WeightedPolicyTest {
    private static final int PLANS = 20_000;
    private final ManualClock clock = new ManualClock();

    private static Topology topology(RegionSpec... regions) {
        Topology.Builder b = Topology.builder();
        for (RegionSpec r : regions) {
            b.region(r);
        }
        return b.localRegion(regions[0].id()).build();
    }

    private static final Topology TWO = topology(RegionSpec.builder("us-east-1").writer().build(),
            RegionSpec.builder("us-west-2").build());

    /** Returns the share of plans whose first region is {@code id}. */
    private static double firstShare(Latitude latitude, String id, int plans) {
        int hits = 0;
        for (int i = 0; i < plans; i++) {
            if (planIds(latitude, READ).get(0).equals(id)) {
                hits++;
            }
        }
        return hits / (double) plans;
    }

    @Test
    void plan_weights90And10_firstRegionShareMatchesWeights() {
        RoutingPolicy p = RoutingPolicy.weighted().weight("us-east-1", 90).weight("us-west-2", 10).build();
        try (Latitude latitude = Engines.engine(TWO, p, clock, 20240601)) {
            assertThat(firstShare(latitude, "us-east-1", PLANS)).isCloseTo(0.90, within(0.02));
        }
    }

    @Test
    void plan_threeWeights_eachShareMatches() {
        Topology t = topology(RegionSpec.builder("a").writer().build(), RegionSpec.builder("b").build(),
                RegionSpec.builder("c").build());
        RoutingPolicy p = RoutingPolicy.weighted().weight("a", 50).weight("b", 30).weight("c", 20).build();
        try (Latitude latitude = Engines.engine(t, p, clock, 8)) {
            int[] first = new int[3];
            for (int i = 0; i < PLANS; i++) {
                first[planIds(latitude, READ).get(0).charAt(0) - 'a']++;
            }
            assertThat(first[0] / (double) PLANS).isCloseTo(0.50, within(0.02));
            assertThat(first[1] / (double) PLANS).isCloseTo(0.30, within(0.02));
            assertThat(first[2] / (double) PLANS).isCloseTo(0.20, within(0.02));
        }
    }

    @Test
    void plan_weightZeroRegion_onlyEverLast() {
        Topology t = topology(RegionSpec.builder("a").writer().build(), RegionSpec.builder("zero").build(),
                RegionSpec.builder("b").build(), RegionSpec.builder("unnamed").build());
        RoutingPolicy p = RoutingPolicy.weighted().weight("a", 1).weight("zero", 0).weight("b", 1).build();
        try (Latitude latitude = Engines.engine(t, p, clock, 3)) {
            int aFirst = 0;
            for (int i = 0; i < 2000; i++) {
                List<String> plan = planIds(latitude, READ);
                // weight 0 and unnamed (0 once any weight is given) tie at the end, in topology order
                assertThat(plan.subList(2, 4)).containsExactly("zero", "unnamed");
                aFirst += plan.get(0).equals("a") ? 1 : 0;
            }
            assertThat(aFirst).isBetween(800, 1200);
        }
    }

    @Test
    void plan_noBuilderWeights_usesRegionWeights() {
        Topology t = topology(RegionSpec.builder("a").writer().weight(3).build(),
                RegionSpec.builder("b").weight(1).build(), RegionSpec.builder("fallback").weight(0).build());
        try (Latitude latitude = Engines.engine(t, RoutingPolicy.weighted().build(), clock, 17)) {
            assertThat(firstShare(latitude, "a", PLANS)).isCloseTo(0.75, within(0.02));
            assertThat(planIds(latitude, READ).get(2)).isEqualTo("fallback");
        }
    }

    @Test
    void plan_fallbackOrder_alsoWeighted() {
        Topology t = topology(RegionSpec.builder("a").writer().build(), RegionSpec.builder("b").build(),
                RegionSpec.builder("c").build());
        RoutingPolicy p = RoutingPolicy.weighted().weight("a", 80).weight("b", 10).weight("c", 10).build();
        try (Latitude latitude = Engines.engine(t, p, clock, 23)) {
            int bSecondGivenAFirst = 0;
            int aFirst = 0;
            for (int i = 0; i < PLANS; i++) {
                List<String> plan = planIds(latitude, READ);
                if (plan.get(0).equals("a")) {
                    aFirst++;
                    bSecondGivenAFirst += plan.get(1).equals("b") ? 1 : 0;
                }
            }
            assertThat(bSecondGivenAFirst / (double) aFirst).isCloseTo(0.5, within(0.03));
        }
    }

    @Test
    void routingPolicy_runtimeWeightShift_changesDistributionWithoutRebuild() {
        RoutingPolicy before = RoutingPolicy.weighted().weight("us-east-1", 90).weight("us-west-2", 10).build();
        RoutingPolicy after = RoutingPolicy.weighted().weight("us-east-1", 10).weight("us-west-2", 90).build();
        try (Latitude latitude = Engines.engine(TWO, before, clock, 99)) {
            assertThat(firstShare(latitude, "us-east-1", PLANS)).isCloseTo(0.90, within(0.02));

            latitude.routingPolicy(after);

            assertThat(latitude.routingPolicy()).isSameAs(after);
            assertThat(firstShare(latitude, "us-east-1", PLANS)).isCloseTo(0.10, within(0.02));
        }
    }

    @Test
    void plan_sameSeed_samePlans() {
        RoutingPolicy p = RoutingPolicy.weighted().weight("us-east-1", 50).weight("us-west-2", 50).build();
        try (Latitude one = Engines.engine(TWO, p, clock, 5); Latitude two = Engines.engine(TWO, p, clock, 5)) {
            for (int i = 0; i < 200; i++) {
                assertThat(planIds(one, READ)).isEqualTo(planIds(two, READ));
            }
        }
    }

    @Test
    void weight_outOfRange_throwsNamingValueAndFix() {
        assertConfigError(() -> RoutingPolicy.weighted().weight("a", -1), "weighted.weight[a]",
                "-1 is outside [0, 1000000]", "use 0 to keep the region as a fallback only");
        assertConfigError(() -> RoutingPolicy.weighted().weight("a", 1_000_001), "weighted.weight[a]",
                "1000001 is outside");
    }

    @Test
    void build_allWeightsZero_throws() {
        assertConfigError(() -> RoutingPolicy.weighted().weight("a", 0).weight("b", 0).build(), "weighted.weight",
                "every weight is 0", "give at least one region a positive weight");
    }

    @Test
    void validate_unknownRegion_throws() {
        assertConfigError(() -> RoutingPolicy.weighted().weight("nope", 1).build().validate(TWO), "weighted.weight",
                "'nope' is not a region of the topology");
    }
}
