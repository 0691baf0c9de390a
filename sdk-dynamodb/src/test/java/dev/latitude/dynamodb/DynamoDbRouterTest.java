package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HybridLogicalClock;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.Session;
import dev.latitude.Watermark;
import dev.latitude.dynamodb.internal.ItemKeys;
import dev.latitude.dynamodb.internal.KeySchemas;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ExecuteStatementRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsResponse;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

/**
 * The request router without servers: how each request is classified (read/write, idempotent, table, key), which
 * request each region gets, how batches and transactions are stamped, and what they record in the session.
 */
class DynamoDbRouterTest {
    private static final String ORDERS = "orders";
    private static final String LEDGER = "ledger";
    private static final String EU = "eu_customers";
    private static final String LEGACY = "legacy";
    private static final String TS = WriteStamper.DEFAULT_ATTRIBUTE;

    private final HybridLogicalClock clock = HybridLogicalClock.create(
            Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC), Duration.ofMillis(500));
    private final AtomicInteger describes = new AtomicInteger();
    private final DynamoDbRouter router = new DynamoDbRouter(DataPolicies.builder()
            .exact(LEDGER, DataPolicy.builder().consistency(ConsistencyLevel.STRONG).build())
            .exact(EU, DataPolicy.builder().residency("EU").build())
            .build(), clock, TS, Set.of(LEGACY),
            new KeySchemas(Map.of(ORDERS, List.of("pk", "sk")), table -> {
                describes.incrementAndGet();
                return CompletableFuture.completedFuture(List.of(
                        KeySchemaElement.builder().attributeName("id").keyType(KeyType.HASH).build()));
            }, Duration.ofSeconds(1), Duration.ofSeconds(30)));

    private static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    private static Map<String, AttributeValue> orderKey(String pk) {
        return Map.of("pk", s(pk), "sk", s("1"));
    }

    private static RegionSpec region(String id) {
        return RegionSpec.builder(id).build();
    }

    @Test
    void sessionGetItem_readsWithConsistentReadOnlyInTheRegionThatTookTheWrite() {
        Session session = Session.create();
        String key = ItemKeys.encode(orderKey("o1"));
        session.recordWrite(ORDERS, key, clock.now(), "us-east-1");
        try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
            Routed<GetItemRequest, GetItemResponse> routed = router.getItem(GetItemRequest.builder().tableName(ORDERS)
                    .key(orderKey("o1")).build());
            assertThat(routed.operation.isRead()).isTrue();
            assertThat(routed.operation.key()).isEqualTo(key);
            assertThat(routed.requestFor(region("us-east-1")).consistentRead()).isTrue();
            assertThat(routed.requestFor(region("eu-west-1")).consistentRead()).isNull();
            assertThat(routed.watermark()).isNotNull();
        }
    }

    @Test
    void strongTableAndConsistentReadFlag_readStronglyEverywhere() {
        Routed<GetItemRequest, GetItemResponse> ledger = router.getItem(GetItemRequest.builder().tableName(LEDGER)
                .key(Map.of("id", s("1"))).build());
        assertThat(ledger.requestFor(region("eu-west-1")).consistentRead()).isTrue();
        Routed<GetItemRequest, GetItemResponse> asked = router.getItem(GetItemRequest.builder().tableName(ORDERS)
                .key(orderKey("o1")).consistentRead(true).build());
        assertThat(asked.operation.consistency()).isEqualTo(ConsistencyLevel.STRONG);
    }

    @Test
    void projectionWithoutTheStamp_getsItAddedAndStrippedFromTheAnswer() {
        try (Scope s = Session.create().storeIn(Context.current()).makeCurrent()) {
            Routed<GetItemRequest, GetItemResponse> routed = router.getItem(GetItemRequest.builder().tableName(ORDERS)
                    .key(orderKey("o1")).projectionExpression("#v").expressionAttributeNames(Map.of("#v", "v"))
                    .build());
            GetItemRequest sent = routed.requestFor(region("eu-west-1"));
            assertThat(sent.projectionExpression()).isEqualTo("#v, #latStamp");
            assertThat(sent.expressionAttributeNames()).containsEntry("#latStamp", TS).containsEntry("#v", "v");
            GetItemResponse answer = GetItemResponse.builder().item(Map.of("v", s("x"), TS,
                    AttributeValue.fromN("42"))).build();
            assertThat(routed.watermark().of(answer)).isEqualTo(42);
            assertThat(routed.finish(answer, "eu-west-1").item()).containsOnlyKeys("v");
        }
    }

    @Test
    void projectionThatAlreadyAsksForTheStamp_isLeftAlone() {
        try (Scope s = Session.create().storeIn(Context.current()).makeCurrent()) {
            GetItemRequest request = GetItemRequest.builder().tableName(ORDERS).key(orderKey("o1"))
                    .projectionExpression("v, " + TS).build();
            Routed<GetItemRequest, GetItemResponse> routed = router.getItem(request);
            assertThat(routed.requestFor(region("eu-west-1"))).isSameAs(request);
        }
    }

    @Test
    void batchWrite_stampsEveryPut_andRecordsOnlyProcessedItems() {
        Session session = Session.create();
        WriteRequest put1 = WriteRequest.builder().putRequest(p -> p.item(Map.of("pk", s("a"), "sk", s("1")))).build();
        WriteRequest put2 = WriteRequest.builder().putRequest(p -> p.item(Map.of("pk", s("b"), "sk", s("1")))).build();
        WriteRequest delete = WriteRequest.builder().deleteRequest(d -> d.key(orderKey("c"))).build();
        WriteRequest legacyPut = WriteRequest.builder().putRequest(p -> p.item(Map.of("id", s("z")))).build();
        try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
            Routed<BatchWriteItemRequest, BatchWriteItemResponse> routed = router.batchWriteItem(
                    BatchWriteItemRequest.builder().requestItems(Map.of(ORDERS, List.of(put1, put2, delete),
                            LEGACY, List.of(legacyPut))).build());
            BatchWriteItemRequest sent = routed.requestFor(region("us-east-1"));
            List<WriteRequest> orders = sent.requestItems().get(ORDERS);
            AttributeValue stamp = orders.get(0).putRequest().item().get(TS);
            assertThat(stamp).isNotNull();
            assertThat(orders.get(1).putRequest().item().get(TS)).isEqualTo(stamp);
            assertThat(sent.requestItems().get(LEGACY).get(0).putRequest().item()).doesNotContainKey(TS);
            assertThat(routed.operation.idempotent()).isTrue();

            // b comes back unprocessed (as sent, stamped): it must not be recorded.
            routed.finish(BatchWriteItemResponse.builder().unprocessedItems(Map.of(ORDERS, List.of(orders.get(1))))
                    .build(), "us-east-1");
            long written = Long.parseLong(stamp.n());
            assertThat(session.token().requirement(ORDERS, ItemKeys.encode(orderKey("a"))))
                    .isEqualTo(new Watermark(written, "us-east-1"));
            assertThat(session.token().isKeyLevel(ORDERS, ItemKeys.encode(orderKey("b")))).isFalse();
            assertThat(session.token().requirement(ORDERS, ItemKeys.encode(orderKey("c"))).value())
                    .as("a delete is recorded when it completed").isGreaterThan(written);
            assertThat(session.token().classWatermark(LEGACY)).as("unstamped tables are tracked whole").isNotNull();
        }
    }

    @Test
    void transactWrite_stampsPutsAndUpdatesWithOneStamp_andRecordsEveryKey() {
        Session session = Session.create();
        try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
            Routed<TransactWriteItemsRequest, TransactWriteItemsResponse> routed = router.transactWriteItems(
                    TransactWriteItemsRequest.builder().clientRequestToken("t-1").transactItems(
                            TransactWriteItem.builder().put(p -> p.tableName(ORDERS)
                                    .item(Map.of("pk", s("a"), "sk", s("1")))).build(),
                            TransactWriteItem.builder().update(u -> u.tableName(ORDERS).key(orderKey("b"))
                                    .updateExpression("SET v = :v").expressionAttributeValues(Map.of(":v", s("x"))))
                                    .build(),
                            TransactWriteItem.builder().conditionCheck(c -> c.tableName(ORDERS).key(orderKey("c"))
                                    .conditionExpression("attribute_exists(pk)")).build())
                    .build());
            TransactWriteItemsRequest sent = routed.requestFor(region("us-east-1"));
            AttributeValue stamp = sent.transactItems().get(0).put().item().get(TS);
            assertThat(sent.transactItems().get(1).update().updateExpression()).startsWith("SET v = :v, ");
            assertThat(sent.transactItems().get(1).update().expressionAttributeValues()).containsValue(stamp);
            assertThat(routed.operation.idempotent()).as("a condition check makes it conditional").isFalse();
            routed.finish(TransactWriteItemsResponse.builder().build(), "us-east-1");
            assertThat(session.token().requirement(ORDERS, ItemKeys.encode(orderKey("b"))))
                    .isEqualTo(new Watermark(Long.parseLong(stamp.n()), "us-east-1"));
            assertThat(session.token().isKeyLevel(ORDERS, ItemKeys.encode(orderKey("c"))))
                    .as("a condition check writes nothing").isFalse();
        }
    }

    @Test
    void keysOfTablesWithoutAGivenSchema_areLookedUpOnce() {
        router.putItem(software.amazon.awssdk.services.dynamodb.model.PutItemRequest.builder().tableName("users")
                .item(Map.of("id", s("1"))).build());
        Routed<?, ?> second = router.putItem(software.amazon.awssdk.services.dynamodb.model.PutItemRequest.builder()
                .tableName("users").item(Map.of("id", s("2"))).build());
        assertThat(describes.get()).isEqualTo(1);
        assertThat(second.operation.key()).isEqualTo(ItemKeys.encode(Map.of("id", s("2"))));
    }

    @Test
    void malformedUpdateExpression_isSentAsItIs_trackedForTheTable() {
        UpdateItemRequest request = UpdateItemRequest.builder().tableName(ORDERS).key(orderKey("o1"))
                .updateExpression("SET = broken").build();
        Routed<UpdateItemRequest, ?> routed = router.updateItem(request);
        assertThat(routed.requestFor(region("us-east-1"))).isSameAs(request);
        assertThat(routed.operation.key()).isNull();
    }

    @Test
    void partiQl_selectIsARead_writesAreNotIdempotent() {
        Operation select = router.executeStatement(ExecuteStatementRequest.builder()
                .statement("SELECT * FROM \"orders\" WHERE pk = ?").build()).operation;
        Operation update = router.executeStatement(ExecuteStatementRequest.builder()
                .statement("UPDATE orders SET n = n + 1 WHERE pk = 'a'").build()).operation;
        assertThat(select.isRead()).isTrue();
        assertThat(select.dataClass()).isEqualTo(ORDERS);
        assertThat(update.isRead()).isFalse();
        assertThat(update.idempotent()).isFalse();
    }

    @Test
    void batchOverTablesWithDifferentPolicies_isRefusedBeforeSending() {
        WriteRequest put = WriteRequest.builder().putRequest(p -> p.item(Map.of("id", s("1")))).build();
        assertThatThrownBy(() -> router.batchWriteItem(BatchWriteItemRequest.builder()
                .requestItems(Map.of(EU, List.of(put), LEGACY, List.of(put))).build()))
                .isInstanceOf(UnroutableRequestException.class)
                .hasMessageContaining("BatchWriteItem").hasMessageContaining(EU).hasMessageContaining("split");
    }

    @Test
    void requestWithoutATable_isRefusedWithTheSetting() {
        assertThatThrownBy(() -> router.getItem(GetItemRequest.builder().key(orderKey("o1")).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("TableName");
    }
}
