package dev.latitude;

import static dev.latitude.RecordingCall.circuit;
import static dev.latitude.RecordingCall.failure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.OpenTelemetry;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A half-open region whose trial permits are all taken is not refused: it is tried last, without a permit, when no
 * other region served the call. The circuit opens after one failure, stays open 5 s and grants 2 trial permits.
 */
class HalfOpenLastResortTest {
    private static final String US = "us-east-1";
    private static final String EU = "eu-west-1";
    /** Data that may live only in the EU: a one-region plan. */
    private static final Operation PINNED = Operation.read("GetProfile").dataClass("gdpr").build();
    private static final Operation READ = Operation.read("GetItem").dataClass("orders").build();

    private final ManualClock clock = new ManualClock();
    private final List<Latitude> engines = new ArrayList<>();

    private Latitude engine() {
        Latitude l = Latitude.builder()
                .topology(Topology.builder()
                        .region(RegionSpec.builder(US).writer().jurisdiction("US").build())
                        .region(RegionSpec.builder(EU).writer().jurisdiction("EU").build())
                        .localRegion(US)
                        .build())
                .routingPolicy(RoutingPolicy.failover().priority(EU, US).build())
                .dataPolicies(DataPolicies.builder()
                        .exact("gdpr", DataPolicy.builder().residency("EU").build())
                        .build())
                .breaker(BreakerConfig.builder().failureThreshold(1, 1).successThreshold(2)
                        .openDelay(Duration.ofSeconds(5)).build())
                .ticker(clock)
                .scheduler(clock)
                .openTelemetry(OpenTelemetry.noop())
                .hedging(HedgingConfig.disabled())
                .attemptTimeout(Duration.ofMillis(500))
                .deadline(Duration.ofSeconds(3))
                .build();
        engines.add(l);
        return l;
    }

    @AfterEach
    void close() {
        engines.forEach(Latitude::close);
    }

    /** Opens eu-west-1's circuit, waits out the open delay, and takes both trial permits with hanging calls. */
    private RecordingCall halfOpenWithoutPermits(Latitude l, Operation op) {
        l.executeAsync(op, region -> region.id().equals(EU)
                ? CompletableFuture.failedFuture(new ConnectException("refused"))
                : CompletableFuture.completedFuture(region.id()));
        assertThat(circuit(l, EU)).isEqualTo(CircuitState.OPEN);
        clock.advance(Duration.ofSeconds(5));
        assertThat(Engines.planIds(l, op).get(0)).as("the planner half-opens it").isEqualTo(EU);
        assertThat(circuit(l, EU)).isEqualTo(CircuitState.HALF_OPEN);
        RecordingCall trials = new RecordingCall();
        CompletableFuture<String> first = l.executeAsync(op, trials);
        CompletableFuture<String> second = l.executeAsync(op, trials);
        assertThat(trials.regions()).as("the two trial calls hold both permits").containsExactly(EU, EU);
        assertThat(first).isNotDone();
        assertThat(second).isNotDone();
        return trials;
    }

    @Test
    void executeAsync_onlyRegionHalfOpenWithoutPermits_isStillCalledAsLastResort() {
        Latitude l = engine();
        RecordingCall trials = halfOpenWithoutPermits(l, PINNED);
        RecordingCall call = new RecordingCall();

        CompletableFuture<String> result = l.executeAsync(PINNED, call);

        assertThat(call.regions()).as("sent without a permit instead of failing").containsExactly(EU);
        assertThat(result).isNotDone();
        call.attempt(0).complete("profile");
        assertThat(result).isCompletedWithValue("profile");
        assertThat(trials.attempt(0)).isNotDone();
    }

    @Test
    void executeAsync_onlyRegionHalfOpenWithoutPermits_lastResortFailureIsReportedNotCircuitOpen() {
        Latitude l = engine();
        halfOpenWithoutPermits(l, PINNED);
        RecordingCall call = new RecordingCall();

        CompletableFuture<String> result = l.executeAsync(PINNED, call);
        call.attempt(0).completeExceptionally(new ConnectException("refused"));

        Throwable t = failure(result);
        assertThat(t).isInstanceOf(LatitudeCallException.class);
        assertThat(((LatitudeCallException) t).attempts()).extracting(AttemptRecord::failure)
                .containsExactly(FailureKind.REGION_UNAVAILABLE);
    }

    @Test
    void executeAsync_halfOpenWithoutPermitsAndAnotherRegionMayServe_otherRegionIsUsedFirst() {
        Latitude l = engine();
        halfOpenWithoutPermits(l, READ);
        RecordingCall call = new RecordingCall();

        CompletableFuture<String> result = l.executeAsync(READ, call);

        assertThat(call.regions()).containsExactly(US);
        call.attempt(0).complete("us");
        assertThat(result).isCompletedWithValue("us");
        assertThat(circuit(l, EU)).isEqualTo(CircuitState.HALF_OPEN);
    }

    @Test
    void executeAsync_halfOpenWithoutPermitsAndOtherRegionFails_halfOpenRegionIsTriedLast() {
        Latitude l = engine();
        halfOpenWithoutPermits(l, READ);
        RecordingCall call = new RecordingCall();

        CompletableFuture<String> result = l.executeAsync(READ, call);
        call.attempt(0).completeExceptionally(new ConnectException("refused"));

        assertThat(call.regions()).containsExactly(US, EU);
        call.attempt(1).complete("eu");
        assertThat(result).isCompletedWithValue("eu");
    }
}
