package dev.latitude.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.AsyncRegionCall;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import io.opentelemetry.api.OpenTelemetry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Starting a call never makes the caller's thread wait: 200 calls in flight at once, from 8 threads, against a
 * blackholed region (its calls never complete), through an engine on its own timer.
 *
 * <p>What is measured is waiting, not time. The JVM counts, per thread, each time it blocked on a contended monitor
 * ({@link ThreadInfo#getBlockedCount()}) and each time it waited or parked, which is how every
 * {@code java.util.concurrent} lock waits ({@link ThreadInfo#getWaitedCount()}). Each caller reads its own counts
 * just before and just after its {@code executeAsync} calls; the difference must be zero for every caller. Wall
 * time says nothing on a busy machine (a caller may be descheduled anywhere), but a count of lock waits is exact:
 * planning, arming the attempt timer, and sending the region call must take no lock another thread can hold. The
 * timer's attempt timeouts are far in the future, so no timer callback competes with the callers for a call's own
 * lock; what remains shared between callers is the engine: the timer, the regions' bookkeeping, the telemetry.
 * Contention monitoring is switched on only to report how long waits took, should there be any.
 */
class CallerNeverWaitsTest {
    private static final int THREADS = 8;
    private static final int CALLS_PER_THREAD = 25;
    private static final int ROUNDS = 20;
    private static final int WARM_UP_ROUNDS = 5;
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private Latitude latitude;

    @AfterEach
    void close() {
        if (latitude != null) {
            latitude.close();
        }
    }

    @Test
    void executeAsync_200CallsAgainstABlackholedRegion_noCallerEverWaitsOnALock() throws Exception {
        assertThat(threads.isThreadContentionMonitoringSupported()).isTrue();
        threads.setThreadContentionMonitoringEnabled(true);
        Topology topology = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().location(38.9, -77.4).build())
                .region(RegionSpec.builder("us-west-2").writer().location(45.8, -119.7).build())
                .region(RegionSpec.builder("eu-west-1").writer().location(53.35, -6.26).build())
                .localRegion("us-east-1")
                .build();
        latitude = Latitude.builder()
                .topology(topology)
                .routingPolicy(RoutingPolicy.failover().priority("us-east-1", "us-west-2", "eu-west-1").build())
                .openTelemetry(OpenTelemetry.noop())
                .attemptTimeout(Duration.ofMinutes(5))
                .deadline(Duration.ofMinutes(10))
                .maxConcurrentAttempts(THREADS * CALLS_PER_THREAD)
                .build();
        ConcurrentLinkedQueue<CompletableFuture<String>> sent = new ConcurrentLinkedQueue<>();
        AsyncRegionCall<String> blackhole = region -> {
            CompletableFuture<String> never = new CompletableFuture<>();
            sent.add(never);
            return never;
        };
        Operation read = Operation.read("GetItem").dataClass("orders").build();
        // Warm up on one thread first: loading and initializing classes waits on their init locks.
        for (int round = 0; round < WARM_UP_ROUNDS; round++) {
            List<CompletableFuture<String>> warm = new ArrayList<>();
            for (int i = 0; i < THREADS * CALLS_PER_THREAD; i++) {
                warm.add(latitude.executeAsync(read, blackhole));
            }
            warm.forEach(f -> f.cancel(true));
        }

        AtomicLong blocked = new AtomicLong();
        AtomicLong waited = new AtomicLong();
        AtomicLong waitMillis = new AtomicLong();
        for (int round = 0; round < ROUNDS; round++) {
            ConcurrentLinkedQueue<CompletableFuture<String>> results = new ConcurrentLinkedQueue<>();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Thread caller = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    ThreadInfo before = threads.getThreadInfo(Thread.currentThread().getId());
                    for (int i = 0; i < CALLS_PER_THREAD; i++) {
                        results.add(latitude.executeAsync(read, blackhole));
                    }
                    ThreadInfo after = threads.getThreadInfo(Thread.currentThread().getId());
                    blocked.addAndGet(after.getBlockedCount() - before.getBlockedCount());
                    waited.addAndGet(after.getWaitedCount() - before.getWaitedCount());
                    waitMillis.addAndGet(after.getBlockedTime() - before.getBlockedTime()
                            + after.getWaitedTime() - before.getWaitedTime());
                }, "caller-" + round + "-" + t);
                callers.add(caller);
                caller.start();
            }
            start.countDown();
            for (Thread caller : callers) {
                caller.join(TimeUnit.SECONDS.toMillis(60));
                assertThat(caller.isAlive()).isFalse();
            }
            assertThat(results).hasSize(THREADS * CALLS_PER_THREAD).allSatisfy(f -> assertThat(f).isNotDone());
            results.forEach(f -> f.cancel(true));
        }
        assertThat(blocked.get() + waited.get()).as("callers blocked on a monitor %d times and parked %d times, %d ms"
                + " in all", blocked.get(), waited.get(), waitMillis.get()).isZero();
        // Every cancelled call cancelled its attempt, and gave its bulkhead place back.
        assertThat(sent).hasSize((WARM_UP_ROUNDS + ROUNDS) * THREADS * CALLS_PER_THREAD);
        assertThat(sent.stream().filter(f -> !f.isCancelled()).count()).as("attempts not cancelled").isZero();
        assertThat(latitude.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
    }
}
