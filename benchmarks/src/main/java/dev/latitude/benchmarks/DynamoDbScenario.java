package dev.latitude.benchmarks;

import dev.latitude.AmbiguousWriteException;
import dev.latitude.BreakerConfig;
import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HedgingConfig;
import dev.latitude.HybridLogicalClock;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.RegionStatus;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.WriteMode;
import dev.latitude.dynamodb.HeartbeatConfig;
import dev.latitude.dynamodb.MultiRegionDynamoDbClient;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.FakeRegion;
import dev.latitude.testkit.History;
import dev.latitude.testkit.HistoryChecker;
import dev.latitude.testkit.HistoryOp;
import dev.latitude.testkit.HistoryReport;
import dev.latitude.testkit.ReplicationLag;
import dev.latitude.testkit.ReplicationSettings;
import dev.latitude.testkit.Violation;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.EventData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

/**
 * {@code MultiRegionDynamoDbClient} against DynamoDB Local regions of the testkit ({@link DynamoDbLocalRegions}): three
 * in-process servers on 127.0.0.1, us-east-1 (writer), eu-west-1 (the local region, a reader) and ap-southeast-2,
 * replicated by the testkit's emulator with a fixed 1 s lag. Items carry the client's hybrid-logical-clock stamp in
 * {@code _lat_ts}, and the emulator is told to read it as one ({@code clockToTimestamp}).
 *
 * <p>Four parts, in one run:
 * <ol>
 *   <li><b>Throughput overhead</b>: GetItem of existing items from {@value #THREADS} threads, through a plain
 *       {@link DynamoDbClient} of eu-west-1's server and through the multi-region client whose eu-west-1 client is that
 *       same client (table EVENTUAL, no session, failover policy eu-west-1 first, OpenTelemetry no-op, hedging off).
 *       Both are warmed up, then rounds alternate plain/wrapped (ABBA order); the figure compares the medians. Three
 *       passes: the client's defaults with region clients of the caller's own, without timeouts (the first attempt
 *       runs on the calling thread, each request copied with the attempt timeout; no suffix); the same with region
 *       clients that have {@code apiCallTimeout} equal to the attempt timeout, so requests are sent as they are
 *       ({@code _bounded_clients}); and attempts handed to the engine's attempt threads, the path hedged reads take
 *       ({@code _pooled}).</li>
 *   <li><b>Added latency</b>: the same GetItem, sequential from one thread, interleaved rounds; p50 wrapped minus
 *       p50 plain over all rounds (HdrHistogram).</li>
 *   <li><b>Sessions</b>: concurrent SESSION sessions (each its own {@link Session}), 10 % PutItem (own keys) and 90 %
 *       GetItem (mostly own keys, sometimes another session's), paced; every operation recorded in a {@link History}
 *       and checked with {@link HistoryChecker}; the answering region of each read is read from the
 *       {@code cloud.region} attribute of the client's span (an in-memory OpenTelemetry SDK).</li>
 *   <li><b>Failover</b>: reads and idempotent puts at a steady rate through a multi-region client whose eu-west-1
 *       client goes through the lab's fault front ({@link DynamoDbLocalRegions#front}); the front is blackholed for a
 *       few seconds mid-run.</li>
 * </ol>
 *
 * <p>System properties for exploring (defaults are what {@code benchmarks/run.sh dynamodb} measures):
 * {@code dynamodb.rounds}, {@code dynamodb.roundMillis}, {@code dynamodb.sessions}, {@code dynamodb.sessionRate}
 * (operations/s per session), {@code dynamodb.keysPerSession}, {@code dynamodb.sessionSeconds},
 * {@code dynamodb.heartbeatMillis} (0: no heartbeats), {@code dynamodb.overheadHedging} (true|false),
 * {@code dynamodb.failoverRate}, {@code dynamodb.faultSeconds}, {@code dynamodb.parts} (a comma-separated subset of
 * overhead,sessions,failover).
 */
public final class DynamoDbScenario {
    static final String WRITER = "us-east-1";
    static final String LOCAL = "eu-west-1";
    static final String OTHER = "ap-southeast-2";
    static final String ITEMS = "bench_items";
    static final String SESSIONS = "bench_sessions";
    static final int THREADS = 4;
    static final int ITEM_COUNT = 1000;
    /** The added round trip from the local region to the writer, and to the other region, in the sessions part. */
    static final int WRITER_RTT_MS = 40;
    /** The attempt timeout of the failover part. */
    static final int ATTEMPT_TIMEOUT_MS = 200;
    static final int OTHER_RTT_MS = 150;
    private static final AttributeKey<String> CLOUD_REGION = AttributeKey.stringKey("cloud.region");
    private static final long MS = 1_000_000L;

    private final int rounds = Integer.getInteger("dynamodb.rounds", 10);
    private final int roundMillis = Integer.getInteger("dynamodb.roundMillis", 1500);
    private final int sessionCount = Integer.getInteger("dynamodb.sessions", 8);
    private final int sessionRate = Integer.getInteger("dynamodb.sessionRate", 50);
    private final int keysPerSession = Integer.getInteger("dynamodb.keysPerSession", 300);
    private final int sessionSeconds = Integer.getInteger("dynamodb.sessionSeconds", 10);
    private final int heartbeatMillis = Integer.getInteger("dynamodb.heartbeatMillis", 250);
    private final boolean overheadHedging = Boolean.parseBoolean(System.getProperty("dynamodb.overheadHedging",
            "false"));
    private final int failoverRate = Integer.getInteger("dynamodb.failoverRate", 200);
    private final int faultSeconds = Integer.getInteger("dynamodb.faultSeconds", 6);

    private final List<String> parts = List.of(System.getProperty("dynamodb.parts", "overhead,sessions,failover")
            .split(","));

    private final List<AutoCloseable> closeLater = new ArrayList<>();

    /** Runs every part and returns the figures. */
    List<String> run() throws Exception {
        long t0 = System.nanoTime();
        List<String> metrics = new ArrayList<>();
        ReplicationSettings settings = ReplicationSettings.builder()
                .lag(ReplicationLag.fixed(Duration.ofSeconds(1)))
                .clockToTimestamp(ms -> HybridLogicalClock.timestamp(ms, 0))
                .build();
        try (DynamoDbLocalRegions lab = DynamoDbLocalRegions.start(List.of(WRITER, LOCAL, OTHER), settings)) {
            System.out.printf(Locale.ROOT, "dynamodb: started %s in %.1f s; replication %s%n", lab.endpoints(),
                    (System.nanoTime() - t0) / 1e9, settings);
            lab.createGlobalTable(table(ITEMS));
            lab.createGlobalTable(table(SESSIONS));
            lab.createGlobalTable(HeartbeatConfig.defaults().createTableRequest());
            try {
                if (parts.contains("overhead")) {
                    for (OverheadPass pass : OverheadPass.values()) {
                        metrics.addAll(overheadAndLatency(lab, pass));
                    }
                }
                if (parts.contains("sessions")) {
                    metrics.addAll(sessions(lab));
                }
                if (parts.contains("failover")) {
                    metrics.addAll(failover(lab));
                }
            } finally {
                closeAll();
            }
        }
        System.out.printf(Locale.ROOT, "dynamodb: whole scenario took %.1f s%n", (System.nanoTime() - t0) / 1e9);
        System.out.printf(Locale.ROOT, "dynamodb: machine: %d CPUs, load average (1 min) %.2f at the end%n",
                Runtime.getRuntime().availableProcessors(),
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        return metrics;
    }

    static Topology topology() {
        return Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder(LOCAL).jurisdiction("EU").location(53.3, -6.3).build())
                .region(RegionSpec.builder(OTHER).jurisdiction("AU").location(-33.9, 151.2).build())
                .localRegion(LOCAL)
                .build();
    }

    static CreateTableRequest table(String name) {
        return CreateTableRequest.builder().tableName(name)
                .keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("pk")
                        .attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST).build();
    }

    /** A client of region {@code id}'s server with the failover retry strategy; closed at the end. */
    private DynamoDbClient client(DynamoDbLocalRegions lab, String id) {
        DynamoDbClient c = lab.region(id).newClient(retries());
        closeLater.add(c);
        return c;
    }

    /** Like {@link #client}, with {@code apiCallTimeout} 1 s (the attempt timeout): it cuts every call by itself. */
    private DynamoDbClient timedClient(DynamoDbLocalRegions lab, String id) {
        DynamoDbClient c = lab.region(id).newClient(b -> b.overrideConfiguration(o -> o
                .retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy()).apiCallTimeout(Duration.ofSeconds(1))));
        closeLater.add(c);
        return c;
    }

    private static Consumer<DynamoDbClientBuilder> retries() {
        return b -> b.overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy()));
    }

    private void closeAll() {
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            try {
                closeLater.get(i).close();
            } catch (Exception e) {
                System.out.println("dynamodb: closing " + closeLater.get(i) + " failed: " + e);
            }
        }
        closeLater.clear();
    }

    private static Map<String, AttributeValue> key(String pk) {
        return Map.of("pk", AttributeValue.fromS(pk));
    }

    /** Writes {@code pks} through {@code client} (no session) in batches of 25, retrying unprocessed items. */
    static void preload(DynamoDbClient client, String table, List<String> pks) {
        for (int i = 0; i < pks.size(); i += 25) {
            List<WriteRequest> batch = new ArrayList<>();
            for (String pk : pks.subList(i, Math.min(pks.size(), i + 25))) {
                batch.add(WriteRequest.builder().putRequest(PutRequest.builder().item(Map.of(
                        "pk", AttributeValue.fromS(pk), "v", AttributeValue.fromN("0"),
                        "payload", AttributeValue.fromS("item " + pk + " ".repeat(64)))).build()).build());
            }
            Map<String, List<WriteRequest>> items = Map.of(table, batch);
            for (int attempt = 0; !items.isEmpty(); attempt++) {
                Map<String, List<WriteRequest>> send = items;
                BatchWriteItemResponse r = client.batchWriteItem(b -> b.requestItems(send));
                items = r.hasUnprocessedItems() ? r.unprocessedItems() : Map.of();
                if (attempt > 20) {
                    throw new IllegalStateException("preloading " + table + ": items stay unprocessed");
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ overhead and latency

    /** The overhead part's passes: how the multi-region client runs first attempts, and over which clients. */
    enum OverheadPass {
        /** The client's defaults over the caller's clients without timeouts: each request is copied with them. */
        DEFAULTS("", "client defaults (first attempt on the calling thread), region clients without timeouts", true,
                false),
        /** The client's defaults over clients that cut calls at the attempt timeout: requests are sent as they are. */
        BOUNDED_CLIENTS("_bounded_clients", "client defaults, region clients with apiCallTimeout 1 s (the attempt"
                + " timeout)", true, true),
        /** Every attempt handed to the engine's attempt threads: the path hedged reads take. */
        POOLED("_pooled", "callerRunsFirstAttempt(false): attempts on the attempt threads, as hedged reads", false,
                false);

        final String suffix;
        final String description;
        final boolean callerRuns;
        final boolean boundedClients;

        OverheadPass(String suffix, String description, boolean callerRuns, boolean boundedClients) {
            this.suffix = suffix;
            this.description = description;
            this.callerRuns = callerRuns;
            this.boundedClients = boundedClients;
        }
    }

    /**
     * Measures the overhead in one {@link OverheadPass}. The plain client is the multi-region client's eu-west-1
     * client itself, so both sides send over the same connection pool.
     */
    private List<String> overheadAndLatency(DynamoDbLocalRegions lab, OverheadPass pass) throws Exception {
        String suffix = pass.suffix;
        System.out.printf(Locale.ROOT, "dynamodb: overhead pass: %s%n", pass.description);
        DynamoDbClient plain = pass.boundedClients ? timedClient(lab, LOCAL) : client(lab, LOCAL);
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology())
                .keySchema(ITEMS, "pk")
                .dataPolicies(DataPolicies.builder()
                        .exact(ITEMS, DataPolicy.builder().consistency(ConsistencyLevel.EVENTUAL).build()).build())
                .routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER, OTHER).build())
                .hedging(overheadHedging ? HedgingConfig.defaults() : HedgingConfig.disabled())
                .openTelemetry(OpenTelemetry.noop());
        if (!pass.callerRuns) {
            b.callerRunsFirstAttempt(false);
        }
        b.regionClient(LOCAL, plain);
        for (String id : List.of(WRITER, OTHER)) {
            b.regionClient(id, pass.boundedClients ? timedClient(lab, id) : client(lab, id));
        }
        MultiRegionDynamoDbClient wrapped = b.build();
        closeLater.add(wrapped);

        List<String> pks = new ArrayList<>();
        for (int i = 0; i < ITEM_COUNT; i++) {
            pks.add("item-" + i);
        }
        // Into the local server (it replicates on, which the failover part needs later), through a client without a
        // timeout: on a busy machine a batch may take longer than the attempt timeout the measured clients have.
        preload(pass.boundedClients ? client(lab, LOCAL) : plain, ITEMS, pks);
        lab.replication().awaitQuiescent(Duration.ofSeconds(30)); // no replication work left while measuring
        System.out.printf(Locale.ROOT, "dynamodb: overhead: %d items of ~100 bytes in %s; GetItem from %d threads,"
                + " %d rounds of %d ms per client after warm-up; hedging %s%n", ITEM_COUNT, ITEMS, THREADS, rounds,
                roundMillis, overheadHedging ? "defaults" : "off");

        ExecutorService pool = Executors.newFixedThreadPool(THREADS, daemon("dynamodb-load"));
        try {
            // Warm-up: both clients, three times, so the JIT has compiled both call paths.
            for (int i = 0; i < 3; i++) {
                double p = throughput(pool, plain, roundMillis);
                double w = throughput(pool, wrapped, roundMillis);
                System.out.printf(Locale.ROOT, "dynamodb: warm-up %d: plain %.0f ops/s, wrapped %.0f ops/s%n", i + 1,
                        p, w);
            }
            double[] plainRates = new double[rounds];
            double[] wrappedRates = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                boolean plainFirst = i % 2 == 0;
                if (plainFirst) {
                    plainRates[i] = throughput(pool, plain, roundMillis);
                    wrappedRates[i] = throughput(pool, wrapped, roundMillis);
                } else {
                    wrappedRates[i] = throughput(pool, wrapped, roundMillis);
                    plainRates[i] = throughput(pool, plain, roundMillis);
                }
                System.out.printf(Locale.ROOT, "dynamodb: round %d: plain %.0f ops/s, wrapped %.0f ops/s (%+.1f %%)%n",
                        i + 1, plainRates[i], wrappedRates[i], 100 * (plainRates[i] - wrappedRates[i]) / plainRates[i]);
            }
            double plainMedian = median(plainRates);
            double wrappedMedian = median(wrappedRates);
            double overhead = 100 * (plainMedian - wrappedMedian) / plainMedian;
            double[] pairs = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                pairs[i] = 100 * (plainRates[i] - wrappedRates[i]) / plainRates[i];
            }
            double pairedOverhead = median(pairs);
            System.out.printf(Locale.ROOT, "dynamodb: throughput medians: plain %.0f ops/s, wrapped %.0f ops/s,"
                    + " overhead %.1f %% (median of the rounds' own differences: %.1f %%)%n", plainMedian,
                    wrappedMedian, overhead, pairedOverhead);

            // Sequential latency, interleaved.
            Histogram plainHist = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            Histogram wrappedHist = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            int latencyRounds = rounds;
            int latencyMillis = Math.max(500, roundMillis / 2);
            sequential(plain, latencyMillis, new Histogram(TimeUnit.SECONDS.toNanos(10), 3));
            sequential(wrapped, latencyMillis, new Histogram(TimeUnit.SECONDS.toNanos(10), 3));
            for (int i = 0; i < latencyRounds; i++) {
                Histogram p = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
                Histogram w = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
                if (i % 2 == 0) {
                    sequential(plain, latencyMillis, p);
                    sequential(wrapped, latencyMillis, w);
                } else {
                    sequential(wrapped, latencyMillis, w);
                    sequential(plain, latencyMillis, p);
                }
                System.out.printf(Locale.ROOT, "dynamodb: latency round %d: plain p50 %.1f us (%d calls), wrapped p50"
                        + " %.1f us (%d calls)%n", i + 1, p.getValueAtPercentile(50) / 1e3, p.getTotalCount(),
                        w.getValueAtPercentile(50) / 1e3, w.getTotalCount());
                plainHist.add(p);
                wrappedHist.add(w);
            }
            // The engine alone: execute() of a region call that returns at once (plan, timers, and the hand-off to
            // the attempt executor and back when the caller does not run it), sequential.
            Operation noop = Operation.read("Noop").dataClass(ITEMS).build();
            Histogram engine = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            for (int round = 0; round < 2; round++) {
                engine.reset();
                long until = System.nanoTime() + latencyMillis * MS;
                while (true) {
                    long s = System.nanoTime();
                    if (s >= until) {
                        break;
                    }
                    wrapped.latitude().execute(noop, r -> r);
                    engine.recordValue(System.nanoTime() - s);
                }
            }
            double engineP50 = engine.getValueAtPercentile(50) / 1e3;
            System.out.printf(Locale.ROOT, "dynamodb: Latitude.execute of a region call that returns at once: p50 %.1f"
                    + " us, p99 %.1f us (%d calls)%n", engineP50, engine.getValueAtPercentile(99) / 1e3,
                    engine.getTotalCount());
            double plainP50 = plainHist.getValueAtPercentile(50) / 1e3;
            double wrappedP50 = wrappedHist.getValueAtPercentile(50) / 1e3;
            double plainP99 = plainHist.getValueAtPercentile(99) / 1e3;
            double wrappedP99 = wrappedHist.getValueAtPercentile(99) / 1e3;
            System.out.printf(Locale.ROOT, "dynamodb: sequential GetItem: plain p50 %.1f us p99 %.1f us, wrapped p50"
                    + " %.1f us p99 %.1f us%n", plainP50, plainP99, wrappedP50, wrappedP99);
            List<String> m = new ArrayList<>();
            m.add(metric("overhead_pct" + suffix, overhead, "%"));
            m.add(metric("overhead_paired_pct" + suffix, pairedOverhead, "%"));
            m.add(metric("plain_ops_per_s" + suffix, plainMedian, "ops/s"));
            m.add(metric("wrapped_ops_per_s" + suffix, wrappedMedian, "ops/s"));
            m.add(metric("added_p50_us" + suffix, wrappedP50 - plainP50, "us"));
            m.add(metric("plain_p50_us" + suffix, plainP50, "us"));
            m.add(metric("wrapped_p50_us" + suffix, wrappedP50, "us"));
            m.add(metric("added_p99_us" + suffix, wrappedP99 - plainP99, "us"));
            m.add(metric("engine_execute_p50_us" + suffix, engineP50, "us"));
            return m;
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** GetItem of random existing items from {@link #THREADS} threads for {@code millis}; returns calls per second. */
    private static double throughput(ExecutorService pool, DynamoDbClient client, int millis) throws Exception {
        long start = System.nanoTime();
        long end = start + millis * MS;
        List<Future<Long>> futures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            futures.add(pool.submit(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                long n = 0;
                while (System.nanoTime() < end) {
                    GetItemResponse r = client.getItem(get(ITEMS, "item-" + rnd.nextInt(ITEM_COUNT)));
                    if (!r.hasItem() || r.item().isEmpty()) {
                        throw new IllegalStateException("item missing: the benchmark reads existing items");
                    }
                    n++;
                }
                return n;
            }));
        }
        long total = 0;
        for (Future<Long> f : futures) {
            total += f.get();
        }
        return total / ((System.nanoTime() - start) / 1e9);
    }

    private static void sequential(DynamoDbClient client, int millis, Histogram into) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        long end = System.nanoTime() + millis * MS;
        while (true) {
            long s = System.nanoTime();
            if (s >= end) {
                return;
            }
            client.getItem(get(ITEMS, "item-" + rnd.nextInt(ITEM_COUNT)));
            into.recordValue(System.nanoTime() - s);
        }
    }

    private static GetItemRequest get(String table, String pk) {
        return GetItemRequest.builder().tableName(table).key(key(pk)).build();
    }

    // ------------------------------------------------------------------------------------------ sessions

    /** Notes, per parent span, which region answered the client's call and whether a stale read was avoided. */
    static final class AnsweringRegions implements SpanProcessor {
        final ConcurrentHashMap<String, String> regionByParent = new ConcurrentHashMap<>();
        final AtomicInteger staleReadsAvoided = new AtomicInteger();
        final AtomicInteger replicasSkipped = new AtomicInteger();
        final ConcurrentHashMap<String, AtomicInteger> failedAttempts = new ConcurrentHashMap<>();

        @Override
        public void onStart(Context parentContext, ReadWriteSpan span) {
        }

        @Override
        public boolean isStartRequired() {
            return false;
        }

        @Override
        public void onEnd(ReadableSpan span) {
            String region = span.getAttribute(CLOUD_REGION);
            if (region == null) {
                return;
            }
            for (EventData e : span.toSpanData().getEvents()) {
                if (e.getName().equals("latitude.stale_read_avoided")) {
                    staleReadsAvoided.incrementAndGet();
                } else if (e.getName().equals("latitude.replicas.skipped")) {
                    replicasSkipped.incrementAndGet();
                } else if (e.getName().equals("latitude.attempt.failed")) {
                    String what = e.getAttributes().get(CLOUD_REGION) + " "
                            + e.getAttributes().get(AttributeKey.stringKey("latitude.reason")) + " "
                            + e.getAttributes().get(AttributeKey.stringKey("error.type"));
                    failedAttempts.computeIfAbsent(what, x -> new AtomicInteger()).incrementAndGet();
                }
            }
            regionByParent.put(span.getParentSpanContext().getSpanId(), region);
        }

        @Override
        public boolean isEndRequired() {
            return true;
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }

    private List<String> sessions(DynamoDbLocalRegions lab) throws Exception {
        AnsweringRegions answering = new AnsweringRegions();
        SdkTracerProvider tracerProvider = SdkTracerProvider.builder().addSpanProcessor(answering).build();
        closeLater.add(tracerProvider::close);
        OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(tracerProvider).build();
        Tracer tracer = otel.getTracer("dev.latitude.benchmarks");
        Topology topology = topology();
        // The lab's servers are all on loopback; the remote regions are reached through proxies that add a WAN-like
        // round trip, so that a hedge to them does not beat the local region whenever this machine stalls for a few
        // milliseconds (an outpaced local attempt counts against its circuit).
        Map<String, DynamoDbClient> regionClients = new HashMap<>();
        regionClients.put(LOCAL, client(lab, LOCAL));
        for (Map.Entry<String, Integer> e : Map.of(WRITER, WRITER_RTT_MS, OTHER, OTHER_RTT_MS).entrySet()) {
            FakeRegion wan = FakeRegion.proxy(e.getKey(), lab.region(e.getKey()).endpoint(),
                    Duration.ofMillis(e.getValue()));
            closeLater.add(wan);
            DynamoDbClient c = lab.region(e.getKey()).newClient(bld -> {
                bld.endpointOverride(wan.uri());
                retries().accept(bld);
            });
            closeLater.add(c);
            regionClients.put(e.getKey(), c);
        }
        String[][] keys = new String[sessionCount][keysPerSession];
        List<String> all = new ArrayList<>();
        for (int s = 0; s < sessionCount; s++) {
            for (int k = 0; k < keysPerSession; k++) {
                keys[s][k] = "s" + s + "-k" + k;
                all.add(keys[s][k]);
            }
        }
        long t0 = System.nanoTime();
        // Preload through a multi-region client without heartbeats (to the writer, stamped, no session), so that
        // replication can be awaited until quiescent; heartbeats would keep it busy for good.
        MultiRegionDynamoDbClient.Builder pb = MultiRegionDynamoDbClient.builder().topology(topology)
                .keySchema(SESSIONS, "pk").router(r -> r.openTelemetry(OpenTelemetry.noop()));
        regionClients.forEach(pb::regionClient);
        try (MultiRegionDynamoDbClient loader = pb.build()) {
            preload(loader, SESSIONS, all);
        }
        double loaded = (System.nanoTime() - t0) / 1e9;
        lab.replication().awaitQuiescent(Duration.ofSeconds(60));

        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology)
                .keySchema(SESSIONS, "pk")
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER, OTHER).build())
                        .openTelemetry(otel));
        if (heartbeatMillis > 0) {
            b.heartbeats(HeartbeatConfig.builder().interval(Duration.ofMillis(heartbeatMillis)).build());
        }
        regionClients.forEach(b::regionClient);
        try (MultiRegionDynamoDbClient client = b.build()) {
            return sessions(lab, client, topology, tracer, answering, keys, all.size(), t0, loaded);
        }
    }

    private List<String> sessions(DynamoDbLocalRegions lab, MultiRegionDynamoDbClient client, Topology topology,
            Tracer tracer, AnsweringRegions answering, String[][] keys, int items, long t0, double loaded) throws Exception {
        System.out.printf(Locale.ROOT, "dynamodb: sessions: %d items preloaded in the writer in %.1f s and replicated %.1f s later;"
                + " remote regions behind proxies adding %d ms (%s) and %d ms (%s); hedging defaults; %d sessions x %d ops/s for %d s, 10 %% PutItem of own keys, 90 %% GetItem (80 %% own keys, 20 %%"
                + " other sessions' keys), %d keys per session; heartbeats %s%n", items, loaded,
                (System.nanoTime() - t0) / 1e9 - loaded, WRITER_RTT_MS, WRITER, OTHER_RTT_MS, OTHER, sessionCount, sessionRate, sessionSeconds, keysPerSession,
                heartbeatMillis > 0 ? "every " + heartbeatMillis + " ms" : "off");

        History history = History.create();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger unknownRegion = new AtomicInteger();
        ConcurrentHashMap<String, AtomicInteger> readsByRegion = new ConcurrentHashMap<>();
        ConcurrentHashMap<String, AtomicInteger> ownReadsByRegion = new ConcurrentHashMap<>();
        AtomicInteger writes = new AtomicInteger();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(sessionCount, daemon("dynamodb-session"));
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(sessionSeconds);
        List<Future<?>> futures = new ArrayList<>();
        for (int s = 0; s < sessionCount; s++) {
            int me = s;
            futures.add(pool.submit(() -> {
                String name = "session-" + me;
                Session session = Session.create();
                SplittableRandom rnd = new SplittableRandom(42 + me);
                long[] versions = new long[keysPerSession];
                long period = TimeUnit.SECONDS.toNanos(1) / sessionRate;
                long next = start + rnd.nextLong(period);
                while (true) {
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    if (System.nanoTime() >= end) {
                        return null;
                    }
                    next += period;
                    boolean write = rnd.nextInt(10) == 0;
                    boolean own = write || rnd.nextInt(5) != 0;
                    int owner = own ? me : (me + 1 + rnd.nextInt(sessionCount - 1)) % sessionCount;
                    int k = rnd.nextInt(keysPerSession);
                    String pk = keys[owner][k];
                    Span parent = tracer.spanBuilder(write ? "bench.put" : "bench.get").startSpan();
                    String spanId = parent.getSpanContext().getSpanId();
                    try (Scope scope = session.storeIn(Context.current().with(parent)).makeCurrent()) {
                        if (write) {
                            long v = ++versions[k];
                            History.Pending op = history.invoke(name, HistoryOp.Type.WRITE, SESSIONS, pk, null);
                            try {
                                client.putItem(p -> p.tableName(SESSIONS).item(Map.of("pk", AttributeValue.fromS(pk),
                                        "v", AttributeValue.fromN(Long.toString(v)),
                                        "payload", AttributeValue.fromS(name + " v" + v))));
                                op.ok(answered(answering, spanId, unknownRegion), v, null);
                                writes.incrementAndGet();
                            } catch (AmbiguousWriteException e) {
                                op.ambiguous(v);
                                failed.incrementAndGet();
                                errors.add(e.toString());
                            } catch (RuntimeException e) {
                                op.failed();
                                failed.incrementAndGet();
                                errors.add(e.toString());
                            }
                        } else {
                            History.Pending op = history.invoke(name, HistoryOp.Type.READ, SESSIONS, pk, null);
                            try {
                                GetItemResponse r = client.getItem(get(SESSIONS, pk));
                                long v = r.hasItem() && r.item().containsKey("v")
                                        ? Long.parseLong(r.item().get("v").n()) : HistoryOp.NONE;
                                String region = answered(answering, spanId, unknownRegion);
                                op.ok(region, v, null);
                                readsByRegion.computeIfAbsent(region, x -> new AtomicInteger()).incrementAndGet();
                                if (own) {
                                    ownReadsByRegion.computeIfAbsent(region, x -> new AtomicInteger())
                                            .incrementAndGet();
                                }
                            } catch (RuntimeException e) {
                                op.failed();
                                failed.incrementAndGet();
                                errors.add(e.toString());
                            }
                        }
                    } finally {
                        parent.end();
                    }
                }
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        double took = (System.nanoTime() - start) / 1e9;
        pool.shutdownNow();

        HistoryReport report = HistoryChecker.builder().topology(topology).build().check(history);
        long ryw = report.count(Violation.Kind.READ_YOUR_WRITES);
        long monotonic = report.count(Violation.Kind.MONOTONIC_READS);
        int reads = readsByRegion.values().stream().mapToInt(AtomicInteger::get).sum();
        int localReads = readsByRegion.getOrDefault(LOCAL, new AtomicInteger()).get();
        double share = reads == 0 ? Double.NaN : 100.0 * localReads / reads;
        System.out.printf(Locale.ROOT, "dynamodb: sessions: %d operations in %.1f s (%d writes, %d reads, %d failed);"
                + " reads answered by %s (own keys: %s); %d stale reads avoided (a replica's answer found older than"
                + " the session's write and the read sent on)%n", report.operations(), took, writes.get(), reads,
                failed.get(), new TreeMap<>(readsByRegion), new TreeMap<>(ownReadsByRegion),
                answering.staleReadsAvoided.get());
        System.out.println("dynamodb: sessions: history check: " + (report.clean() ? report
                : report.operations() + " operations, " + report.violations().size() + " violations"));
        report.violations().stream().limit(5).forEach(v -> System.out.println("dynamodb: violation: " + v));
        errors.stream().limit(5).forEach(e -> System.out.println("dynamodb: session error: " + e));
        System.out.printf(Locale.ROOT, "dynamodb: sessions: %d reads planned past a replica that heartbeats showed"
                + " behind the session; failed attempts: %s%n", answering.replicasSkipped.get(),
                new TreeMap<>(answering.failedAttempts));
        if (unknownRegion.get() > 0) {
            System.out.println("dynamodb: sessions: " + unknownRegion.get() + " calls had no span with cloud.region");
        }
        List<String> m = new ArrayList<>();
        m.add(metric("local_read_share_pct", share, "%"));
        m.add("dynamodb.ryw_violations=" + ryw + " count");
        m.add("dynamodb.monotonic_violations=" + monotonic + " count");
        m.add("dynamodb.session_ops=" + report.operations() + " count");
        m.add("dynamodb.session_failed_ops=" + failed.get() + " count");
        m.add("dynamodb.stale_reads_avoided=" + answering.staleReadsAvoided.get() + " count");
        return m;
    }

    private static String answered(AnsweringRegions answering, String spanId, AtomicInteger unknown) {
        String region = answering.regionByParent.remove(spanId);
        if (region == null) {
            unknown.incrementAndGet();
            return "unknown";
        }
        return region;
    }

    // ------------------------------------------------------------------------------------------ failover

    /** One call of the failover load. */
    static final class Call {
        final long start;
        final boolean write;
        volatile long end;
        volatile Throwable error;
        volatile boolean done;

        Call(long start, boolean write) {
            this.start = start;
            this.write = write;
        }

        double latencyMs() {
            return (end - start) / (double) MS;
        }
    }

    private List<String> failover(DynamoDbLocalRegions lab) throws Exception {
        FakeRegion front = lab.front(LOCAL);
        DynamoDbClient local = lab.frontClient(LOCAL, b -> b.overrideConfiguration(o -> o
                .retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy())
                .apiCallAttemptTimeout(Duration.ofSeconds(2))));
        closeLater.add(local);
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology())
                .keySchema(ITEMS, "pk")
                .dataPolicies(DataPolicies.builder().exact(ITEMS, DataPolicy.builder()
                        .consistency(ConsistencyLevel.EVENTUAL).writeMode(WriteMode.MULTI_WRITER).build()).build())
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER, OTHER).build())
                        .attemptTimeout(Duration.ofMillis(ATTEMPT_TIMEOUT_MS))
                        .hedging(HedgingConfig.defaults())
                        .breaker(BreakerConfig.defaults())
                        .openTelemetry(OpenTelemetry.noop()));
        b.regionClient(LOCAL, local);
        for (String id : List.of(WRITER, OTHER)) {
            b.regionClient(id, client(lab, id));
        }
        lab.replication().awaitQuiescent(Duration.ofSeconds(30)); // the preloaded items are in every region
        // Warm the fault front's proxy path before the engine sees it.
        for (int i = 0; i < 300; i++) {
            local.getItem(get(ITEMS, "item-" + i));
        }
        MultiRegionDynamoDbClient client = b.build();
        closeLater.add(client);
        for (int i = 0; i < 300; i++) {
            client.getItem(get(ITEMS, "item-" + i));
        }

        int warmSeconds = 3;
        int recoverSeconds = 3;
        System.out.printf(Locale.ROOT, "dynamodb: failover: %d calls/s (90 %% GetItem, 10 %% idempotent PutItem,"
                + " multi-writer), %s through the lab's fault front; attempt timeout %d ms, hedging defaults,"
                + " breaker defaults; %d s load, %d s blackhole of the front, %d s after heal%n", failoverRate, LOCAL,
                ATTEMPT_TIMEOUT_MS, warmSeconds, faultSeconds, recoverSeconds);
        ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
        ExecutorService callers = Executors.newCachedThreadPool(daemon("dynamodb-failover-call"));
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(daemon("dynamodb-failover-tick"));
        AtomicLong seq = new AtomicLong();
        long period = TimeUnit.SECONDS.toNanos(1) / failoverRate;
        ticker.scheduleAtFixedRate(() -> {
            long n = seq.getAndIncrement();
            boolean write = n % 10 == 9;
            Call c = new Call(System.nanoTime(), write);
            calls.add(c);
            try {
                callers.execute(() -> {
                    try {
                        if (write) {
                            client.putItem(p -> p.tableName(ITEMS).item(Map.of("pk", AttributeValue.fromS("fo-" + n),
                                    "v", AttributeValue.fromN("1"))));
                        } else {
                            client.getItem(get(ITEMS, "item-" + (n % ITEM_COUNT)));
                        }
                    } catch (Throwable e) {
                        c.error = e;
                    } finally {
                        c.end = System.nanoTime();
                        c.done = true;
                    }
                });
            } catch (RuntimeException e) {
                c.error = e;
                c.end = System.nanoTime();
                c.done = true;
            }
        }, 0, period, TimeUnit.NANOSECONDS);
        long origin = System.nanoTime();
        TimeUnit.SECONDS.sleep(warmSeconds);
        long tFault = System.nanoTime();
        front.blackhole();
        TimeUnit.SECONDS.sleep(faultSeconds);
        long tHeal = System.nanoTime();
        front.heal();
        TimeUnit.SECONDS.sleep(recoverSeconds);
        ticker.shutdownNow();
        ticker.awaitTermination(5, TimeUnit.SECONDS);
        long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < drainUntil && calls.stream().anyMatch(c -> !c.done)) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        for (RegionStatus s : client.latitude().status()) {
            System.out.printf(Locale.ROOT, "dynamodb: failover: status %s circuit=%s%n", s.region().id(), s.circuit());
        }
        callers.shutdownNow();

        List<Call> baseline = new ArrayList<>();
        List<Call> fault = new ArrayList<>();
        List<Call> after = new ArrayList<>();
        int failed = 0;
        int unfinished = 0;
        Map<String, Integer> errorKinds = new HashMap<>();
        for (Call c : calls) {
            if (!c.done) {
                unfinished++;
                continue;
            }
            if (c.error != null) {
                failed++;
                errorKinds.merge(describe(c.error), 1, Integer::sum);
            }
            if (c.start < tFault) {
                baseline.add(c);
            } else if (c.start < tHeal) {
                fault.add(c);
            } else {
                after.add(c);
            }
        }
        phase("before the blackhole", baseline, origin);
        phase("blackhole", fault, origin);
        phase("after heal", after, origin);
        if (!errorKinds.isEmpty()) {
            System.out.println("dynamodb: failover: failures " + errorKinds);
        }
        if (unfinished > 0) {
            System.out.println("dynamodb: failover: " + unfinished + " calls had not completed 10 s after the load");
        }
        List<String> m = new ArrayList<>();
        m.add(metric("failover_p99_ms", percentile(fault, 99), "ms"));
        m.add("dynamodb.failover_failed_calls=" + (failed + unfinished) + " count");
        m.add(metric("failover_p50_ms", percentile(fault, 50), "ms"));
        m.add(metric("failover_max_ms", percentile(fault, 100), "ms"));
        m.add(metric("failover_baseline_p99_ms", percentile(baseline, 99), "ms"));
        m.add("dynamodb.failover_total_calls=" + calls.size() + " count");
        return m;
    }

    private static String describe(Throwable e) {
        Throwable t = e;
        while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t instanceof SdkException ? "" : ": " + t.getMessage());
    }

    private static void phase(String name, List<Call> calls, long origin) {
        long writes = calls.stream().filter(c -> c.write).count();
        List<Call> writeCalls = calls.stream().filter(c -> c.write).toList();
        System.out.printf(Locale.ROOT, "dynamodb: failover: %s: %d calls (%d writes), p50 %.1f ms, p99 %.1f ms,"
                + " max %.1f ms; writes p99 %.1f ms; over 100 ms: %d%n", name, calls.size(), writes,
                percentile(calls, 50), percentile(calls, 99), percentile(calls, 100), percentile(writeCalls, 99),
                calls.stream().filter(c -> c.latencyMs() > 100).count());
    }

    /** Nearest-rank percentile of the calls' latencies in ms; NaN if there are none. */
    static double percentile(List<Call> calls, double p) {
        if (calls.isEmpty()) {
            return Double.NaN;
        }
        double[] v = new double[calls.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = calls.get(i).latencyMs();
        }
        Arrays.sort(v);
        int rank = (int) Math.ceil(p / 100.0 * v.length);
        return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
    }

    // ------------------------------------------------------------------------------------------ helpers

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private static String metric(String name, double value, String unit) {
        return String.format(Locale.ROOT, "dynamodb.%s=%.1f %s", name, value, unit);
    }
}
