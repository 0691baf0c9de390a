package dev.latitude;

import static dev.latitude.RecordingCall.circuit;
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
 * What the circuit breaker counts, seen through {@link Latitude#status()}: slow answers from a warm region, attempts
 * past their timeout that another region beat, and the minimum volume. Two regions in failover order, attempt timeout
 * 500 ms, no hedging.
 */
class SlowCallBreakerTest {
    private static final String A = "us-east-1";
    private static final String B = "us-west-2";
    private static final Operation READ = Operation.read("GetItem").build();

    private final ManualClock clock = new ManualClock();
    private final List<Latitude> engines = new ArrayList<>();

    private Latitude engine(BreakerConfig breaker) {
        Latitude l = Latitude.builder()
                .topology(Topology.builder()
                        .region(RegionSpec.builder(A).writer().build())
                        .region(RegionSpec.builder(B).writer().build())
                        .localRegion(A)
                        .build())
                .routingPolicy(RoutingPolicy.failover().priority(A, B).build())
                .ticker(clock)
                .scheduler(clock)
                .openTelemetry(OpenTelemetry.noop())
                .hedging(HedgingConfig.disabled())
                .attemptTimeout(Duration.ofMillis(500))
                .deadline(Duration.ofSeconds(3))
                .breaker(breaker)
                .build();
        engines.add(l);
        return l;
    }

    @AfterEach
    void close() {
        engines.forEach(Latitude::close);
    }

    /** A call where us-east-1 answers 100 ms after its attempt timeout, before the attempt beside it in us-west-2. */
    private void slowAnswerFromA(Latitude l) {
        RecordingCall call = new RecordingCall();
        CompletableFuture<String> result = l.executeAsync(READ, call);
        clock.advanceMillis(600);
        assertThat(call.regions()).containsExactly(A, B);
        call.attempt(0).complete("a, slow");
        assertThat(result).isCompletedWithValue("a, slow");
    }

    /** A call where us-east-1 runs past its attempt timeout and us-west-2, started beside it, answers first. */
    private void slowAttemptInABeatenByB(Latitude l) {
        RecordingCall call = new RecordingCall();
        CompletableFuture<String> result = l.executeAsync(READ, call);
        clock.advanceMillis(600);
        assertThat(call.regions()).containsExactly(A, B);
        call.attempt(1).complete("b");
        assertThat(result).isCompletedWithValue("b");
        assertThat(call.attempt(0)).isCancelled();
    }

    private static CompletableFuture<String> fastAnswer(Latitude l) {
        return l.executeAsync(READ, region -> CompletableFuture.completedFuture(region.id()));
    }

    /** A call that us-east-1 refuses and us-west-2 serves. */
    private static void failInA(Latitude l) {
        assertThat(l.executeAsync(READ, region -> region.id().equals(A)
                ? CompletableFuture.failedFuture(new ConnectException("refused"))
                : CompletableFuture.completedFuture(region.id()))).isCompletedWithValue(B);
    }

    @Test
    void slowAnswers_areAnswers_neverFailures_whateverTheRegionAnsweredBefore() {
        // One failure of the last three opens, once three were judged: any slow answer counted would open it.
        Latitude l = engine(BreakerConfig.builder().failureThreshold(1, 3).minimumVolume(3, Duration.ofSeconds(10))
                .build());

        for (int i = 0; i < 3; i++) {
            slowAnswerFromA(l); // a cold region's slow first answers
        }
        for (int i = 0; i < 3; i++) {
            assertThat(fastAnswer(l)).isCompletedWithValue(A);
        }
        for (int i = 0; i < 3; i++) {
            slowAnswerFromA(l); // and a warm region's slow answers
        }

        assertThat(circuit(l, A)).as("slow is not dead").isEqualTo(CircuitState.CLOSED);
        assertThat(circuit(l, B)).as("attempts abandoned before their timeout count as nothing")
                .isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void slowAttempt_beatenByAnotherRegion_isNotAFailureIfItsRegionAnsweredSinceItWasSent() {
        Latitude l = engine(BreakerConfig.builder().failureThreshold(1, 1).minimumVolume(1, Duration.ofSeconds(10))
                .build());
        RecordingCall first = new RecordingCall();
        CompletableFuture<String> slow = l.executeAsync(READ, first);
        clock.advanceMillis(600);
        assertThat(first.regions()).containsExactly(A, B);
        assertThat(fastAnswer(l)).as("us-east-1 answers another call meanwhile").isCompletedWithValue(A);

        first.attempt(1).complete("b");

        assertThat(slow).isCompletedWithValue("b");
        assertThat(circuit(l, A)).as("it answered since the slow attempt was sent: alive, only slow")
                .isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void slowAttempt_beatenByAnotherRegion_countsAsFailureEvenWhenCold() {
        Latitude l = engine(BreakerConfig.builder().failureThreshold(3, 5).minimumVolume(3, Duration.ofSeconds(10))
                .build());

        slowAttemptInABeatenByB(l);
        slowAttemptInABeatenByB(l);
        assertThat(circuit(l, A)).isEqualTo(CircuitState.CLOSED);
        slowAttemptInABeatenByB(l);

        assertThat(circuit(l, A)).isEqualTo(CircuitState.OPEN);
        assertThat(circuit(l, B)).isEqualTo(CircuitState.CLOSED);
        assertThat(l.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
    }

    @Test
    void slowAttempt_beatenByAnotherSlowAnswer_isNotAFailure() {
        // One failure opens: a cold JVM whose every region answers past the attempt timeout must not open any.
        Latitude l = engine(BreakerConfig.builder().failureThreshold(1, 1).minimumVolume(1, Duration.ofSeconds(10))
                .build());
        for (int i = 0; i < 3; i++) {
            RecordingCall call = new RecordingCall();
            CompletableFuture<String> result = l.executeAsync(READ, call);
            clock.advanceMillis(500);
            assertThat(call.regions()).containsExactly(A, B);
            clock.advanceMillis(600); // us-west-2 is past its own timeout too
            call.attempt(1).complete("b, slow");

            assertThat(result).isCompletedWithValue("b, slow");
            assertThat(call.attempt(0)).isCancelled();
        }

        assertThat(circuit(l, A)).as("losing to a slow answer proves nothing: the whole path is slow")
                .isEqualTo(CircuitState.CLOSED);
        assertThat(circuit(l, B)).isEqualTo(CircuitState.CLOSED);
        assertThat(l.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
    }

    @Test
    void failures_belowMinimumVolume_doNotOpen() {
        Latitude l = engine(BreakerConfig.builder().failureThreshold(2, 10).minimumVolume(5, Duration.ofSeconds(10))
                .build());

        for (int i = 0; i < 4; i++) {
            failInA(l);
        }
        assertThat(circuit(l, A)).as("4 failures, 4 judged: below the volume of 5").isEqualTo(CircuitState.CLOSED);
        failInA(l);

        assertThat(circuit(l, A)).isEqualTo(CircuitState.OPEN);
    }

    @Test
    void failures_olderThanVolumePeriod_doNotCount() {
        Latitude l = engine(BreakerConfig.builder().failureThreshold(3, 10).minimumVolume(3, Duration.ofSeconds(1))
                .build());
        failInA(l);
        failInA(l);
        clock.advance(Duration.ofMillis(1001));

        assertThat(fastAnswer(l)).isCompletedWithValue(A);
        failInA(l);
        failInA(l);
        assertThat(circuit(l, A)).as("3 judged recently, but only 2 of them failed").isEqualTo(CircuitState.CLOSED);
        failInA(l);

        assertThat(circuit(l, A)).isEqualTo(CircuitState.OPEN);
    }

    @Test
    void failures_withinVolumePeriod_stillCount() {
        Latitude l = engine(BreakerConfig.builder().failureThreshold(3, 10).minimumVolume(3, Duration.ofSeconds(1))
                .build());
        failInA(l);
        failInA(l);
        clock.advance(Duration.ofMillis(1000));

        failInA(l);

        assertThat(circuit(l, A)).as("judged exactly one volume period ago").isEqualTo(CircuitState.OPEN);
    }
}
