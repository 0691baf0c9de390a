package dev.latitude;

import static dev.latitude.RecordingCall.circuit;
import static dev.latitude.RecordingCall.failure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.OpenTelemetry;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The per-region bulkhead ({@code maxConcurrentAttempts}): a region holding its maximum of attempts whose work has not
 * ended is skipped ({@link FailureKind#BULKHEAD_FULL}) until that work ends: a future completes or is cancelled, or a
 * blocking attempt's thread really returns.
 */
class BulkheadTest {
    private static final String A = "us-east-1";
    private static final String B = "us-west-2";
    private static final Operation READ = Operation.read("GetItem").build();
    /** Any charged failure would open a circuit: the bulkhead must charge none. */
    private static final BreakerConfig STRICT = BreakerConfig.builder().failureThreshold(1, 1).build();

    private final ManualClock clock = new ManualClock();
    private final List<Latitude> engines = new ArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    /** Runs each blocking attempt on a thread of its own, so the test can join it. */
    private final Executor threadPerAttempt = task -> {
        Thread t = new Thread(task, "bulkhead-test-attempt");
        t.setDaemon(true);
        threads.add(t);
        t.start();
    };

    private Latitude engine(int maxConcurrentAttempts, BreakerConfig breaker, Consumer<Latitude.Builder> custom) {
        Latitude.Builder b = Latitude.builder()
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
                .maxConcurrentAttempts(maxConcurrentAttempts);
        custom.accept(b);
        Latitude l = b.build();
        engines.add(l);
        return l;
    }

    private Latitude engine(int maxConcurrentAttempts) {
        return engine(maxConcurrentAttempts, STRICT, b -> { });
    }

    @AfterEach
    void close() throws InterruptedException {
        engines.forEach(Latitude::close);
        for (Thread t : threads) {
            t.interrupt();
            t.join(5000);
        }
    }

    @Test
    void executeAsync_regionHoldsMaxAttempts_nextCallSkipsItToNextRegion() {
        Latitude l = engine(2);
        RecordingCall hanging = new RecordingCall();
        l.executeAsync(READ, hanging);
        l.executeAsync(READ, hanging);
        assertThat(hanging.regions()).containsExactly(A, A);
        RecordingCall third = new RecordingCall();

        CompletableFuture<String> result = l.executeAsync(READ, third);

        assertThat(third.regions()).as("us-east-1 is full").containsExactly(B);
        third.attempt(0).complete("b");
        assertThat(result).isCompletedWithValue("b");
        assertThat(circuit(l, A)).as("a full bulkhead charges no health").isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void executeAsync_everyOtherRegionFailsWhileBulkheadFull_attemptsRecordBulkheadFull() {
        Latitude l = engine(2);
        RecordingCall hanging = new RecordingCall();
        l.executeAsync(READ, hanging);
        l.executeAsync(READ, hanging);
        RecordingCall third = new RecordingCall();

        CompletableFuture<String> result = l.executeAsync(READ, third);
        third.attempt(0).completeExceptionally(new ConnectException("refused"));

        Throwable t = failure(result);
        assertThat(t).isExactlyInstanceOf(RegionsUnavailableException.class);
        List<AttemptRecord> attempts = ((RegionsUnavailableException) t).attempts();
        assertThat(attempts).extracting(AttemptRecord::region).containsExactly(A, B);
        assertThat(attempts).extracting(AttemptRecord::failure)
                .containsExactly(FailureKind.BULKHEAD_FULL, FailureKind.REGION_UNAVAILABLE);
        assertThat(third.regions()).containsExactly(B);
        assertThat(circuit(l, A)).isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void executeAsync_everyRegionFull_failsAtOnceWithBulkheadFullAttempts() {
        Latitude l = engine(1);
        RecordingCall hanging = new RecordingCall();
        l.executeAsync(READ, hanging);
        clock.advanceMillis(500); // us-east-1 is slow: us-west-2 starts beside it
        assertThat(hanging.regions()).containsExactly(A, B);
        RecordingCall next = new RecordingCall();

        CompletableFuture<String> result = l.executeAsync(READ, next);

        Throwable t = failure(result);
        assertThat(t).isExactlyInstanceOf(RegionsUnavailableException.class);
        assertThat(((RegionsUnavailableException) t).attempts()).extracting(AttemptRecord::failure)
                .containsExactly(FailureKind.BULKHEAD_FULL, FailureKind.BULKHEAD_FULL);
        assertThat(next.regions()).isEmpty();
        assertThat(l.status()).allSatisfy(s -> assertThat(s.circuit()).isEqualTo(CircuitState.CLOSED));
    }

    @Test
    void executeAsync_hangingAttemptCompletes_regionTakesAttemptsAgain() {
        Latitude l = engine(2);
        RecordingCall hanging = new RecordingCall();
        CompletableFuture<String> first = l.executeAsync(READ, hanging);
        l.executeAsync(READ, hanging);
        RecordingCall skipped = new RecordingCall();
        l.executeAsync(READ, skipped);
        assertThat(skipped.regions()).containsExactly(B);

        hanging.attempt(0).complete("a");
        assertThat(first).isCompletedWithValue("a");
        RecordingCall after = new RecordingCall();
        l.executeAsync(READ, after);

        assertThat(after.regions()).containsExactly(A);
    }

    @Test
    void executeAsync_hangingCallCancelledByCaller_regionTakesAttemptsAgain() {
        Latitude l = engine(2);
        RecordingCall hanging = new RecordingCall();
        CompletableFuture<String> first = l.executeAsync(READ, hanging);
        l.executeAsync(READ, hanging);

        first.cancel(true);

        assertThat(hanging.attempt(0)).isCancelled();
        RecordingCall after = new RecordingCall();
        l.executeAsync(READ, after);
        assertThat(after.regions()).containsExactly(A);
    }

    @Test
    void executeAsync_slowAttemptBeatenAndCancelled_givesItsPlaceBack() {
        // The default breaker's minimum volume of 10 keeps us-east-1 closed after its one beaten attempt.
        Latitude l = engine(1, BreakerConfig.defaults(), b -> { });
        RecordingCall call = new RecordingCall();
        CompletableFuture<String> first = l.executeAsync(READ, call);
        clock.advanceMillis(500);
        call.attempt(1).complete("b");
        assertThat(first).isCompletedWithValue("b");
        assertThat(call.attempt(0)).isCancelled();
        assertThat(circuit(l, A)).isEqualTo(CircuitState.CLOSED);
        RecordingCall after = new RecordingCall();

        l.executeAsync(READ, after);

        assertThat(after.regions()).containsExactly(A);
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void execute_abandonedBlockingAttempt_keepsItsPlaceUntilItsThreadReturns() throws Exception {
        Latitude l = engine(1, BreakerConfig.defaults(), b -> b.attemptExecutor(threadPerAttempt));
        CountDownLatch inA = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        Thread[] aThread = new Thread[1];
        CompletableFuture<String> first = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            try {
                first.complete(l.execute(READ, region -> {
                    if (region.id().equals(A)) {
                        aThread[0] = Thread.currentThread();
                        inA.countDown();
                        awaitIgnoringInterrupts(release, interrupted); // a client that ignores interrupts
                        return "a, very late";
                    }
                    return region.id();
                }));
            } catch (Throwable e) {
                first.completeExceptionally(e);
            }
        });
        caller.setDaemon(true);
        threads.add(caller);
        caller.start();
        assertThat(inA.await(10, TimeUnit.SECONDS)).isTrue();

        clock.advanceMillis(500); // us-east-1 is slow: us-west-2 starts beside it and wins

        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(B);
        assertThat(interrupted.await(10, TimeUnit.SECONDS)).as("the beaten attempt's thread was interrupted").isTrue();
        assertThat(aThread[0].isAlive()).as("but it ignores the interrupt and is still blocked").isTrue();
        assertThat(circuit(l, A)).isEqualTo(CircuitState.CLOSED);
        joinAllBut(aThread[0]); // us-west-2's attempt thread gives its place back when it has returned
        List<String> seen = new CopyOnWriteArrayList<>();
        assertThatThrownBy(() -> l.execute(READ, region -> {
            seen.add(region.id());
            throw new ConnectException("refused");
        })).isInstanceOfSatisfying(RegionsUnavailableException.class, e -> assertThat(e.attempts())
                .extracting(AttemptRecord::failure)
                .as("us-east-1 still holds its only place: the thread has not returned")
                .containsExactly(FailureKind.BULKHEAD_FULL, FailureKind.REGION_UNAVAILABLE));
        assertThat(seen).containsExactly(B);

        release.countDown();
        aThread[0].join(10_000);
        assertThat(aThread[0].isAlive()).isFalse();

        seen.clear();
        String third = l.execute(READ, region -> {
            seen.add(region.id());
            return region.id();
        });
        assertThat(third).isEqualTo(A);
        assertThat(seen).containsExactly(A);
    }

    /** Joins every attempt thread started so far except {@code still}, which may still be blocked. */
    private void joinAllBut(Thread... still) throws InterruptedException {
        List<Thread> keep = List.of(still);
        for (Thread t : threads) {
            if (!keep.contains(t)) {
                t.join(10_000);
                assertThat(t.isAlive()).isFalse();
            }
        }
    }

    /** Waits for {@code latch} however often the thread is interrupted, counting the first interrupt down. */
    private static void awaitIgnoringInterrupts(CountDownLatch latch, CountDownLatch interrupted) {
        while (true) {
            try {
                if (latch.await(10, TimeUnit.SECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
        }
    }
}
