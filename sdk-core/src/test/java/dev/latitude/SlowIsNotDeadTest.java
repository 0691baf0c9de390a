package dev.latitude;

import static dev.latitude.RecordingCall.failure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An attempt timeout stops waiting only for that region: the next region starts beside the slow attempt when the call
 * may go elsewhere, and otherwise the slow attempt keeps its chance until the deadline. Writes whose outcome is
 * unknown end in {@link AmbiguousWriteException}. Attempt timeout 500 ms, deadline 3 s, no hedging.
 */
class SlowIsNotDeadTest {
    private static final String EAST = "us-east-1";
    private static final String WEST = "us-west-2";
    private static final String EU = "eu-west-1";

    private final ManualClock clock = new ManualClock();
    private final List<Latitude> engines = new ArrayList<>();
    private final RecordingCall call = new RecordingCall();

    /** Three writer regions; "gdpr" lives only in the EU (one region), "us-orders" only in the US (two regions). */
    private static Topology threeWriters() {
        return Topology.builder()
                .region(RegionSpec.builder(EAST).writer().jurisdiction("US").build())
                .region(RegionSpec.builder(WEST).writer().jurisdiction("US").build())
                .region(RegionSpec.builder(EU).writer().jurisdiction("EU").build())
                .localRegion(EAST)
                .build();
    }

    /** One writer (us-east-1); the other regions only serve reads. */
    private static Topology singleWriter() {
        return Topology.builder()
                .region(RegionSpec.builder(EAST).writer().jurisdiction("US").build())
                .region(RegionSpec.builder(WEST).roles(RegionRole.READER).jurisdiction("US").build())
                .region(RegionSpec.builder(EU).roles(RegionRole.READER).jurisdiction("EU").build())
                .localRegion(EAST)
                .build();
    }

    private Latitude engine(Topology topology, DataPolicies policies) {
        return engine(topology, policies, b -> { });
    }

    private Latitude engine(Topology topology, DataPolicies policies, Consumer<Latitude.Builder> settings) {
        Latitude.Builder b = Latitude.builder()
                .topology(topology)
                .routingPolicy(RoutingPolicy.failover().priority(EAST, WEST, EU).build())
                .dataPolicies(policies)
                .ticker(clock)
                .scheduler(clock)
                .openTelemetry(OpenTelemetry.noop())
                .hedging(HedgingConfig.disabled())
                .attemptTimeout(Duration.ofMillis(500))
                .deadline(Duration.ofSeconds(3));
        settings.accept(b);
        Latitude l = b.build();
        engines.add(l);
        return l;
    }

    private Latitude engine() {
        return engine(threeWriters(), DataPolicies.builder()
                .exact("gdpr", DataPolicy.builder().residency("EU").build())
                .exact("us-orders", DataPolicy.builder().residency("US").build())
                .build());
    }

    @AfterEach
    void close() {
        engines.forEach(Latitude::close);
    }

    private static Operation read(String dataClass) {
        return Operation.read("GetItem").dataClass(dataClass).build();
    }

    private static Operation write(String dataClass, boolean idempotent) {
        return Operation.write(idempotent ? "PutItem" : "UpdateItem").dataClass(dataClass).idempotent(idempotent)
                .build();
    }

    // Rule 1: an idempotent read past its attempt timeout, with another region to go to.

    @Test
    void executeAsync_readPastAttemptTimeout_nextRegionStartsBesideAndItsAnswerWins() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read("orders"), call);

        clock.advanceMillis(499);
        assertThat(call.regions()).containsExactly(EAST);
        clock.advanceMillis(1);

        assertThat(call.regions()).containsExactly(EAST, WEST);
        assertThat(call.attempt(0)).as("the slow attempt is not cancelled").isNotDone();
        assertThat(result).isNotDone();
        call.attempt(1).complete("west");
        assertThat(result).isCompletedWithValue("west");
        assertThat(call.attempt(0)).as("the loser is cancelled").isCancelled();
        assertThat(l.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
    }

    /**
     * Region clients that cut every request at the attempt timeout (the DynamoDB clients) turn a slow attempt into an
     * ambiguous failure at that moment. Such a cut is judged like an attempt the call stopped waiting for: not a
     * failure of a region that has answered since it was sent (a cold start), a failure of one that has not.
     */
    @Test
    void attemptCutByItsClientAtTheAttemptTimeout_chargedOnlyIfTheRegionHasNotAnsweredSince() {
        Latitude l = engine(threeWriters(), DataPolicies.builder().build(),
                b -> b.breaker(BreakerConfig.builder().failureThreshold(1, 1).minimumVolume(1, Duration.ofSeconds(10))
                        .build()));
        CompletableFuture<String> slow = l.executeAsync(read("orders"), call);
        clock.advanceMillis(10);
        CompletableFuture<String> quick = l.executeAsync(read("orders"), call);
        call.attempt(1).complete("east answers, slowly but within its timeout");
        assertThat(quick).isDone();

        clock.advanceMillis(490); // the first call's attempt timeout: its client cuts the request
        call.attempt(0).completeExceptionally(new IOException("cut by the client's attempt timeout"));

        assertThat(l.status()).filteredOn(s -> s.region().id().equals(EAST))
                .allSatisfy(s -> assertThat(s.circuit()).as("east answered since").isEqualTo(CircuitState.CLOSED));
        call.attempt(2).complete("west");
        assertThat(slow).isCompletedWithValue("west");

        // Now east answers nothing: the next cut is a failure.
        CompletableFuture<String> again = l.executeAsync(read("orders"), call);
        clock.advanceMillis(500);
        call.attempt(3).completeExceptionally(new IOException("cut by the client's attempt timeout"));
        assertThat(l.status()).filteredOn(s -> s.region().id().equals(EAST))
                .allSatisfy(s -> assertThat(s.circuit()).isEqualTo(CircuitState.OPEN));
        call.attempt(4).complete("west");
        assertThat(again).isCompletedWithValue("west");
    }

    @Test
    void executeAsync_readPastAttemptTimeout_slowAttemptAnswersFirstAndWins() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read("orders"), call);
        clock.advanceMillis(600);
        assertThat(call.regions()).containsExactly(EAST, WEST);

        call.attempt(0).complete("east, late");

        assertThat(result).isCompletedWithValue("east, late");
        assertThat(call.attempt(1)).as("the attempt beside it is cancelled").isCancelled();
        assertThat(l.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
    }

    @Test
    void executeAsync_secondAttemptWithinItsTimeout_noThirdRegionUntilItTimesOutToo() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read("orders"), call);
        clock.advanceMillis(500);
        clock.advanceMillis(499);
        assertThat(call.regions()).as("us-west-2 is still within its own timeout").containsExactly(EAST, WEST);

        clock.advanceMillis(1);

        assertThat(call.regions()).containsExactly(EAST, WEST, EU);
        assertThat(call.attempt(0)).isNotDone();
        assertThat(call.attempt(1)).isNotDone();
        call.attempt(0).complete("east, very late");
        assertThat(result).isCompletedWithValue("east, very late");
        assertThat(call.attempt(1)).isCancelled();
        assertThat(call.attempt(2)).isCancelled();
    }

    @Test
    void executeAsync_attemptBesideSlowOneFails_slowAttemptKeepsItsChance() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read("us-orders"), call);
        clock.advanceMillis(500);
        assertThat(call.regions()).containsExactly(EAST, WEST);

        call.attempt(1).completeExceptionally(new ConnectException("refused"));

        assertThat(result).as("the plan ran out but the slow attempt still runs").isNotDone();
        assertThat(call.attempt(0)).isNotDone();
        clock.advanceMillis(2000);
        call.attempt(0).complete("east, late");
        assertThat(result).isCompletedWithValue("east, late");
    }

    // Rule 2: the last region the call may use.

    @Test
    void executeAsync_readPinnedToOneRegionPastTimeout_nothingElseStartsAndLateAnswerWins() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read("gdpr"), call);

        clock.advanceMillis(500);
        assertThat(call.regions()).containsExactly(EU);
        assertThat(call.attempt(0)).as("the only region keeps running").isNotDone();
        clock.advanceMillis(2499);
        assertThat(call.regions()).containsExactly(EU);
        assertThat(result).isNotDone();

        call.attempt(0).complete("eu, late");
        assertThat(result).isCompletedWithValue("eu, late");
    }

    @Test
    void executeAsync_readPinnedToOneRegionStillRunningAtDeadline_residencyException() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read("gdpr"), call);
        clock.advanceMillis(2999);
        assertThat(result).isNotDone();

        clock.advanceMillis(1);

        Throwable t = failure(result);
        assertThat(t).as("residency is why nothing else was tried").isExactlyInstanceOf(ResidencyException.class);
        ResidencyException e = (ResidencyException) t;
        assertThat(e.attempts()).extracting(AttemptRecord::region).containsExactly(EU);
        assertThat(e.attempts()).extracting(AttemptRecord::failure).containsExactly(FailureKind.TIMEOUT);
        assertThat(call.attempt(0)).isCancelled();
        assertThat(call.regions()).containsExactly(EU);
    }

    @Test
    void executeAsync_readWhoseLastPlannedRegionIsSlow_itsLateAnswerWins() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read("orders"), call);
        call.attempt(0).completeExceptionally(new ConnectException("refused"));
        call.attempt(1).completeExceptionally(new ConnectException("refused"));
        assertThat(call.regions()).containsExactly(EAST, WEST, EU);

        clock.advanceMillis(2900);

        assertThat(call.regions()).containsExactly(EAST, WEST, EU);
        assertThat(call.attempt(2)).isNotDone();
        call.attempt(2).complete("eu, late");
        assertThat(result).isCompletedWithValue("eu, late");
    }

    @Test
    void executeAsync_nonIdempotentWritePinnedToOneRegionAtDeadline_isAmbiguous() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(write("gdpr", false), call);
        clock.advanceMillis(500);
        assertThat(call.attempt(0)).isNotDone();

        clock.advanceMillis(2500);

        Throwable t = failure(result);
        assertThat(t).isExactlyInstanceOf(AmbiguousWriteException.class)
                .hasMessageContaining("may or may not have been applied").hasMessageContaining("deadline");
        assertThat(((AmbiguousWriteException) t).region()).isEqualTo(EU);
        assertThat(call.regions()).containsExactly(EU);
        assertThat(call.attempt(0)).isCancelled();
    }

    @Test
    void executeAsync_idempotentWritePinnedToOneRegion_nothingElseStartsAndDeadlineIsAmbiguous() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(write("gdpr", true), call);
        clock.advanceMillis(2999);
        assertThat(call.regions()).containsExactly(EU);
        assertThat(call.attempt(0)).isNotDone();

        clock.advanceMillis(1);

        Throwable t = failure(result);
        assertThat(t).as("it may have been applied: never 'regions unavailable'")
                .isExactlyInstanceOf(AmbiguousWriteException.class);
        assertThat(((AmbiguousWriteException) t).region()).isEqualTo(EU);
        assertThat(((AmbiguousWriteException) t).attempts()).extracting(AttemptRecord::failure)
                .containsExactly(FailureKind.TIMEOUT);
    }

    @Test
    void executeAsync_idempotentWriteToSingleWriterPastTimeout_nothingElseStartsAndLateAnswerWins() {
        Latitude l = engine(singleWriter(), DataPolicies.defaults());
        CompletableFuture<String> result = l.executeAsync(write("orders", true), call);
        clock.advanceMillis(2500);
        assertThat(call.regions()).containsExactly(EAST);
        assertThat(call.attempt(0)).isNotDone();

        call.attempt(0).complete("written, late");

        assertThat(result).isCompletedWithValue("written, late");
    }

    @Test
    void executeAsync_writesToSingleWriterStillRunningAtDeadline_areAmbiguous() {
        Latitude l = engine(singleWriter(), DataPolicies.defaults());
        RecordingCall other = new RecordingCall();
        CompletableFuture<String> idempotent = l.executeAsync(write("orders", true), call);
        CompletableFuture<String> nonIdempotent = l.executeAsync(write("orders", false), other);

        clock.advanceMillis(3000);

        assertThat(failure(idempotent)).isExactlyInstanceOf(AmbiguousWriteException.class);
        assertThat(failure(nonIdempotent)).isExactlyInstanceOf(AmbiguousWriteException.class);
        assertThat(call.regions()).containsExactly(EAST);
        assertThat(other.regions()).containsExactly(EAST);
    }

    // Rule 3: a non-idempotent write.

    @Test
    void executeAsync_nonIdempotentWritePastTimeout_neverStartsSecondRegion() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(write("orders", false), call);

        clock.advanceMillis(2999);

        assertThat(call.regions()).containsExactly(EAST);
        assertThat(call.attempt(0)).isNotDone();
        call.attempt(0).complete("applied");
        assertThat(result).isCompletedWithValue("applied");
    }

    @Test
    void executeAsync_nonIdempotentWriteFailsAmbiguouslyAfterTimeout_ambiguousWithoutSecondRegion() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(write("orders", false), call);
        clock.advanceMillis(800);
        IOException reset = new IOException("connection reset");

        call.attempt(0).completeExceptionally(reset);

        Throwable t = failure(result);
        assertThat(t).isExactlyInstanceOf(AmbiguousWriteException.class);
        assertThat(((AmbiguousWriteException) t).region()).isEqualTo(EAST);
        assertThat(t.getCause()).isSameAs(reset);
        assertThat(call.regions()).containsExactly(EAST);
    }

    @Test
    void executeAsync_nonIdempotentWriteRefusedAfterTimeout_movesToNextRegion() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(write("orders", false), call);
        clock.advanceMillis(800);
        assertThat(call.regions()).containsExactly(EAST);

        call.attempt(0).completeExceptionally(new ConnectException("refused"));

        assertThat(call.regions()).as("refused: certainly not applied").containsExactly(EAST, WEST);
        call.attempt(1).complete("written in west");
        assertThat(result).isCompletedWithValue("written in west");
    }

    @Test
    void executeAsync_nonIdempotentWriteMovedOnThenSlowAgain_doesNotMoveAgainOnTimeout() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(write("orders", false), call);
        call.attempt(0).completeExceptionally(new ConnectException("refused"));
        assertThat(call.regions()).containsExactly(EAST, WEST);

        clock.advanceMillis(2999);

        assertThat(call.regions()).containsExactly(EAST, WEST);
        clock.advanceMillis(1);
        Throwable t = failure(result);
        assertThat(t).isExactlyInstanceOf(AmbiguousWriteException.class);
        assertThat(((AmbiguousWriteException) t).region()).isEqualTo(WEST);
    }

    // Rule 4: an idempotent write whose first attempt's outcome is unknown.

    @Test
    void executeAsync_idempotentWriteAmbiguousThenRefusedAndNothingLeft_isAmbiguousNamingFirstRegion() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(write("us-orders", true), call);

        IOException reset = new IOException("connection reset");
        call.attempt(0).completeExceptionally(reset);
        assertThat(call.regions()).as("idempotent: it may go elsewhere").containsExactly(EAST, WEST);
        call.attempt(1).completeExceptionally(new ConnectException("refused"));

        Throwable t = failure(result);
        assertThat(t).as("it may have been applied in us-east-1").isExactlyInstanceOf(AmbiguousWriteException.class);
        AmbiguousWriteException e = (AmbiguousWriteException) t;
        assertThat(e.region()).isEqualTo(EAST);
        assertThat(e.getCause()).as("the failure in the region where it may have been applied").isSameAs(reset);
        assertThat(e.attempts()).extracting(AttemptRecord::region).containsExactly(EAST, WEST);
        assertThat(e.attempts()).extracting(AttemptRecord::failure)
                .containsExactly(FailureKind.AMBIGUOUS, FailureKind.REGION_UNAVAILABLE);
        assertThat(e.getMessage()).contains("may or may not have been applied");
    }

    @Test
    void executeAsync_idempotentWriteAmbiguousThenEveryOtherRegionRefuses_isAmbiguous() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(write("orders", true), call);

        call.attempt(0).completeExceptionally(new IOException("connection reset"));
        call.attempt(1).completeExceptionally(new ConnectException("refused"));
        call.attempt(2).completeExceptionally(new ConnectException("refused"));

        Throwable t = failure(result);
        assertThat(t).isExactlyInstanceOf(AmbiguousWriteException.class);
        assertThat(((AmbiguousWriteException) t).region()).isEqualTo(EAST);
        assertThat(call.regions()).containsExactly(EAST, WEST, EU);
    }

    @Test
    void executeAsync_idempotentWriteRefusedEverywhere_isRegionsUnavailable() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(write("orders", true), call);

        call.attempt(0).completeExceptionally(new ConnectException("refused"));
        call.attempt(1).completeExceptionally(new ConnectException("refused"));
        call.attempt(2).completeExceptionally(new ConnectException("refused"));

        assertThat(failure(result)).as("certainly applied nowhere")
                .isExactlyInstanceOf(RegionsUnavailableException.class);
    }

    // The limit on fallbacks beside slow attempts.

    @Test
    void executeAsync_slowFallbackLimitReached_callKeepsWaitingAndAsksAgainOneAttemptTimeoutLater() {
        Latitude l = engine(threeWriters(), DataPolicies.defaults(), b -> b.slowFallbackLimit(0.2, 1));
        RecordingCall other = new RecordingCall();
        CompletableFuture<String> r1 = l.executeAsync(read("orders"), call);
        CompletableFuture<String> r2 = l.executeAsync(read("orders"), other);

        clock.advanceMillis(500);

        // Two calls in flight: 20 % of them is less than one, so the minimum of one fallback applies.
        RecordingCall got = call.regions().size() == 2 ? call : other;
        RecordingCall waits = got == call ? other : call;
        assertThat(got.regions()).containsExactly(EAST, WEST);
        assertThat(waits.regions()).as("put off: the limit is reached").containsExactly(EAST);
        got.attempt(1).complete("west");
        clock.advanceMillis(499);
        assertThat(waits.regions()).as("asks again only one attempt timeout later").containsExactly(EAST);
        clock.advanceMillis(1);
        assertThat(waits.regions()).containsExactly(EAST, WEST);
        waits.attempt(1).complete("west");

        assertThat(r1).isCompletedWithValue("west");
        assertThat(r2).isCompletedWithValue("west");
        assertThat(l.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
    }

    @Test
    void executeAsync_slowFallbackLimitOfZero_failuresStillFallBackAtOnce() {
        Latitude l = engine(threeWriters(), DataPolicies.defaults(), b -> b.slowFallbackLimit(0.01, 0));
        CompletableFuture<String> result = l.executeAsync(read("orders"), call);
        clock.advanceMillis(1000);
        assertThat(call.regions()).as("no fallback beside the slow attempt").containsExactly(EAST);

        call.attempt(0).completeExceptionally(new ConnectException("refused"));

        assertThat(call.regions()).as("the failed attempt holds nothing: fall back at once").containsExactly(EAST, WEST);
        call.attempt(1).complete("west");
        assertThat(result).isCompletedWithValue("west");
    }

    @Test
    void slowFallbackLimit_outOfRange_namesTheSettingAndAFix() {
        assertThatThrownBy(() -> Latitude.builder().slowFallbackLimit(0, 10))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("slowFallbackLimit")
                .hasMessageContaining("0.2");
        assertThatThrownBy(() -> Latitude.builder().slowFallbackLimit(0.2, -1))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("minimum -1");
        assertThatThrownBy(() -> Latitude.builder().slowFallbackLimit(0.2, 10).slowFallbackLimit(0.2, 10))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("set twice");
    }
}
