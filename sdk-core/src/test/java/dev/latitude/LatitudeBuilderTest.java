package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static dev.latitude.Engines.READ;
import static dev.latitude.Engines.planIds;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LatitudeBuilderTest {
    private final ManualClock clock = new ManualClock();
    private final Topology topology = Topology.builder()
            .region(RegionSpec.builder("us-east-1").writer().build())
            .region(RegionSpec.builder("eu-west-1").build())
            .localRegion("us-east-1")
            .build();

    @Test
    void build_noTopology_throwsWithFix() {
        assertConfigError(() -> Latitude.builder().build(), "topology", "not set", "call topology(");
    }

    @Test
    void scheduler_isTheOneGiven_elseTheEnginesOwn() {
        try (Latitude given = Latitude.builder().topology(topology).ticker(clock).scheduler(clock).build();
                Latitude own = Latitude.builder().topology(topology).build()) {
            assertThat(given.scheduler()).isSameAs(clock);
            assertThat(own.scheduler()).isNotNull().isNotSameAs(clock);
        }
    }

    @Test
    void topology_setTwice_throws() {
        Latitude.Builder b = Latitude.builder().topology(topology);

        assertConfigError(() -> b.topology(topology), "topology", "set twice", "set it once");
    }

    @Test
    void routingPolicy_setTwice_throws() {
        Latitude.Builder b = Latitude.builder().routingPolicy(RoutingPolicy.latency().build());

        assertConfigError(() -> b.routingPolicy(RoutingPolicy.latency().build()), "routingPolicy", "set twice");
    }

    @Test
    void attemptTimeout_setTwice_throws() {
        Latitude.Builder b = Latitude.builder().attemptTimeout(Duration.ofMillis(100));

        assertConfigError(() -> b.attemptTimeout(Duration.ofMillis(100)), "attemptTimeout", "set twice");
    }

    @Test
    void ticker_setTwice_throws() {
        Latitude.Builder b = Latitude.builder().ticker(clock);

        assertConfigError(() -> b.ticker(clock), "ticker", "set twice");
    }

    @Test
    void latencyAlpha_setTwice_throws() {
        Latitude.Builder b = Latitude.builder().latencyAlpha(0.5);

        assertConfigError(() -> b.latencyAlpha(0.5), "latencyAlpha", "set twice");
    }

    @Test
    void attemptTimeout_outOfRange_throwsNamingValueAndExample() {
        assertConfigError(() -> Latitude.builder().attemptTimeout(Duration.ZERO), "attemptTimeout",
                "0 ms is outside [1 ms, 10 min]", "Duration.ofMillis(500)");
        assertConfigError(() -> Latitude.builder().deadline(Duration.ofMinutes(11)), "deadline",
                "11 min is outside [1 ms, 10 min]");
    }

    @Test
    void latencyAlpha_outOfRange_throwsNamingValueAndAdvice() {
        assertConfigError(() -> Latitude.builder().latencyAlpha(0), "latencyAlpha", "0.0 is outside (0, 1]",
                "0.2 is usual");
        assertConfigError(() -> Latitude.builder().latencyAlpha(1.5), "latencyAlpha", "1.5 is outside (0, 1]");
    }

    @Test
    void latencyWindow_outOfRange_throws() {
        assertConfigError(() -> Latitude.builder().latencyWindow(Duration.ofMillis(999)), "latencyWindow",
                "999 ms is outside [1 s, 1 h]");
    }

    @Test
    void build_attemptTimeoutLongerThanDeadline_throwsNamingBothAndFix() {
        Latitude.Builder b = Engines.builder(topology, clock, 1)
                .attemptTimeout(Duration.ofSeconds(2))
                .deadline(Duration.ofSeconds(1));

        assertConfigError(b::build, "attemptTimeout", "2 s is longer than the deadline 1 s",
                "shorten the attempt timeout or lengthen the deadline");
    }

    @Test
    void build_attemptTimeoutLongerThanDefaultDeadline_throws() {
        Latitude.Builder b = Engines.builder(topology, clock, 1).attemptTimeout(Duration.ofSeconds(6));

        assertConfigError(b::build, "attemptTimeout", "6 s is longer than the deadline 5 s");
    }

    @Test
    void build_attemptTimeoutEqualToDeadline_accepted() {
        try (Latitude latitude = Engines.builder(topology, clock, 1)
                .attemptTimeout(Duration.ofSeconds(1)).deadline(Duration.ofSeconds(1)).build()) {
            assertThat(latitude.topology()).isSameAs(topology);
        }
    }

    @Test
    void build_noPolicy_defaultsToLatency() {
        try (Latitude latitude = Engines.builder(topology, clock, 1).build()) {
            assertThat(latitude.routingPolicy()).isInstanceOf(LatencyPolicy.class);
        }
    }

    @Test
    void build_policyNamingUnknownRegion_throwsNamingRegionAndTopology() {
        Latitude.Builder b = Engines.builder(topology, clock, 1)
                .routingPolicy(RoutingPolicy.failover().priority("eu-west-1", "ap-south-1").build());

        assertConfigError(b::build, "failover.priority",
                "'ap-south-1' is not a region of the topology [us-east-1, eu-west-1]", "use one of those ids");
    }

    @Test
    void build_chainedPolicyNamingUnknownRegion_throws() {
        RoutingPolicy chain = RoutingPolicy.failover().priority("eu-west-1").build()
                .then(RoutingPolicy.weighted().weight("nowhere-1", 5).build());
        Latitude.Builder b = Engines.builder(topology, clock, 1).routingPolicy(chain);

        assertConfigError(b::build, "weighted.weight", "'nowhere-1' is not a region of the topology");
    }

    @Test
    void routingPolicy_runtimeWithUnknownRegion_refusedAndOldPolicyKept() {
        RoutingPolicy old = RoutingPolicy.failover().priority("eu-west-1", "us-east-1").build();
        try (Latitude latitude = Engines.engine(topology, old, clock, 1)) {
            RoutingPolicy bad = RoutingPolicy.failover().priority("us-east-1", "eu-west-9").build();

            assertConfigError(() -> latitude.routingPolicy(bad), "failover.priority",
                    "'eu-west-9' is not a region of the topology");

            assertThat(latitude.routingPolicy()).isSameAs(old);
            assertThat(planIds(latitude, READ)).containsExactly("eu-west-1", "us-east-1");
        }
    }

    @Test
    void routingPolicy_runtimeValid_replacesPolicyForNextPlans() {
        try (Latitude latitude = Engines.engine(topology,
                RoutingPolicy.failover().priority("eu-west-1", "us-east-1").build(), clock, 1)) {
            RoutingPolicy next = RoutingPolicy.failover().priority("us-east-1", "eu-west-1").build();

            latitude.routingPolicy(next);

            assertThat(latitude.routingPolicy()).isSameAs(next);
            assertThat(planIds(latitude, READ)).containsExactly("us-east-1", "eu-west-1");
        }
    }
}
