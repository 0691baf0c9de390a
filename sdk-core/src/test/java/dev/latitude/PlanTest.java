package dev.latitude;

import static dev.latitude.Engines.READ;
import static dev.latitude.Engines.planIds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.testing.ManualClock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlanTest {
    private final ManualClock clock = new ManualClock();
    private final Topology topology = Topology.builder()
            .region(RegionSpec.builder("a").writer().build())
            .region(RegionSpec.builder("b").build())
            .region(RegionSpec.builder("c").build())
            .localRegion("a")
            .build();

    @Test
    void plan_policyThrows_topologyOrderAllHealthy() {
        RoutingPolicy broken = c -> {
            c.rank(2, -5);
            throw new IllegalStateException("boom");
        };
        try (Latitude latitude = Engines.engine(topology, broken, clock, 1)) {
            Plan plan = latitude.plan(READ);

            assertThat(Engines.ids(plan)).containsExactly("a", "b", "c");
            assertThat(plan.healthyCount()).isEqualTo(3);
        }
    }

    @Test
    void plan_nanRank_treatedAsLast() {
        RoutingPolicy nanFirst = c -> {
            for (int i = 0; i < c.size(); i++) {
                c.rank(i, c.region(i).id().equals("a") ? Double.NaN : i);
            }
        };
        try (Latitude latitude = Engines.engine(topology, nanFirst, clock, 1)) {
            assertThat(planIds(latitude, READ)).containsExactly("b", "c", "a");
        }
    }

    @Test
    void plan_candidatesView_rejectsOutOfRangeIndex() {
        List<Throwable> errors = new ArrayList<>();
        RoutingPolicy probing = c -> {
            try {
                c.region(c.size());
            } catch (IndexOutOfBoundsException e) {
                errors.add(e);
            }
        };
        try (Latitude latitude = Engines.engine(topology, probing, clock, 1)) {
            latitude.plan(READ);

            assertThat(errors).hasSize(1);
        }
    }

    @Test
    void plan_candidatesView_callerFallsBackToLocalRegion() {
        Topology t = Topology.builder()
                .region(RegionSpec.builder("a").writer().jurisdiction("EU").location(10, 20).build())
                .region(RegionSpec.builder("b").build())
                .localRegion("a")
                .build();
        List<Object> seen = new ArrayList<>();
        RoutingPolicy recording = c -> {
            seen.add(c.callerJurisdiction());
            seen.add(c.callerLocation());
        };
        try (Latitude latitude = Engines.engine(t, recording, clock, 1)) {
            latitude.plan(READ);
            latitude.plan(Operation.read("X").callerJurisdiction("US").callerLocation(GeoPoint.of(1, 2)).build());

            assertThat(seen).containsExactly("EU", GeoPoint.of(10, 20), "US", GeoPoint.of(1, 2));
        }
    }

    @Test
    void plan_regionsList_isImmutableCopy() {
        List<RegionSpec> source = new ArrayList<>(topology.regions());
        Plan plan = new Plan(source, 3);
        source.clear();

        assertThat(plan.regions()).hasSize(3);
        assertThatThrownBy(() -> plan.regions().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThat(new Plan(List.of(), 0).panic()).isTrue();
    }
}
