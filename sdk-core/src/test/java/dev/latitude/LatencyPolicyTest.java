package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static dev.latitude.Engines.READ;
import static dev.latitude.Engines.planIds;
import static dev.latitude.Engines.reader;
import static dev.latitude.Engines.writer;
import static dev.latitude.Engines.writerOnly;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Latency routing through the engine's planner. Before any call, a region's latency is estimated from its distance
 * to the local region (15 µs per km; one degree of longitude on the equator is about 111.2 km, so about 1.67 ms).
 */
class LatencyPolicyTest {
    private final ManualClock clock = new ManualClock();

    private static RoutingPolicy latency(Duration window) {
        return RoutingPolicy.latency().window(window).build();
    }

    private static Map<String, Integer> firstCounts(Latitude latitude, int plans) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < plans; i++) {
            counts.merge(planIds(latitude, READ).get(0), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void window_negative_throwsWithFix() {
        assertConfigError(() -> RoutingPolicy.latency().window(Duration.ofMillis(-1)), "latency.window",
                "-1 ms is negative", "use Duration.ZERO");
    }

    @Test
    void builder_default_window15ms() {
        LatencyPolicy p = RoutingPolicy.latency().build();

        assertThat(p.windowNanos()).isEqualTo(Duration.ofMillis(15).toNanos());
        assertThat(p).hasToString("latency(window=15ms)");
    }

    @Test
    void plan_windowZero_alwaysFastestThenRestByLatency() {
        Topology t = Topology.builder()
                .region(reader("far", 0, 20))      // ~33 ms
                .region(writer("hq", 0, 0))        // local: 0 ms
                .region(reader("mid", 0, 10))      // ~17 ms
                .region(reader("near", 0, 3))      // ~5 ms
                .localRegion("hq")
                .build();
        try (Latitude latitude = Engines.engine(t, latency(Duration.ZERO), clock, 42)) {
            for (int i = 0; i < 500; i++) {
                assertThat(planIds(latitude, READ)).containsExactly("hq", "near", "mid", "far");
            }
        }
    }

    @Test
    void plan_windowZeroWithNearEqualRegions_alwaysTheFastest() {
        Topology t = Topology.builder()
                .region(writerOnly("hq", 0, 0))
                .region(reader("b", 0, 5.5))       // ~9.2 ms
                .region(reader("a", 0, 5))         // ~8.3 ms
                .localRegion("hq")
                .build();
        try (Latitude latitude = Engines.engine(t, latency(Duration.ZERO), clock, 7)) {
            assertThat(firstCounts(latitude, 2000)).containsOnlyKeys("a");
            assertThat(planIds(latitude, READ)).containsExactly("a", "b");
        }
    }

    @Test
    void plan_equalLatencyRegionsInWindow_shareFirstPlaceAndOutsideRegionStaysLast() {
        Topology t = Topology.builder()
                .region(writerOnly("hq", 0, 0))
                .region(reader("far", 0, 16))      // ~26.7 ms: outside 8.3 + 15 ms
                .region(reader("east", 0, 5))      // ~8.3 ms
                .region(reader("west", 0, -5))     // ~8.3 ms, the same distance
                .localRegion("hq")
                .build();
        try (Latitude latitude = Engines.engine(t, latency(Duration.ofMillis(15)), clock, 11)) {
            Map<String, Integer> first = new HashMap<>();
            for (int i = 0; i < 4000; i++) {
                List<String> plan = planIds(latitude, READ);
                assertThat(plan.get(2)).isEqualTo("far");
                first.merge(plan.get(0), 1, Integer::sum);
            }
            assertThat(first).containsOnlyKeys("east", "west");
            assertThat(first.get("east")).isBetween(1800, 2200);
        }
    }

    @Test
    void plan_fastestRegionHasMoreCallsInFlight_otherRegionInWindowWins() {
        Topology t = Topology.builder()
                .region(writerOnly("hq", 0, 0))
                .region(reader("east", 0, 5))
                .region(reader("west", 0, -5))
                .localRegion("hq")
                .build();
        try (Latitude latitude = Engines.engine(t, latency(Duration.ofMillis(15)), clock, 3)) {
            CompletableFuture<String> held = new CompletableFuture<>();
            AtomicReference<String> busy = new AtomicReference<>();
            CompletableFuture<String> call = latitude.executeAsync(READ, region -> {
                busy.set(region.id());
                return held;
            });
            String idle = busy.get().equals("east") ? "west" : "east";

            assertThat(firstCounts(latitude, 500)).containsOnlyKeys(idle);

            held.complete("x");
            assertThat(call).isCompletedWithValue("x");
            assertThat(latitude.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
        }
    }

    @Test
    void plan_observedLatency_overridesDistanceEstimate() {
        Topology t = Topology.builder()
                .region(writer("hq", 0, 0))        // local: estimate 0
                .region(reader("remote", 0, 10))   // estimate ~16.7 ms
                .localRegion("hq")
                .build();
        try (Latitude latitude = Engines.engine(t, latency(Duration.ZERO), clock, 5)) {
            assertThat(planIds(latitude, READ)).containsExactly("hq", "remote");
            // Samples count for at most 3 x the estimate (the first against hq's prior of 0 ms, at least 1 ms), so ten
            // 50 ms answers take hq's estimate to 1, 1.4, 2.0, ... 14.8, 20.7 ms: past remote's 16.7 ms.
            for (int i = 0; i < 10; i++) {
                assertThat(planIds(latitude, READ)).as("after %d samples", i).containsExactly("hq", "remote");
                CompletableFuture<String> slow = new CompletableFuture<>();
                CompletableFuture<String> call = latitude.executeAsync(READ, region -> slow);

                clock.advanceMillis(50);
                slow.complete("x");

                assertThat(call).isCompletedWithValue("x");
            }

            assertThat(latitude.status().get(0).latencyEwmaNanos()).isBetween(Duration.ofMillis(20).toNanos(),
                    Duration.ofMillis(21).toNanos());
            assertThat(planIds(latitude, READ)).containsExactly("remote", "hq");
        }
    }

    @Test
    void plan_instantCallsOnManualClock_recordZeroLatencyAndMakeRegionFastest() {
        Topology t = Topology.builder()
                .region(writer("hq", 0, 0))
                .region(reader("remote", 0, 10))
                .localRegion("hq")
                .build();
        RoutingPolicy remoteFirst = RoutingPolicy.failover().priority("remote").build();
        try (Latitude latitude = Engines.engine(t, remoteFirst, clock, 5)) {
            CompletableFuture<String> slow = new CompletableFuture<>();
            latitude.executeAsync(READ, region -> CompletableFuture.completedFuture("x")); // remote: 0 ms
            latitude.routingPolicy(RoutingPolicy.failover().priority("hq").build());
            latitude.executeAsync(READ, region -> slow);                                   // hq: 30 ms
            clock.advanceMillis(30);
            slow.complete("x");

            latitude.routingPolicy(latency(Duration.ZERO));

            assertThat(latitude.status().get(1).latencyEwmaNanos()).isZero();
            assertThat(planIds(latitude, READ)).containsExactly("remote", "hq");
        }
    }

    @Test
    void plan_twoRegionsInWindowNothingInFlight_loadSpreadsAtRandom() {
        Topology t = Topology.builder()
                .region(writerOnly("hq", 0, 0))
                .region(reader("a", 0, 5))
                .region(reader("b", 0, 5.5))
                .region(reader("far", 0, 30))
                .localRegion("hq")
                .build();
        Latitude l = Engines.engine(t, latency(Duration.ofMillis(20)), clock, 99);
        Map<String, Integer> first = firstCounts(l, 4000);
        assertThat(first.keySet()).containsExactlyInAnyOrder("a", "b");
        assertThat(first.get("a")).isBetween(1000, 3000);
        assertThat(first.get("b")).isBetween(1000, 3000);
    }
}
