package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HedgingConfig;
import dev.latitude.LatitudeConfigException;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.dynamodb.internal.ItemKeys;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;

/**
 * The client's engine settings, the timeouts its region requests get, which thread runs a call's first attempt, and
 * its views ({@code withConsistency}, {@code withSession}), against three WireMock regions: us-east-1 (writer, US),
 * eu-west-1 (home, EU) and ap-southeast-2 (AU), tried in the order ap-southeast-2, eu-west-1, us-east-1.
 */
class ClientOptionsTest {
    private static final String WRITER = "us-east-1";
    private static final String HOME = "eu-west-1";
    private static final String NEAREST = "ap-southeast-2";
    private static final Map<String, AttributeValue> KEY = Map.of("pk", AttributeValue.fromS("k1"));
    private static final Topology TOPOLOGY = Topology.builder()
            .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").build())
            .region(RegionSpec.builder(HOME).jurisdiction("EU").build())
            .region(RegionSpec.builder(NEAREST).jurisdiction("AU").build())
            .localRegion(HOME).build();

    private static Map<String, StubRegion> stubs;
    private final Recorder recorder = new Recorder();
    private final List<DynamoDbClient> toClose = new CopyOnWriteArrayList<>();
    private MultiRegionDynamoDbClient client;

    @BeforeAll
    static void start() {
        stubs = Map.of(WRITER, StubRegion.start(WRITER), HOME, StubRegion.start(HOME), NEAREST,
                StubRegion.start(NEAREST));
    }

    @AfterAll
    static void stop() {
        stubs.values().forEach(StubRegion::close);
    }

    @BeforeEach
    void reset() {
        stubs.values().forEach(StubRegion::reset);
        stubs.forEach((id, stub) -> stub.answer("GetItem", StubRegion.ok("{\"Item\":{\"from\":{\"S\":\"" + id
                + "\"}}}"), 5));
    }

    @AfterEach
    void close() {
        if (client != null) {
            client.close();
        }
        toClose.forEach(DynamoDbClient::close);
        stubs.values().forEach(StubRegion::closeClients);
    }

    /** Records the thread and the request of every call a region client starts. */
    static final class Recorder implements ExecutionInterceptor {
        final List<Thread> threads = new CopyOnWriteArrayList<>();
        final List<SdkRequest> requests = new CopyOnWriteArrayList<>();

        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            threads.add(Thread.currentThread());
            requests.add(context.request());
        }
    }

    /** A client of region {@code id}'s stub recording its calls, with {@code apiCallTimeout} if not null. */
    private DynamoDbClient regionClient(String id, Duration apiCallTimeout) {
        DynamoDbClient c = DynamoDbClient.builder().endpointOverride(stubs.get(id).uri()).region(Region.of(id))
                .credentialsProvider(StubRegion.credentials())
                .overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy())
                        .apiCallTimeout(apiCallTimeout).addExecutionInterceptor(recorder))
                .build();
        toClose.add(c);
        return c;
    }


    private MultiRegionDynamoDbClient.Builder builder(Duration apiCallTimeout) {
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(TOPOLOGY)
                .dataPolicies(DataPolicies.builder()
                        .exact("customers_eu", DataPolicy.builder().residency("EU").writerRegion(HOME).build())
                        .exact("ledger", DataPolicy.builder().consistency(ConsistencyLevel.STRONG).build())
                        .exact("orders", DataPolicy.builder().consistency(ConsistencyLevel.EVENTUAL).build())
                        .build())
                .keySchema("orders", "pk").keySchema("ledger", "pk").keySchema("customers_eu", "pk")
                .routingPolicy(RoutingPolicy.failover().priority(NEAREST, HOME, WRITER).build());
        for (String id : List.of(WRITER, HOME, NEAREST)) {
            b.regionClient(id, regionClient(id, apiCallTimeout));
        }
        return b;
    }

    private static String from(GetItemResponse r) {
        return r.item().get("from").s();
    }

    private static LatitudeConfigException configError(Runnable r) {
        Throwable t = catchThrowable(r::run);
        assertThat(t).isInstanceOf(LatitudeConfigException.class);
        return (LatitudeConfigException) t;
    }

    // ------------------------------------------------------------------------------------------ engine settings

    @Test
    void engineSetting_badValueInRouter_isRefusedAsItIs() {
        LatitudeConfigException negative = configError(() -> builder(null)
                .router(r -> r.attemptTimeout(Duration.ofMillis(-300))).build());
        assertThat(negative.setting()).isEqualTo("attemptTimeout");
        assertThat(negative.getMessage()).contains("-300 ms is outside [1 ms, 10 min]")
                .doesNotContain("PT", "multi-region");
    }

    @Test
    void engineSetting_setOnTheBuilderAndInRouter_isRefusedNamingIt() {
        LatitudeConfigException timeout = configError(() -> builder(null).attemptTimeout(Duration.ofSeconds(1))
                .router(r -> r.attemptTimeout(Duration.ofSeconds(2))).build());
        assertThat(timeout.setting()).isEqualTo("router");
        assertThat(timeout.getMessage()).contains("attemptTimeout", "set twice", "either on the multi-region client's builder or in router(...)");

        LatitudeConfigException callerRuns = configError(() -> builder(null).callerRunsFirstAttempt(false)
                .router(r -> r.callerRunsFirstAttempt(true)).build());
        assertThat(callerRuns.getMessage()).contains("callerRunsFirstAttempt", "set twice");
    }

    @Test
    void engineSetting_outOfRangeOrSetTwice_isRefusedAtOnce() {
        LatitudeConfigException zero = configError(() -> MultiRegionDynamoDbClient.builder()
                .attemptTimeout(Duration.ZERO));
        assertThat(zero.setting()).isEqualTo("attemptTimeout");
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().deadline(Duration.ofSeconds(3));
        assertThat(configError(() -> b.deadline(Duration.ofSeconds(4))).setting()).isEqualTo("deadline");
    }

    @Test
    void engineSettings_onTheBuilder_reachTheEngine() {
        client = builder(null).attemptTimeout(Duration.ofMillis(700)).hedging(HedgingConfig.disabled()).build();
        // The first region of the failover policy set on the builder answers.
        assertThat(from(client.getItem(g -> g.tableName("orders").key(KEY)))).isEqualTo(NEAREST);
        assertThat(recorder.requests).hasSize(1);
        assertThat(((DynamoDbRequest) recorder.requests.get(0)).overrideConfiguration().orElseThrow()
                .apiCallTimeout()).contains(Duration.ofMillis(700));
    }

    // ------------------------------------------------------------------------------------------ threads

    @Test
    void unhedgedCalls_runTheirFirstAttemptOnTheCallingThreadByDefault() {
        client = builder(null).hedging(HedgingConfig.disabled()).build();
        client.getItem(g -> g.tableName("orders").key(KEY));
        client.putItem(p -> p.tableName("orders").item(KEY));
        assertThat(recorder.threads).hasSize(2).containsOnly(Thread.currentThread());
    }

    @Test
    void hedgeableReadsInACalmRegion_andWrites_runOnTheCaller() {
        client = builder(null).build(); // hedging on: the engine's default
        client.getItem(g -> g.tableName("orders").key(KEY));
        assertThat(recorder.threads).as("no trouble in the region: a hedge is unlikely")
                .containsExactly(Thread.currentThread());
        recorder.threads.clear();
        client.putItem(p -> p.tableName("orders").item(KEY));
        assertThat(recorder.threads).containsExactly(Thread.currentThread());
    }

    @Test
    void callerRunsFirstAttemptOff_onTheBuilderOrInRouter_handsEveryAttemptToTheAttemptThreads() {
        for (Consumer<MultiRegionDynamoDbClient.Builder> off : List.<Consumer<MultiRegionDynamoDbClient.Builder>>of(
                b -> b.callerRunsFirstAttempt(false), b -> b.router(r -> r.callerRunsFirstAttempt(false)))) {
            recorder.threads.clear();
            MultiRegionDynamoDbClient.Builder b = builder(null).hedging(HedgingConfig.disabled());
            off.accept(b);
            try (MultiRegionDynamoDbClient c = b.build()) {
                c.putItem(p -> p.tableName("orders").item(KEY));
            }
            assertThat(recorder.threads).hasSize(1).doesNotContain(Thread.currentThread());
        }
    }

    // ------------------------------------------------------------------------------------------ request timeouts

    @Test
    void requestsToAClientThatCutsCallsItself_areSentAsTheyAre() {
        client = builder(Duration.ofSeconds(1)).hedging(HedgingConfig.disabled()).build();
        client.getItem(g -> g.tableName("orders").key(KEY));
        assertThat(((DynamoDbRequest) recorder.requests.get(0)).overrideConfiguration()).isEmpty();
    }

    /**
     * Only the attempt that holds the caller is cut at the attempt timeout: the fallback runs on the attempt threads
     * and is cut at what is left of the deadline, so a slow answer there keeps its chance (slow is not dead).
     */
    @Test
    void onlyTheCallersOwnAttemptIsCutAtTheAttemptTimeout_aFallbackAtTheRemainingDeadline() {
        stubs.get(NEAREST).answer("GetItem", StubRegion.ok("{\"Item\":{\"from\":{\"S\":\"late\"}}}")
                .withFixedDelay(20_000), 1);
        client = builder(null).hedging(HedgingConfig.disabled()).attemptTimeout(Duration.ofSeconds(1))
                .deadline(Duration.ofSeconds(8)).build();

        assertThat(from(client.getItem(g -> g.tableName("orders").key(KEY)))).isEqualTo(HOME);

        assertThat(recorder.requests).hasSize(2);
        Duration first = recorder.requests.get(0).overrideConfiguration().orElseThrow().apiCallTimeout().orElseThrow();
        Duration fallback = recorder.requests.get(1).overrideConfiguration().orElseThrow().apiCallTimeout()
                .orElseThrow();
        assertThat(recorder.threads.get(0)).isSameAs(Thread.currentThread());
        assertThat(first).isEqualTo(Duration.ofSeconds(1));
        assertThat(recorder.threads.get(1)).isNotSameAs(Thread.currentThread());
        assertThat(fallback).as("what was left of the 8 s deadline").isGreaterThan(Duration.ofSeconds(5))
                .isLessThanOrEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void aRegionThatHangs_isCutAtTheAttemptTimeout_andTheCallerGetsTheNextRegion() {
        // The nearest region holds GetItem for 20 s; its client has no timeout of its own. The caller runs the first
        // attempt, so only the SDK's cut at the attempt timeout frees it for the next region's answer.
        stubs.get(NEAREST).answer("GetItem", StubRegion.ok("{\"Item\":{\"from\":{\"S\":\"late\"}}}")
                .withFixedDelay(20_000), 1);
        client = builder(null).hedging(HedgingConfig.disabled()).attemptTimeout(Duration.ofSeconds(1)).build();
        long start = System.nanoTime();
        GetItemResponse r = client.getItem(g -> g.tableName("orders").key(KEY));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(from(r)).isEqualTo(HOME);
        assertThat(recorder.threads.get(0)).isSameAs(Thread.currentThread());
        // Far less than the 20 s the region holds the request: it was cut, not waited for.
        assertThat(tookMillis).isLessThan(10_000);
    }

    // ------------------------------------------------------------------------------------------ buildClients

    @Test
    void buildClients_perRegion_madeClientsCutCallsAtTheAttemptTimeout() {
        Set<String> seen = ConcurrentHashMap.newKeySet();
        client = MultiRegionDynamoDbClient.builder().topology(TOPOLOGY).attemptTimeout(Duration.ofSeconds(3))
                .buildClients((region, b) -> {
                    seen.add(region);
                    b.endpointOverride(stubs.get(region).uri()).credentialsProvider(StubRegion.credentials());
                })
                .build();
        assertThat(seen).containsExactlyInAnyOrder(WRITER, HOME, NEAREST);
        for (String id : seen) {
            ClientOverrideConfiguration o = client.clients.get(id).serviceClientConfiguration()
                    .overrideConfiguration();
            assertThat(o.apiCallTimeout()).contains(Duration.ofSeconds(3));
            assertThat(o.apiCallAttemptTimeout()).contains(Duration.ofSeconds(3));
        }
        // A strong read goes to the writer, through the client made for it.
        assertThat(from(client.getItem(g -> g.tableName("orders").key(KEY).consistentRead(true))))
                .isEqualTo(WRITER);
    }

    @Test
    void asyncBuildClients_perRegion_madeClientsCutCallsAtTheAttemptTimeout() {
        Set<String> seen = ConcurrentHashMap.newKeySet();
        try (MultiRegionDynamoDbAsyncClient async = MultiRegionDynamoDbAsyncClient.builder().topology(TOPOLOGY)
                .router(r -> r.attemptTimeout(Duration.ofSeconds(4)))
                .buildClients((region, b) -> {
                    seen.add(region);
                    b.endpointOverride(stubs.get(region).uri()).credentialsProvider(StubRegion.credentials());
                })
                .build()) {
            assertThat(seen).containsExactlyInAnyOrder(WRITER, HOME, NEAREST);
            for (String id : seen) {
                ClientOverrideConfiguration o = async.clients.get(id).serviceClientConfiguration()
                        .overrideConfiguration();
                assertThat(o.apiCallTimeout()).contains(Duration.ofSeconds(4));
                assertThat(o.apiCallAttemptTimeout()).contains(Duration.ofSeconds(4));
            }
            // A STRONG view reads from the writer.
            assertThat(from(async.withConsistency(ConsistencyLevel.STRONG)
                    .getItem(g -> g.tableName("orders").key(KEY)).join())).isEqualTo(WRITER);
        }
    }

    // ------------------------------------------------------------------------------------------ views

    private static boolean consistentRead(LoggedRequest r) {
        return r.getBodyAsString().contains("\"ConsistentRead\":true");
    }

    @Test
    void consistencyViews_strengthenOrWeakenReads_neverResidency() {
        client = builder(null).hedging(HedgingConfig.disabled()).build();
        MultiRegionDynamoDbClient strong = client.withConsistency(ConsistencyLevel.STRONG);
        MultiRegionDynamoDbClient eventual = client.withConsistency(ConsistencyLevel.EVENTUAL);

        assertThat(from(strong.getItem(g -> g.tableName("orders").key(KEY)))).isEqualTo(WRITER);
        assertThat(consistentRead(stubs.get(WRITER).requests("GetItem").get(0))).isTrue();
        assertThat(from(client.getItem(g -> g.tableName("ledger").key(KEY)))).isEqualTo(WRITER);
        assertThat(from(eventual.getItem(g -> g.tableName("ledger").key(KEY)))).isEqualTo(NEAREST);
        // EU residency holds in an eventual view: the AU region that comes first is never asked.
        assertThat(from(eventual.getItem(g -> g.tableName("customers_eu").key(KEY)))).isEqualTo(HOME);
        // One request's own setting takes precedence over the view.
        assertThat(from(strong.getItem(g -> g.tableName("orders").key(KEY)
                .overrideConfiguration(LatitudeRequest.consistency(ConsistencyLevel.EVENTUAL))))).isEqualTo(NEAREST);
    }

    @Test
    void closingAView_leavesTheClientOpen() {
        client = builder(null).hedging(HedgingConfig.disabled()).build();
        MultiRegionDynamoDbClient view = client.withConsistency(ConsistencyLevel.EVENTUAL);
        assertThat(view.isView()).isTrue();
        assertThat(client.isView()).isFalse();
        view.close();
        assertThat(from(client.getItem(g -> g.tableName("orders").key(KEY)))).isEqualTo(NEAREST);
        assertThat(from(view.getItem(g -> g.tableName("orders").key(KEY)))).isEqualTo(NEAREST);
        assertThat(view.toString()).contains("view", "EVENTUAL");
    }

    @Test
    void sessionViews_recordWritesWithoutAnOpenTelemetryContext() {
        client = builder(null).hedging(HedgingConfig.disabled()).build();
        Session session = Session.create();
        client.withSession(session).putItem(p -> p.tableName("orders").item(KEY));
        assertThat(session.token().requirement("orders", ItemKeys.encode(KEY, "GetItem"))).isNotNull();

        Session other = Session.create();
        try (MultiRegionDynamoDbAsyncClient async = MultiRegionDynamoDbAsyncClient.builder().topology(TOPOLOGY)
                .keySchema("orders", "pk")
                .buildClients((region, b) -> b.endpointOverride(stubs.get(region).uri())
                        .credentialsProvider(StubRegion.credentials()))
                .build()) {
            async.withSession(other).putItem(p -> p.tableName("orders").item(KEY)).join();
        }
        assertThat(other.token().requirement("orders", ItemKeys.encode(KEY, "GetItem"))).isNotNull();
        assertThat(Stream.of(session, other).map(s -> s.token().requirement("orders",
                ItemKeys.encode(KEY, "GetItem")).region())).containsOnly(WRITER);
    }
}
