package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.AmbiguousWriteException;
import dev.latitude.HedgingConfig;
import dev.latitude.LatitudeCallException;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.testkit.DynamoDbLocalRegion;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.ReplicationLag;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;

/**
 * Blocking and asynchronous callers, each with its own session and keys, put versioned items, read them back and
 * increment counters (not idempotent) while a seeded schedule blackholes, resets, slows or heals one region every
 * 1.5–3 s. Checks the promises the engine makes however the faults fall: no acknowledged write is lost or undone by a
 * late one, every read sees its session's writes, counters end within acknowledged..acknowledged+ambiguous, no call
 * outlives its deadline by more than two seconds, threads stay bounded while it runs and come back after close.
 */
class FlappingFaultsStressTest {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final String FAR = "ap-southeast-2";
    private static final String TABLE = "stress_kv";
    private static final long SEED = 9;
    private static final Duration RUN = Duration.ofSeconds(Long.getLong("latitude.stress.seconds", 15));
    private static final Duration DEADLINE = Duration.ofSeconds(3);
    // DynamoDB Local applies one write at a time per region, so the lab saturates well before a real region does.
    private static final int BLOCKING_CALLERS = 8;
    private static final int ASYNC_CALLERS = 16;
    private static final int MAX_ATTEMPTS_PER_REGION = 64;

    private static final java.util.regex.Pattern LAB_THREAD = java.util.regex.Pattern.compile(
            "latitude-fake-region-|qtp|latitude-replication-|SQLiteQueue|Scheduler-|Connector-Scheduler-");

    private static DynamoDbLocalRegions lab;

    @BeforeAll
    static void start() {
        lab = LabSupport.startLab(List.of(WRITER, LOCAL, FAR),
                ReplicationLag.jittered(Duration.ofMillis(50), Duration.ofMillis(400), SEED));
        LabSupport.createTable(lab, TABLE, null);
        LabSupport.warmUp(lab, true, TABLE);
    }

    @AfterAll
    static void stop() {
        LabSupport.close(lab, null);
    }

    private static Topology topology() {
        return Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder(LOCAL).jurisdiction("EU").location(53.3, -6.3).build())
                .region(RegionSpec.builder(FAR).jurisdiction("AU").location(-33.9, 151.2).build())
                .localRegion(LOCAL).build();
    }

    /** What one caller did to its own keys, and what it saw. */
    private static final class Caller {
        final String name;
        final String itemKey;
        final String counterKey;
        final Session session = Session.create();
        final Random random;
        long nextVersion = 1;
        long ackedVersion; // the highest version acknowledged
        long ambiguousVersion; // the highest version whose put ended ambiguously
        long counterAcked;
        long counterAmbiguous;

        Caller(String name, long seed) {
            this.name = name;
            this.itemKey = name + "-item";
            this.counterKey = name + "-counter";
            this.random = new Random(seed);
        }
    }

    /** Counts and violations, shared by every caller. */
    private static final class Results {
        final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        final AtomicLong calls = new AtomicLong();
        final AtomicLong reads = new AtomicLong();
        final AtomicLong readFailures = new AtomicLong();
        final AtomicLong readsWriterHealthy = new AtomicLong();
        final AtomicLong readFailuresWriterHealthy = new AtomicLong();
        final AtomicLong writeFailures = new AtomicLong();
        final AtomicLong ambiguous = new AtomicLong();
        final AtomicLong slowestNanos = new AtomicLong();
        final AtomicInteger maxThreads = new AtomicInteger();
        final ConcurrentLinkedQueue<String> sampleFailures = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<String> sampleReadFailures = new ConcurrentLinkedQueue<>();
        /** Counts the faults put on the writer, so a read knows whether one began while it ran. */
        final AtomicLong writerFaults = new AtomicLong();

        void sample(Throwable t) {
            if (sampleFailures.size() < 3) {
                sampleFailures.add(String.valueOf(t));
            }
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void flappingFaults_noLostWrites_readYourWrites_countersWithinBounds_deadlinesKept_threadsBounded()
            throws Exception {
        int threadsBefore = liveThreads();
        AtomicReference<String> faulted = new AtomicReference<>(); // the region in a fault right now, or null
        Results results = new Results();
        List<Caller> callers = new ArrayList<>();
        List<DynamoDbClient> syncClients = new ArrayList<>();
        List<DynamoDbAsyncClient> asyncClients = new ArrayList<>();
        MultiRegionDynamoDbClient.Builder sb = MultiRegionDynamoDbClient.builder().topology(topology())
                .keySchema(TABLE, "pk").router(r -> settings(r));
        if (Boolean.getBoolean("latitude.stress.unguarded")) { // to see what the write guard prevents
            sb.unstampedTables(TABLE);
        }
        MultiRegionDynamoDbAsyncClient.Builder ab = MultiRegionDynamoDbAsyncClient.builder().topology(topology())
                .keySchema(TABLE, "pk").router(r -> settings(r));
        for (String id : lab.ids()) {
            DynamoDbClient c = lab.frontClient(id, b -> b.overrideConfiguration(o -> o
                    .retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy()).apiCallTimeout(DEADLINE)));
            syncClients.add(c);
            sb.regionClient(id, c);
            DynamoDbAsyncClient a = DynamoDbAsyncClient.builder().endpointOverride(lab.front(id).uri())
                    .region(Region.US_EAST_1).credentialsProvider(DynamoDbLocalRegion.credentials())
                    .overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy())
                            .apiCallTimeout(DEADLINE))
                    .build();
            asyncClients.add(a);
            ab.regionClient(id, a);
        }
        MultiRegionDynamoDbClient sync = sb.build();
        MultiRegionDynamoDbAsyncClient async = ab.build();
        ExecutorService pool = Executors.newFixedThreadPool(BLOCKING_CALLERS + 2);
        long end = System.nanoTime() + RUN.toNanos();
        try {
            List<Future<?>> running = new ArrayList<>();
            running.add(pool.submit(() -> flap(faulted, results.writerFaults, end)));
            running.add(pool.submit(() -> watchThreads(results, end)));
            for (int i = 0; i < BLOCKING_CALLERS; i++) {
                Caller c = new Caller("blocking-" + i, SEED * 1000 + i);
                callers.add(c);
                running.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        step(c, results, faulted, sync);
                    }
                }));
            }
            List<CompletableFuture<Void>> chains = new ArrayList<>();
            for (int i = 0; i < ASYNC_CALLERS; i++) {
                Caller c = new Caller("async-" + i, SEED * 2000 + i);
                callers.add(c);
                chains.add(asyncLoop(c, results, faulted, async, end));
            }
            for (Future<?> f : running) {
                f.get(RUN.toSeconds() + 30, TimeUnit.SECONDS);
            }
            CompletableFuture.allOf(chains.toArray(CompletableFuture[]::new))
                    .get(RUN.toSeconds() + 30, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
            lab.ids().forEach(id -> lab.front(id).heal());
        }

        // Every region converges; then the stored items and counters are checked against what was acknowledged.
        lab.replication().awaitQuiescent(Duration.ofSeconds(30));
        for (Caller c : callers) {
            for (String region : lab.ids()) {
                Map<String, AttributeValue> item = LabSupport.raw(lab.region(region).client(), TABLE, c.itemKey);
                long stored = item == null ? 0 : Long.parseLong(item.get("ver").n());
                if (stored < c.ackedVersion) {
                    results.violations.add(c.name + ": acknowledged version " + c.ackedVersion + " lost in " + region
                            + ", which holds " + stored);
                }
                if (stored > Math.max(c.ackedVersion, c.ambiguousVersion)) {
                    results.violations.add(c.name + ": " + region + " holds version " + stored + ", never written");
                }
            }
            Map<String, AttributeValue> counter = LabSupport.raw(lab.region(WRITER).client(), TABLE, c.counterKey);
            long value = counter == null || !counter.containsKey("n") ? 0 : Long.parseLong(counter.get("n").n());
            if (value < c.counterAcked || value > c.counterAcked + c.counterAmbiguous) {
                results.violations.add(c.name + ": counter " + value + " outside [" + c.counterAcked + ", "
                        + (c.counterAcked + c.counterAmbiguous) + "]");
            }
        }
        sync.close();
        async.close();
        syncClients.forEach(DynamoDbClient::close);
        asyncClients.forEach(DynamoDbAsyncClient::close);

        double readFailureRate = results.readsWriterHealthy.get() == 0 ? 0
                : 100.0 * results.readFailuresWriterHealthy.get() / results.readsWriterHealthy.get();
        String summary = String.format("calls %d, reads %d (failed %d; with the writer healthy %d, failed %d = %.2f %%),"
                        + " write failures %d (ambiguous %d), slowest call %d ms, threads before %d, peak %d",
                results.calls.get(), results.reads.get(), results.readFailures.get(), results.readsWriterHealthy.get(),
                results.readFailuresWriterHealthy.get(), readFailureRate, results.writeFailures.get(),
                results.ambiguous.get(), TimeUnit.NANOSECONDS.toMillis(results.slowestNanos.get()), threadsBefore,
                results.maxThreads.get()) + "; failures such as " + results.sampleFailures + "; reads failed with the writer"
                + " healthy: " + results.sampleReadFailures;
        System.out.println("FlappingFaultsStressTest: " + summary);

        assertThat(results.violations).as(summary).isEmpty();
        assertThat(results.calls.get()).as(summary).isGreaterThan(100);
        // The read failure rate with the writer healthy is reported, not asserted: on a busy 2-core machine the lab
        // itself (three DynamoDB Local servers applying one write at a time) can exceed the deadline.
        // The margin is for the machine, not the engine: the slowest call is timed from the caller's thread, and on a
        // 2-core machine loaded several times over a thread can wait a second for a CPU (4,006 ms was seen against a
        // 3 s deadline). A call that ignored its deadline would wait out a blackhole (1.5-3 s more) or a 400 ms
        // latency fault per attempt.
        assertThat(results.slowestNanos.get()).as("no call outlives its deadline by more than 2 s; " + summary)
                .isLessThanOrEqualTo(DEADLINE.plusSeconds(2).toNanos());
        // Blocking attempts abandoned in a blackholed region hold their threads until the SDK's call timeout; the
        // bulkhead bounds them per region.
        assertThat(results.maxThreads.get()).as(summary)
                .isLessThanOrEqualTo(threadsBefore + 3 * MAX_ATTEMPTS_PER_REGION + BLOCKING_CALLERS + 100);
        try {
            LabSupport.awaitUntil(Duration.ofSeconds(30), "threads back near " + threadsBefore + " after close",
                    () -> liveThreads() <= threadsBefore + 20);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; live threads by name: " + threadNames(), e);
        }
    }

    private static dev.latitude.Latitude.Builder settings(dev.latitude.Latitude.Builder r) {
        return r.attemptTimeout(Duration.ofMillis(300)).deadline(DEADLINE)
                .maxConcurrentAttempts(MAX_ATTEMPTS_PER_REGION)
                .routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER, FAR).build())
                .hedging(HedgingConfig.defaults());
    }

    /** One blocking step: a put, a read of it, or an increment, chosen at random. */
    private static void step(Caller c, Results results, AtomicReference<String> faulted,
            MultiRegionDynamoDbClient client) {
        int roll = c.random.nextInt(10);
        try (Scope ignored = c.session.storeIn(Context.current()).makeCurrent()) {
            if (roll < 4) {
                long v = c.nextVersion++;
                timed(results, () -> outcome(c, results, v, false,
                        () -> client.putItem(p -> p.tableName(TABLE).item(item(c, v)))));
            } else if (roll < 8) {
                long faultsBefore = results.writerFaults.get();
                boolean healthyAtStart = !WRITER.equals(faulted.get());
                long mustSee = c.ackedVersion;
                timed(results, () -> read(c, results, healthyAtStart, faultsBefore, mustSee,
                        () -> client.getItem(g -> g.tableName(TABLE).key(LabSupport.key(c.itemKey)))));
            } else {
                timed(results, () -> outcome(c, results, 0, true, () -> client.updateItem(increment(c))));
            }
        }
    }

    /** An asynchronous caller: the same steps, each started when the previous one completed. */
    private static CompletableFuture<Void> asyncLoop(Caller c, Results results, AtomicReference<String> faulted,
            MultiRegionDynamoDbAsyncClient client, long end) {
        if (System.nanoTime() >= end) {
            return CompletableFuture.completedFuture(null);
        }
        int roll = c.random.nextInt(10);
        long started = System.nanoTime();
        CompletableFuture<?> call;
        long version = roll < 4 ? c.nextVersion++ : 0;
        boolean healthyAtStart = !WRITER.equals(faulted.get());
        long faultsBefore = results.writerFaults.get();
        long mustSee = c.ackedVersion;
        try (Scope ignored = c.session.storeIn(Context.current()).makeCurrent()) {
            if (roll < 4) {
                call = client.putItem(p -> p.tableName(TABLE).item(item(c, version)));
            } else if (roll < 8) {
                call = client.getItem(g -> g.tableName(TABLE).key(LabSupport.key(c.itemKey)));
            } else {
                call = client.updateItem(increment(c));
            }
        }
        return call.handle((response, error) -> {
            record(results, started);
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            if (roll < 8 && roll >= 4) {
                boolean writerHealthy = healthyAtStart && results.writerFaults.get() == faultsBefore;
                readOutcome(c, results, writerHealthy, mustSee, (GetItemResponse) response, cause);
            } else {
                writeOutcome(c, results, version, roll >= 8, cause);
            }
            return null;
        }).thenCompose(x -> asyncLoop(c, results, faulted, client, end));
    }

    private static Map<String, AttributeValue> item(Caller c, long version) {
        return Map.of("pk", AttributeValue.fromS(c.itemKey), "ver", AttributeValue.fromN(Long.toString(version)));
    }

    private static software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest increment(Caller c) {
        return software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest.builder().tableName(TABLE)
                .key(LabSupport.key(c.counterKey)).updateExpression("ADD #n :one")
                .expressionAttributeNames(Map.of("#n", "n"))
                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))).build();
    }

    private static void timed(Results results, Runnable body) {
        long started = System.nanoTime();
        try {
            body.run();
        } finally {
            record(results, started);
        }
    }

    private static void record(Results results, long started) {
        results.calls.incrementAndGet();
        long took = System.nanoTime() - started;
        results.slowestNanos.accumulateAndGet(took, Math::max);
    }

    private static void outcome(Caller c, Results results, long version, boolean counter, Supplier<?> write) {
        Throwable error = null;
        try {
            write.get();
        } catch (RuntimeException e) {
            error = e;
        }
        writeOutcome(c, results, version, counter, error);
    }

    private static void writeOutcome(Caller c, Results results, long version, boolean counter, Throwable error) {
        if (error == null) {
            if (counter) {
                c.counterAcked++;
            } else {
                c.ackedVersion = Math.max(c.ackedVersion, version);
            }
            return;
        }
        results.writeFailures.incrementAndGet();
        results.sample(error);
        if (error instanceof AmbiguousWriteException) {
            results.ambiguous.incrementAndGet();
            if (counter) {
                c.counterAmbiguous++;
            } else {
                c.ambiguousVersion = Math.max(c.ambiguousVersion, version);
            }
        } else if (!(error instanceof LatitudeCallException)) {
            results.violations.add(c.name + ": a write failed with an unexpected " + error);
        }
    }

    private static void read(Caller c, Results results, boolean healthyAtStart, long faultsBefore, long mustSee,
            Supplier<GetItemResponse> get) {
        GetItemResponse response = null;
        Throwable error = null;
        try {
            response = get.get();
        } catch (RuntimeException e) {
            error = e;
        }
        readOutcome(c, results, healthyAtStart && results.writerFaults.get() == faultsBefore, mustSee, response,
                error);
    }

    private static void readOutcome(Caller c, Results results, boolean writerHealthy, long mustSee,
            GetItemResponse response, Throwable error) {
        results.reads.incrementAndGet();
        if (writerHealthy) {
            results.readsWriterHealthy.incrementAndGet();
        }
        if (error != null) {
            results.readFailures.incrementAndGet();
            if (writerHealthy && results.sampleReadFailures.size() < 5) {
                results.sampleReadFailures.add(String.valueOf(error));
            }
            if (writerHealthy) {
                results.readFailuresWriterHealthy.incrementAndGet();
            }
            if (!(error instanceof LatitudeCallException)) {
                results.violations.add(c.name + ": a read failed with an unexpected " + error);
            }
            return;
        }
        long seen = response.hasItem() && response.item().containsKey("ver")
                ? Long.parseLong(response.item().get("ver").n()) : 0;
        if (seen < mustSee) {
            results.violations.add(c.name + ": read version " + seen + " after its write of " + mustSee
                    + " was acknowledged");
        }
    }

    /** Every 1.5–3 s, puts one region (at most one at a time) in a fault or heals it, from a seeded schedule. */
    private static void flap(AtomicReference<String> faulted, AtomicLong writerFaults, long end) {
        Random random = new Random(SEED);
        List<String> ids = List.of(LOCAL, WRITER, FAR);
        int round = 0;
        while (System.nanoTime() < end) {
            String current = faulted.get();
            if (current != null) {
                lab.front(current).heal();
                faulted.set(null);
            } else {
                String target = ids.get(round++ % ids.size());
                Fault fault = switch (random.nextInt(4)) {
                    case 0 -> Fault.blackhole();
                    case 1 -> Fault.resetConnections();
                    case 2 -> Fault.latency(Duration.ofMillis(400));
                    // Answers after the deadline: writes end ambiguous, and may land after newer ones.
                    default -> Fault.latency(DEADLINE.plusMillis(500));
                };
                if (target.equals(WRITER)) {
                    writerFaults.incrementAndGet();
                }
                faulted.set(target);
                lab.front(target).apply(fault);
                System.out.println("FlappingFaultsStressTest: " + target + " " + fault);
            }
            LockSupport.parkNanos(Duration.ofMillis(1500 + random.nextInt(1500)).toNanos());
        }
    }

    private static void watchThreads(Results results, long end) {
        while (System.nanoTime() < end) {
            results.maxThreads.accumulateAndGet(liveThreads(), Math::max);
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
    }

    private static Map<String, Long> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().collect(java.util.stream.Collectors.groupingBy(
                t -> t.getName().replaceAll("[0-9]+", "#"), java.util.TreeMap::new,
                java.util.stream.Collectors.counting()));
    }

    /**
     * Counts live threads other than the lab's servers (fault fronts, DynamoDB Local, the replication emulator), whose
     * pools grow under load and idle out on their own schedule: what is left is what the clients and the test hold.
     */
    private static int liveThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && !LAB_THREAD
                .matcher(t.getName()).lookingAt()).count();
    }
}
