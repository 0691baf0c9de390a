package dev.latitude.testkit;

import static java.util.concurrent.TimeUnit.SECONDS;
import static dev.latitude.testkit.FunctionalSupport.awaitUntil;
import static dev.latitude.testkit.FunctionalSupport.millisSince;
import static dev.latitude.testkit.FunctionalSupport.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.tuple;

import dev.latitude.AmbiguousWriteException;
import dev.latitude.AttemptRecord;
import dev.latitude.BreakerConfig;
import dev.latitude.CircuitState;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.FailureKind;
import dev.latitude.HedgingConfig;
import dev.latitude.Latitude;
import dev.latitude.LatitudeConfigException;
import dev.latitude.Operation;
import dev.latitude.Plan;
import dev.latitude.RegionSpec;
import dev.latitude.RegionsUnavailableException;
import dev.latitude.ResidencyException;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.WriteMode;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Data residency against four real (loopback) HTTP regions, two in the EU and two in the US, on real time.
 *
 * <p>The routing policy prefers the US regions (failover us-east-1, us-west-2, eu-west-1, eu-central-1, or latency
 * from us-east-1), so whenever EU data stays in the EU it is the residency filter that keeps it there, also when the
 * EU regions are down, slow, hedged around or circuit-broken. Each scenario checks the regions' request journals.
 */
class ResidencyFunctionalTest {
    private static final String US_EAST = "us-east-1";
    private static final String US_WEST = "us-west-2";
    private static final String EU_WEST = "eu-west-1";
    private static final String EU_CENTRAL = "eu-central-1";
    private static final Set<String> EU_REGIONS = Set.of(EU_WEST, EU_CENTRAL);
    private static final Set<String> US_REGIONS = Set.of(US_EAST, US_WEST);

    /** Exact data class with residency EU and writer region eu-west-1. */
    private static final String EU_USERS = "eu_users";
    /** Matches the prefix "eu_": residency EU, writes to the topology's writer regions inside the EU. */
    private static final String EU_ORDERS = "eu_orders";

    private static final Operation EU_READ = Operation.read("GetUser").dataClass(EU_USERS).build();
    private static final Operation EU_PREFIX_READ = Operation.read("GetOrder").dataClass(EU_ORDERS).build();
    private static final Operation EU_WRITE = Operation.write("PutUser").dataClass(EU_USERS).build();
    private static final Operation EU_IDEMPOTENT_WRITE = Operation.write("PutUser").idempotent(true)
            .dataClass(EU_USERS).build();
    private static final Operation EU_PREFIX_WRITE = Operation.write("PutOrder").idempotent(true)
            .dataClass(EU_ORDERS).build();
    private static final Operation US_READ = Operation.read("GetItem").dataClass("items").build();
    private static final Operation US_WRITE = Operation.write("PutItem").dataClass("items").build();
    private static final Operation UNCLASSIFIED_READ = Operation.read("Ping").build();

    /** Long enough that a healthy region answers within it even on a busy machine or for a cold first request. */
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(1);
    /** Failures (of the last 5 attempts) that open a circuit. */
    private static final int FAILURES = 3;

    private FakeRegions lab;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void startRegions() {
        Map<String, Duration> latencies = new LinkedHashMap<>();
        latencies.put(US_EAST, Duration.ofMillis(5));
        latencies.put(US_WEST, Duration.ofMillis(20));
        // eu-central-1 is slower than eu-west-1, so a hedge to it rarely beats a healthy eu-west-1; both EU regions
        // are slower than the latency policy's 15 ms window, so they never share load with the local us-east-1.
        latencies.put(EU_WEST, Duration.ofMillis(20));
        latencies.put(EU_CENTRAL, Duration.ofMillis(40));
        lab = FakeRegions.start(latencies);
        // One plain request to each region (not through an engine, so no latency sample or circuit is touched):
        // the first request of a JVM or of a fresh server is slow, and must not count against an attempt timeout.
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (FakeRegion region : lab.regions()) {
            try {
                http.send(HttpRequest.newBuilder(region.uri().resolve("/warm-up")).timeout(Duration.ofSeconds(5))
                        .build(), HttpResponse.BodyHandlers.discarding());
            } catch (IOException | InterruptedException e) {
                throw new AssertionError("fake region " + region.id() + " did not answer", e);
            }
            region.resetRequests();
        }
    }

    @AfterEach
    void stopAll() throws Exception {
        try {
            for (AutoCloseable c : closeables) {
                c.close();
            }
        } finally {
            if (lab != null) {
                lab.close();
            }
        }
    }

    private static Topology topology() {
        return topology(true);
    }

    private static Topology topology(boolean euWriter) {
        RegionSpec.Builder euWest = RegionSpec.builder(EU_WEST).jurisdiction("EU").location(53.35, -6.26);
        if (euWriter) {
            euWest.writer();
        }
        return Topology.builder()
                .region(RegionSpec.builder(US_EAST).writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder(US_WEST).jurisdiction("US").location(45.6, -121.2).build())
                .region(euWest.build())
                .region(RegionSpec.builder(EU_CENTRAL).jurisdiction("EU").location(50.1, 8.7).build())
                .localRegion(US_EAST)
                .build();
    }

    private static DataPolicies dataPolicies() {
        return DataPolicies.builder()
                .exact(EU_USERS, DataPolicy.builder().residency("EU").writerRegion(EU_WEST).build())
                .prefix("eu_", DataPolicy.builder().residency("EU").build())
                .build();
    }

    /** Prefers the US regions: residency, not routing, is what keeps EU data in the EU. */
    private static RoutingPolicy usFirst() {
        return RoutingPolicy.failover().priority(US_EAST, US_WEST, EU_WEST, EU_CENTRAL).build();
    }

    /** Engine settings that vary between tests. */
    private static final class Setup {
        RoutingPolicy routing = usFirst();
        Duration attemptTimeout = ATTEMPT_TIMEOUT;
        BreakerConfig breaker = BreakerConfig.builder().failureThreshold(FAILURES, 5).minimumVolume(FAILURES, Duration.ofSeconds(10)).successThreshold(1)
                .openDelay(Duration.ofSeconds(30)).build();
        HedgingConfig hedging = HedgingConfig.disabled();
        OpenTelemetry openTelemetry = OpenTelemetry.noop();
    }

    private Latitude engine(Setup s) {
        Latitude latitude = Latitude.builder()
                .topology(topology())
                .routingPolicy(s.routing)
                .dataPolicies(dataPolicies())
                .errorClassifier(FakeRegionClient.errorClassifier())
                .attemptTimeout(s.attemptTimeout)
                .deadline(Duration.ofSeconds(3))
                .breaker(s.breaker)
                .hedging(s.hedging)
                .openTelemetry(s.openTelemetry)
                .build();
        closeables.add(0, latitude); // engines close before anything added earlier (an OpenTelemetry SDK)
        return latitude;
    }

    private static String call(FakeRegionClient client, Operation op) throws Exception {
        return FunctionalSupport.call(client, op, "/users/42");
    }

    private FakeRegionClient client(Latitude latitude) {
        return new FakeRegionClient(latitude, lab.endpoints());
    }

    /** Runs {@code op} and returns what it failed with; fails the test if it succeeded or hung. */
    private static Throwable failureOf(FakeRegionClient client, Operation op) throws Exception {
        CompletableFuture<String> f = client.get(op, "/users/42");
        try {
            String region = f.get(5, SECONDS);
            return fail("expected " + op + " to fail, but " + region + " answered");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            return fail(op + " did not complete within 5 s");
        }
    }

    /** Runs {@code op}, expects a residency refusal for EU data, and checks what every such refusal must say. */
    private static ResidencyException refused(FakeRegionClient client, Operation op) throws Exception {
        Throwable failure = failureOf(client, op);
        assertThat(failure).isInstanceOf(ResidencyException.class);
        ResidencyException e = (ResidencyException) failure;
        assertThat(e.operation()).isEqualTo(op.name());
        assertThat(e.dataClass()).isEqualTo(op.dataClass());
        assertThat(e.jurisdictions()).containsExactly("EU");
        assertThat(e.attempts()).isNotEmpty();
        assertThat(e.attempts()).extracting(AttemptRecord::region).allSatisfy(r -> assertThat(r).isIn(EU_REGIONS))
                .doesNotContainAnyElementsOf(US_REGIONS);
        assertThat(e.getMessage()).contains(op.dataClass()).contains("[EU]").doesNotContain(US_EAST)
                .doesNotContain(US_WEST);
        return e;
    }

    private void resetJournals() {
        lab.regions().forEach(FakeRegion::resetRequests);
    }

    private int requests(String id) {
        return lab.region(id).requestCount();
    }

    /**
     * One EU and one US read before faults are injected, so that connection set-up and class loading do not count
     * against the first faulty call's attempt timeout; then clears the journals.
     */
    private void warmUp(FakeRegionClient client) throws Exception {
        assertThat(call(client, EU_READ)).isEqualTo(EU_WEST);
        assertThat(call(client, US_READ)).isEqualTo(US_EAST);
        resetJournals();
    }

    private void assertUsJournalsEmpty() {
        assertThat(requests(US_EAST)).as("requests that reached " + US_EAST).isZero();
        assertThat(requests(US_WEST)).as("requests that reached " + US_WEST).isZero();
    }

    private static void awaitNothingInFlight(Latitude latitude) {
        awaitUntil(Duration.ofSeconds(2), () -> latitude.status().stream().allMatch(st -> st.inFlight() == 0));
    }

    private static List<String> ids(Plan plan) {
        return plan.regions().stream().map(RegionSpec::id).collect(Collectors.toList());
    }

    // ---------------------------------------------------------------------------------------------------------
    // 1. Reads
    // ---------------------------------------------------------------------------------------------------------

    @Test
    void euReadsStayInTheEuWhileUsRegionsArePreferredAndHealthy() throws Exception {
        Latitude latitude = engine(new Setup());
        FakeRegionClient client = client(latitude);

        assertThat(ids(latitude.plan(EU_READ))).containsExactly(EU_WEST, EU_CENTRAL);
        assertThat(latitude.plan(EU_READ).healthyCount()).isEqualTo(2);
        assertThat(ids(latitude.plan(EU_PREFIX_READ))).containsExactly(EU_WEST, EU_CENTRAL);
        assertThat(ids(latitude.plan(US_READ))).containsExactly(US_EAST, US_WEST, EU_WEST, EU_CENTRAL);

        for (int i = 0; i < 5; i++) {
            assertThat(call(client, EU_READ)).as("EU read %d", i).isEqualTo(EU_WEST);
            assertThat(call(client, EU_PREFIX_READ)).as("EU prefix read %d", i).isEqualTo(EU_WEST);
        }
        assertThat(requests(EU_WEST)).isEqualTo(10);
        assertThat(requests(EU_CENTRAL)).isZero();
        assertUsJournalsEmpty();

        resetJournals();
        for (int i = 0; i < 3; i++) {
            assertThat(call(client, US_READ)).as("default read %d", i).isEqualTo(US_EAST);
        }
        assertThat(call(client, UNCLASSIFIED_READ)).isEqualTo(US_EAST);
        assertThat(requests(US_EAST)).isEqualTo(4);
        assertThat(requests(US_WEST)).isZero();
        assertThat(requests(EU_WEST)).isZero();
        assertThat(requests(EU_CENTRAL)).isZero();
        awaitNothingInFlight(latitude);
    }

    @Test
    void euReadsStayInTheEuUnderLatencyRoutingFromUsEast() throws Exception {
        Setup s = new Setup();
        s.routing = RoutingPolicy.latency().build();
        Latitude latitude = engine(s);
        FakeRegionClient client = client(latitude);

        // Both US regions are closer to the local region (us-east-1) than either EU region.
        assertThat(ids(latitude.plan(US_READ)).subList(0, 2)).containsExactlyInAnyOrder(US_EAST, US_WEST);
        assertThat(ids(latitude.plan(EU_READ))).containsExactlyInAnyOrder(EU_WEST, EU_CENTRAL);

        for (int i = 0; i < 8; i++) {
            assertThat(call(client, EU_READ)).as("EU read %d", i).isIn(EU_REGIONS);
        }
        assertThat(requests(EU_WEST) + requests(EU_CENTRAL)).isEqualTo(8);
        assertUsJournalsEmpty();

        resetJournals();
        assertThat(call(client, US_READ)).isEqualTo(US_EAST);
        assertThat(requests(US_EAST)).isEqualTo(1);
        assertThat(requests(EU_WEST) + requests(EU_CENTRAL) + requests(US_WEST)).isZero();
    }

    @Test
    void multiJurisdictionResidencyAllowsOnlyTheNamedJurisdictions() throws Exception {
        // A residency naming a jurisdiction with no region (APAC) next to one with regions (EU) is valid.
        Latitude latitude = Latitude.builder()
                .topology(topology())
                .routingPolicy(usFirst())
                .dataPolicies(DataPolicies.builder()
                        .exact("eu_apac", DataPolicy.builder().residency("APAC", "EU").build()).build())
                .errorClassifier(FakeRegionClient.errorClassifier())
                .attemptTimeout(ATTEMPT_TIMEOUT)
                .hedging(HedgingConfig.disabled())
                .openTelemetry(OpenTelemetry.noop())
                .build();
        closeables.add(0, latitude);
        FakeRegionClient client = client(latitude);
        Operation read = Operation.read("GetPartner").dataClass("eu_apac").build();

        assertThat(ids(latitude.plan(read))).containsExactly(EU_WEST, EU_CENTRAL);
        assertThat(call(client, read)).isEqualTo(EU_WEST);
        assertUsJournalsEmpty();

        lab.region(EU_WEST).refuseConnections();
        lab.region(EU_CENTRAL).refuseConnections();
        Throwable failure = failureOf(client, read);
        assertThat(failure).isInstanceOf(ResidencyException.class);
        ResidencyException e = (ResidencyException) failure;
        assertThat(e.jurisdictions()).containsExactlyInAnyOrder("APAC", "EU");
        assertThat(e.attempts()).extracting(AttemptRecord::region).containsExactly(EU_WEST, EU_CENTRAL);
        assertThat(e.getMessage()).contains("eu_apac").contains("APAC").contains("EU");
        assertUsJournalsEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // 2. Writes
    // ---------------------------------------------------------------------------------------------------------

    @Test
    void euWritesGoOnlyToThePolicysWriterRegion() throws Exception {
        Latitude latitude = engine(new Setup());
        FakeRegionClient client = client(latitude);

        assertThat(ids(latitude.plan(EU_WRITE))).containsExactly(EU_WEST);
        assertThat(ids(latitude.plan(EU_PREFIX_WRITE))).containsExactly(EU_WEST);
        assertThat(ids(latitude.plan(US_WRITE))).containsExactly(US_EAST, EU_WEST);

        for (int i = 0; i < 3; i++) {
            assertThat(call(client, EU_WRITE)).as("EU write %d", i).isEqualTo(EU_WEST);
            assertThat(call(client, EU_IDEMPOTENT_WRITE)).as("EU idempotent write %d", i).isEqualTo(EU_WEST);
            assertThat(call(client, EU_PREFIX_WRITE)).as("EU prefix write %d", i).isEqualTo(EU_WEST);
        }
        assertThat(requests(EU_WEST)).isEqualTo(9);
        assertThat(requests(EU_CENTRAL)).as("eu-central-1 takes no writes").isZero();
        assertUsJournalsEmpty();

        resetJournals();
        assertThat(call(client, US_WRITE)).isEqualTo(US_EAST);
        assertThat(requests(US_EAST)).isEqualTo(1);
        assertThat(requests(US_WEST) + requests(EU_WEST) + requests(EU_CENTRAL)).isZero();
    }

    // ---------------------------------------------------------------------------------------------------------
    // 3. Every EU region down
    // ---------------------------------------------------------------------------------------------------------

    @Test
    void blackholedAndRefusingEuRegionsFailEuCallsWithResidencyExceptionAndNothingGoesToTheUs() throws Exception {
        // (Every EU region blackholed is covered, with and without hedges, by
        // hedgesAndFallbacksNeverLeaveTheEuWhenEveryEuRegionIsBlackholed; a blackholed region's hung requests cost
        // seconds when the fake regions stop, so this test blackholes one.)
        Latitude latitude = engine(new Setup());
        FakeRegionClient client = client(latitude);
        warmUp(client);
        lab.region(EU_WEST).blackhole();
        lab.region(EU_CENTRAL).refuseConnections();
        resetJournals();

        long start = System.nanoTime();
        ResidencyException read = refused(client, EU_READ);
        assertThat(millisSince(start)).isGreaterThanOrEqualTo(ATTEMPT_TIMEOUT.toMillis());
        assertThat(read.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure, AttemptRecord::hedge)
                .containsExactly(tuple(EU_WEST, FailureKind.TIMEOUT, false),
                        tuple(EU_CENTRAL, FailureKind.REGION_UNAVAILABLE, false));
        assertThat(read.attempts().get(0).duration()).isGreaterThanOrEqualTo(ATTEMPT_TIMEOUT);
        assertThat(read.getCause()).isInstanceOf(ConnectException.class);
        assertThat(read.getMessage()).contains("GetUser").contains("'" + EU_USERS + "'").contains("[EU]");
        assertThat(requests(EU_WEST)).isEqualTo(1);
        assertUsJournalsEmpty();

        resetJournals();
        // Sent to its only region, which never answered: it may have been applied, so the caller is told exactly
        // that (never "not applied"), and it went nowhere else.
        Throwable unknown = failureOf(client, EU_IDEMPOTENT_WRITE);
        assertThat(unknown).isInstanceOf(AmbiguousWriteException.class);
        AmbiguousWriteException write = (AmbiguousWriteException) unknown;
        assertThat(write.region()).isEqualTo(EU_WEST);
        assertThat(write.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure)
                .containsExactly(tuple(EU_WEST, FailureKind.TIMEOUT));
        assertThat(requests(EU_WEST)).isEqualTo(1);
        assertThat(requests(EU_CENTRAL)).as("eu-central-1 takes no writes of " + EU_USERS).isZero();
        assertUsJournalsEmpty();

        // A non-idempotent write that timed out may have been applied: ambiguous, and still never sent to the US.
        resetJournals();
        Throwable ambiguous = failureOf(client, EU_WRITE);
        assertThat(ambiguous).isInstanceOf(AmbiguousWriteException.class);
        assertThat(((AmbiguousWriteException) ambiguous).region()).isEqualTo(EU_WEST);
        assertThat(requests(EU_CENTRAL)).isZero();
        assertUsJournalsEmpty();

        // Meanwhile data without residency is served by the US as usual.
        assertThat(call(client, US_READ)).isEqualTo(US_EAST);
        assertThat(requests(US_WEST)).isZero();
        awaitNothingInFlight(latitude);
    }

    @Test
    void refusingEuRegionsFailEuCallsWithResidencyExceptionAndNothingGoesToTheUs() throws Exception {
        Latitude latitude = engine(new Setup());
        FakeRegionClient client = client(latitude);
        assertThat(call(client, EU_READ)).isEqualTo(EU_WEST);
        lab.region(EU_WEST).refuseConnections();
        lab.region(EU_CENTRAL).refuseConnections();
        resetJournals();

        ResidencyException read = refused(client, EU_READ);
        assertThat(read.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure)
                .containsExactly(tuple(EU_WEST, FailureKind.REGION_UNAVAILABLE),
                        tuple(EU_CENTRAL, FailureKind.REGION_UNAVAILABLE));
        assertThat(read.getCause()).isInstanceOf(ConnectException.class);
        assertUsJournalsEmpty();

        ResidencyException prefixRead = refused(client, EU_PREFIX_READ);
        assertThat(prefixRead.dataClass()).isEqualTo(EU_ORDERS);
        assertThat(prefixRead.attempts()).extracting(AttemptRecord::region).containsExactly(EU_WEST, EU_CENTRAL);
        assertUsJournalsEmpty();

        ResidencyException write = refused(client, EU_IDEMPOTENT_WRITE);
        assertThat(write.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure)
                .containsExactly(tuple(EU_WEST, FailureKind.REGION_UNAVAILABLE));
        assertUsJournalsEmpty();

        // A refused connection proves a non-idempotent write was not applied: a residency refusal, not ambiguity.
        ResidencyException nonIdempotent = refused(client, EU_WRITE);
        assertThat(nonIdempotent.attempts()).extracting(AttemptRecord::region).containsExactly(EU_WEST);
        assertUsJournalsEmpty();

        // Mixed faults: one EU region answering 503, the other refusing (its journal stays empty).
        Latitude fresh = engine(new Setup());
        FakeRegionClient freshClient = client(fresh);
        lab.region(EU_WEST).failWith(503);
        resetJournals();
        ResidencyException mixed = refused(freshClient, EU_READ);
        assertThat(mixed.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure)
                .containsExactly(tuple(EU_WEST, FailureKind.REGION_UNAVAILABLE),
                        tuple(EU_CENTRAL, FailureKind.REGION_UNAVAILABLE));
        assertThat(requests(EU_WEST)).isEqualTo(1);
        assertUsJournalsEmpty();
    }

    @Test
    void euRegionsAnswering503FailEuCallsWithResidencyExceptionAndNothingGoesToTheUs() throws Exception {
        Latitude latitude = engine(new Setup());
        FakeRegionClient client = client(latitude);
        warmUp(client);
        lab.region(EU_WEST).failWith(503);
        lab.region(EU_CENTRAL).failWith(503);
        resetJournals();

        ResidencyException read = refused(client, EU_READ);
        assertThat(read.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure)
                .containsExactly(tuple(EU_WEST, FailureKind.REGION_UNAVAILABLE),
                        tuple(EU_CENTRAL, FailureKind.REGION_UNAVAILABLE));
        assertThat(read.getCause()).isInstanceOf(FakeRegionClient.HttpStatusException.class);
        assertThat(((FakeRegionClient.HttpStatusException) read.getCause()).status()).isEqualTo(503);
        assertThat(requests(EU_WEST)).isEqualTo(1);
        assertThat(requests(EU_CENTRAL)).isEqualTo(1);
        assertUsJournalsEmpty();

        resetJournals();
        ResidencyException write = refused(client, EU_IDEMPOTENT_WRITE);
        assertThat(write.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure)
                .containsExactly(tuple(EU_WEST, FailureKind.REGION_UNAVAILABLE));
        assertThat(requests(EU_WEST)).isEqualTo(1);
        assertThat(requests(EU_CENTRAL)).isZero();
        assertUsJournalsEmpty();

        // The US keeps serving data without residency; none of it was affected by the EU outage.
        resetJournals();
        assertThat(call(client, US_READ)).isEqualTo(US_EAST);
        assertThat(call(client, US_WRITE)).isEqualTo(US_EAST);
        assertThat(requests(EU_WEST) + requests(EU_CENTRAL)).isZero();
    }

    // ---------------------------------------------------------------------------------------------------------
    // 4. Hedging
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Requests a warm-up call may still deliver after it ended: once hedging is active, a warm-up read whose hedge
     * won leaves its abandoned primary in flight, and on a loaded machine that request can reach its region after the
     * journals were reset. Journal counts of EU regions after a warm-up allow for this many; US journals allow none.
     */
    private static final int WARM_UP_STRAGGLERS = 2;

    private static HedgingConfig eagerHedging() {
        return HedgingConfig.builder().percentile(90).minSamples(5).budgetRatio(1.0).maxBurst(1000)
                .minDelay(Duration.ofMillis(1)).build();
    }

    /**
     * Reads EU data until eu-west-1's hedging percentile is known, so EU reads are hedged from now on; at least 20
     * reads, so that the first, slower calls (connection set-up) do not set the percentile.
     */
    private static void warmUpEu(Latitude latitude, FakeRegionClient client) {
        int[] reads = {0};
        awaitUntil(Duration.ofSeconds(5), () -> {
            try {
                assertThat(call(client, EU_READ)).isIn(EU_REGIONS);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            return ++reads[0] >= 20 && status(latitude, EU_WEST).hedgePercentileNanos() >= 0;
        });
        // Hedges must fire well before the second of latency the tests add (a busy machine may make it a few
        // hundred ms): then only a hedge can answer a read in less than that second.
        assertThat(status(latitude, EU_WEST).hedgePercentileNanos()).as("eu-west-1's hedging percentile")
                .isLessThan(Duration.ofMillis(700).toNanos());
    }

    private static List<EventData> events(SpanData span, String name) {
        return span.getEvents().stream().filter(e -> e.getName().equals(name)).collect(Collectors.toList());
    }

    @Test
    void hedgesAroundASlowEuRegionGoToTheOtherEuRegionNeverToTheUs() throws Exception {
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
                .build();
        closeables.add(sdk);
        Setup s = new Setup();
        s.attemptTimeout = Duration.ofMillis(1500); // longer than the added latency: only a hedge can answer sooner
        s.hedging = eagerHedging();
        s.openTelemetry = sdk;
        Latitude latitude = engine(s);
        FakeRegionClient client = client(latitude);
        warmUpEu(latitude, client);
        resetJournals();
        spans.reset();

        Duration added = Duration.ofSeconds(1);
        lab.region(EU_WEST).addLatency(added);
        int calls = 6;
        for (int i = 0; i < calls; i++) {
            long start = System.nanoTime();
            assertThat(call(client, EU_READ)).as("EU read %d", i).isEqualTo(EU_CENTRAL);
            // Neither eu-west-1's answer (1 s) nor a fallback after its attempt timeout (1.5 s) could come this soon:
            // a hedge did.
            assertThat(millisSince(start)).as("EU read %d", i).isLessThan(added.toMillis());
        }
        assertUsJournalsEmpty();
        assertThat(requests(EU_CENTRAL)).isBetween(calls, calls + WARM_UP_STRAGGLERS);
        // Each primary a hedge beat counts as a slow call: after FAILURES of them eu-west-1's circuit opened and the
        // remaining reads went straight to eu-central-1.
        assertThat(requests(EU_WEST)).isBetween(1, FAILURES + WARM_UP_STRAGGLERS);
        assertThat(status(latitude, EU_WEST).circuit()).isEqualTo(CircuitState.OPEN);

        List<SpanData> finished = spans.getFinishedSpanItems();
        assertThat(finished).hasSize(calls);
        List<EventData> hedges = finished.stream().flatMap(sp -> events(sp, "latitude.hedge").stream())
                .collect(Collectors.toList());
        assertThat(hedges).isNotEmpty().hasSizeLessThanOrEqualTo(FAILURES);
        assertThat(hedges).allSatisfy(h -> {
            assertThat(h.getAttributes().get(AttributeKey.stringKey("latitude.from_region"))).isEqualTo(EU_WEST);
            assertThat(h.getAttributes().get(AttributeKey.stringKey("latitude.to_region"))).isEqualTo(EU_CENTRAL);
        });
        assertThat(finished).allSatisfy(sp ->
                assertThat(sp.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isEqualTo(EU_CENTRAL));

        // Data without residency is still served by the US region, not hedged into the EU.
        resetJournals();
        assertThat(call(client, US_READ)).isEqualTo(US_EAST);
        assertThat(requests(EU_WEST) + requests(EU_CENTRAL)).isZero();
    }

    @Test
    void hedgesAndFallbacksNeverLeaveTheEuWhenEveryEuRegionIsBlackholed() throws Exception {
        Setup s = new Setup();
        s.hedging = eagerHedging();
        Latitude latitude = engine(s);
        FakeRegionClient client = client(latitude);
        warmUpEu(latitude, client);
        lab.region(EU_WEST).blackhole();
        lab.region(EU_CENTRAL).blackhole();
        resetJournals();

        // The first call is hedged: eu-west-1, then a hedge to eu-central-1; both time out and the plan ends.
        ResidencyException first = refused(client, EU_READ);
        assertThat(first.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure, AttemptRecord::hedge)
                .containsExactly(tuple(EU_WEST, FailureKind.TIMEOUT, false),
                        tuple(EU_CENTRAL, FailureKind.TIMEOUT, true));
        assertUsJournalsEmpty();

        // More calls: hedged until both circuits open, then last resorts inside the EU; never a US region.
        for (int i = 0; i < FAILURES; i++) {
            ResidencyException e = refused(client, EU_READ);
            assertThat(e.attempts()).extracting(AttemptRecord::region).containsExactlyInAnyOrder(EU_WEST, EU_CENTRAL);
            assertThat(e.attempts()).extracting(AttemptRecord::failure).containsOnly(FailureKind.TIMEOUT);
        }
        assertThat(status(latitude, EU_WEST).circuit()).isEqualTo(CircuitState.OPEN);
        assertThat(status(latitude, EU_CENTRAL).circuit()).isEqualTo(CircuitState.OPEN);
        assertThat(requests(EU_WEST)).isBetween(1 + FAILURES, 1 + FAILURES + WARM_UP_STRAGGLERS);
        assertThat(requests(EU_CENTRAL)).isBetween(1 + FAILURES, 1 + FAILURES + WARM_UP_STRAGGLERS);
        assertUsJournalsEmpty();

        // An idempotent EU write cannot be hedged and has one region to go to; unanswered there, it may have been
        // applied.
        Throwable unknown = failureOf(client, EU_IDEMPOTENT_WRITE);
        assertThat(unknown).isInstanceOf(AmbiguousWriteException.class);
        assertThat(((AmbiguousWriteException) unknown).attempts()).extracting(AttemptRecord::region)
                .containsExactly(EU_WEST);
        assertUsJournalsEmpty();
        awaitNothingInFlight(latitude);
    }

    // ---------------------------------------------------------------------------------------------------------
    // 5. Panic within the allowed set
    // ---------------------------------------------------------------------------------------------------------

    @Test
    void withEveryEuCircuitOpenEuCallsStillTryOnlyEuRegionsAndRecoverAfterHeal() throws Exception {
        Latitude latitude = engine(new Setup());
        FakeRegionClient client = client(latitude);
        warmUp(client);
        lab.region(EU_WEST).failWith(503);
        lab.region(EU_CENTRAL).failWith(503);

        awaitUntil(Duration.ofSeconds(5), () -> {
            try {
                refused(client, EU_READ);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            return status(latitude, EU_WEST).circuit() == CircuitState.OPEN
                    && status(latitude, EU_CENTRAL).circuit() == CircuitState.OPEN;
        });
        assertUsJournalsEmpty();

        // Panic, but only within the residency: the longest-open EU region first, no US region at all.
        Plan plan = latitude.plan(EU_READ);
        assertThat(plan.panic()).isTrue();
        assertThat(ids(plan)).containsExactly(EU_WEST, EU_CENTRAL);
        assertThat(latitude.plan(EU_WRITE).panic()).isTrue();
        assertThat(ids(latitude.plan(EU_WRITE))).containsExactly(EU_WEST);
        Plan usPlan = latitude.plan(US_READ);
        assertThat(usPlan.panic()).isFalse();
        assertThat(ids(usPlan)).containsExactly(US_EAST, US_WEST, EU_WEST, EU_CENTRAL);
        assertThat(usPlan.healthyCount()).isEqualTo(2);

        resetJournals();
        ResidencyException panic = refused(client, EU_READ);
        assertThat(panic.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure)
                .containsExactly(tuple(EU_WEST, FailureKind.REGION_UNAVAILABLE),
                        tuple(EU_CENTRAL, FailureKind.REGION_UNAVAILABLE));
        assertThat(requests(EU_WEST)).as("panic still tries the least bad EU region").isEqualTo(1);
        assertThat(requests(EU_CENTRAL)).isEqualTo(1);
        assertUsJournalsEmpty();

        resetJournals();
        ResidencyException panicWrite = refused(client, EU_IDEMPOTENT_WRITE);
        assertThat(panicWrite.attempts()).extracting(AttemptRecord::region).containsExactly(EU_WEST);
        assertThat(requests(EU_WEST)).isEqualTo(1);
        assertUsJournalsEmpty();

        // US data is unaffected by the EU panic.
        resetJournals();
        assertThat(call(client, US_READ)).isEqualTo(US_EAST);
        assertThat(requests(EU_WEST) + requests(EU_CENTRAL) + requests(US_WEST)).isZero();

        // Heal: the last-resort attempt gets through, and EU calls succeed again, still only in the EU.
        lab.region(EU_WEST).heal();
        lab.region(EU_CENTRAL).heal();
        resetJournals();
        assertThat(call(client, EU_READ)).isEqualTo(EU_WEST);
        assertThat(status(latitude, EU_WEST).circuit()).isEqualTo(CircuitState.CLOSED);
        for (int i = 0; i < 4; i++) {
            assertThat(call(client, EU_READ)).as("EU read %d after heal", i).isEqualTo(EU_WEST);
        }
        assertThat(call(client, EU_IDEMPOTENT_WRITE)).isEqualTo(EU_WEST);
        assertThat(latitude.plan(EU_READ).panic()).isFalse();
        assertThat(ids(latitude.plan(EU_READ)).get(0)).isEqualTo(EU_WEST);
        assertThat(requests(EU_WEST)).isEqualTo(6);
        assertUsJournalsEmpty();
        awaitNothingInFlight(latitude);
    }

    // ---------------------------------------------------------------------------------------------------------
    // 6. Build-time validation
    // ---------------------------------------------------------------------------------------------------------

    private static LatitudeConfigException buildFails(Topology topology, DataPolicies policies) {
        Latitude.Builder builder = Latitude.builder().topology(topology).routingPolicy(usFirst())
                .dataPolicies(policies).openTelemetry(OpenTelemetry.noop());
        Throwable t = catchThrowable(builder::build);
        assertThat(t).isInstanceOf(LatitudeConfigException.class);
        return (LatitudeConfigException) t;
    }

    @Test
    void residencyWithoutARegionOrAWriterOutsideItIsRejectedAtBuild() {
        LatitudeConfigException apac = buildFails(topology(), DataPolicies.builder()
                .exact("apac_users", DataPolicy.builder().residency("APAC").build()).build());
        assertThat(apac.setting()).isEqualTo("dataPolicies[apac_users].residency");
        assertThat(apac.getMessage()).contains("[APAC]").contains(EU_WEST + "=EU").contains(US_EAST + "=US");

        LatitudeConfigException apacPrefix = buildFails(topology(), DataPolicies.builder()
                .prefix("apac_", DataPolicy.builder().residency("APAC").writerRegion(US_EAST).build()).build());
        assertThat(apacPrefix.setting()).startsWith("dataPolicies[apac_").endsWith("].residency");

        LatitudeConfigException apacDefault = buildFails(topology(), DataPolicies.builder()
                .defaultPolicy(DataPolicy.builder().residency("APAC").build()).build());
        assertThat(apacDefault.setting()).isEqualTo("dataPolicies[default].residency");

        LatitudeConfigException outside = buildFails(topology(), DataPolicies.builder()
                .exact(EU_USERS, DataPolicy.builder().residency("EU").writerRegion(US_EAST).build()).build());
        assertThat(outside.setting()).isEqualTo("dataPolicies[" + EU_USERS + "].writerRegion");
        assertThat(outside.getMessage()).contains(US_EAST).contains("US").contains("[EU]");

        LatitudeConfigException unknown = buildFails(topology(), DataPolicies.builder()
                .exact(EU_USERS, DataPolicy.builder().residency("EU").writerRegion("eu-north-1").build()).build());
        assertThat(unknown.setting()).isEqualTo("dataPolicies[" + EU_USERS + "].writerRegion");
        assertThat(unknown.getMessage()).contains("eu-north-1");

        // Single writer with no writer region named and no writer of the topology inside the residency.
        LatitudeConfigException noEuWriter = buildFails(topology(false), DataPolicies.builder()
                .prefix("eu_", DataPolicy.builder().residency("EU").build()).build());
        assertThat(noEuWriter.setting()).startsWith("dataPolicies[eu_").endsWith("].writerRegion");

        // Multi-writer needs no writer region: every EU region takes writes.
        try (Latitude ok = Latitude.builder().topology(topology(false)).routingPolicy(usFirst())
                .dataPolicies(DataPolicies.builder().prefix("eu_", DataPolicy.builder().residency("EU")
                        .writeMode(WriteMode.MULTI_WRITER).build()).build())
                .openTelemetry(OpenTelemetry.noop()).build()) {
            assertThat(ids(ok.plan(EU_PREFIX_WRITE))).containsExactly(EU_WEST, EU_CENTRAL);
        }

        assertThatThrownBy(() -> DataPolicy.builder().residency())
                .isInstanceOfSatisfying(LatitudeConfigException.class,
                        e -> assertThat(e.setting()).isEqualTo("dataPolicy.residency"));
        assertThatThrownBy(() -> DataPolicy.builder().residency("EU").writeMode(WriteMode.MULTI_WRITER)
                .writerRegion(EU_WEST).build())
                .isInstanceOfSatisfying(LatitudeConfigException.class,
                        e -> assertThat(e.setting()).isEqualTo("dataPolicy.writerRegion"));
    }

    // ---------------------------------------------------------------------------------------------------------
    // 7. Telemetry
    // ---------------------------------------------------------------------------------------------------------

    @Test
    void refusalIsVisibleInTheSpanAndTheRefusalsMetric() throws Exception {
        FunctionalSupport.InMemoryTelemetry telemetry = FunctionalSupport.InMemoryTelemetry.create();
        closeables.add(telemetry);
        OpenTelemetrySdk sdk = telemetry.sdk();
        InMemorySpanExporter spans = telemetry.spans();
        InMemoryMetricReader metrics = telemetry.metrics();
        Setup s = new Setup();
        s.openTelemetry = sdk;
        Latitude latitude = engine(s);
        FakeRegionClient client = client(latitude);

        // A served EU read is no refusal.
        assertThat(call(client, EU_READ)).isEqualTo(EU_WEST);
        assertThat(spans.getFinishedSpanItems()).hasSize(1);
        assertThat(events(spans.getFinishedSpanItems().get(0), "latitude.residency.refused")).isEmpty();
        spans.reset();

        lab.region(EU_WEST).refuseConnections();
        lab.region(EU_CENTRAL).refuseConnections();
        resetJournals();
        refused(client, EU_READ);
        assertUsJournalsEmpty();

        List<SpanData> finished = spans.getFinishedSpanItems();
        assertThat(finished).hasSize(1);
        SpanData span = finished.get(0);
        assertThat(span.getName()).isEqualTo("GetUser");
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("latitude.data_class"))).isEqualTo(EU_USERS);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isNull();
        assertThat(span.getAttributes().get(AttributeKey.longKey("latitude.attempts"))).isEqualTo(2L);
        List<EventData> refusals = events(span, "latitude.residency.refused");
        assertThat(refusals).hasSize(1);
        assertThat(refusals.get(0).getAttributes().get(AttributeKey.stringKey("latitude.data_class"))).isEqualTo(EU_USERS);
        assertThat(refusals.get(0).getAttributes().get(AttributeKey.stringKey("latitude.residency"))).isEqualTo("EU");
        assertThat(events(span, "latitude.fallback")).allSatisfy(f -> {
            assertThat(f.getAttributes().get(AttributeKey.stringKey("latitude.to_region"))).isIn(EU_REGIONS);
        });
        assertThat(span.getEvents()).extracting(EventData::getName).contains("latitude.attempt.failed");
        assertThat(events(span, "exception")).hasSize(1);
        assertThat(events(span, "exception").get(0).getAttributes()
                .get(AttributeKey.stringKey("exception.type"))).isEqualTo(ResidencyException.class.getName());

        Collection<MetricData> collected = metrics.collectAllMetrics();
        assertThat(longPoints(collected, "latitude.residency.refusals")).containsExactly(
                Map.entry(Attributes.empty(), 1L));
        // Attempts were counted in EU regions only.
        assertThat(longPoints(collected, "latitude.attempts").keySet())
                .extracting(a -> a.get(AttributeKey.stringKey("cloud.region")))
                .allSatisfy(r -> assertThat(r).isIn(EU_REGIONS));
    }

    @Test
    void callsThatFailWithoutResidencyAreNotCountedAsRefusals() throws Exception {
        FunctionalSupport.InMemoryTelemetry telemetry = FunctionalSupport.InMemoryTelemetry.create();
        closeables.add(telemetry);
        OpenTelemetrySdk sdk = telemetry.sdk();
        InMemorySpanExporter spans = telemetry.spans();
        InMemoryMetricReader metrics = telemetry.metrics();
        Setup s = new Setup();
        s.openTelemetry = sdk;
        Latitude latitude = engine(s);
        FakeRegionClient client = client(latitude);
        lab.regions().forEach(FakeRegion::refuseConnections);

        Throwable failure = failureOf(client, US_READ);
        assertThat(failure).isInstanceOf(RegionsUnavailableException.class).isNotInstanceOf(ResidencyException.class);
        assertThat(((RegionsUnavailableException) failure).attempts()).extracting(AttemptRecord::region)
                .containsExactly(US_EAST, US_WEST, EU_WEST, EU_CENTRAL);
        assertThat(spans.getFinishedSpanItems()).hasSize(1);
        assertThat(events(spans.getFinishedSpanItems().get(0), "latitude.residency.refused")).isEmpty();

        refused(client, EU_READ);
        Collection<MetricData> collected = metrics.collectAllMetrics();
        assertThat(longPoints(collected, "latitude.residency.refusals")).containsExactly(
                Map.entry(Attributes.empty(), 1L));
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
