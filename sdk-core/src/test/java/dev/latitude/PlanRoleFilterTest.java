package dev.latitude;

import static dev.latitude.Engines.READ;
import static dev.latitude.Engines.WRITE;
import static dev.latitude.Engines.planIds;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PlanRoleFilterTest {
    private final ManualClock clock = new ManualClock();
    private final Topology topology = Topology.builder()
            .region(RegionSpec.builder("r1").build())
            .region(RegionSpec.builder("both").writer().build())
            .region(RegionSpec.builder("w-only").roles(RegionRole.WRITER).build())
            .region(RegionSpec.builder("r2").roles(RegionRole.READER).build())
            .localRegion("r1")
            .build();
    private final RoutingPolicy priority = RoutingPolicy.failover().priority("w-only", "r2", "both", "r1").build();

    @Test
    void plan_write_onlyWriterRegions() {
        try (Latitude latitude = Engines.engine(topology, priority, clock, 1)) {
            Plan plan = latitude.plan(WRITE);

            assertThat(Engines.ids(plan)).containsExactly("w-only", "both");
            assertThat(plan.healthyCount()).isEqualTo(2);
        }
    }

    @Test
    void plan_read_onlyReaderRegions() {
        try (Latitude latitude = Engines.engine(topology, priority, clock, 1)) {
            assertThat(planIds(latitude, READ)).containsExactly("r2", "both", "r1");
        }
    }

    @Test
    void plan_idempotentWrite_stillOnlyWriters() {
        try (Latitude latitude = Engines.engine(topology, RoutingPolicy.latency().window(Duration.ZERO).build(),
                clock, 1)) {
            assertThat(planIds(latitude, Operation.write("Put").idempotent(true).build()))
                    .containsExactlyInAnyOrder("both", "w-only");
        }
    }

    @Test
    void plan_singleReaderTopology_readGoesThereWriteGoesToWriter() {
        Topology t = Topology.builder()
                .region(RegionSpec.builder("primary").roles(RegionRole.WRITER).build())
                .region(RegionSpec.builder("replica").build())
                .localRegion("primary")
                .build();
        try (Latitude latitude = Engines.engine(t, RoutingPolicy.latency().build(), clock, 1)) {
            assertThat(planIds(latitude, READ)).containsExactly("replica");
            assertThat(planIds(latitude, WRITE)).containsExactly("primary");
        }
    }
}
