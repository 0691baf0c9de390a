package dev.latitude;

import static dev.latitude.Engines.READ;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Hedging with the default settings against a local region whose requests are mostly fast, some a little slower (just
 * above its p95) and 5 % very slow (300 ms), with the next region 45 ms away: the hedges go to the slow 5 %, not to the
 * ordinary requests near p95, and stay within the budget (5 % of calls plus a burst of 10).
 */
class TailHedgingTest {
    private static final long US = 1_000L;
    private static final long MS = 1_000_000L;
    private static final int CALLS = 2_000;
    /** Calls before the local region has the 20 samples its hedging percentile needs. */
    private static final int WARM_UP = 20;

    private final ManualClock clock = new ManualClock();

    @Test
    void hedging_defaults_hedgesTheSlowFivePercentAndNoOrdinaryRequest() {
        Topology topology = Topology.builder()
                .region(RegionSpec.builder("eu-west-1").writer().build())
                .region(RegionSpec.builder("us-east-1").build())
                .localRegion("eu-west-1")
                .build();
        Latitude latitude = Engines.builder(topology, clock, 7).attemptTimeout(Duration.ofSeconds(1)).build();
        Random random = new Random(2026);
        int tail = 0;
        int tailHedged = 0;
        int ordinaryHedged = 0;
        int answeredLocally = 0;
        for (int i = 0; i < CALLS; i++) {
            double draw = random.nextDouble();
            boolean slow = draw < 0.05;
            // 90 % between 2.0 and 2.5 ms; 5 % "near p95", between 3.0 and 3.9 ms; 5 % at 300 ms.
            long local = slow ? 300 * MS : draw < 0.10 ? 3 * MS + random.nextInt(900) * US
                    : 2 * MS + random.nextInt(500) * US;
            AtomicBoolean hedged = new AtomicBoolean();
            CompletableFuture<String> result = latitude.executeAsync(READ, region -> {
                boolean here = region.id().equals("eu-west-1");
                if (!here) {
                    hedged.set(true);
                }
                CompletableFuture<String> f = new CompletableFuture<>();
                clock.schedule(() -> f.complete(region.id()), here ? local : 45 * MS);
                return f;
            });
            while (!result.isDone()) {
                clock.advance(Duration.ofNanos(100 * US));
            }
            if (result.join().equals("eu-west-1")) {
                answeredLocally++;
            }
            if (slow && i >= WARM_UP) {
                tail++;
                tailHedged += hedged.get() ? 1 : 0;
            } else if (!slow) {
                ordinaryHedged += hedged.get() ? 1 : 0;
            }
        }

        int hedges = tailHedged + ordinaryHedged;
        assertThat(ordinaryHedged).as("ordinary requests hedged").isZero();
        assertThat(tailHedged).as("slow requests hedged, of %d", tail).isGreaterThanOrEqualTo((int) (tail * 0.9));
        assertThat(hedges).as("hedges within the budget").isLessThanOrEqualTo((int) (CALLS * 0.05) + 10);
        assertThat(answeredLocally).as("the local region keeps its traffic").isGreaterThanOrEqualTo(CALLS * 94 / 100);
    }
}
