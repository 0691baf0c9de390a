package dev.latitude.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.spi.TimerWheel;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

class TimeoutSchedulerTest {
    private final TimerWheel wheel = TimerWheel.start();
    private final TimeoutScheduler scheduler = TimeoutScheduler.over(wheel);

    @AfterEach
    void close() {
        scheduler.close();
        wheel.close();
    }

    @Test
    void aTaskRunsAfterItsDelay_offTheWheelsThread() throws Exception {
        long start = System.nanoTime();
        AtomicReference<String> thread = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        scheduler.schedule(() -> {
            thread.set(Thread.currentThread().getName());
            ran.countDown();
        }, 20, TimeUnit.MILLISECONDS);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(20));
        assertThat(thread.get()).startsWith("latitude-sdk-timeout-");
    }

    @Test
    void aCallableGivesItsResult_andTheFutureReportsItsDelay() throws Exception {
        ScheduledFuture<String> later = scheduler.schedule(() -> "done", 10, TimeUnit.SECONDS);
        ScheduledFuture<String> soon = scheduler.schedule(() -> "soon", 10, TimeUnit.MILLISECONDS);
        assertThat(later.getDelay(TimeUnit.MILLISECONDS)).isBetween(1L, 10_000L);
        assertThat(soon.compareTo(later)).isNegative();
        assertThat(soon.get(10, TimeUnit.SECONDS)).isEqualTo("soon");
        assertThat(later.cancel(false)).isTrue();
        assertThat(later.isCancelled()).isTrue();
    }

    @Test
    void aCancelledTaskNeverRuns() throws Exception {
        AtomicInteger cancelledRuns = new AtomicInteger();
        ScheduledFuture<?> f = scheduler.schedule(cancelledRuns::incrementAndGet, 20, TimeUnit.MILLISECONDS);
        assertThat(f.cancel(false)).isTrue();
        // A later task on the same wheel: by the time it ran, the cancelled one's time had long passed.
        assertThat(scheduler.schedule(() -> "after", 60, TimeUnit.MILLISECONDS).get(10, TimeUnit.SECONDS))
                .isEqualTo("after");
        assertThat(cancelledRuns).hasValue(0);
    }

    @Test
    void periodicTasks_runUntilCancelled() throws Exception {
        CountDownLatch rate = new CountDownLatch(3);
        CountDownLatch delay = new CountDownLatch(3);
        ScheduledFuture<?> r = scheduler.scheduleAtFixedRate(rate::countDown, 0, 5, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> d = scheduler.scheduleWithFixedDelay(delay::countDown, 1, 5, TimeUnit.MILLISECONDS);
        assertThat(rate.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(delay.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(((java.util.concurrent.RunnableScheduledFuture<?>) r).isPeriodic()).isTrue();
        assertThat(r.cancel(false)).isTrue();
        assertThat(d.cancel(false)).isTrue();
        assertThatThrownBy(() -> scheduler.scheduleAtFixedRate(() -> { }, 0, 0, TimeUnit.MILLISECONDS))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("period must be positive");
    }

    @Test
    void aPeriodicTaskThatThrows_stopsAndReportsIt() throws Exception {
        ScheduledFuture<?> f = scheduler.scheduleAtFixedRate(() -> {
            throw new IllegalStateException("boom");
        }, 0, 5, TimeUnit.MILLISECONDS);
        assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
    }

    @Test
    void submitAndInvokeAll_runOnThePool() throws Exception {
        assertThat(scheduler.submit(() -> Thread.currentThread().getName()).get(10, TimeUnit.SECONDS))
                .startsWith("latitude-sdk-timeout-");
        List<Callable<Integer>> tasks = List.of(() -> 1, () -> 2);
        assertThat(scheduler.invokeAll(tasks).get(1).get()).isEqualTo(2);
    }

    @Test
    void afterShutdown_pendingTasksNeverRun_newOnesAreRefused() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        scheduler.schedule(runs::incrementAndGet, 30, TimeUnit.MILLISECONDS);
        scheduler.shutdown();
        assertThat(scheduler.isShutdown()).isTrue();
        assertThat(scheduler.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(scheduler.isTerminated()).isTrue();
        assertThatThrownBy(() -> scheduler.schedule(() -> { }, 1, TimeUnit.MILLISECONDS))
                .isInstanceOf(java.util.concurrent.RejectedExecutionException.class)
                .hasMessageContaining("shut down");
        assertThatThrownBy(() -> scheduler.execute(() -> { }))
                .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
        // A later timer on the same wheel proves the pending one's time has passed.
        CountDownLatch later = new CountDownLatch(1);
        wheel.schedule(later::countDown, TimeUnit.MILLISECONDS.toNanos(80));
        assertThat(later.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(runs).hasValue(0);
        assertThat(scheduler.shutdownNow()).isEmpty();
    }

    @Test
    void stress_manyThreadsArmAndCancel_cancelledNeverRun_keptRunOnce() throws Exception {
        int threads = 8;
        int each = 5_000;
        AtomicLong cancelledRan = new AtomicLong();
        AtomicLong keptRan = new AtomicLong();
        CountDownLatch kept = new CountDownLatch(threads * (each / 100));
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    if (i % 100 == 0) {
                        scheduler.schedule(() -> {
                            keptRan.incrementAndGet();
                            kept.countDown();
                        }, 1 + i % 7, TimeUnit.MILLISECONDS);
                    } else {
                        scheduler.schedule(cancelledRan::incrementAndGet, 50, TimeUnit.MILLISECONDS).cancel(false);
                    }
                }
            });
            th.start();
            ts.add(th);
        }
        start.countDown();
        for (Thread th : ts) {
            th.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(th.isAlive()).isFalse();
        }
        assertThat(kept.await(30, TimeUnit.SECONDS)).isTrue();
        CountDownLatch later = new CountDownLatch(1);
        wheel.schedule(later::countDown, TimeUnit.MILLISECONDS.toNanos(100));
        assertThat(later.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(cancelledRan).hasValue(0);
        assertThat(keptRan).hasValue((long) threads * (each / 100));
    }

    @Test
    void theSdkCutsARequestThatHangs_withItsTimerOnTheWheel() {
        HangingHttpClient http = new HangingHttpClient();
        try (DynamoDbClient client = DynamoDbClient.builder().httpClient(http).region(Region.US_EAST_1)
                .endpointOverride(URI.create("http://127.0.0.1:9"))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b")))
                .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMillis(200))
                        .scheduledExecutorService(scheduler))
                .build()) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> client.listTables()).isInstanceOf(ApiCallTimeoutException.class);
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
            // On a busy machine the timeout may fire before the request reaches the HTTP client; any request that
            // did reach it was let go, by the abort or by the interrupt.
            assertThat(http.released).as("every request sent was let go").hasValue(http.sent.get());
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
        }
    }

    /** An HTTP client whose requests hang until aborted or interrupted. */
    private static final class HangingHttpClient implements SdkHttpClient {
        final AtomicInteger sent = new AtomicInteger();
        final AtomicInteger released = new AtomicInteger();

        @Override
        public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
            CountDownLatch abort = new CountDownLatch(1);
            return new ExecutableHttpRequest() {
                @Override
                public HttpExecuteResponse call() throws IOException {
                    sent.incrementAndGet();
                    try {
                        if (abort.await(30, TimeUnit.SECONDS)) {
                            released.incrementAndGet();
                        }
                    } catch (InterruptedException e) {
                        released.incrementAndGet();
                        Thread.currentThread().interrupt();
                    }
                    throw new IOException("aborted");
                }

                @Override
                public void abort() {
                    abort.countDown();
                }
            };
        }

        @Override
        public void close() {
        }
    }
}
