package dev.latitude.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.latitude.AmbiguousWriteException;
import dev.latitude.AsyncRegionCall;
import dev.latitude.AttemptRecord;
import dev.latitude.BreakerConfig;
import dev.latitude.FailureKind;
import dev.latitude.HedgingConfig;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.Plan;
import dev.latitude.RegionSpec;
import dev.latitude.RegionStatus;
import dev.latitude.RegionsUnavailableException;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.spi.ErrorClassifier;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many threads of asynchronous calls through one engine whose region calls succeed or fail at random (seeded per
 * thread), some slowly enough to be hedged, while another thread replaces the routing policy and reads the status.
 * Checks the invariants that must hold however the threads interleave.
 */
class EngineStressTest {
    private static final String EAST = "us-east-1";
    private static final String WEST = "us-west-2";
    private static final String EU = "eu-west-1";
    private static final String AP = "ap-south-1";
    private static final List<String> READERS = List.of(EAST, WEST, EU, AP);
    private static final Set<String> WRITERS = Set.of(EAST, EU);

    private static final int THREADS = 8;
    private static final int CALLS_PER_THREAD = 4_000;
    private static final double BUDGET_RATIO = 0.05;
    private static final int MAX_BURST = 10;
    private static final long SEED = 20_240_601L;
    private static final String CALLER_ERROR = "caller-error";

    private static final Operation READ = Operation.read("Get").build();
    private static final Operation WRITE = Operation.write("Post").build();
    private static final Operation IDEMPOTENT_WRITE = Operation.write("Put").idempotent(true).build();

    private static Topology topology() {
        return Topology.builder()
                .region(RegionSpec.builder(EAST).writer().location(38.9, -77.4).build())
                .region(RegionSpec.builder(WEST).location(45.6, -121.2).build())
                .region(RegionSpec.builder(EU).writer().location(53.35, -6.26).build())
                .region(RegionSpec.builder(AP).location(19.1, 72.9).build())
                .localRegion(EAST)
                .build();
    }

    private static Set<String> eligible(Operation op) {
        return op.isRead() ? new HashSet<>(READERS) : WRITERS;
    }

    /** One logical call: what it was, which regions it invoked, and the futures it handed to the engine. */
    private static final class CallRecord {
        final Operation op;
        final Random random;
        final List<String> regions = new ArrayList<>(2);
        final List<CompletableFuture<String>> stages = new ArrayList<>(2);
        CompletableFuture<String> result;
        boolean cancelled;

        CallRecord(Operation op, long seed) {
            this.op = op;
            this.random = new Random(seed);
        }
    }

    /** The fake region calls: immediate or delayed outcomes, hangs, and a count of hedges seen from outside. */
    private static final class FakeCalls {
        final ScheduledThreadPoolExecutor completer = new ScheduledThreadPoolExecutor(2);
        final AtomicInteger invocations = new AtomicInteger();
        final AtomicInteger overlapping = new AtomicInteger();
        final Queue<CompletableFuture<String>> hung = new ConcurrentLinkedQueue<>();

        AsyncRegionCall<String> callFor(CallRecord rec) {
            return region -> invoke(rec, region.id());
        }

        private CompletableFuture<String> invoke(CallRecord rec, String region) {
            invocations.incrementAndGet();
            int roll;
            CompletableFuture<String> f;
            synchronized (rec) {
                // An attempt started while an earlier attempt of the same call is still unresolved is a hedge, or a
                // fallback beside a slow attempt.
                for (CompletableFuture<String> earlier : rec.stages) {
                    if (!earlier.isDone()) {
                        overlapping.incrementAndGet();
                        break;
                    }
                }
                rec.regions.add(region);
                roll = rec.random.nextInt(1000);
                f = new CompletableFuture<>();
                rec.stages.add(f);
            }
            String ok = "ok:" + region;
            if (roll < 560) {
                f.complete(ok);
            } else if (roll < 630) {
                f.completeExceptionally(new ConnectException("refused by " + region));
            } else if (roll < 690) {
                f.completeExceptionally(new IOException("reset by " + region));
            } else if (roll < 715) {
                f.completeExceptionally(new IllegalArgumentException(CALLER_ERROR));
            } else if (roll < 720) {
                // A call that throws instead of returning a stage: its stage is settled first, or it would look like an
                // attempt still running and make every later attempt of this call count as overlapping.
                f.completeExceptionally(new IllegalArgumentException(CALLER_ERROR));
                throw new IllegalArgumentException(CALLER_ERROR);
            } else if (roll < 996) {
                // Slow enough to be hedged (the hedge delay is the median, which is an immediate answer).
                long delayMicros = 500 + rec.random.nextInt(4_500);
                boolean fails = roll < 760;
                completer.schedule(() -> {
                    if (fails) {
                        f.completeExceptionally(new ConnectException("slow refusal by " + region));
                    } else {
                        f.complete(ok);
                    }
                }, delayMicros, TimeUnit.MICROSECONDS);
            } else {
                hung.add(f); // never answers: only the attempt timeout or a winner ends it
            }
            return f;
        }
    }

    private static List<RoutingPolicy> policies() {
        return List.of(
                RoutingPolicy.latency().build(),
                RoutingPolicy.latency().window(Duration.ZERO).build(),
                RoutingPolicy.failover().priority(EAST, WEST, EU, AP).build(),
                RoutingPolicy.failover().priority(AP, EU, WEST, EAST).build(),
                RoutingPolicy.failover().priority(EU).build().then(RoutingPolicy.latency().build()),
                RoutingPolicy.weighted().weight(EAST, 90).weight(WEST, 10).build(),
                RoutingPolicy.weighted().weight(EU, 1).weight(AP, 3).build()
                        .then(RoutingPolicy.failover().priority(WEST, EAST).build()),
                RoutingPolicy.weighted().build());
    }

    private static void checkPlan(Latitude latitude, Operation op, Queue<String> errors) {
        Plan plan = latitude.plan(op);
        List<String> ids = plan.regions().stream().map(RegionSpec::id).collect(Collectors.toList());
        Set<String> expected = eligible(op);
        if (ids.size() != expected.size() || !new HashSet<>(ids).equals(expected)) {
            errors.add("plan(" + op + ") = " + ids + " is not a permutation of " + expected);
        }
        if (plan.healthyCount() < 0 || plan.healthyCount() > ids.size()) {
            errors.add("plan(" + op + ") healthyCount " + plan.healthyCount() + " of " + ids.size());
        }
    }

    private static void checkStatus(Latitude latitude, Queue<String> errors) {
        List<RegionStatus> status = latitude.status();
        List<String> ids = status.stream().map(s -> s.region().id()).collect(Collectors.toList());
        if (!ids.equals(List.of(EAST, WEST, EU, AP))) {
            errors.add("status() regions " + ids);
        }
        for (RegionStatus s : status) {
            if (s.inFlight() < 0) {
                errors.add(s.region().id() + " inFlight " + s.inFlight());
            }
            if (s.circuit() == null || s.probe() == null) {
                errors.add(s.region().id() + " status " + s);
            }
        }
    }

    /** Checks how one call ended against what it invoked. */
    private static void checkOutcome(CallRecord rec, long deadlineNanos, Queue<String> errors) {
        List<String> regions;
        synchronized (rec) {
            regions = new ArrayList<>(rec.regions);
        }
        String value = null;
        Throwable failure = null;
        try {
            value = rec.result.get(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (CancellationException e) {
            if (!rec.cancelled) {
                errors.add(rec.op + " was cancelled but not by the caller");
            }
            return;
        } catch (ExecutionException e) {
            failure = e.getCause();
        } catch (TimeoutException e) {
            errors.add(rec.op + " never completed; regions invoked " + regions);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            errors.add("interrupted");
            return;
        }
        synchronized (rec) {
            regions = new ArrayList<>(rec.regions);
        }
        if (new HashSet<>(regions).size() != regions.size()) {
            errors.add(rec.op + " invoked a region twice: " + regions);
        }
        if (!eligible(rec.op).containsAll(regions)) {
            errors.add(rec.op + " invoked a region without the role: " + regions);
        }
        if (rec.cancelled) {
            errors.add(rec.op + " was cancelled by the caller but completed with " + (failure == null ? value : failure));
            return;
        }
        if (failure == null) {
            String region = value == null || !value.startsWith("ok:") ? null : value.substring(3);
            if (region == null || !regions.contains(region) || !eligible(rec.op).contains(region)) {
                errors.add(rec.op + " succeeded with " + value + " but invoked " + regions);
            }
        } else if (failure instanceof AmbiguousWriteException) {
            AmbiguousWriteException e = (AmbiguousWriteException) failure;
            // An idempotent write is ambiguous only when some attempt's outcome is unknown (it failed ambiguously or
            // was cut while running) and no other region took it.
            boolean unknown = e.attempts().stream().anyMatch(a -> a.region().equals(e.region())
                    && (a.failure() == FailureKind.AMBIGUOUS || a.failure() == FailureKind.TIMEOUT));
            if (!unknown || !WRITERS.contains(e.region())) {
                errors.add(rec.op + " failed with " + failure);
            }
        } else if (failure instanceof RegionsUnavailableException) {
            for (AttemptRecord a : ((RegionsUnavailableException) failure).attempts()) {
                // Every attempt of a call that found no region must have failed (or been skipped by its bulkhead),
                // and a write that found no region was certainly applied nowhere.
                if (a.failure() == null || a.failure() == FailureKind.CALLER || !eligible(rec.op).contains(a.region())
                        || rec.op.kind() == Operation.Kind.WRITE
                                && (a.failure() == FailureKind.AMBIGUOUS || a.failure() == FailureKind.TIMEOUT)) {
                    errors.add(rec.op + " failed with an impossible attempt " + a + " in " + failure.getMessage());
                }
            }
        } else if (!(failure instanceof IllegalArgumentException && CALLER_ERROR.equals(failure.getMessage()))) {
            errors.add(rec.op + " failed with an unexpected " + failure);
        }
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void concurrentCallsPolicyFlipsAndStatusReadsKeepTheInvariants() throws Exception {
        InMemoryMetricReader metrics = InMemoryMetricReader.create();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().setSampler(Sampler.alwaysOff()).build())
                .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
                .build();
        FakeCalls fakes = new FakeCalls();
        Latitude latitude = Latitude.builder()
                .topology(topology())
                .routingPolicy(RoutingPolicy.latency().build())
                .errorClassifier(ErrorClassifier.defaults())
                .attemptTimeout(Duration.ofMillis(50))
                .deadline(Duration.ofSeconds(2))
                .breaker(BreakerConfig.builder().failureThreshold(4, 8).successThreshold(2)
                        .openDelay(Duration.ofMillis(20)).build())
                .hedging(HedgingConfig.builder().percentile(50).minSamples(10).budgetRatio(BUDGET_RATIO)
                        .maxBurst(MAX_BURST).minDelay(Duration.ZERO).build())
                .openTelemetry(sdk)
                .random(new Random(SEED))
                .latencyWindow(Duration.ofSeconds(1))
                .build();
        Queue<String> errors = new ConcurrentLinkedQueue<>();
        List<CallRecord> all = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger hedgeEligibleCalls = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong checks = new AtomicLong();
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                long seed = SEED + t;
                Thread w = new Thread(() -> {
                    try {
                        go.await();
                        Random random = new Random(seed);
                        for (int i = 0; i < CALLS_PER_THREAD; i++) {
                            int kind = random.nextInt(10);
                            Operation op = kind < 6 ? READ : kind < 8 ? WRITE : IDEMPOTENT_WRITE;
                            CallRecord rec = new CallRecord(op, random.nextLong());
                            if (op == READ) {
                                hedgeEligibleCalls.incrementAndGet(); // an upper bound: plans with one healthy region are not
                            }
                            rec.result = latitude.executeAsync(op, fakes.callFor(rec));
                            if (random.nextInt(100) == 0) {
                                rec.cancelled = rec.result.cancel(true);
                            }
                            all.add(rec);
                            if (i % 100 == 0) {
                                checkPlan(latitude, op, errors);
                            }
                        }
                    } catch (Throwable e) {
                        errors.add("worker threw " + e);
                    }
                }, "stress-worker-" + t);
                workers.add(w);
                w.start();
            }
            Thread flipper = new Thread(() -> {
                Random random = new Random(SEED - 1);
                List<RoutingPolicy> policies = policies();
                try {
                    go.await();
                    for (long n = 0; !stop.get(); n++) {
                        if (n % 5 == 0) {
                            latitude.routingPolicy(policies.get(random.nextInt(policies.size())));
                        }
                        checkStatus(latitude, errors);
                        checkPlan(latitude, READ, errors);
                        checkPlan(latitude, WRITE, errors);
                        checkPlan(latitude, IDEMPOTENT_WRITE, errors);
                        checks.incrementAndGet();
                        Thread.yield();
                    }
                } catch (Throwable e) {
                    errors.add("flipper threw " + e);
                }
            }, "stress-flipper");
            flipper.start();

            go.countDown();
            for (Thread w : workers) {
                w.join(15_000);
                assertThat(w.isAlive()).as("%s finished submitting", w.getName()).isFalse();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            List<CallRecord> records;
            synchronized (all) {
                records = new ArrayList<>(all);
            }
            for (CallRecord rec : records) {
                checkOutcome(rec, deadline, errors);
            }
            stop.set(true);
            flipper.join(5_000);
            assertThat(flipper.isAlive()).isFalse();

            assertThat(errors).as("invariant violations (first of %d)", errors.size()).isEmpty();
            assertThat(records).hasSize(THREADS * CALLS_PER_THREAD);
            assertThat(checks.get()).as("status and plan checks while calls ran").isGreaterThanOrEqualTo(10);

            // Every attempt released its in-flight slot, and every abandoned or timed-out attempt was cancelled.
            awaitUntil(Duration.ofSeconds(2), () -> latitude.status().stream().allMatch(s -> s.inFlight() == 0));
            assertThat(latitude.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
            assertThat(fakes.hung).isNotEmpty();
            awaitUntil(Duration.ofSeconds(2), () -> fakes.hung.stream().allMatch(CompletableFuture::isDone));

            // Hedges stay within the budget.
            Collection<MetricData> collected = metrics.collectAllMetrics();
            long hedges = sum(collected, "latitude.hedges");
            long bound = (long) Math.floor(BUDGET_RATIO * hedgeEligibleCalls.get()) + MAX_BURST;
            assertThat(hedges).as("hedges (bound %d)", bound).isPositive().isLessThanOrEqualTo(bound);
            // Seen from outside, an attempt overlaps an earlier one when it is a hedge, or a fallback started while an
            // attempt past its timeout still runs (a slow attempt is not cancelled while it may still win).
            long timeouts = sum(collected, "latitude.fallbacks");
            assertThat((long) fakes.overlapping.get()).isLessThanOrEqualTo(hedges + timeouts);
            // Each attempt the engine saw end on its own was an invocation.
            assertThat(sum(collected, "latitude.attempts")).isPositive()
                    .isLessThanOrEqualTo(fakes.invocations.get());
            int invocationsByRecords = records.stream().mapToInt(r -> {
                synchronized (r) {
                    return r.regions.size();
                }
            }).sum();
            assertThat(invocationsByRecords).isEqualTo(fakes.invocations.get());
        } finally {
            stop.set(true);
            latitude.close();
            fakes.completer.shutdownNow();
            sdk.close();
        }
    }

    private static long sum(Collection<MetricData> metrics, String name) {
        return metrics.stream().filter(m -> m.getName().equals(name))
                .flatMap(m -> m.getLongSumData().getPoints().stream()).mapToLong(LongPointData::getValue).sum();
    }

    private static void awaitUntil(Duration max, BooleanSupplier condition) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("condition not met within " + max);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void latencyTrackerSurvivesConcurrentRecordsAndReads() throws Exception {
        long fast = TimeUnit.MILLISECONDS.toNanos(1);
        long slow = TimeUnit.MILLISECONDS.toNanos(100);
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        long refresh = TimeUnit.MILLISECONDS.toNanos(100);
        LatencyTracker tracker = new LatencyTracker(0.2, 0, 95, 100, refresh, TimeUnit.SECONDS.toNanos(2), clock.get());
        assertThat(tracker.ewmaNanos()).isEqualTo(-1);
        assertThat(tracker.percentileNanos(clock.get())).isEqualTo(-1);

        Queue<String> errors = new ConcurrentLinkedQueue<>();
        AtomicBoolean recorded = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> writers = new ArrayList<>();
        int perThread = 100_000;
        for (int t = 0; t < THREADS; t++) {
            long seed = SEED + 100 + t;
            Thread w = new Thread(() -> {
                try {
                    go.await();
                    Random random = new Random(seed);
                    for (int i = 0; i < perThread; i++) {
                        // 10 % slow, 90 % fast: p95 is the slow value; 10 µs of fake time per sample.
                        long sample = random.nextInt(10) == 0 ? slow : fast;
                        tracker.record(sample, clock.addAndGet(10_000));
                        recorded.set(true);
                    }
                } catch (Throwable e) {
                    errors.add("writer threw " + e);
                }
            }, "tracker-writer-" + t);
            writers.add(w);
            w.start();
        }
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            Thread r = new Thread(() -> {
                try {
                    go.await();
                    while (!stop.get()) {
                        boolean any = recorded.get();
                        long ewma = tracker.ewmaNanos();
                        long p = tracker.percentileNanos(clock.get());
                        if (any && (ewma < fast || ewma > slow)) {
                            errors.add("ewma " + ewma + " outside [" + fast + ", " + slow + "]");
                        }
                        if (p != -1 && (p < fast || p > slow + slow / 50)) {
                            errors.add("percentile " + p + " outside the samples");
                        }
                    }
                } catch (Throwable e) {
                    errors.add("reader threw " + e);
                }
            }, "tracker-reader-" + t);
            readers.add(r);
            r.start();
        }
        go.countDown();
        for (Thread w : writers) {
            w.join(15_000);
            assertThat(w.isAlive()).isFalse();
        }
        stop.set(true);
        for (Thread r : readers) {
            r.join(5_000);
            assertThat(r.isAlive()).isFalse();
        }

        assertThat(errors).isEmpty();
        assertThat(tracker.ewmaNanos()).isBetween(fast, slow);
        long p95 = tracker.percentileNanos(clock.addAndGet(refresh));
        // HdrHistogram keeps 2 significant digits: within 1 % of the slow value.
        assertThat(p95).isBetween(slow - slow / 100, slow + slow / 100);
        // updateEwma from many threads stays a convex combination of its inputs.
        List<Thread> ewmaWriters = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            long value = t % 2 == 0 ? fast : slow;
            Thread w = new Thread(() -> {
                for (int i = 0; i < 50_000; i++) {
                    tracker.updateEwma(value);
                }
            });
            ewmaWriters.add(w);
            w.start();
        }
        for (Thread w : ewmaWriters) {
            w.join(10_000);
        }
        assertThat(tracker.ewmaNanos()).isBetween(fast, slow);
    }
}
