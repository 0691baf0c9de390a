package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HybridLogicalClock;
import dev.latitude.RegionSpec;
import dev.latitude.Session;
import dev.latitude.dynamodb.internal.ItemKeys;
import dev.latitude.dynamodb.internal.KeySchemas;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ExecuteStatementRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

/**
 * Per-request settings in the request router, without servers: what a view's options and a request's own
 * {@link LatitudeRequest} settings do to the operation the engine plans and the request each region gets, and which
 * combinations are refused.
 */
class RequestOptionsRoutingTest {
    private static final String ORDERS = "orders";
    private static final String LEDGER = "ledger";
    private static final Map<String, AttributeValue> KEY = Map.of("pk", AttributeValue.fromS("k1"));

    private final HybridLogicalClock clock = HybridLogicalClock.create(
            Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC), Duration.ofMillis(500));
    private final DynamoDbRouter router = new DynamoDbRouter(DataPolicies.builder()
            .exact(LEDGER, DataPolicy.builder().consistency(ConsistencyLevel.STRONG).build())
            .build(), clock, WriteStamper.DEFAULT_ATTRIBUTE, Set.of(),
            new KeySchemas(Map.of(ORDERS, List.of("pk"), LEDGER, List.of("pk")),
                    table -> CompletableFuture.failedFuture(new IllegalStateException("no lookups here")),
                    Duration.ofSeconds(30)));

    private static final RegionSpec REGION = RegionSpec.builder("eu-west-1").build();

    private static GetItemRequest.Builder get(String table) {
        return GetItemRequest.builder().tableName(table).key(KEY);
    }

    @Test
    void viewConsistency_replacesTheTablesLevelBothWays() {
        Routed<GetItemRequest, GetItemResponse> weaker = router.with(new RequestOptions(ConsistencyLevel.EVENTUAL,
                null)).getItem(get(LEDGER).build());
        assertThat(weaker.operation.consistency()).isEqualTo(ConsistencyLevel.EVENTUAL);
        assertThat(weaker.requestFor(REGION).consistentRead()).isNull();

        Routed<GetItemRequest, GetItemResponse> stronger = router.with(new RequestOptions(ConsistencyLevel.STRONG,
                null)).getItem(get(ORDERS).build());
        assertThat(stronger.operation.consistency()).isEqualTo(ConsistencyLevel.STRONG);
        assertThat(stronger.requestFor(REGION).consistentRead()).isTrue();

        Routed<QueryRequest, QueryResponse> query = router.with(new RequestOptions(ConsistencyLevel.STRONG, null))
                .query(QueryRequest.builder().tableName(ORDERS).build());
        assertThat(query.requestFor(REGION).consistentRead()).isTrue();
    }

    @Test
    void requestConsistency_takesPrecedenceOverTheView() {
        DynamoDbRouter strongView = router.with(new RequestOptions(ConsistencyLevel.STRONG, null));
        Routed<GetItemRequest, GetItemResponse> routed = strongView.getItem(get(ORDERS)
                .overrideConfiguration(LatitudeRequest.consistency(ConsistencyLevel.EVENTUAL)).build());
        assertThat(routed.operation.consistency()).isEqualTo(ConsistencyLevel.EVENTUAL);
        assertThat(routed.requestFor(REGION).consistentRead()).isNull();
    }

    @Test
    void consistentReadTrue_staysStrongInAnEventualView() {
        Routed<GetItemRequest, GetItemResponse> routed = router.with(new RequestOptions(ConsistencyLevel.EVENTUAL,
                null)).getItem(get(ORDERS).consistentRead(true).build());
        assertThat(routed.operation.consistency()).isEqualTo(ConsistencyLevel.STRONG);
    }

    @Test
    void requestConsistencyContradictingConsistentRead_isRefused() {
        assertThatThrownBy(() -> router.getItem(get(ORDERS).consistentRead(false)
                .overrideConfiguration(LatitudeRequest.consistency(ConsistencyLevel.STRONG)).build()))
                .isInstanceOf(UnroutableRequestException.class)
                .hasMessageContaining("GetItem").hasMessageContaining("ConsistentRead=false");
        assertThatThrownBy(() -> router.query(QueryRequest.builder().tableName(ORDERS).consistentRead(true)
                .overrideConfiguration(LatitudeRequest.consistency(ConsistencyLevel.EVENTUAL)).build()))
                .isInstanceOf(UnroutableRequestException.class)
                .hasMessageContaining("Query").hasMessageContaining("ConsistentRead=true");
        // Agreeing settings pass.
        assertThat(router.getItem(get(ORDERS).consistentRead(true)
                .overrideConfiguration(LatitudeRequest.consistency(ConsistencyLevel.STRONG)).build())
                .operation.consistency()).isEqualTo(ConsistencyLevel.STRONG);
    }

    @Test
    void consistencyOnAWrite_isRefused() {
        assertThatThrownBy(() -> router.putItem(PutItemRequest.builder().tableName(ORDERS).item(KEY)
                .overrideConfiguration(LatitudeRequest.consistency(ConsistencyLevel.EVENTUAL)).build()))
                .isInstanceOf(UnroutableRequestException.class)
                .hasMessageContaining("PutItem").hasMessageContaining("write");
        assertThatThrownBy(() -> router.executeStatement(ExecuteStatementRequest.builder()
                .statement("DELETE FROM \"orders\" WHERE pk = 'k1'")
                .overrideConfiguration(LatitudeRequest.consistency(ConsistencyLevel.EVENTUAL)).build()))
                .isInstanceOf(UnroutableRequestException.class);
    }

    @Test
    void viewConsistency_leavesWritesAlone() {
        Routed<PutItemRequest, ?> routed = router.with(new RequestOptions(ConsistencyLevel.EVENTUAL, null))
                .putItem(PutItemRequest.builder().tableName(ORDERS).item(KEY).build());
        assertThat(routed.operation.isRead()).isFalse();
        assertThat(routed.operation.consistency()).isNull();
    }

    @Test
    void session_goesWithReadsAndWritesOfTheViewAndTheRequest() {
        Session viewSession = Session.create();
        Session requestSession = Session.create();
        DynamoDbRouter view = router.with(new RequestOptions(null, viewSession));
        assertThat(view.putItem(PutItemRequest.builder().tableName(ORDERS).item(KEY).build()).operation.session())
                .isSameAs(viewSession);
        assertThat(view.getItem(get(ORDERS).consistentRead(true).build()).operation.session()).isSameAs(viewSession);
        assertThat(view.putItem(PutItemRequest.builder().tableName(ORDERS).item(KEY)
                .overrideConfiguration(LatitudeRequest.session(requestSession)).build()).operation.session())
                .isSameAs(requestSession);
        assertThat(router.putItem(PutItemRequest.builder().tableName(ORDERS).item(KEY).build()).operation.session())
                .isNull();
    }

    @Test
    void sessionView_readsWithConsistentReadWhereTheSessionsWriteWent() {
        Session session = Session.create();
        DynamoDbRouter view = router.with(new RequestOptions(null, session));
        session.recordWrite(ORDERS, ItemKeys.encode(KEY, "GetItem"), clock.now(),
                "us-east-1");
        // No OpenTelemetry context holds the session: only the view gives it.
        Routed<GetItemRequest, GetItemResponse> routed = view.getItem(get(ORDERS).build());
        assertThat(routed.requestFor(RegionSpec.builder("us-east-1").build()).consistentRead()).isTrue();
        assertThat(routed.requestFor(REGION).consistentRead()).isNull();
    }

    @Test
    void views_shareCountersAndDoNotLeakOptionsAcrossThreads() throws Exception {
        DynamoDbRouter strong = router.with(new RequestOptions(ConsistencyLevel.STRONG, null));
        DynamoDbRouter eventual = router.with(new RequestOptions(ConsistencyLevel.EVENTUAL, null));
        assertThat(strong.supersededWrites()).isEqualTo(router.supersededWrites());
        int threads = 8;
        int calls = 5_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                results.add(pool.submit(() -> {
                    start.await();
                    int wrong = 0;
                    for (int i = 0; i < calls; i++) {
                        boolean useStrong = (i + seed) % 2 == 0;
                        DynamoDbRouter r = useStrong ? strong : eventual;
                        ConsistencyLevel expected = useStrong ? ConsistencyLevel.STRONG : ConsistencyLevel.EVENTUAL;
                        if (!expected.equals(r.getItem(get(i % 3 == 0 ? LEDGER : ORDERS).build())
                                .operation.consistency())) {
                            wrong++;
                        }
                    }
                    return wrong;
                }));
            }
            start.countDown();
            for (Future<Integer> f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
