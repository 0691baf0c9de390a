package dev.latitude.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.BreakerConfig;
import dev.latitude.CircuitState;
import dev.latitude.HealthListener;
import dev.latitude.HedgingConfig;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.OpenTelemetry;
import java.net.ConnectException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class HedgeWinnerLostRaceTest {
    @Test
    void aHedgeThatSucceededIsNotLostToTheOtherAttemptFailingAtTheSameTime() throws Exception {
        ManualClock clock = new ManualClock();
        AtomicReference<CompletableFuture<String>> raceCall = new AtomicReference<>();
        CountDownLatch winnerInBookkeeping = new CountDownLatch(1);
        HealthListener listener = new HealthListener() {
            @Override
            public void onCircuitStateChange(RegionSpec region, CircuitState from, CircuitState to) {
                CompletableFuture<String> call = raceCall.get();
                if (call != null && region.id().equals("b") && to == CircuitState.CLOSED) {
                    // The winning attempt's thread is between "attempt finished" and "call succeeded"; hold it there
                    // while the losing attempt fails (a slow listener, GC pause or preemption does the same).
                    winnerInBookkeeping.countDown();
                    try {
                        call.handle((v, e) -> v).get(1, TimeUnit.SECONDS);
                    } catch (Exception ignored) {
                        // a correct engine does not complete the call here: carry on after the timeout
                    }
                }
            }
        };
        Topology topology = Topology.builder()
                .region(RegionSpec.builder("a").writer().build())
                .region(RegionSpec.builder("b").build())
                .localRegion("a").build();
        Latitude latitude = Latitude.builder().topology(topology)
                .routingPolicy(RoutingPolicy.failover().priority("b", "a").build())
                .attemptTimeout(Duration.ofSeconds(1)).deadline(Duration.ofSeconds(5))
                .breaker(BreakerConfig.builder().failureThreshold(1, 1).successThreshold(1)
                        .openDelay(Duration.ofSeconds(1)).build())
                // A burst of 1 keeps no reserve for late hedges: the hedge goes at the ordinary delay.
                .hedging(HedgingConfig.builder().percentile(50).minSamples(1).budgetRatio(1).maxBurst(1)
                        .minDelay(Duration.ZERO).build())
                .healthListener(listener).openTelemetry(OpenTelemetry.noop())
                .ticker(clock).scheduler(clock).build();
        Operation get = Operation.read("Get").build();
        try {
            // b fails once and opens (1 of 1); a answers.
            CompletableFuture<String> first = latitude.executeAsync(get, r -> r.id().equals("b")
                    ? CompletableFuture.failedFuture(new ConnectException("b down"))
                    : CompletableFuture.completedFuture("a"));
            assertThat(first.get(1, TimeUnit.SECONDS)).isEqualTo("a");
            latitude.routingPolicy(RoutingPolicy.failover().priority("a", "b").build());
            // Give a a known hedging percentile (10 ms): two timed calls, the second after the 100 ms refresh.
            for (int i = 0; i < 2; i++) {
                CompletableFuture<String> pending = new CompletableFuture<>();
                CompletableFuture<String> warm = latitude.executeAsync(get, r -> pending);
                clock.advanceMillis(10);
                pending.complete("a");
                assertThat(warm.get(1, TimeUnit.SECONDS)).isEqualTo("a");
                clock.advanceMillis(150);
            }
            clock.advance(Duration.ofSeconds(1)); // b's open delay passes: it is half-open at the next plan
            assertThat(latitude.status().get(0).hedgePercentileNanos()).isPositive();

            Map<String, CompletableFuture<String>> attempts = new ConcurrentHashMap<>();
            CompletableFuture<String> call = latitude.executeAsync(get, r -> {
                CompletableFuture<String> f = new CompletableFuture<>();
                attempts.put(r.id(), f);
                return f;
            });
            raceCall.set(call);
            clock.advanceMillis(25); // the hedge to b starts (at twice the 10 ms median)
            assertThat(attempts).containsKeys("a", "b");

            Thread winner = new Thread(() -> attempts.get("b").complete("b"));
            winner.start();
            assertThat(winnerInBookkeeping.await(2, TimeUnit.SECONDS)).isTrue();
            attempts.get("a").completeExceptionally(new ConnectException("a refused"));
            winner.join(5_000);

            // b answered: the call must succeed with b's answer.
            assertThat(call.handle((v, e) -> e == null ? v : e.toString()).get(2, TimeUnit.SECONDS)).isEqualTo("b");
        } finally {
            latitude.close();
        }
    }
}
