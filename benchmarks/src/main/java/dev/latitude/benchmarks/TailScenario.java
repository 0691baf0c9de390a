package dev.latitude.benchmarks;

import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.dynamodb.MultiRegionDynamoDbClient;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.ReplicationSettings;
import dev.latitude.testkit.TcpFaultProxy;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;

/**
 * Tail latency with {@code MultiRegionDynamoDbClient}'s defaults: does latency routing keep a region that is fast 95 %
 * of the time first, and does hedging cut its slow 5 % within its budget?
 *
 * <p>Three DynamoDB Local regions of the testkit ({@link DynamoDbLocalRegions}), each reached through a
 * {@link TcpFaultProxy} that delays every byte by half the region's round trip ({@link Fault#latency}, per direction):
 * eu-west-1, the local region, 3 ms; us-east-1 45 ms; ap-southeast-2 65 ms. The topology names the local region and
 * gives no coordinates (the common case); everything else is the client's default (latency routing, hedging,
 * breaker, attempt timeout). Each run builds a fresh client, warms it with {@value #WARM_UP_READS} reads and then
 * measures {@value #READS} GetItem reads of 1,000 items from {@value #THREADS} threads. The no-tail run comes first;
 * in the tail run the local region's client sleeps {@value #TAIL_DELAY_MS} ms before sending 5 % of its requests (an
 * {@link ExecutionInterceptor} drawing from a seeded {@link Random}), warm-up included. A first unmeasured run warms
 * the JVM.
 *
 * <p>Which region answered each call is the {@code cloud.region} attribute of the client's span (an in-memory
 * OpenTelemetry SDK); extra requests are the GetItem requests the region clients sent beyond one per call (hedges and
 * fallbacks), counted by an interceptor on each of them.
 */
final class TailScenario {
    static final String LOCAL = "eu-west-1";
    static final String NEXT = "us-east-1";
    static final String FAR = "ap-southeast-2";
    static final String TABLE = "tail_items";
    static final int THREADS = 4;
    static final int ITEMS = 1000;
    static final int READS = 3000;
    static final int WARM_UP_READS = 500;
    static final int TAIL_DELAY_MS = 300;
    static final double TAIL_SHARE = 0.05;
    private static final long SEED = 20261130L;
    private static final Map<String, Integer> RTT_MS = Map.of(LOCAL, 3, NEXT, 45, FAR, 65);
    private static final AttributeKey<String> CLOUD_REGION = AttributeKey.stringKey("cloud.region");
    private static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("latitude.attempts");
    private static final AttributeKey<Boolean> HEDGED = AttributeKey.booleanKey("latitude.hedged");

    /** What one measured run saw. */
    private record Result(Histogram latency, Map<String, Integer> answeredBy, long requests, int hedged, int calls) {
        double localSharePct() {
            return 100.0 * answeredBy.getOrDefault(LOCAL, 0) / calls;
        }

        double extraRequestsPct() {
            return 100.0 * (requests - calls) / calls;
        }

        double ms(double percentile) {
            return latency.getValueAtPercentile(percentile) / 1000.0;
        }
    }

    /** Runs the scenario and returns its figures. */
    List<String> run() throws Exception {
        long t0 = System.nanoTime();
        // Replication polls each region's stream once a second when idle (default: every 5 ms): nothing is written
        // while the reads are measured, and constant polling would take CPU from the servers being measured.
        try (DynamoDbLocalRegions lab = DynamoDbLocalRegions.start(List.of(LOCAL, NEXT, FAR),
                ReplicationSettings.builder().pollInterval(Duration.ofSeconds(1)).build())) {
            lab.createGlobalTable(DynamoDbScenario.table(TABLE));
            List<String> pks = new ArrayList<>();
            for (int i = 0; i < ITEMS; i++) {
                pks.add("item-" + i);
            }
            try (DynamoDbClient loader = lab.region(LOCAL).newClient()) {
                DynamoDbScenario.preload(loader, TABLE, pks);
            }
            lab.replication().awaitQuiescent(Duration.ofSeconds(30));
            Map<String, TcpFaultProxy> proxies = new LinkedHashMap<>();
            try {
                for (String id : List.of(LOCAL, NEXT, FAR)) {
                    TcpFaultProxy proxy = TcpFaultProxy.start(id, "127.0.0.1", lab.region(id).port());
                    proxies.put(id, proxy);
                    proxy.apply(Fault.latency(Duration.ofNanos(RTT_MS.get(id) * 1_000_000L / 2)));
                }
                System.out.printf(Locale.ROOT, "tail: %d items in %s on DynamoDB Local, replicated, in %.1f s; round"
                        + " trips through latency proxies: %s %d ms (local), %s %d ms, %s %d ms; topology: local region"
                        + " %s, no coordinates; client defaults otherwise%n", ITEMS, TABLE,
                        (System.nanoTime() - t0) / 1e9, LOCAL, RTT_MS.get(LOCAL), NEXT, RTT_MS.get(NEXT), FAR,
                        RTT_MS.get(FAR), LOCAL);
                report("JVM warm-up (not counted)", measure(lab, proxies, false));
                Result base = measure(lab, proxies, false);
                report("no tail", base);
                Result tail = measure(lab, proxies, true);
                report(String.format(Locale.ROOT, "%.0f %% of %s's requests delayed %d ms", TAIL_SHARE * 100, LOCAL,
                        TAIL_DELAY_MS), tail);
                System.out.printf(Locale.ROOT, "tail: machine: %d CPUs, load average (1 min) %.2f at the end; took"
                        + " %.1f s%n", Runtime.getRuntime().availableProcessors(),
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                        (System.nanoTime() - t0) / 1e9);
                return List.of(
                        metric("local_share_pct", tail.localSharePct(), "%"),
                        metric("p50_ratio", tail.ms(50) / base.ms(50), "x"),
                        metric("p99_ms", tail.ms(99), "ms"),
                        metric("extra_requests_pct", tail.extraRequestsPct(), "%"),
                        metric("p50_ms", tail.ms(50), "ms"),
                        metric("p999_ms", tail.ms(99.9), "ms"),
                        metric("hedged_pct", 100.0 * tail.hedged() / tail.calls(), "%"),
                        metric("no_tail_p50_ms", base.ms(50), "ms"),
                        metric("no_tail_p99_ms", base.ms(99), "ms"),
                        metric("no_tail_local_share_pct", base.localSharePct(), "%"),
                        metric("no_tail_extra_requests_pct", base.extraRequestsPct(), "%"));
            } finally {
                for (TcpFaultProxy p : proxies.values()) {
                    p.close();
                }
            }
        }
    }

    private static void report(String what, Result r) {
        // Calls that took most of the injected delay were not rescued by a hedge (or their hedge was slow too).
        long uncut = r.latency().getCountBetweenValues(TimeUnit.MILLISECONDS.toMicros(TAIL_DELAY_MS * 8 / 10),
                r.latency().getHighestTrackableValue());
        System.out.printf(Locale.ROOT, "tail: %s: %d calls, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max"
                + " %.1f ms, %d calls over %d ms; answered by %s; %d GetItem requests sent (%.1f %% extra), %d calls"
                + " hedged%n", what, r.calls(), r.ms(50), r.ms(90), r.ms(99), r.ms(99.9),
                r.latency().getMaxValue() / 1000.0, uncut, TAIL_DELAY_MS * 8 / 10, r.answeredBy(), r.requests(),
                r.extraRequestsPct(), r.hedged());
    }

    /** Builds a fresh client, warms it, and measures {@value #READS} reads. */
    private Result measure(DynamoDbLocalRegions lab, Map<String, TcpFaultProxy> proxies, boolean tail)
            throws Exception {
        AtomicLong requests = new AtomicLong();
        Calls calls = new Calls();
        SdkTracerProvider tracing = SdkTracerProvider.builder().addSpanProcessor(calls).build();
        OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(tracing).build();
        List<DynamoDbClient> regionClients = new ArrayList<>();
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology())
                .keySchema(TABLE, "pk")
                .router(r -> r.openTelemetry(otel));
        Random random = new Random(SEED);
        for (String id : List.of(LOCAL, NEXT, FAR)) {
            ExecutionInterceptor counting = new Requests(requests, tail && id.equals(LOCAL) ? random : null);
            DynamoDbClient c = lab.region(id).newClient(cb -> cb
                    .endpointOverride(URI.create("http://127.0.0.1:" + proxies.get(id).port()))
                    .overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy())
                            .addExecutionInterceptor(counting)));
            regionClients.add(c);
            b.regionClient(id, c);
        }
        ExecutorService pool = Executors.newFixedThreadPool(THREADS, DynamoDbScenario.daemon("tail-load"));
        try (MultiRegionDynamoDbClient client = b.build()) {
            load(pool, client, WARM_UP_READS);
            long before = requests.get();
            calls.reset();
            Histogram latency = load(pool, client, READS);
            if (calls.calls.get() != READS) {
                System.out.printf(Locale.ROOT, "tail: %d spans for %d calls%n", calls.calls.get(), READS);
            }
            return new Result(latency, calls.answeredBy(), requests.get() - before, calls.hedged.get(), READS);
        } finally {
            pool.shutdownNow();
            for (DynamoDbClient c : regionClients) {
                c.close();
            }
            tracing.close();
        }
    }

    static Topology topology() {
        return Topology.builder()
                .region(RegionSpec.builder(LOCAL).writer().build())
                .region(RegionSpec.builder(NEXT).build())
                .region(RegionSpec.builder(FAR).build())
                .localRegion(LOCAL)
                .build();
    }

    /** Sends {@code reads} GetItem calls from {@value #THREADS} threads and returns their latencies in microseconds. */
    private static Histogram load(ExecutorService pool, DynamoDbClient client, int reads) throws Exception {
        AtomicInteger next = new AtomicInteger();
        List<Future<Histogram>> parts = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            parts.add(pool.submit(() -> {
                Histogram h = new Histogram(TimeUnit.MINUTES.toMicros(1), 3);
                for (int i = next.getAndIncrement(); i < reads; i = next.getAndIncrement()) {
                    GetItemRequest get = GetItemRequest.builder().tableName(TABLE)
                            .key(Map.of("pk", AttributeValue.fromS("item-" + (i % ITEMS)))).build();
                    long s = System.nanoTime();
                    if (!client.getItem(get).hasItem()) {
                        throw new IllegalStateException("item-" + (i % ITEMS) + " not found");
                    }
                    h.recordValue(Math.max(1, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - s)));
                }
                return h;
            }));
        }
        Histogram all = new Histogram(TimeUnit.MINUTES.toMicros(1), 3);
        for (Future<Histogram> f : parts) {
            all.add(f.get(10, TimeUnit.MINUTES));
        }
        return all;
    }

    /**
     * Counts the GetItem requests a region client sends and, when given a random source, sleeps before sending a
     * share of them: the region answers those {@value #TAIL_DELAY_MS} ms late, as seen from the client.
     */
    private static final class Requests implements ExecutionInterceptor {
        private final AtomicLong requests;
        private final Random tail;

        Requests(AtomicLong requests, Random tail) {
            this.requests = requests;
            this.tail = tail;
        }

        @Override
        public void beforeTransmission(software.amazon.awssdk.core.interceptor.Context.BeforeTransmission context,
                ExecutionAttributes attributes) {
            if (!(context.request() instanceof GetItemRequest)) {
                return;
            }
            requests.incrementAndGet();
            if (tail != null && delayThisOne()) {
                try {
                    Thread.sleep(TAIL_DELAY_MS);
                } catch (InterruptedException e) {
                    // The engine gave up on this attempt (another region answered): stop here, as a cancelled call.
                    Thread.currentThread().interrupt();
                    throw AbortedException.create("delayed request cancelled", e);
                }
            }
        }

        private boolean delayThisOne() {
            synchronized (tail) {
                return tail.nextDouble() < TAIL_SHARE;
            }
        }
    }

    /** Counts the client's calls, which region answered each, and how many were hedged, from their spans. */
    private static final class Calls implements SpanProcessor {
        final Map<String, AtomicInteger> byRegion = new ConcurrentHashMap<>();
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger hedged = new AtomicInteger();

        void reset() {
            byRegion.clear();
            calls.set(0);
            hedged.set(0);
        }

        Map<String, Integer> answeredBy() {
            Map<String, Integer> out = new java.util.TreeMap<>();
            byRegion.forEach((k, v) -> out.put(k, v.get()));
            return out;
        }

        @Override
        public void onStart(Context parentContext, ReadWriteSpan span) {
        }

        @Override
        public boolean isStartRequired() {
            return false;
        }

        @Override
        public void onEnd(ReadableSpan span) {
            if (span.getAttribute(ATTEMPTS) == null) {
                return;
            }
            calls.incrementAndGet();
            String region = span.getAttribute(CLOUD_REGION);
            byRegion.computeIfAbsent(region == null ? "none" : region, k -> new AtomicInteger()).incrementAndGet();
            if (Boolean.TRUE.equals(span.getAttribute(HEDGED))) {
                hedged.incrementAndGet();
            }
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

    private static String metric(String name, double value, String unit) {
        return String.format(Locale.ROOT, "tail.%s=%.2f %s", name, value, unit);
    }
}
