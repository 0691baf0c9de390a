package dev.latitude.testkit;

import static java.util.concurrent.TimeUnit.SECONDS;
import static dev.latitude.testkit.FunctionalSupport.awaitUntil;
import static dev.latitude.testkit.FunctionalSupport.millisSince;
import static dev.latitude.testkit.FunctionalSupport.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.tuple;

import dev.latitude.AmbiguousWriteException;
import dev.latitude.AttemptRecord;
import dev.latitude.BreakerConfig;
import dev.latitude.CircuitState;
import dev.latitude.FailureKind;
import dev.latitude.HealthListener;
import dev.latitude.HedgingConfig;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.Plan;
import dev.latitude.RegionSpec;
import dev.latitude.RegionsUnavailableException;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The engine against three real (loopback) HTTP regions with injected faults, on real time: failover, circuit
 * breaking, hedging, the non-idempotent write rules, recovery, and telemetry.
 *
 * <p>Routing uses a failover policy (us-east-1, then us-west-2, then eu-west-1), so the preferred region is fixed.
 */
class EngineFailoverFunctionalTest {
    private static final String EAST = "us-east-1";
    private static final String WEST = "us-west-2";
    private static final String EU = "eu-west-1";
    private static final Operation READ = Operation.read("GetItem").dataClass("items").build();
    private static final Operation WRITE = Operation.write("Post").build();
    /** Long enough that a healthy region answers within it even on a busy machine or for a cold first request. */
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(1);

    private FakeRegions lab;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void startRegions() {
        Map<String, Duration> latencies = new LinkedHashMap<>();
        latencies.put(EAST, Duration.ofMillis(5));
        latencies.put(WEST, Duration.ofMillis(30));
        latencies.put(EU, Duration.ofMillis(60));
        lab = FakeRegions.start(latencies);
        warmUp();
    }

    /**
     * Sends a few plain requests to every region first, so that class loading and JIT compilation of the HTTP stacks
     * on both sides do not eat into the attempt timeouts the tests are about (on a busy 2-core machine a cold first
     * request can take longer than the timeout).
     */
    private void warmUp() {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        for (FakeRegion r : lab.regions()) {
            for (int i = 0; i < 5; i++) {
                try {
                    http.send(java.net.http.HttpRequest.newBuilder(r.uri().resolve("/warm-up"))
                            .timeout(Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.discarding());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            r.resetRequests();
        }
    }

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        lab.close();
    }

    private static Topology topology() {
        return Topology.builder()
                .region(RegionSpec.builder(EAST).writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder(WEST).writer().jurisdiction("US").location(45.6, -121.2).build())
                .region(RegionSpec.builder(EU).writer().jurisdiction("EU").location(53.35, -6.26).build())
                .localRegion(EAST)
                .build();
    }

    /** Failures (of the last 5 attempts) that open a circuit in the default setup. */
    private static final int FAILURES = 3;

    /** Engine settings that vary between tests. */
    private static final class Setup {
        Duration attemptTimeout = ATTEMPT_TIMEOUT;
        BreakerConfig breaker = BreakerConfig.builder().failureThreshold(FAILURES, 5).successThreshold(1)
                .openDelay(Duration.ofSeconds(30)).build();
        HedgingConfig hedging = HedgingConfig.disabled();
        HealthListener listener = HealthListener.NONE;
        OpenTelemetry openTelemetry = OpenTelemetry.noop();
    }

    private Latitude engine(Setup s) {
        Latitude latitude = Latitude.builder()
                .topology(topology())
                .routingPolicy(RoutingPolicy.failover().priority(EAST, WEST, EU).build())
                .errorClassifier(FakeRegionClient.errorClassifier())
                .attemptTimeout(s.attemptTimeout)
                .deadline(Duration.ofSeconds(3))
                .breaker(s.breaker)
                .hedging(s.hedging)
                .healthListener(s.listener)
                .openTelemetry(s.openTelemetry)
                .build();
        closeables.add(latitude);
        return latitude;
    }

    private static String call(FakeRegionClient client, Operation op) throws Exception {
        return FunctionalSupport.call(client, op, "/items/42");
    }

    private FakeRegionClient client(Latitude latitude) {
        return new FakeRegionClient(latitude, lab.endpoints());
    }

    private static String read(FakeRegionClient client) throws Exception {
        return call(client, READ);
    }

    /** Runs {@code op} and returns what it failed with; fails the test if it succeeded or hung. */
    private static Throwable failureOf(FakeRegionClient client, Operation op) throws Exception {
        CompletableFuture<String> f = client.get(op, "/items/42");
        try {
            String region = f.get(5, SECONDS);
            return fail("expected the call to fail, but " + region + " answered");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            return fail("the call did not complete within 5 s");
        }
    }

    private void resetJournals() {
        lab.regions().forEach(FakeRegion::resetRequests);
    }

    private int requests(String id) {
        return lab.region(id).requestCount();
    }


    @Test
    void healthyRegionsServeFromThePreferredRegion() throws Exception {
        Latitude latitude = engine(new Setup());
        FakeRegionClient client = client(latitude);

        for (int i = 0; i < 5; i++) {
            assertThat(read(client)).isEqualTo(EAST);
        }
        assertThat(call(client, WRITE)).isEqualTo(EAST);
        assertThat(requests(EAST)).isEqualTo(6);
        assertThat(requests(WEST)).isZero();
        assertThat(requests(EU)).isZero();
        Plan plan = latitude.plan(READ);
        assertThat(plan.regions()).extracting(RegionSpec::id).containsExactly(EAST, WEST, EU);
        assertThat(plan.healthyCount()).isEqualTo(3);
        assertThat(latitude.status()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
    }

    @Test
    void blackholedPreferredRegionIsCircuitBrokenAndReadsFailOver() throws Exception {
        Latitude latitude = engine(new Setup()); // opens after 3 failures of 5; stays open for 30 s
        FakeRegionClient client = client(latitude);
        assertThat(read(client)).isEqualTo(EAST);
        resetJournals();

        lab.region(EAST).blackhole();
        int reads = 15;
        for (int i = 0; i < reads; i++) {
            assertThat(read(client)).as("read %d", i).isEqualTo(WEST);
        }

        // Only the attempts before the circuit opened reached the blackholed region (threshold 3, slack 1).
        assertThat(requests(EAST)).isBetween(1, 4);
        assertThat(requests(WEST)).isEqualTo(reads);
        assertThat(requests(EU)).isZero();
        assertThat(status(latitude, EAST).circuit()).isEqualTo(CircuitState.OPEN);
        assertThat(status(latitude, EAST).available()).isFalse();
        Plan plan = latitude.plan(READ);
        assertThat(plan.regions()).extracting(RegionSpec::id).containsExactly(WEST, EU, EAST);
        assertThat(plan.healthyCount()).isEqualTo(2);

        // Later reads go elsewhere at once: not one attempt is sent to the blackholed region, so none waits out an
        // attempt timeout there.
        lab.region(EAST).resetRequests();
        for (int i = 0; i < 5; i++) {
            assertThat(read(client)).isEqualTo(WEST);
        }
        assertThat(requests(EAST)).isZero();
    }

    @Test
    void slowPreferredRegionIsHedgedAround() throws Exception {
        Setup s = new Setup();
        s.attemptTimeout = Duration.ofSeconds(3); // longer than the added latency: only hedging can help
        s.hedging = HedgingConfig.builder().percentile(90).minSamples(5).budgetRatio(1.0).maxBurst(100)
                .minDelay(Duration.ofMillis(1)).build();
        Latitude latitude = engine(s);
        FakeRegionClient client = client(latitude);

        // Warm up until the preferred region's hedging percentile is known, with at least 20 reads so that the first,
        // slower ones (connection set-up on a cold JVM) do not set it.
        int[] warmUpReads = {0};
        awaitUntil(Duration.ofSeconds(10), () -> {
            try {
                assertThat(read(client)).isEqualTo(EAST);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            return ++warmUpReads[0] >= 20 && status(latitude, EAST).hedgePercentileNanos() >= 0;
        });
        Duration added = Duration.ofMillis(1500);
        // Hedges must fire well before the added latency (a busy machine may push the percentile to a few hundred
        // ms): then only a hedge can answer a read sooner than that.
        assertThat(status(latitude, EAST).hedgePercentileNanos()).isLessThan(Duration.ofMillis(1000).toNanos());
        resetJournals();

        lab.region(EAST).addLatency(added);
        int calls = 10;
        List<String> answers = new ArrayList<>();
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            long start = System.nanoTime();
            answers.add(read(client));
            millis.add(millisSince(start));
        }

        assertThat(answers.stream().filter(a -> !a.equals(EAST)).count()).as("answers %s", answers)
                .isGreaterThanOrEqualTo(calls - 1);
        List<Long> sorted = millis.stream().sorted().collect(Collectors.toList());
        // Hedged calls did not wait for the slow region (the answers above say who served; this says they did not
        // wait for it first).
        assertThat(sorted.get(calls / 2)).as("median of %s", millis).isLessThan(added.toMillis());
        // The slow region was tried first and hedged around; each primary that lost to a hedge counts as a slow call,
        // so after FAILURES of them its circuit opened and the remaining calls went straight to another region.
        assertThat(requests(EAST)).isEqualTo(FAILURES);
        assertThat(status(latitude, EAST).circuit()).isEqualTo(CircuitState.OPEN);
        awaitUntil(Duration.ofSeconds(2), () -> latitude.status().stream().allMatch(st -> st.inFlight() == 0));
    }

    @Test
    void burstOf503sNeverReachesTheCaller() throws Exception {
        Setup s = new Setup();
        // 503s come back at once; the generous attempt timeout keeps a cold, busy JVM's first 30 concurrent
        // connections from timing out, which is not what this test is about.
        s.attemptTimeout = Duration.ofSeconds(2);
        Latitude latitude = engine(s);
        FakeRegionClient client = client(latitude);
        lab.region(EAST).failWith(503);

        List<CompletableFuture<String>> futures = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            futures.add(client.get(READ, "/items/" + i));
        }
        for (CompletableFuture<String> f : futures) {
            assertThat(f.get(5, SECONDS)).isIn(WEST, EU);
        }
        for (int i = 0; i < 5; i++) {
            assertThat(read(client)).isEqualTo(WEST);
        }
        // 503 means "not processed": even a non-idempotent write may move on.
        assertThat(call(client, WRITE)).isEqualTo(WEST);
        assertThat(requests(EAST)).isGreaterThanOrEqualTo(1);
        awaitUntil(Duration.ofSeconds(2), () -> latitude.status().stream().allMatch(st -> st.inFlight() == 0));
    }

    @Test
    void connectionResetsFailOverReadsButNotNonIdempotentWrites() throws Exception {
        Latitude latitude = engine(new Setup());
        FakeRegionClient client = client(latitude);
        lab.region(EAST).resetConnections();
        resetJournals();

        Throwable failure = failureOf(client, WRITE);
        assertThat(failure).isInstanceOf(AmbiguousWriteException.class);
        AmbiguousWriteException ambiguous = (AmbiguousWriteException) failure;
        assertThat(ambiguous.region()).isEqualTo(EAST);
        assertThat(ambiguous.operation()).isEqualTo("Post");
        assertThat(ambiguous.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure)
                .containsExactly(tuple(EAST, FailureKind.AMBIGUOUS));
        assertThat(ambiguous.getCause()).isInstanceOf(IOException.class).isNotInstanceOf(ConnectException.class);
        assertThat(requests(EAST)).isGreaterThanOrEqualTo(1);
        assertThat(requests(WEST)).as("the write must not be retried in us-west-2").isZero();
        assertThat(requests(EU)).as("the write must not be retried in eu-west-1").isZero();

        for (int i = 0; i < 5; i++) {
            assertThat(read(client)).isEqualTo(WEST);
        }
        assertThat(call(client, Operation.write("Put").idempotent(true).build())).isEqualTo(WEST);
    }

    @Test
    void refusedConnectionsLetANonIdempotentWriteFallBack() throws Exception {
        Latitude latitude = engine(new Setup());
        FakeRegionClient client = client(latitude);
        lab.region(EAST).refuseConnections();
        resetJournals();

        assertThat(call(client, WRITE)).isEqualTo(WEST);
        assertThat(requests(EAST)).isZero();
        assertThat(requests(WEST)).isEqualTo(1);
        assertThat(requests(EU)).isZero();
        assertThat(read(client)).isEqualTo(WEST);
    }

    @Test
    void everyRegionDownFailsWithEveryAttemptListed() throws Exception {
        Latitude latitude = engine(new Setup());
        FakeRegionClient client = client(latitude);
        lab.region(EAST).refuseConnections();
        lab.region(WEST).failWith(500);
        lab.region(EU).blackhole();

        long start = System.nanoTime();
        Throwable failure = failureOf(client, READ);
        assertThat(millisSince(start)).isGreaterThanOrEqualTo(ATTEMPT_TIMEOUT.toMillis());
        assertThat(failure).isInstanceOf(RegionsUnavailableException.class);
        RegionsUnavailableException e = (RegionsUnavailableException) failure;
        // The last region, blackholed, kept its chance until the deadline (slow is not dead).
        assertThat(e.deadlineExceeded()).isTrue();
        assertThat(e.operation()).isEqualTo("GetItem");
        assertThat(e.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure).containsExactly(
                tuple(EAST, FailureKind.REGION_UNAVAILABLE),
                tuple(WEST, FailureKind.AMBIGUOUS),
                tuple(EU, FailureKind.TIMEOUT));
        assertThat(e.attempts().get(0).cause()).isInstanceOf(ConnectException.class);
        assertThat(e.attempts().get(1).cause()).isInstanceOf(FakeRegionClient.HttpStatusException.class);
        assertThat(e.attempts().get(2).duration()).isGreaterThanOrEqualTo(ATTEMPT_TIMEOUT);
        assertThat(e.getMessage()).contains(EAST, WEST, EU);

        // With every region refusing connections a non-idempotent write was certainly not applied anywhere.
        lab.region(WEST).refuseConnections();
        lab.region(EU).refuseConnections();
        Throwable writeFailure = failureOf(client, WRITE);
        assertThat(writeFailure).isInstanceOf(RegionsUnavailableException.class);
        assertThat(((RegionsUnavailableException) writeFailure).attempts())
                .extracting(AttemptRecord::region, AttemptRecord::failure).containsExactly(
                        tuple(EAST, FailureKind.REGION_UNAVAILABLE),
                        tuple(WEST, FailureKind.REGION_UNAVAILABLE),
                        tuple(EU, FailureKind.REGION_UNAVAILABLE));
        awaitUntil(Duration.ofSeconds(2), () -> latitude.status().stream().allMatch(st -> st.inFlight() == 0));
    }

    @Test
    void healedRegionWinsTrafficBackAfterTheOpenDelay() throws Exception {
        Duration openDelay = Duration.ofSeconds(2); // long enough that the check right after the heal runs within it
        Map<String, Long> openedAt = new ConcurrentHashMap<>();
        List<String> transitions = new CopyOnWriteArrayList<>();
        Setup s = new Setup();
        s.breaker = BreakerConfig.builder().failureThreshold(2, 4).successThreshold(2).openDelay(openDelay).build();
        s.listener = new HealthListener() {
            @Override
            public void onCircuitStateChange(RegionSpec region, CircuitState from, CircuitState to) {
                if (region.id().equals(EAST)) {
                    transitions.add(from + "->" + to);
                    if (to == CircuitState.OPEN) {
                        openedAt.put(EAST, System.nanoTime());
                    }
                }
            }
        };
        Latitude latitude = engine(s);
        FakeRegionClient client = client(latitude);
        assertThat(read(client)).isEqualTo(EAST);

        lab.region(EAST).refuseConnections();
        awaitUntil(Duration.ofSeconds(5), () -> {
            try {
                assertThat(read(client)).isEqualTo(WEST);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            return status(latitude, EAST).circuit() == CircuitState.OPEN;
        });
        long opened = openedAt.get(EAST);

        lab.region(EAST).heal();
        // Still open: the healed region gets no traffic until the open delay has passed.
        assertThat(read(client)).isEqualTo(WEST);
        assertThat(millisSince(opened)).as("the check above ran before the open delay passed")
                .isLessThan(openDelay.toMillis());

        long[] recoveredAt = new long[1];
        awaitUntil(Duration.ofSeconds(5), () -> {
            try {
                if (read(client).equals(EAST)) {
                    recoveredAt[0] = System.nanoTime();
                    return true;
                }
                return false;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertThat((recoveredAt[0] - opened) / 1_000_000).isGreaterThanOrEqualTo(openDelay.toMillis() - 20);

        for (int i = 0; i < 5; i++) {
            assertThat(read(client)).isEqualTo(EAST);
        }
        assertThat(status(latitude, EAST).circuit()).isEqualTo(CircuitState.CLOSED);
        assertThat(transitions).containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED");
        assertThat(latitude.plan(READ).regions().get(0).id()).isEqualTo(EAST);
    }

    @Test
    void fallbackIsVisibleInSpansAndMetrics() throws Exception {
        FunctionalSupport.InMemoryTelemetry telemetry = FunctionalSupport.InMemoryTelemetry.create();
        closeables.add(telemetry);
        OpenTelemetrySdk sdk = telemetry.sdk();
        InMemorySpanExporter spans = telemetry.spans();
        InMemoryMetricReader metrics = telemetry.metrics();
        Setup s = new Setup();
        s.openTelemetry = sdk;
        Latitude latitude = engine(s);
        closeables.remove(latitude);
        closeables.add(0, latitude); // close the engine before the SDK
        FakeRegionClient client = client(latitude);
        lab.region(EAST).failWith(503);

        assertThat(read(client)).isEqualTo(WEST);

        List<SpanData> finished = spans.getFinishedSpanItems();
        assertThat(finished).hasSize(1);
        SpanData span = finished.get(0);
        assertThat(span.getName()).isEqualTo("GetItem");
        assertThat(span.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isEqualTo(WEST);
        assertThat(span.getAttributes().get(AttributeKey.longKey("latitude.attempts"))).isEqualTo(2L);
        assertThat(span.getAttributes().get(AttributeKey.booleanKey("latitude.hedged"))).isFalse();
        assertThat(span.getAttributes().get(AttributeKey.booleanKey("latitude.panic"))).isFalse();
        assertThat(span.getAttributes().get(AttributeKey.stringKey("latitude.data_class"))).isEqualTo("items");
        List<EventData> fallbacks = span.getEvents().stream().filter(e -> e.getName().equals("latitude.fallback"))
                .collect(Collectors.toList());
        assertThat(fallbacks).hasSize(1);
        Attributes fallback = fallbacks.get(0).getAttributes();
        assertThat(fallback.get(AttributeKey.stringKey("latitude.from_region"))).isEqualTo(EAST);
        assertThat(fallback.get(AttributeKey.stringKey("latitude.to_region"))).isEqualTo(WEST);
        assertThat(fallback.get(AttributeKey.stringKey("latitude.reason"))).isEqualTo("region_unavailable");
        assertThat(span.getEvents()).extracting(EventData::getName).contains("latitude.attempt.failed");

        Collection<MetricData> collected = metrics.collectAllMetrics();
        assertThat(longPoints(collected, "latitude.fallbacks"))
                .containsEntry(Attributes.of(AttributeKey.stringKey("cloud.region"), EAST,
                        AttributeKey.stringKey("latitude.reason"), "region_unavailable"), 1L)
                .hasSize(1);
        assertThat(longPoints(collected, "latitude.attempts"))
                .containsEntry(Attributes.of(AttributeKey.stringKey("cloud.region"), EAST,
                        AttributeKey.stringKey("latitude.outcome"), "region_unavailable"), 1L)
                .containsEntry(Attributes.of(AttributeKey.stringKey("cloud.region"), WEST,
                        AttributeKey.stringKey("latitude.outcome"), "ok"), 1L)
                .hasSize(2);
    }

    private static Map<Attributes, Long> longPoints(Collection<MetricData> metrics, String name) {
        MetricData metric = metrics.stream().filter(m -> m.getName().equals(name)).findFirst()
                .orElseGet(() -> fail("no metric " + name + " among " + metrics.stream().map(MetricData::getName)
                        .collect(Collectors.toList())));
        Map<Attributes, Long> points = new LinkedHashMap<>();
        for (LongPointData p : metric.getLongSumData().getPoints()) {
            points.put(p.getAttributes(), p.getValue());
        }
        return points;
    }
}
