package dev.latitude;

import static dev.latitude.RecordingCall.circuit;
import static dev.latitude.RecordingCall.status;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.spi.HealthProbe;
import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.OpenTelemetry;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Probes act through the circuit: with {@code unhealthyOnly} only regions that are not healthy are probed, and their
 * successes half-open the circuit early; a probe that never answers marks a region down but cannot keep it out longer
 * than the breaker's open delay. Probes every 1 s with a 200 ms timeout; the circuit opens after one failure and stays
 * open 30 s (or 5 s where the test says so).
 */
class ProbeRecoveryTest {
    private static final String A = "us-east-1";
    private static final String B = "us-west-2";
    private static final String C = "eu-west-1";
    private static final Operation READ = Operation.read("GetItem").build();

    private final ManualClock clock = new ManualClock();
    private final List<Latitude> engines = new ArrayList<>();
    private final Map<String, Integer> probes = new ConcurrentHashMap<>();

    private Latitude engine(HealthProbe probe, ProbeConfig probeConfig, Duration openDelay) {
        Latitude l = Latitude.builder()
                .topology(Topology.builder()
                        .region(RegionSpec.builder(A).writer().build())
                        .region(RegionSpec.builder(B).writer().build())
                        .region(RegionSpec.builder(C).writer().build())
                        .localRegion(A)
                        .build())
                .routingPolicy(RoutingPolicy.failover().priority(A, B, C).build())
                .breaker(BreakerConfig.builder().failureThreshold(1, 1).successThreshold(1).openDelay(openDelay)
                        .build())
                .healthProbe(probe, probeConfig)
                .ticker(clock)
                .scheduler(clock)
                .openTelemetry(OpenTelemetry.noop())
                .hedging(HedgingConfig.disabled())
                .build();
        engines.add(l);
        return l;
    }

    @AfterEach
    void close() {
        engines.forEach(Latitude::close);
    }

    /** A probe that counts its invocations per region and always answers. */
    private HealthProbe countingProbe() {
        return region -> {
            probes.merge(region.id(), 1, Integer::sum);
            return CompletableFuture.completedFuture(null);
        };
    }

    private int probesOf(String region) {
        return probes.getOrDefault(region, 0);
    }

    private static ProbeConfig.Builder probeConfig() {
        return ProbeConfig.builder().interval(Duration.ofSeconds(1)).timeout(Duration.ofMillis(200))
                .failureThreshold(1).successThreshold(2);
    }

    private static void failInA(Latitude l) {
        assertThat(l.executeAsync(READ, region -> region.id().equals(A)
                ? CompletableFuture.failedFuture(new ConnectException("refused"))
                : CompletableFuture.completedFuture(region.id()))).isCompletedWithValue(B);
    }

    private static CompletableFuture<String> answer(Latitude l) {
        return l.executeAsync(READ, region -> CompletableFuture.completedFuture(region.id()));
    }

    @Test
    void unhealthyOnly_healthyRegions_areNeverProbed() {
        Latitude l = engine(countingProbe(), probeConfig().unhealthyOnly(true).build(), Duration.ofSeconds(30));

        clock.advance(Duration.ofSeconds(10));

        assertThat(probes).isEmpty();
        assertThat(l.status()).allSatisfy(s -> assertThat(s.probe()).isEqualTo(ProbeState.UNKNOWN));
    }

    @Test
    void unhealthyOnly_regionWithOpenCircuit_isProbedEveryIntervalAndHalfOpenedBySuccesses() {
        Latitude l = engine(countingProbe(), probeConfig().unhealthyOnly(true).build(), Duration.ofSeconds(30));
        clock.advance(Duration.ofSeconds(5));
        failInA(l);
        assertThat(circuit(l, A)).isEqualTo(CircuitState.OPEN);

        clock.advance(Duration.ofSeconds(1));
        assertThat(probesOf(A)).isEqualTo(1);
        assertThat(circuit(l, A)).as("one success of the two needed").isEqualTo(CircuitState.OPEN);
        clock.advance(Duration.ofSeconds(1));

        assertThat(probesOf(A)).isEqualTo(2);
        assertThat(status(l, A).probe()).isEqualTo(ProbeState.UP);
        assertThat(circuit(l, A)).as("2 s after opening, long before the 30 s open delay")
                .isEqualTo(CircuitState.HALF_OPEN);
        assertThat(Engines.planIds(l, READ).get(0)).isEqualTo(A);
        assertThat(probesOf(B)).isZero();
        assertThat(probesOf(C)).isZero();
    }

    @Test
    void unhealthyOnly_regionClosedAgainByTrialCall_isNoLongerProbed() {
        Latitude l = engine(countingProbe(), probeConfig().unhealthyOnly(true).build(), Duration.ofSeconds(30));
        failInA(l);
        clock.advance(Duration.ofSeconds(2));
        assertThat(circuit(l, A)).isEqualTo(CircuitState.HALF_OPEN);
        assertThat(answer(l)).isCompletedWithValue(A);
        assertThat(circuit(l, A)).isEqualTo(CircuitState.CLOSED);
        int probed = probesOf(A);

        clock.advance(Duration.ofSeconds(10));

        assertThat(probesOf(A)).isEqualTo(probed);
        assertThat(probesOf(B)).isZero();
    }

    @Test
    void probeThatNeverAnswers_marksRegionDown_butCircuitHalfOpensAfterOpenDelayAndTrialsBringItBack() {
        HealthProbe probe = region -> region.id().equals(A)
                ? new CompletableFuture<>()
                : CompletableFuture.completedFuture(null);
        Latitude l = engine(probe, probeConfig().build(), Duration.ofSeconds(5));
        clock.advance(Duration.ofMillis(200)); // the first probe of us-east-1 times out
        assertThat(status(l, A).probe()).isEqualTo(ProbeState.DOWN);
        assertThat(circuit(l, A)).isEqualTo(CircuitState.OPEN);
        assertThat(Engines.planIds(l, READ)).containsExactly(B, C, A);

        clock.advance(Duration.ofMillis(4999));
        assertThat(Engines.planIds(l, READ).get(0)).as("still within the open delay").isEqualTo(B);
        clock.advance(Duration.ofMillis(1));

        assertThat(Engines.planIds(l, READ).get(0)).isEqualTo(A);
        assertThat(circuit(l, A)).isEqualTo(CircuitState.HALF_OPEN);
        assertThat(answer(l)).as("a trial call decides").isCompletedWithValue(A);
        assertThat(circuit(l, A)).isEqualTo(CircuitState.CLOSED);
        clock.advance(Duration.ofSeconds(5)); // more probes of us-east-1 time out
        assertThat(status(l, A).probe()).isEqualTo(ProbeState.DOWN);
        assertThat(circuit(l, A)).as("a probe that stays down does not reopen it").isEqualTo(CircuitState.CLOSED);
        assertThat(answer(l)).isCompletedWithValue(A);
    }

    @Test
    void unhealthyOnly_probeThatNeverAnswers_regionBackAfterOpenDelayWithoutTheProbe() {
        HealthProbe probe = region -> {
            probes.merge(region.id(), 1, Integer::sum);
            return new CompletableFuture<>();
        };
        Latitude l = engine(probe, probeConfig().unhealthyOnly(true).build(), Duration.ofSeconds(5));
        failInA(l);
        clock.advance(Duration.ofMillis(500));
        assertThat(probesOf(A)).as("probed once its circuit opened").isEqualTo(1);
        assertThat(status(l, A).probe()).isEqualTo(ProbeState.DOWN);
        assertThat(circuit(l, A)).isEqualTo(CircuitState.OPEN);

        clock.advance(Duration.ofMillis(4500));

        assertThat(Engines.planIds(l, READ).get(0)).isEqualTo(A);
        assertThat(answer(l)).isCompletedWithValue(A);
        assertThat(circuit(l, A)).isEqualTo(CircuitState.CLOSED);
        clock.advance(Duration.ofSeconds(3));
        assertThat(circuit(l, A)).isEqualTo(CircuitState.CLOSED);
        assertThat(probesOf(B)).isZero();
    }

    @Test
    void eachOutage_needsItsOwnRunOfProbeSuccessesBeforeTrialCalls() {
        Latitude l = engine(countingProbe(), probeConfig().unhealthyOnly(true).build(), Duration.ofSeconds(30));
        failInA(l);
        clock.advance(Duration.ofSeconds(2));
        assertThat(answer(l)).isCompletedWithValue(A);
        assertThat(circuit(l, A)).isEqualTo(CircuitState.CLOSED);

        failInA(l); // a second outage: the probe verdict is still UP from the first
        clock.advance(Duration.ofSeconds(1));
        assertThat(circuit(l, A)).as("one probe success of the two needed").isEqualTo(CircuitState.OPEN);
        clock.advance(Duration.ofSeconds(1));
        assertThat(circuit(l, A)).isEqualTo(CircuitState.HALF_OPEN);
    }

    @Test
    void idleHalfOpenRegion_staysHalfOpenInsteadOfFlapping() {
        List<String> transitions = new ArrayList<>();
        Latitude l = Latitude.builder()
                .topology(Topology.builder()
                        .region(RegionSpec.builder(A).writer().build())
                        .region(RegionSpec.builder(B).writer().build())
                        .region(RegionSpec.builder(C).writer().build())
                        .localRegion(A)
                        .build())
                .routingPolicy(RoutingPolicy.failover().priority(A, B, C).build())
                .breaker(BreakerConfig.builder().failureThreshold(1, 1).successThreshold(1)
                        .openDelay(Duration.ofSeconds(5)).build())
                .healthProbe(countingProbe(), probeConfig().unhealthyOnly(true).build())
                .healthListener(new HealthListener() {
                    @Override
                    public void onCircuitStateChange(RegionSpec region, CircuitState from, CircuitState to) {
                        transitions.add(region.id() + " " + from + "->" + to);
                    }
                })
                .ticker(clock)
                .scheduler(clock)
                .openTelemetry(OpenTelemetry.noop())
                .hedging(HedgingConfig.disabled())
                .build();
        engines.add(l);
        // C, last in failover order, fails once (A and B refuse too), then gets no traffic: A serves everything.
        l.executeAsync(READ, region -> CompletableFuture.failedFuture(new ConnectException("refused")));
        clock.advance(Duration.ofSeconds(2));
        for (int i = 0; i < 30; i++) {
            assertThat(answer(l)).isCompletedWithValue(A);
            clock.advance(Duration.ofSeconds(1));
        }

        assertThat(circuit(l, C)).isEqualTo(CircuitState.HALF_OPEN);
        assertThat(transitions.stream().filter(t -> t.startsWith(C))).as("no open/half-open flapping for C")
                .containsExactly(C + " CLOSED->OPEN", C + " OPEN->HALF_OPEN");
    }
}
