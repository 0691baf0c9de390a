package dev.latitude;

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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The executor of calls: fallback order, timeouts, deadlines, ambiguous writes, hedging and cancellation. */
class CallExecutionTest {
    private final ManualClock clock = new ManualClock();
    private final List<Latitude> engines = new ArrayList<>();
    private final Recorder recorder = new Recorder();

    /** Records each attempt's region and hands the test a future to complete. */
    static final class Recorder implements AsyncRegionCall<String> {
        final List<String> regions = new ArrayList<>();
        final List<CompletableFuture<String>> futures = new ArrayList<>();

        @Override
        public synchronized CompletableFuture<String> call(RegionSpec region) {
            regions.add(region.id());
            CompletableFuture<String> f = new CompletableFuture<>();
            futures.add(f);
            return f;
        }

        synchronized CompletableFuture<String> attempt(int i) {
            return futures.get(i);
        }

        synchronized List<String> regions() {
            return List.copyOf(regions);
        }
    }

    static Topology topology() {
        return Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder("us-west-2").writer().jurisdiction("US").location(45.8, -119.7).build())
                .region(RegionSpec.builder("eu-west-1").writer().jurisdiction("EU").location(53.35, -6.26).build())
                .localRegion("us-east-1")
                .build();
    }

    private Latitude engine(Consumer<Latitude.Builder> custom) {
        Latitude.Builder b = Latitude.builder()
                .topology(topology())
                .routingPolicy(RoutingPolicy.failover().priority("us-east-1", "us-west-2", "eu-west-1").build())
                .ticker(clock)
                .scheduler(clock)
                .openTelemetry(OpenTelemetry.noop())
                .attemptTimeout(Duration.ofMillis(500))
                .deadline(Duration.ofSeconds(3));
        custom.accept(b);
        Latitude l = b.build();
        engines.add(l);
        return l;
    }

    private Latitude engine() {
        return engine(b -> b.hedging(HedgingConfig.disabled()));
    }

    @AfterEach
    void close() {
        engines.forEach(Latitude::close);
    }

    private static Operation read() {
        return Operation.read("GetItem").dataClass("orders").build();
    }

    private static Throwable failure(CompletableFuture<?> f) {
        assertThat(f).isCompletedExceptionally();
        try {
            f.getNow(null);
            throw new AssertionError("not failed");
        } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
            return e.getCause() != null ? e.getCause() : e;
        }
    }

    @Test
    void executeAsync_firstRegionAnswers_onlyFirstRegionCalled() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        recorder.attempt(0).complete("ok");
        assertThat(result).isCompletedWithValue("ok");
        assertThat(recorder.regions()).containsExactly("us-east-1");
        assertThat(clock.pendingTasks()).as("attempt timeout and deadline timers are cancelled").isZero();
    }

    @Test
    void executeAsync_regionUnavailable_fallsBackInPlanOrder() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        recorder.attempt(0).completeExceptionally(new ConnectException("refused"));
        recorder.attempt(1).completeExceptionally(new ConnectException("refused"));
        recorder.attempt(2).complete("from eu");
        assertThat(result).isCompletedWithValue("from eu");
        assertThat(recorder.regions()).containsExactly("us-east-1", "us-west-2", "eu-west-1");
    }

    @Test
    void executeAsync_callerError_returnedAsIsWithoutFallback() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        IllegalArgumentException bad = new IllegalArgumentException("validation failed");
        recorder.attempt(0).completeExceptionally(bad);
        assertThat(failure(result)).isSameAs(bad);
        assertThat(recorder.regions()).containsExactly("us-east-1");
    }

    @Test
    void executeAsync_attemptTimesOut_nextRegionStartsBesideIt_andItsAnswerWins() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        clock.advanceMillis(499);
        assertThat(recorder.regions()).containsExactly("us-east-1");
        clock.advanceMillis(1);
        assertThat(recorder.attempt(0)).as("slow is not dead: the first attempt keeps running").isNotDone();
        assertThat(recorder.regions()).containsExactly("us-east-1", "us-west-2");
        recorder.attempt(1).complete("west");
        assertThat(result).isCompletedWithValue("west");
        assertThat(recorder.attempt(0)).as("the loser is cancelled").isCancelled();
    }

    @Test
    void executeAsync_attemptTimesOut_theSlowAttemptStillWinsIfItAnswersFirst() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        clock.advanceMillis(700);
        assertThat(recorder.regions()).containsExactly("us-east-1", "us-west-2");
        recorder.attempt(0).complete("east, late");
        assertThat(result).isCompletedWithValue("east, late");
        assertThat(recorder.attempt(1)).isCancelled();
    }

    @Test
    void executeAsync_attemptTimesOut_noExtraAttemptInARegionThatIsItselfSlow_untilItRecovers() {
        Latitude l = engine();
        CompletableFuture<String> first = l.executeAsync(read(), recorder);
        clock.advanceMillis(500);
        assertThat(recorder.regions()).containsExactly("us-east-1", "us-west-2");
        clock.advanceMillis(500); // us-west-2 is slow too: eu-west-1 is tried beside both
        assertThat(recorder.regions()).containsExactly("us-east-1", "us-west-2", "eu-west-1");

        CompletableFuture<String> second = l.executeAsync(read(), recorder);
        clock.advanceMillis(500);
        assertThat(recorder.regions()).as("us-west-2's only attempt is slow: a cold or stalled region gets no more")
                .containsExactly("us-east-1", "us-west-2", "eu-west-1", "us-east-1");

        recorder.attempt(1).complete("west");
        assertThat(first).isCompletedWithValue("west");
        clock.advanceMillis(500); // looked at again one attempt timeout later: us-west-2 is no longer slow
        assertThat(recorder.regions()).containsExactly("us-east-1", "us-west-2", "eu-west-1", "us-east-1",
                "us-west-2");
        recorder.attempt(4).complete("west again");
        assertThat(second).isCompletedWithValue("west again");
    }

    @Test
    void executeAsync_everyRegionFails_throwsRegionsUnavailableListingEachAttempt() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        recorder.attempt(0).completeExceptionally(new ConnectException("refused"));
        clock.advanceMillis(500);
        recorder.attempt(2).completeExceptionally(new IOException("reset"));
        assertThat(result).as("the slow attempt in us-west-2 keeps its chance").isNotDone();
        clock.advanceMillis(2500);
        Throwable t = failure(result);
        assertThat(t).isInstanceOf(RegionsUnavailableException.class);
        RegionsUnavailableException e = (RegionsUnavailableException) t;
        assertThat(e.deadlineExceeded()).isTrue();
        assertThat(e.attempts()).extracting(AttemptRecord::region)
                .containsExactly("us-east-1", "us-west-2", "eu-west-1");
        assertThat(e.attempts()).extracting(AttemptRecord::failure)
                .containsExactly(FailureKind.REGION_UNAVAILABLE, FailureKind.TIMEOUT, FailureKind.AMBIGUOUS);
        assertThat(e.getMessage()).contains("GetItem", "us-east-1", "us-west-2", "eu-west-1", "TIMEOUT");
        assertThat(recorder.attempt(1)).isCancelled();
    }

    @Test
    void executeAsync_everyRegionAnswersWithAFailure_throwsAtOnceWithTheLastCause() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        recorder.attempt(0).completeExceptionally(new ConnectException("refused"));
        recorder.attempt(1).completeExceptionally(new ConnectException("refused"));
        recorder.attempt(2).completeExceptionally(new IOException("reset"));
        Throwable t = failure(result);
        assertThat(t).isInstanceOf(RegionsUnavailableException.class);
        assertThat(((RegionsUnavailableException) t).deadlineExceeded()).isFalse();
        assertThat(t.getCause()).isInstanceOf(IOException.class);
    }

    @Test
    void executeAsync_nonIdempotentWriteFailsAmbiguously_isNotRetriedElsewhere() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(Operation.write("UpdateItem").build(), recorder);
        IOException reset = new IOException("connection reset");
        recorder.attempt(0).completeExceptionally(reset);
        Throwable t = failure(result);
        assertThat(t).isInstanceOf(AmbiguousWriteException.class);
        assertThat(((AmbiguousWriteException) t).region()).isEqualTo("us-east-1");
        assertThat(t.getCause()).isSameAs(reset);
        assertThat(t.getMessage()).contains("may or may not have been applied", "idempotent");
        assertThat(recorder.regions()).containsExactly("us-east-1");
    }

    @Test
    void executeAsync_nonIdempotentWriteTimesOut_keepsItsChanceAndIsNotRetried() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(Operation.write("UpdateItem").build(), recorder);
        clock.advanceMillis(500);
        assertThat(result).isNotDone();
        assertThat(recorder.attempt(0)).isNotDone();
        clock.advanceMillis(1500);
        recorder.attempt(0).complete("applied");
        assertThat(result).as("a write that was about to succeed is not thrown away").isCompletedWithValue("applied");
        assertThat(recorder.regions()).containsExactly("us-east-1");
    }

    @Test
    void executeAsync_nonIdempotentWriteStillRunningAtTheDeadline_isAmbiguousAndNotRetried() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(Operation.write("UpdateItem").build(), recorder);
        clock.advanceMillis(3000);
        Throwable t = failure(result);
        assertThat(t).isInstanceOf(AmbiguousWriteException.class);
        assertThat(t.getMessage()).contains("may or may not have been applied", "deadline");
        assertThat(recorder.attempt(0)).isCancelled();
        assertThat(recorder.regions()).containsExactly("us-east-1");
    }

    @Test
    void executeAsync_nonIdempotentWriteRefused_isRetriedBecauseItWasNotApplied() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(Operation.write("UpdateItem").build(), recorder);
        recorder.attempt(0).completeExceptionally(new ConnectException("refused"));
        recorder.attempt(1).complete("written");
        assertThat(result).isCompletedWithValue("written");
    }

    @Test
    void executeAsync_idempotentWriteFailsAmbiguously_isRetriedElsewhere() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(Operation.write("PutItem").idempotent(true).build(), recorder);
        recorder.attempt(0).completeExceptionally(new IOException("reset"));
        recorder.attempt(1).complete("put");
        assertThat(result).isCompletedWithValue("put");
    }

    @Test
    void executeAsync_readOnlyRegion_neverGetsWrites() {
        Topology t = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().build())
                .region(RegionSpec.builder("us-west-2").roles(RegionRole.READER).build())
                .localRegion("us-west-2")
                .build();
        Latitude l = Latitude.builder().topology(t).ticker(clock).scheduler(clock).openTelemetry(OpenTelemetry.noop())
                .routingPolicy(RoutingPolicy.failover().priority("us-west-2", "us-east-1").build()).build();
        engines.add(l);
        CompletableFuture<String> result = l.executeAsync(Operation.write("PutItem").idempotent(true).build(), recorder);
        recorder.attempt(0).completeExceptionally(new ConnectException("refused"));
        assertThat(failure(result)).isInstanceOf(RegionsUnavailableException.class);
        assertThat(recorder.regions()).containsExactly("us-east-1");
    }

    @Test
    void executeAsync_deadlinePasses_failsWithDeadlineExceededAndCancelsAttempt() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read().toBuilder().deadline(Duration.ofMillis(300)).build(),
                recorder);
        clock.advanceMillis(300);
        Throwable t = failure(result);
        assertThat(t).isInstanceOf(RegionsUnavailableException.class);
        assertThat(((RegionsUnavailableException) t).deadlineExceeded()).isTrue();
        assertThat(recorder.attempt(0)).isCancelled();
        assertThat(l.status().get(0).inFlight()).isZero();
        assertThat(l.status().get(0).circuit()).isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void executeAsync_deadlineCutsNonIdempotentWrite_isAmbiguous() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(
                Operation.write("UpdateItem").deadline(Duration.ofMillis(200)).build(), recorder);
        clock.advanceMillis(200);
        assertThat(failure(result)).isInstanceOf(AmbiguousWriteException.class);
    }

    @Test
    void executeAsync_callerCancels_attemptsAreCancelledAndReleased() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        assertThat(l.status().get(0).inFlight()).isEqualTo(1);
        result.cancel(true);
        assertThat(recorder.attempt(0)).isCancelled();
        assertThat(l.status().get(0).inFlight()).isZero();
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void executeAsync_callerCancels_noFallbackTimeoutOrDeadlineLater() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        clock.advanceMillis(100);
        result.cancel(true);
        clock.advanceMillis(5_000); // past the attempt timeout (500 ms) and the deadline (3 s)
        assertThat(recorder.regions()).as("no attempt after the cancel").containsExactly("us-east-1");
        assertThat(recorder.attempt(0)).isCancelled();
        assertThat(result).isCancelled();
    }

    @Test
    void executeAsync_callerCancelsBesideASlowAttempt_bothAttemptsCancelledNoThird() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        clock.advanceMillis(500); // us-east-1 is slow: us-west-2 starts beside it
        assertThat(recorder.regions()).containsExactly("us-east-1", "us-west-2");
        result.cancel(true);
        clock.advanceMillis(5_000);
        assertThat(recorder.regions()).as("eu-west-1 never tried").containsExactly("us-east-1", "us-west-2");
        assertThat(recorder.attempt(0)).isCancelled();
        assertThat(recorder.attempt(1)).isCancelled();
        assertThat(l.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
        assertThat(clock.pendingTasks()).isZero();
    }

    /**
     * A fallback decided on the timer thread is sent from the attempt executor: a cancel arriving between the two must
     * keep the request from being sent at all. The engine runs on its own timer, with an executor the test drains by
     * hand, so the cancel lands exactly in that gap.
     */
    @Test
    void executeAsync_callerCancelsWhileFallbackIsOnItsWay_fallbackNeverSent() throws Exception {
        java.util.concurrent.BlockingQueue<Runnable> handedOff = new java.util.concurrent.LinkedBlockingQueue<>();
        Latitude l = Latitude.builder()
                .topology(topology())
                .routingPolicy(RoutingPolicy.failover().priority("us-east-1", "us-west-2", "eu-west-1").build())
                .openTelemetry(OpenTelemetry.noop())
                .hedging(HedgingConfig.disabled())
                .attemptTimeout(Duration.ofMillis(20))
                .deadline(Duration.ofMinutes(1))
                .attemptExecutor(handedOff::add)
                .build();
        engines.add(l);
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        Runnable fallback = handedOff.poll(30, TimeUnit.SECONDS);
        assertThat(fallback).as("the attempt timeout handed a fallback to the executor").isNotNull();
        result.cancel(true);
        fallback.run();
        assertThat(recorder.regions()).containsExactly("us-east-1");
        assertThat(recorder.attempt(0)).isCancelled();
        assertThat(l.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
    }

    @Test
    void executeAsync_regionCallThrows_isClassifiedLikeAFailedAttempt() {
        Latitude l = engine();
        List<String> seen = new ArrayList<>();
        CompletableFuture<String> result = l.executeAsync(read(), region -> {
            seen.add(region.id());
            if (seen.size() == 1) {
                throw new java.io.UncheckedIOException(new ConnectException("refused"));
            }
            return CompletableFuture.completedFuture(region.id());
        });
        // The default classifier looks through UncheckedIOException: a refused connection moves the call on.
        assertThat(result).isCompletedWithValue("us-west-2");
        assertThat(seen).containsExactly("us-east-1", "us-west-2");
        CompletableFuture<String> refused = l.executeAsync(read(), region -> {
            throw new IllegalArgumentException("bad key");
        });
        // A thrown caller error returns as it is, from the first region.
        assertThat(failure(refused)).isInstanceOf(IllegalArgumentException.class).hasMessage("bad key");
    }

    @Test
    void executeAsync_regionCallReturnsNull_failsWithClearMessage() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), region -> null);
        assertThat(failure(result)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("returned null").hasMessageContaining("us-east-1");
    }

    /**
     * Gives us-east-1 a latency history of {@code n} calls of {@code millis} each. Each answer is scheduled before
     * its call starts, so it lands just before a hedge due at the same instant: warm-up spends no hedge budget.
     * HdrHistogram then reports p95 = median = 10.047 ms for 10 ms samples (its bucket's upper edge), so a hedge waits
     * for twice the median, 20.094 ms. Each call deposits 5 % of a hedge token: 200 calls fill the burst of 10, more
     * than the reserve of 5 that only late hedges (at twice that delay) may spend.
     */
    private void warmUp(Latitude l, int n, long millis) {
        for (int i = 0; i < n; i++) {
            CompletableFuture<String> f = new CompletableFuture<>();
            clock.schedule(() -> f.complete("warm"), Duration.ofMillis(millis).toNanos());
            CompletableFuture<String> r = l.executeAsync(read(), region -> f);
            clock.advanceMillis(millis);
            assertThat(r).isCompleted();
        }
        clock.advanceMillis(200); // let the percentile refresh
    }

    @Test
    void hedging_slowPrimary_secondRegionAnswersFirstAndPrimaryIsCancelled() {
        Latitude l = engine(b -> b.hedging(HedgingConfig.builder().minSamples(20).build()));
        warmUp(l, 200, 10);
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        clock.advanceMillis(20);
        assertThat(recorder.regions()).containsExactly("us-east-1");
        clock.advanceMillis(1);
        assertThat(recorder.regions()).as("hedged after 2 x median = 20.094 ms")
                .containsExactly("us-east-1", "us-west-2");
        recorder.attempt(1).complete("hedge");
        assertThat(result).isCompletedWithValue("hedge");
        assertThat(recorder.attempt(0)).isCancelled();
        assertThat(l.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
    }

    @Test
    void hedging_primaryAnswersFirst_hedgeIsCancelled() {
        Latitude l = engine(b -> b.hedging(HedgingConfig.builder().minSamples(20).build()));
        warmUp(l, 200, 10);
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        clock.advanceMillis(21);
        recorder.attempt(0).complete("primary");
        assertThat(result).isCompletedWithValue("primary");
        assertThat(recorder.attempt(1)).isCancelled();
    }

    @Test
    void hedging_callerCancelsBeforeTheHedgeDelay_noHedgeStarts() {
        Latitude l = engine(b -> b.hedging(HedgingConfig.builder().minSamples(20).build()));
        warmUp(l, 40, 10);
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        clock.advanceMillis(5);
        result.cancel(true);
        clock.advanceMillis(5_000);
        assertThat(recorder.regions()).as("no hedge after the cancel").containsExactly("us-east-1");
        assertThat(recorder.attempt(0)).isCancelled();
    }

    @Test
    void hedging_budgetSpent_noMoreHedges() {
        // 40 warm-up calls deposit 40 × 5 % = 2 tokens: exactly two hedges are affordable, and since both tokens are
        // within the reserve, only as late hedges (twice the 20.094 ms delay).
        Latitude l = engine(b -> b.hedging(HedgingConfig.builder().minSamples(20).build()));
        warmUp(l, 40, 10);
        int hedges = 0;
        for (int i = 0; i < 5; i++) {
            Recorder r = new Recorder();
            CompletableFuture<String> result = l.executeAsync(read(), r);
            clock.advanceMillis(21);
            assertThat(r.regions()).as("no ordinary hedge from the reserve").hasSize(1);
            clock.advanceMillis(20);
            hedges += r.regions().size() - 1;
            r.attempt(0).complete("primary");
            assertThat(result).isCompleted();
        }
        assertThat(hedges).isEqualTo(2);
    }

    @Test
    void hedging_writesAreNeverHedged() {
        Latitude l = engine(b -> b.hedging(HedgingConfig.builder().minSamples(20).build()));
        warmUp(l, 40, 10);
        l.executeAsync(Operation.write("PutItem").idempotent(true).build(), recorder);
        clock.advanceMillis(100);
        assertThat(recorder.regions()).containsExactly("us-east-1");
    }

    @Test
    void hedging_tooFewSamples_noHedge() {
        Latitude l = engine(b -> b.hedging(HedgingConfig.builder().minSamples(100).build()));
        warmUp(l, 40, 10);
        l.executeAsync(read(), recorder);
        clock.advanceMillis(100);
        assertThat(recorder.regions()).containsExactly("us-east-1");
    }

    @Test
    void hedging_primaryFailsWhileHedgeRuns_waitsForHedge() {
        Latitude l = engine(b -> b.hedging(HedgingConfig.builder().minSamples(20).build()));
        warmUp(l, 200, 10);
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        clock.advanceMillis(21);
        recorder.attempt(0).completeExceptionally(new ConnectException("refused"));
        assertThat(result).isNotDone();
        assertThat(recorder.regions()).containsExactly("us-east-1", "us-west-2");
        recorder.attempt(1).complete("hedge");
        assertThat(result).isCompletedWithValue("hedge");
    }

    @Test
    void execute_sync_returnsValueAndRethrowsCheckedCallerErrorAsIs() throws Exception {
        Latitude l = engine();
        String value = l.execute(read(), region -> region.id());
        assertThat(value).isEqualTo("us-east-1");
        java.sql.SQLException sql = new java.sql.SQLException("duplicate key", "23505");
        assertThatThrownBy(() -> l.execute(read(), region -> {
            throw sql;
        })).isSameAs(sql);
    }

    @Test
    void execute_sync_blockedAttemptIsInterruptedAtTimeoutAndNextRegionServes() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try {
            Latitude l = engine(b -> b.hedging(HedgingConfig.disabled()).attemptExecutor(pool));
            CountDownLatch blocked = new CountDownLatch(1);
            CountDownLatch interrupted = new CountDownLatch(1);
            CompletableFuture<String> caller = CompletableFuture.supplyAsync(() -> l.execute(read(), region -> {
                if (region.id().equals("us-east-1")) {
                    blocked.countDown();
                    try {
                        new CountDownLatch(1).await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        interrupted.countDown();
                        throw new IllegalStateException("interrupted", e);
                    }
                    return "never";
                }
                return region.id();
            }), pool);
            assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
            clock.advanceMillis(500);
            assertThat(caller.get(5, TimeUnit.SECONDS)).isEqualTo("us-west-2");
            assertThat(interrupted.await(5, TimeUnit.SECONDS)).as("the abandoned attempt's thread was interrupted").isTrue();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void callerRuns_unhedgedFirstAttemptRunsOnTheCallingThread_fallbacksOnThePool() throws Exception {
        Latitude l = engine(b -> b.hedging(HedgingConfig.disabled()).callerRunsFirstAttempt(true));
        Thread me = Thread.currentThread();
        List<Thread> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
        String value = l.execute(read(), region -> {
            ran.add(Thread.currentThread());
            return region.id();
        });
        assertThat(value).isEqualTo("us-east-1");
        assertThat(ran).containsExactly(me);

        ran.clear();
        String fallback = l.execute(read(), region -> {
            ran.add(Thread.currentThread());
            if (region.id().equals("us-east-1")) {
                throw new java.net.ConnectException("refused");
            }
            return region.id();
        });
        assertThat(fallback).isEqualTo("us-west-2");
        assertThat(ran).hasSize(2);
        assertThat(ran.get(0)).isSameAs(me);
        assertThat(ran.get(1)).as("the fallback runs on the attempt executor").isNotSameAs(me);
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void callerRuns_hedgeableReadRunsOnTheCallerWhileItsRegionIsCalm_onThePoolForTenSecondsAfterTrouble()
            throws Exception {
        Latitude l = engine(b -> b.hedging(HedgingConfig.defaults()).callerRunsFirstAttempt(true));
        Thread me = Thread.currentThread();
        List<Thread> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
        RegionCall<String, Exception> answer = region -> {
            ran.add(Thread.currentThread());
            return region.id();
        };
        l.execute(read(), answer);
        assertThat(ran).as("a calm region: no hedge is likely, the caller runs it").containsExactly(me);

        // Trouble: us-east-1 refuses a connection (the read falls back to us-west-2).
        RegionCall<String, Exception> refusedInUsEast1 = region -> {
            if (region.id().equals("us-east-1")) {
                throw new java.net.ConnectException("refused");
            }
            return region.id();
        };
        assertThat(l.execute(read(), refusedInUsEast1)).isEqualTo("us-west-2");
        ran.clear();
        l.execute(read(), answer);
        assertThat(ran).as("after trouble a hedge may be needed: the caller must be free to take it")
                .hasSize(1).doesNotContain(me);

        clock.advanceMillis(9_999);
        ran.clear();
        l.execute(read(), answer);
        assertThat(ran).doesNotContain(me);
        clock.advanceMillis(1);
        ran.clear();
        l.execute(read(), answer);
        assertThat(ran).as("ten seconds without trouble: calm again").containsExactly(me);

        Operation write = Operation.write("PutItem").idempotent(true).dataClass("orders").build();
        ran.clear();
        l.execute(write, answer);
        assertThat(ran).as("writes are never hedged").containsExactly(me);
    }

    @Test
    void callerRuns_aHedgeThatLosesLeavesTheRegionCalm_soDoesARareWin_winsInOneCallOfAHundredMakeItTroubled()
            throws Exception {
        Latitude l = engine(b -> b.hedging(HedgingConfig.builder().minSamples(20).build())
                .callerRunsFirstAttempt(true));
        warmUp(l, 200, 10); // 200 attempts in us-east-1
        Thread me = Thread.currentThread();
        Thread[] ran = new Thread[1];
        RegionCall<String, Exception> answer = region -> {
            ran[0] = Thread.currentThread();
            return region.id();
        };
        l.execute(read(), answer);
        assertThat(ran[0]).isSameAs(me);

        CompletableFuture<String> lost = l.executeAsync(read(), recorder);
        clock.advanceMillis(21);
        assertThat(recorder.regions()).as("hedged").containsExactly("us-east-1", "us-west-2");
        recorder.attempt(0).complete("primary");
        assertThat(lost).isCompletedWithValue("primary");
        l.execute(read(), answer);
        assertThat(ran[0]).as("the region answered before its hedge: still calm").isSameAs(me);

        int attempt = 2;
        for (int win = 1; win <= 3; win++) {
            CompletableFuture<String> won = l.executeAsync(read(), recorder);
            clock.advanceMillis(21);
            recorder.attempt(attempt + 1).complete("hedge");
            attempt += 2;
            assertThat(won).isCompletedWithValue("hedge");
            l.execute(read(), answer);
            if (win < 2) {
                assertThat(ran[0]).as("one hedge in about 200 attempts beat us-east-1: noise, still calm").isSameAs(me);
            }
        }
        assertThat(ran[0]).as("hedges beat us-east-1 in 1 attempt in 100: its hedgeable reads go to the pool")
                .isNotSameAs(me);

        clock.advanceMillis(4_000);
        l.execute(read(), answer);
        assertThat(ran[0]).as("the wins are still in the window").isNotSameAs(me);
        clock.advanceMillis(6_000);
        l.execute(read(), answer);
        assertThat(ran[0]).as("a whole window later the wins have aged out: calm again").isSameAs(me);
    }

    @Test
    void callerRuns_aHedgeThatBeatsTheCallersAttempt_interruptsIt_andTheCallerGetsTheHedge() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try {
            Latitude l = engine(b -> b.hedging(HedgingConfig.builder().minSamples(20).build()).attemptExecutor(pool)
                    .callerRunsFirstAttempt(true));
            warmUp(l, 200, 10);
            CountDownLatch blocked = new CountDownLatch(1);
            CompletableFuture<String> caller = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    String v = l.execute(read(), region -> {
                        if (region.id().equals("us-east-1")) {
                            assertThat(Thread.currentThread().getName()).isEqualTo("the-caller");
                            blocked.countDown();
                            new CountDownLatch(1).await(10, TimeUnit.SECONDS); // a call that honours interrupts
                            return "never";
                        }
                        return "hedge from " + region.id();
                    });
                    caller.complete(Thread.currentThread().isInterrupted() ? "flag leaked" : v);
                } catch (Throwable e) {
                    caller.completeExceptionally(e);
                }
            }, "the-caller");
            t.start();
            assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
            clock.advanceMillis(21);
            assertThat(caller.get(5, TimeUnit.SECONDS)).isEqualTo("hedge from us-west-2");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void callerRuns_attemptTimeoutInterruptsTheCaller_nextRegionAnswers_flagCleared() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try {
            Latitude l = engine(b -> b.hedging(HedgingConfig.disabled()).attemptExecutor(pool)
                    .callerRunsFirstAttempt(true));
            CountDownLatch blocked = new CountDownLatch(1);
            CompletableFuture<String> caller = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    String v = l.execute(read(), region -> {
                        if (region.id().equals("us-east-1")) {
                            blocked.countDown();
                            new CountDownLatch(1).await(10, TimeUnit.SECONDS); // a call that honours interrupts
                            return "never";
                        }
                        return region.id();
                    });
                    caller.complete(Thread.currentThread().isInterrupted() ? "flag leaked" : v);
                } catch (Throwable e) {
                    caller.completeExceptionally(e);
                }
            });
            t.start();
            assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
            clock.advanceMillis(500);
            assertThat(caller.get(5, TimeUnit.SECONDS)).isEqualTo("us-west-2");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void callerRuns_anAlreadyInterruptedCallerKeepsTheEnginesUsualAnswer() {
        Latitude l = engine(b -> b.hedging(HedgingConfig.disabled()).callerRunsFirstAttempt(true));
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> l.execute(read(), region -> {
                new CountDownLatch(1).await(10, TimeUnit.SECONDS);
                return "late";
            })).isInstanceOf(LatitudeException.class);
            assertThat(Thread.currentThread().isInterrupted()).as("the caller's own interrupt is kept").isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void execute_sync_callerInterrupted_throwsLatitudeExceptionAndKeepsFlag() throws Exception {
        Latitude l = engine();
        CompletableFuture<Throwable> seen = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                l.execute(read(), region -> {
                    new CountDownLatch(1).await(10, TimeUnit.SECONDS);
                    return "late";
                });
                seen.complete(null);
            } catch (Throwable e) {
                seen.complete(Thread.currentThread().isInterrupted() ? e : new AssertionError("flag lost", e));
            }
        });
        t.start();
        while (l.status().get(0).inFlight() == 0 && t.isAlive()) {
            Thread.onSpinWait();
        }
        t.interrupt();
        Throwable e = seen.get(5, TimeUnit.SECONDS);
        assertThat(e).isInstanceOf(LatitudeException.class).hasMessageContaining("interrupted");
        t.join(5000);
    }

    @Test
    void executeAsync_closedEngine_isRefused() {
        Latitude l = engine();
        l.close();
        assertThatThrownBy(() -> l.executeAsync(read(), recorder)).isInstanceOf(LatitudeException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void execute_asyncFailureSurfacesThroughGet() {
        Latitude l = engine();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        recorder.attempt(0).completeExceptionally(new IllegalStateException("boom"));
        assertThatThrownBy(() -> result.get(1, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
    }

    @Test
    void hedging_primariesBeatenByHedges_countAsSlowCallsAndOpenTheCircuit() {
        Latitude l = engine(b -> b.hedging(HedgingConfig.builder().minSamples(20).maxBurst(10).budgetRatio(1).build())
                .breaker(BreakerConfig.builder().failureThreshold(3, 5).build()));
        warmUp(l, 40, 10);
        for (int i = 0; i < 3; i++) {
            Recorder r = new Recorder();
            CompletableFuture<String> result = l.executeAsync(read(), r);
            clock.advanceMillis(21);
            r.attempt(1).complete("hedge");
            assertThat(result).isCompletedWithValue("hedge");
        }
        assertThat(l.status().get(0).circuit()).as("three primaries lost to hedges").isEqualTo(CircuitState.OPEN);
        assertThat(l.status().get(0).inFlight()).isZero();
        assertThat(l.plan(read()).regions().get(0).id()).isEqualTo("us-west-2");
    }

    @Test
    void timeout_chargesTheBreakerButNotTheLatencyEstimate() {
        Latitude l = engine();
        warmUp(l, 5, 10);
        long before = l.status().get(0).latencyEwmaNanos();
        CompletableFuture<String> result = l.executeAsync(read(), recorder);
        clock.advanceMillis(500);
        recorder.attempt(1).complete("west");
        assertThat(result).isCompletedWithValue("west");
        assertThat(l.status().get(0).latencyEwmaNanos()).isEqualTo(before);
    }
}
