package dev.latitude;

import static dev.latitude.Engines.READ;
import static dev.latitude.Engines.planIds;
import static dev.latitude.Engines.reader;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.Test;

/**
 * What the latency policy ranks by: the local region first before anything is measured, the distance estimate and
 * measurements refining from there, a clipped EWMA that neither one outlier nor a cold start's first answers can move,
 * and a region that really is (or became) slow losing first place within a few samples. Hedging is off so that every call has one attempt.
 */
class RoutingEstimateTest {
    private static final long MS = 1_000_000L;
    private final ManualClock clock = new ManualClock();

    /** Three regions without coordinates, the local one in the middle of the list. */
    private static Topology noCoordinates() {
        return Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().build())
                .region(RegionSpec.builder("eu-west-1").build())
                .region(RegionSpec.builder("ap-southeast-2").build())
                .localRegion("eu-west-1")
                .build();
    }

    private Latitude engine(Topology topology, RoutingPolicy policy) {
        return Engines.builder(topology, clock, 42).routingPolicy(policy).hedging(HedgingConfig.disabled())
                .attemptTimeout(Duration.ofSeconds(1)).build();
    }

    /** Runs one read whose answer comes {@code nanosFor(region)} after it was sent, and returns who answered. */
    private String read(Latitude latitude, ToLongFunction<String> nanosFor) {
        CompletableFuture<String> result = latitude.executeAsync(READ, region -> {
            CompletableFuture<String> f = new CompletableFuture<>();
            clock.schedule(() -> f.complete(region.id()), nanosFor.applyAsLong(region.id()));
            return f;
        });
        while (!result.isDone()) {
            clock.advance(Duration.ofNanos(100_000));
        }
        return result.join();
    }

    private static long ewma(Latitude latitude, String id) {
        return latitude.status().stream().filter(s -> s.region().id().equals(id)).findFirst().orElseThrow()
                .latencyEwmaNanos();
    }

    @Test
    void plan_noCoordinatesNoMeasurements_localRegionAloneFirst() {
        Latitude latitude = engine(noCoordinates(), RoutingPolicy.latency().build());

        for (int i = 0; i < 200; i++) {
            assertThat(planIds(latitude, READ).get(0)).as("plan %d", i).isEqualTo("eu-west-1");
        }
    }

    @Test
    void plan_coordinatesAndUnknownDistance_localThenNearThenUnknownThenFar() {
        Topology t = Topology.builder()
                .region(reader("far", 0, 40))              // ~67 ms
                .region(RegionSpec.builder("unknown").build()) // no coordinates: 30 ms
                .region(reader("near", 0, 3))              // ~5 ms
                .region(RegionSpec.builder("hq").writer().location(0, 0).build())
                .localRegion("hq")
                .build();
        Latitude latitude = engine(t, RoutingPolicy.latency().window(Duration.ZERO).build());

        assertThat(planIds(latitude, READ)).containsExactly("hq", "near", "unknown", "far");
    }

    @Test
    void ranking_coldFirstAnswersOfTheLocalRegion_localStaysFirst() {
        Latitude latitude = engine(noCoordinates(), RoutingPolicy.latency().build());

        // A booting client: the first answers are slow (connections, JIT), then the region is as fast as it is.
        for (int i = 0; i < 3; i++) {
            assertThat(read(latitude, id -> 250 * MS)).isEqualTo("eu-west-1");
        }
        for (int i = 0; i < 40; i++) {
            assertThat(read(latitude, id -> 3 * MS)).as("read %d", i).isEqualTo("eu-west-1");
        }

        assertThat(ewma(latitude, "eu-west-1")).isBetween(2 * MS, 4 * MS);
    }

    @Test
    void ranking_localRegionReallyFar_measurementsMoveItBehindWithinTwelveSamples() {
        Latitude latitude = engine(noCoordinates(), RoutingPolicy.latency().window(Duration.ZERO).build());

        int samples = 0;
        while (read(latitude, id -> id.equals("eu-west-1") ? 80 * MS : 30 * MS).equals("eu-west-1")) {
            samples++;
            assertThat(samples).as("samples the local region took").isLessThanOrEqualTo(12);
        }

        // From the 1 ms floor (its prior is 0 ms): 1, 1.4, 2.0, 2.7, 3.8, 5.4, 7.5, 10.5, 14.8, 20.7, 28.9, 40.5 ms.
        assertThat(samples).isEqualTo(12);
        List<String> plan = planIds(latitude, READ);
        assertThat(plan.get(0)).isIn("us-east-1", "ap-southeast-2");
    }

    @Test
    void ranking_oneOutlierAmongFastSamples_localStaysFirstAlone() {
        Latitude latitude = engine(noCoordinates(), RoutingPolicy.latency().build());
        for (int i = 0; i < 40; i++) {
            read(latitude, id -> 3 * MS);
        }

        assertThat(read(latitude, id -> 300 * MS)).isEqualTo("eu-west-1");

        // The sample counts for 3 x 3 ms: 3 + 0.2 x 6 = 4.2 ms, far inside the 15 ms window below the others' 30 ms.
        // The plain EWMA would have been 3 + 0.2 x 297 = 62.4 ms, and the local region would have lost its traffic.
        assertThat(ewma(latitude, "eu-west-1")).isBetween(4 * MS, 5 * MS);
        for (int i = 0; i < 200; i++) {
            assertThat(planIds(latitude, READ).get(0)).as("plan %d", i).isEqualTo("eu-west-1");
        }
    }

    @Test
    void ranking_fivePercentOutliers_localKeepsEveryCall() {
        Latitude latitude = engine(noCoordinates(), RoutingPolicy.latency().build());
        int local = 0;
        for (int i = 0; i < 400; i++) {
            boolean outlier = i % 20 == 19;
            if (read(latitude, id -> id.equals("eu-west-1") ? (outlier ? 300 : 3) * MS : 30 * MS)
                    .equals("eu-west-1")) {
                local++;
            }
        }

        assertThat(local).isEqualTo(400);
        assertThat(ewma(latitude, "eu-west-1")).isLessThan(6 * MS);
    }

    @Test
    void ranking_localBecomesUniformlySlow_losesFirstPlaceWithinEightSamples() {
        Latitude latitude = engine(noCoordinates(), RoutingPolicy.latency().window(Duration.ZERO).build());
        for (int i = 0; i < 40; i++) {
            read(latitude, id -> 3 * MS);
        }

        int slowSamples = 0;
        while (read(latitude, id -> id.equals("eu-west-1") ? 60 * MS : 30 * MS).equals("eu-west-1")) {
            slowSamples++;
            assertThat(slowSamples).as("slow samples the local region took").isLessThanOrEqualTo(8);
        }

        // 3 -> 4.2 -> 5.9 -> 8.2 -> 11.5 -> 16.1 -> 22.6 -> 30.1 ms: past the others' 30 ms after 7 samples (the plain
        // EWMA: after 3).
        assertThat(slowSamples).isEqualTo(7);
        assertThat(planIds(latitude, READ).get(0)).isIn("us-east-1", "ap-southeast-2");
    }
}
