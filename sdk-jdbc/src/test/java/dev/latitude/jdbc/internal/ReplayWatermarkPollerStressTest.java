package dev.latitude.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.jdbc.WriterIdentity;
import dev.latitude.spi.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;

/**
 * Many threads wait at once, on real threads and a real timer, while the replica's position moves on every poll: no
 * wait is lost (each ends, true exactly when reachable), none ends true before its position was seen, and none is left
 * registered afterwards, and the timed polls go on.
 */
class ReplayWatermarkPollerStressTest {
    private static final WriterIdentity IDENTITY = new WriterIdentity(7, 1);
    private static final int THREADS = 16;
    private static final int WAITS_PER_THREAD = 300;

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService callers = Executors.newFixedThreadPool(THREADS);

    @AfterEach
    void stop() {
        timer.shutdownNow();
        callers.shutdownNow();
    }

    @RepeatedTest(5) // each run interleaves differently; a lost timer chain once showed only in some runs
    void concurrentWaiters_eachEndOnce_trueOnlyWhenSeenReplayed() throws Exception {
        AtomicLong position = new AtomicLong(1_000);
        // Each poll finds the replica 7 bytes further on, so positions move while waiters come and go.
        ReplayWatermarkPoller.NodeSource replica = () -> new NodeState("r", true, IDENTITY,
                position.addAndGet(7), 0);
        Scheduler scheduler = (task, delayNanos) -> {
            var f = timer.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
            return () -> f.cancel(false);
        };
        try (ReplayWatermarkPoller poller = ReplayWatermarkPoller.builder().sources(Map.of("r", replica))
                .interval(Duration.ofMillis(5)).waitInterval(Duration.ofMillis(1)).build()) {
            poller.start(scheduler);
            ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<CompletableFuture<Boolean>> reachable = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<CompletableFuture<Boolean>> unreachable = new ConcurrentLinkedQueue<>();
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<Void>> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                threads.add(CompletableFuture.runAsync(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int i = 0; i < WAITS_PER_THREAD; i++) {
                        boolean reach = random.nextInt(10) > 0;
                        long target = reach ? position.get() + random.nextLong(-50, 300) : Long.MAX_VALUE;
                        CompletableFuture<Boolean> f = poller.awaitReplay("r", IDENTITY, target,
                                reach ? Duration.ofSeconds(20) : Duration.ofMillis(random.nextInt(1, 30)));
                        f.thenAccept(ok -> {
                            if (ok && poller.replayedLsn("r", IDENTITY) < target) {
                                violations.add("ended true before " + target + " was seen");
                            }
                        });
                        (reach ? reachable : unreachable).add(f);
                    }
                }, callers));
            }
            go.countDown();
            CompletableFuture.allOf(threads.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            CompletableFuture.allOf(reachable.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            CompletableFuture.allOf(unreachable.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

            assertThat(violations).isEmpty();
            assertThat(reachable.stream().filter(f -> !f.join()).count()).as("reachable waits that ended false")
                    .isZero();
            assertThat(unreachable.stream().filter(CompletableFuture::join).count())
                    .as("unreachable waits that ended true").isZero();
            assertThat(poller.waiting("r")).isZero();
            assertThat(poller.waits()).isEqualTo(poller.waitsReplayed() + poller.waitsExpired());
            assertThat(poller.waitsExpired()).isEqualTo(unreachable.size());
            // The polls go on after the storm: early polls for waiters never end the chain of timed polls.
            assertThat(poller.awaitReplay("r", IDENTITY, position.get() + 700, Duration.ofSeconds(20))
                    .get(30, TimeUnit.SECONDS)).isTrue();
        }
    }
}
