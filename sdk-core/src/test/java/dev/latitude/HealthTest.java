package dev.latitude;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.OpenTelemetry;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The circuit breaker and probe state machines, as the planner and listeners see them. */
class HealthTest {
    private final ManualClock clock = new ManualClock();
    private final List<String> events = new ArrayList<>();
    private final List<Latitude> engines = new ArrayList<>();
    private final HealthListener listener = new HealthListener() {
        @Override
        public void onCircuitStateChange(RegionSpec region, CircuitState from, CircuitState to) {
            events.add(region.id() + " circuit " + from + "->" + to);
        }

        @Override
        public void onProbeStateChange(RegionSpec region, ProbeState from, ProbeState to) {
            events.add(region.id() + " probe " + from + "->" + to);
        }
    };

    private Latitude engine(Consumer<Latitude.Builder> custom) {
        return engine(BreakerConfig.builder().failureThreshold(3, 5).minimumVolume(3, Duration.ofSeconds(10))
                .successThreshold(2).openDelay(Duration.ofSeconds(5)).build(), custom);
    }

    private Latitude engine(BreakerConfig breaker, Consumer<Latitude.Builder> custom) {
        Latitude.Builder b = Latitude.builder()
                .topology(CallExecutionTest.topology())
                .routingPolicy(RoutingPolicy.failover().priority("us-east-1", "us-west-2", "eu-west-1").build())
                .ticker(clock)
                .scheduler(clock)
                .openTelemetry(OpenTelemetry.noop())
                .hedging(HedgingConfig.disabled())
                .healthListener(listener)
                .breaker(breaker);
        custom.accept(b);
        Latitude l = b.build();
        engines.add(l);
        return l;
    }

    @AfterEach
    void close() {
        engines.forEach(Latitude::close);
    }

    private static final Operation READ = Operation.read("GetItem").build();

    /** A region call where the listed regions refuse connections and the others answer with their id. */
    private static AsyncRegionCall<String> down(String... regions) {
        List<String> down = List.of(regions);
        return region -> down.contains(region.id())
                ? CompletableFuture.failedFuture(new ConnectException(region.id() + " refused"))
                : CompletableFuture.completedFuture(region.id());
    }

    private static List<String> ids(Plan plan) {
        return plan.regions().stream().map(RegionSpec::id).toList();
    }

    private static CircuitState circuit(Latitude l, String region) {
        return l.status().stream().filter(s -> s.region().id().equals(region)).findFirst().orElseThrow().circuit();
    }

    @Test
    void breaker_opensAfterThresholdAndMovesRegionBehindHealthyOnes() {
        Latitude l = engine(b -> { });
        for (int i = 0; i < 3; i++) {
            assertThat(l.executeAsync(READ, down("us-east-1"))).isCompletedWithValue("us-west-2");
        }
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.OPEN);
        assertThat(events).containsExactly("us-east-1 circuit CLOSED->OPEN");
        Plan plan = l.plan(READ);
        assertThat(ids(plan)).containsExactly("us-west-2", "eu-west-1", "us-east-1");
        assertThat(plan.healthyCount()).isEqualTo(2);
        assertThat(plan.panic()).isFalse();
        List<String> called = new ArrayList<>();
        assertThat(l.executeAsync(READ, region -> {
            called.add(region.id());
            return CompletableFuture.completedFuture(region.id());
        })).isCompletedWithValue("us-west-2");
        assertThat(called).as("an open region gets no traffic").containsExactly("us-west-2");
    }

    @Test
    void breaker_callerErrorsDoNotOpenTheCircuit() {
        Latitude l = engine(b -> { });
        for (int i = 0; i < 10; i++) {
            l.executeAsync(READ, region -> CompletableFuture.failedFuture(new IllegalArgumentException("bad request")));
        }
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.CLOSED);
        assertThat(events).isEmpty();
    }

    @Test
    void breaker_afterOpenDelay_halfOpenTrialsCloseIt() {
        Latitude l = engine(b -> { });
        for (int i = 0; i < 3; i++) {
            l.executeAsync(READ, down("us-east-1"));
        }
        clock.advance(Duration.ofMillis(4999));
        assertThat(ids(l.plan(READ)).get(0)).isEqualTo("us-west-2");
        clock.advance(Duration.ofMillis(1));
        assertThat(ids(l.plan(READ)).get(0)).as("half-open: back in policy order").isEqualTo("us-east-1");
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.HALF_OPEN);
        assertThat(l.executeAsync(READ, down())).isCompletedWithValue("us-east-1");
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.HALF_OPEN);
        assertThat(l.executeAsync(READ, down())).isCompletedWithValue("us-east-1");
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.CLOSED);
        assertThat(events).containsExactly("us-east-1 circuit CLOSED->OPEN", "us-east-1 circuit OPEN->HALF_OPEN",
                "us-east-1 circuit HALF_OPEN->CLOSED");
    }

    @Test
    void breaker_halfOpenTrialFails_reopens() {
        Latitude l = engine(b -> { });
        for (int i = 0; i < 3; i++) {
            l.executeAsync(READ, down("us-east-1"));
        }
        clock.advance(Duration.ofSeconds(5));
        assertThat(l.executeAsync(READ, down("us-east-1"))).isCompletedWithValue("us-west-2");
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.OPEN);
        assertThat(ids(l.plan(READ)).get(0)).isEqualTo("us-west-2");
    }

    @Test
    void breaker_halfOpenPermitsTaken_nextCallSkipsRegionWithoutCharge() {
        Latitude l = engine(BreakerConfig.builder().failureThreshold(1, 1).successThreshold(1).build(), b -> { });
        l.executeAsync(READ, down("us-east-1"));
        clock.advance(Duration.ofSeconds(5));
        Map<String, CompletableFuture<String>> pending = new HashMap<>();
        AsyncRegionCall<String> hold = region -> pending.computeIfAbsent(region.id() + pending.size(),
                k -> new CompletableFuture<>());
        l.executeAsync(READ, hold); // takes the single trial permit of us-east-1
        List<String> second = new ArrayList<>();
        CompletableFuture<String> r = l.executeAsync(READ, region -> {
            second.add(region.id());
            return CompletableFuture.completedFuture(region.id());
        });
        assertThat(r).isCompletedWithValue("us-west-2");
        assertThat(second).containsExactly("us-west-2");
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.HALF_OPEN);
    }

    @Test
    void breaker_halfOpenTrialCancelledBeforeItsVerdict_givesItsPermitBackToTheNextCall() {
        Latitude l = engine(BreakerConfig.builder().failureThreshold(1, 1).successThreshold(1).build(), b -> { });
        l.executeAsync(READ, down("us-east-1"));
        clock.advance(Duration.ofSeconds(5));
        CompletableFuture<String> trial = l.executeAsync(READ, region -> new CompletableFuture<>());
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.HALF_OPEN);

        trial.cancel(true);

        assertThat(l.executeAsync(READ, down())).as("the next call takes the trial at once")
                .isCompletedWithValue("us-east-1");
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void breaker_halfOpenTrialsThatNeverConclude_reopenThenRetryAfterDelay() {
        Latitude l = engine(BreakerConfig.builder().failureThreshold(1, 1).successThreshold(1).build(),
                b -> b.deadline(Duration.ofSeconds(30)));
        l.executeAsync(READ, down("us-east-1"));
        clock.advance(Duration.ofSeconds(5));
        CompletableFuture<String> trial = l.executeAsync(READ, region -> new CompletableFuture<>());
        clock.advance(Duration.ofSeconds(5)); // the trial hangs (every region does): no verdict within the open delay
        assertThat(trial).isNotDone();
        assertThat(ids(l.plan(READ)).get(0)).isEqualTo("us-west-2");
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.OPEN);
        clock.advance(Duration.ofSeconds(5));
        assertThat(l.executeAsync(READ, down())).isCompletedWithValue("us-east-1");
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void panic_everyCircuitOpen_stillTriesLeastBadAndItsSuccessRecovers() {
        Latitude l = engine(b -> { });
        for (int i = 0; i < 3; i++) {
            l.executeAsync(READ, down("us-east-1", "us-west-2", "eu-west-1"));
            clock.advance(Duration.ofMillis(100));
        }
        Plan plan = l.plan(READ);
        assertThat(plan.panic()).isTrue();
        assertThat(plan.regions()).hasSize(3);
        assertThat(l.executeAsync(READ, down())).as("panic mode tries rather than failing fast")
                .isCompletedWithValue(ids(plan).get(0));
        assertThat(circuit(l, ids(plan).get(0))).isEqualTo(CircuitState.HALF_OPEN);
    }

    @Test
    void panic_leastBadIsTheLongestOpen() {
        Latitude l = engine(BreakerConfig.builder().failureThreshold(1, 1).build(), b -> { });
        l.executeAsync(READ, down("us-east-1", "us-west-2", "eu-west-1"));
        clock.advance(Duration.ofMillis(10));
        // us-east-1, us-west-2 and eu-west-1 opened in that order within the first call
        assertThat(ids(l.plan(READ))).containsExactly("us-east-1", "us-west-2", "eu-west-1");
    }

    @Test
    void probe_consecutiveFailuresMarkDownAndSuccessesMarkUp() {
        Map<String, Boolean> healthy = new HashMap<>(Map.of("us-east-1", true, "us-west-2", true, "eu-west-1", true));
        Latitude l = engine(b -> b.healthProbe(region -> healthy.get(region.id())
                        ? CompletableFuture.completedFuture(null)
                        : CompletableFuture.failedFuture(new ConnectException("down")),
                ProbeConfig.builder().interval(Duration.ofSeconds(1)).timeout(Duration.ofMillis(200))
                        .failureThreshold(2).successThreshold(2).build()));
        clock.advance(Duration.ZERO);
        clock.advance(Duration.ofSeconds(1));
        assertThat(l.status()).allSatisfy(s -> assertThat(s.probe()).isEqualTo(ProbeState.UP));
        healthy.put("us-east-1", false);
        clock.advance(Duration.ofSeconds(1));
        assertThat(l.status().get(0).probe()).isEqualTo(ProbeState.UP);
        clock.advance(Duration.ofSeconds(1));
        assertThat(l.status().get(0).probe()).isEqualTo(ProbeState.DOWN);
        assertThat(l.status().get(0).available()).isFalse();
        assertThat(ids(l.plan(READ))).containsExactly("us-west-2", "eu-west-1", "us-east-1");
        healthy.put("us-east-1", true);
        clock.advance(Duration.ofSeconds(2));
        assertThat(l.status().get(0).probe()).isEqualTo(ProbeState.UP);
        assertThat(ids(l.plan(READ)).get(0)).isEqualTo("us-east-1");
        assertThat(events).contains("us-east-1 probe UP->DOWN", "us-east-1 probe DOWN->UP");
    }

    @Test
    void probe_thatNeverAnswers_failsAtItsTimeout() {
        Latitude l = engine(b -> b.healthProbe(region -> new CompletableFuture<>(),
                ProbeConfig.builder().interval(Duration.ofSeconds(1)).timeout(Duration.ofMillis(300))
                        .failureThreshold(1).build()));
        clock.advance(Duration.ofMillis(299));
        assertThat(l.status().get(0).probe()).isEqualTo(ProbeState.UNKNOWN);
        clock.advance(Duration.ofMillis(1));
        assertThat(l.status()).allSatisfy(s -> assertThat(s.probe()).isEqualTo(ProbeState.DOWN));
        assertThat(l.plan(READ).panic()).isTrue();
    }

    @Test
    void probe_successWhileCircuitOpen_halfOpensEarly() {
        Latitude l = engine(b -> b.healthProbe(region -> CompletableFuture.completedFuture(null),
                ProbeConfig.builder().interval(Duration.ofSeconds(1)).timeout(Duration.ofMillis(300)).build()));
        for (int i = 0; i < 3; i++) {
            l.executeAsync(READ, down("us-east-1"));
        }
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.OPEN);
        clock.advance(Duration.ofSeconds(1));
        assertThat(circuit(l, "us-east-1")).as("long before the 5 s open delay").isEqualTo(CircuitState.HALF_OPEN);
    }

    @Test
    void probe_throwingOrNullProbe_countsAsFailure() {
        Latitude l = engine(b -> b.healthProbe(region -> {
            if (region.id().equals("us-east-1")) {
                throw new IllegalStateException("probe bug");
            }
            return null;
        }, ProbeConfig.builder().failureThreshold(1).build()));
        clock.advance(Duration.ZERO);
        assertThat(l.status()).allSatisfy(s -> assertThat(s.probe()).isEqualTo(ProbeState.DOWN));
    }

    @Test
    void probe_stopsAfterClose() {
        int[] probes = {0};
        Latitude l = engine(b -> b.healthProbe(region -> {
            probes[0]++;
            return CompletableFuture.completedFuture(null);
        }, ProbeConfig.defaults()));
        clock.advance(Duration.ofSeconds(2));
        int before = probes[0];
        assertThat(before).isEqualTo(9);
        l.close();
        clock.advance(Duration.ofSeconds(5));
        assertThat(probes[0]).isEqualTo(before);
    }

    @Test
    void listener_thatThrows_neverReachesTheCaller() {
        Latitude l = Latitude.builder().topology(CallExecutionTest.topology()).ticker(clock).scheduler(clock)
                .openTelemetry(OpenTelemetry.noop()).hedging(HedgingConfig.disabled())
                .routingPolicy(RoutingPolicy.failover().priority("us-east-1", "us-west-2").build())
                .breaker(BreakerConfig.builder().failureThreshold(1, 1).build())
                .healthListener(new HealthListener() {
                    @Override
                    public void onCircuitStateChange(RegionSpec region, CircuitState from, CircuitState to) {
                        throw new IllegalStateException("listener bug");
                    }
                }).build();
        engines.add(l);
        assertThat(l.executeAsync(READ, down("us-east-1"))).isCompletedWithValue("us-west-2");
        assertThat(circuit(l, "us-east-1")).isEqualTo(CircuitState.OPEN);
    }
}
