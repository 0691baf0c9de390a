package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

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
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DeleteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.DeleteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.PutItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemResponse;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.BatchExecuteStatementRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchStatementRequest;
import software.amazon.awssdk.services.dynamodb.model.ExecuteStatementRequest;
import software.amazon.awssdk.services.dynamodb.model.ExecuteTransactionRequest;
import software.amazon.awssdk.services.dynamodb.model.ParameterizedStatement;
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
            }, Duration.ofSeconds(30)));

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
        String key = ItemKeys.encode(orderKey("o1"), "GetItem");
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
            assertThat(session.token().requirement(ORDERS, ItemKeys.encode(orderKey("a"), "GetItem")))
                    .isEqualTo(new Watermark(written, "us-east-1"));
            assertThat(session.token().isKeyLevel(ORDERS, ItemKeys.encode(orderKey("b"), "GetItem"))).isFalse();
            assertThat(session.token().requirement(ORDERS, ItemKeys.encode(orderKey("c"), "GetItem")).value())
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
            assertThat(session.token().requirement(ORDERS, ItemKeys.encode(orderKey("b"), "GetItem")))
                    .isEqualTo(new Watermark(Long.parseLong(stamp.n()), "us-east-1"));
            assertThat(session.token().isKeyLevel(ORDERS, ItemKeys.encode(orderKey("c"), "GetItem")))
                    .as("a condition check writes nothing").isFalse();
        }
    }

    @Test
    void keysOfTablesWithoutAGivenSchema_areLookedUpOnce_fromTheFirstWritesAttempt() {
        Routed<PutItemRequest, PutItemResponse> first = router.putItem(PutItemRequest.builder().tableName("users")
                .item(Map.of("id", s("1"))).build());
        assertThat(describes.get()).as("preparing the write sends nothing").isZero();
        assertThat(first.operation.key()).as("schema not known yet: tracked for the table").isNull();

        first.call(region("us-east-1"), q -> PutItemResponse.builder().build());
        first.call(region("us-west-2"), q -> PutItemResponse.builder().build());
        Routed<?, ?> second = router.putItem(PutItemRequest.builder().tableName("users")
                .item(Map.of("id", s("2"))).build());

        assertThat(describes.get()).as("one lookup, started by the first write's first attempt").isEqualTo(1);
        assertThat(second.operation.key()).isEqualTo(ItemKeys.encode(Map.of("id", s("2")), "GetItem"));
        assertThat(router.putItem(PutItemRequest.builder().tableName(ORDERS).item(Map.of("pk", s("p"), "sk", s("1")))
                .build()).operation.key()).as("a given schema needs no lookup").isNotNull();
        assertThat(describes.get()).isEqualTo(1);
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
    void partiQlWrites_areStampedFromAFirstParameter_readsDeletesAndUnstampedTablesAreSentAsTheyAre() {
        ExecuteStatementRequest update = ExecuteStatementRequest.builder()
                .statement("UPDATE \"orders\" SET v = ? WHERE pk = 'a'").parameters(s("x")).build();
        ExecuteStatementRequest sent = router.executeStatement(update).requestFor(region("us-east-1"));
        assertThat(sent.statement()).isEqualTo("UPDATE \"orders\" SET \"" + TS + "\" = ? SET v = ? WHERE pk = 'a'");
        assertThat(sent.parameters()).hasSize(2);
        assertThat(Long.parseLong(sent.parameters().get(0).n())).isPositive();
        assertThat(sent.parameters().get(1)).isEqualTo(s("x"));

        ExecuteStatementRequest insert = ExecuteStatementRequest.builder()
                .statement("INSERT INTO orders VALUE {'pk': 'a'}").build();
        sent = router.executeStatement(insert).requestFor(region("us-east-1"));
        assertThat(sent.statement()).isEqualTo("INSERT INTO orders VALUE {'" + TS + "': ?, 'pk': 'a'}");
        assertThat(sent.parameters()).hasSize(1);

        for (String same : List.of("SELECT * FROM \"orders\" WHERE pk = 'a'", "DELETE FROM orders WHERE pk = 'a'",
                "UPDATE \"legacy\" SET v = 1 WHERE pk = 'a'")) {
            ExecuteStatementRequest r = ExecuteStatementRequest.builder().statement(same).build();
            assertThat(router.executeStatement(r).requestFor(region("us-east-1"))).isSameAs(r);
        }
    }

    @Test
    void partiQlBatchesAndTransactions_shareOneStamp() {
        BatchExecuteStatementRequest batch = BatchExecuteStatementRequest.builder().statements(
                BatchStatementRequest.builder().statement("UPDATE orders SET v = 1 WHERE pk = 'a'").build(),
                BatchStatementRequest.builder().statement("INSERT INTO orders VALUE {'pk': ?}")
                        .parameters(s("b")).build(),
                BatchStatementRequest.builder().statement("DELETE FROM orders WHERE pk = 'c'").build()).build();
        List<BatchStatementRequest> sent = router.batchExecuteStatement(batch).requestFor(region("us-east-1"))
                .statements();
        assertThat(sent.get(0).statement()).contains("SET \"" + TS + "\" = ?");
        assertThat(sent.get(1).statement()).contains("{'" + TS + "': ?, 'pk': ?}");
        assertThat(sent.get(1).parameters()).containsExactly(sent.get(0).parameters().get(0), s("b"));
        assertThat(sent.get(2)).isSameAs(batch.statements().get(2));

        ExecuteTransactionRequest tx = ExecuteTransactionRequest.builder().transactStatements(
                ParameterizedStatement.builder().statement("EXISTS(SELECT * FROM orders WHERE pk = 'a' AND v = 1)")
                        .build(),
                ParameterizedStatement.builder().statement("UPDATE orders SET v = 2 WHERE pk = 'a'").build()).build();
        List<ParameterizedStatement> txSent = router.executeTransaction(tx).requestFor(region("us-east-1"))
                .transactStatements();
        assertThat(txSent.get(0)).isSameAs(tx.transactStatements().get(0));
        assertThat(txSent.get(1).statement()).startsWith("UPDATE orders SET \"" + TS + "\" = ? SET v = 2");
        assertThat(txSent.get(1).parameters()).hasSize(1);

        BatchExecuteStatementRequest reads = BatchExecuteStatementRequest.builder().statements(
                BatchStatementRequest.builder().statement("SELECT * FROM orders WHERE pk = 'a'").build()).build();
        assertThat(router.batchExecuteStatement(reads).requestFor(region("us-east-1"))).isSameAs(reads);
    }

    /** A PartiQL write of the stamp attribute would let a stale copy pass the session's check: refused. */
    @Test
    void partiQlWritesOfTheStampAttribute_areRefused_exceptOnUnstampedTables() {
        for (String statement : List.of("UPDATE orders SET \"" + TS + "\" = 1 WHERE pk = 'a'",
                "UPDATE orders REMOVE " + TS + " WHERE pk = 'a'",
                "INSERT INTO orders VALUE {'pk': 'a', '" + TS + "': 1}")) {
            assertThatThrownBy(() -> router.executeStatement(ExecuteStatementRequest.builder().statement(statement)
                    .build())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(TS)
                    .hasMessageContaining("ExecuteStatement").hasMessageContaining("stampAttribute");
        }
        assertThatThrownBy(() -> router.executeTransaction(ExecuteTransactionRequest.builder().transactStatements(
                ParameterizedStatement.builder().statement("UPDATE orders SET \"" + TS + "\" = ? WHERE pk = 'a'")
                        .build()).build())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> router.batchExecuteStatement(BatchExecuteStatementRequest.builder().statements(
                BatchStatementRequest.builder().statement("UPDATE orders SET \"" + TS + "\" = ? WHERE pk = 'a'")
                        .build()).build())).isInstanceOf(IllegalArgumentException.class);
        ExecuteStatementRequest legacy = ExecuteStatementRequest.builder()
                .statement("UPDATE legacy SET \"" + TS + "\" = 1 WHERE pk = 'a'").build();
        assertThat(router.executeStatement(legacy).requestFor(region("us-east-1"))).isSameAs(legacy);
    }

    /** A refusal names the reason and a position, never the statement or a literal from it (personal data). */
    @Test
    void anUnreadablePartiQlStatement_isRefusedWithoutQuotingIt() {
        assertThatThrownBy(() -> router.executeStatement(ExecuteStatementRequest.builder()
                .statement("SELECT * FROM \"orders\" WHERE email = 'alice@example.com").build()))
                .isInstanceOf(UnroutableRequestException.class)
                .hasMessageContaining("a string literal is not closed at character 38")
                .hasMessageNotContaining("alice").hasMessageNotContaining("email");
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

    // ---------------------------------------------------------------- the write guard

    private static ConditionalCheckFailedException conditionFailed(Map<String, AttributeValue> stored) {
        return ConditionalCheckFailedException.builder().message("The conditional request failed").statusCode(400)
                .item(stored).build();
    }

    private static Map<String, AttributeValue> storedWith(long stamp) {
        return Map.of("pk", s("p"), "sk", s("1"), "v", s("stored"), TS, AttributeValue.fromN(Long.toString(stamp)));
    }

    private static long stampOf(PutItemRequest sent) {
        return Long.parseLong(sent.item().get(TS).n());
    }

    @Test
    void guardedPut_storedStampEqualToItsOwn_isAlreadyApplied() {
        Routed<PutItemRequest, PutItemResponse> routed = router.putItem(PutItemRequest.builder().tableName(ORDERS)
                .item(orderKey("p")).returnValues(ReturnValue.ALL_OLD).build());
        PutItemRequest sent = routed.requestFor(region("us-east-1"));
        long stamp = stampOf(sent);
        assertThat(sent.conditionExpression()).contains("#lat_ts < :lat_ts");

        Routed.Answer<PutItemResponse> answer = routed.call(region("us-east-1"), q -> {
            throw conditionFailed(storedWith(stamp));
        });
        assertThat(answer.recovered()).isTrue();
        assertThat(answer.response().hasAttributes()).as("the item this write replaced is not known").isFalse();
        assertThat(routed.answerWatermark().of(answer)).isEqualTo(stamp);
        assertThat(router.supersededWrites()).isZero();
    }

    @Test
    void guardedPut_newerStoredStampWithoutCallerCondition_isSupersededAndCounted() {
        Routed<PutItemRequest, PutItemResponse> routed = router.putItem(PutItemRequest.builder().tableName(ORDERS)
                .item(orderKey("p")).build());
        long stamp = stampOf(routed.requestFor(region("us-east-1")));

        Routed.Answer<PutItemResponse> answer = routed.call(region("us-east-1"), q -> {
            throw conditionFailed(storedWith(stamp + 5));
        });
        assertThat(answer.recovered()).isTrue();
        assertThat(routed.answerWatermark().of(answer)).as("the session records the write's own stamp")
                .isEqualTo(stamp);
        assertThat(router.supersededWrites()).isEqualTo(1);
        assertThat(clock.now()).as("the clock moved past the stored stamp").isGreaterThan(stamp + 5);
    }

    @Test
    void guardedPut_withCallerCondition_failuresAreThrownWithoutTheItemTheGuardAskedFor() {
        Routed<PutItemRequest, PutItemResponse> routed = router.putItem(PutItemRequest.builder().tableName(ORDERS)
                .item(orderKey("p")).conditionExpression("attribute_not_exists(pk)").build());
        long stamp = stampOf(routed.requestFor(region("us-east-1")));
        for (long stored : new long[] {stamp + 5, stamp - 5}) {
            ConditionalCheckFailedException failure = conditionFailed(storedWith(stored));
            Throwable thrown = catchThrowable(() -> routed.call(region("us-east-1"), q -> {
                throw failure;
            }));
            assertThat(thrown).as("stored %s, own %s", stored, stamp)
                    .isExactlyInstanceOf(ConditionalCheckFailedException.class).hasMessage(failure.getMessage());
            assertThat(((ConditionalCheckFailedException) thrown).hasItem()).isFalse();
        }
        assertThat(router.supersededWrites()).isZero();

        Routed<PutItemRequest, PutItemResponse> asking = router.putItem(PutItemRequest.builder().tableName(ORDERS)
                .item(orderKey("p")).conditionExpression("attribute_not_exists(pk)")
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build());
        ConditionalCheckFailedException failure = conditionFailed(storedWith(1));
        assertThat(catchThrowable(() -> asking.call(region("us-east-1"), q -> {
            throw failure;
        }))).as("the caller asked for the item").isSameAs(failure);
    }

    @Test
    void guardedWrite_otherServiceErrors_areThrownAsTheyAre() {
        Routed<PutItemRequest, PutItemResponse> routed = router.putItem(PutItemRequest.builder().tableName(ORDERS)
                .item(orderKey("p")).build());
        ResourceNotFoundException missing = ResourceNotFoundException.builder().message("no table").build();
        assertThat(catchThrowable(() -> routed.call(region("us-east-1"), q -> {
            throw missing;
        }))).isSameAs(missing);
        CompletableFuture<Routed.Answer<PutItemResponse>> async = routed.callAsync(region("us-east-1"),
                q -> CompletableFuture.failedFuture(new CompletionException(missing)));
        assertThat(catchThrowable(async::join)).isInstanceOf(CompletionException.class).hasCause(missing);
    }

    @Test
    void guardedPut_async_recoversLikeTheBlockingCall() {
        Routed<PutItemRequest, PutItemResponse> routed = router.putItem(PutItemRequest.builder().tableName(ORDERS)
                .item(orderKey("p")).build());
        long stamp = stampOf(routed.requestFor(region("us-east-1")));
        Routed.Answer<PutItemResponse> answer = routed.callAsync(region("us-east-1"),
                q -> CompletableFuture.<PutItemResponse>failedFuture(new CompletionException(
                        conditionFailed(storedWith(stamp + 1))))).join();
        assertThat(answer.recovered()).isTrue();
        assertThat(router.supersededWrites()).isEqualTo(1);
    }

    @Test
    void guardedUpdate_alreadyApplied_answersAllNewWithTheStoredItem() {
        Routed<UpdateItemRequest, UpdateItemResponse> routed = router.updateItem(UpdateItemRequest.builder()
                .tableName(ORDERS).key(orderKey("p")).updateExpression("SET v = :v")
                .expressionAttributeValues(Map.of(":v", s("x"))).returnValues(ReturnValue.ALL_NEW).build());
        UpdateItemRequest sent = routed.requestFor(region("us-east-1"));
        long stamp = Long.parseLong(sent.expressionAttributeValues().get(":lat_ts").n());
        assertThat(sent.conditionExpression()).isEqualTo("attribute_not_exists(#lat_ts) OR #lat_ts < :lat_ts");
        Routed.Answer<UpdateItemResponse> answer = routed.call(region("us-east-1"), q -> {
            throw conditionFailed(storedWith(stamp));
        });
        assertThat(answer.response().attributes()).isEqualTo(storedWith(stamp));
    }

    @Test
    void guardedDelete_superseded_recordsItsOwnStampNotTheTimeItCompleted() {
        Routed<DeleteItemRequest, DeleteItemResponse> routed = router.deleteItem(DeleteItemRequest.builder()
                .tableName(ORDERS).key(orderKey("p")).build());
        DeleteItemRequest sent = routed.requestFor(region("us-east-1"));
        long stamp = Long.parseLong(sent.expressionAttributeValues().get(":lat_ts").n());
        assertThat(routed.operation.idempotent()).as("the guard is not the caller's condition").isTrue();

        Routed.Answer<DeleteItemResponse> answer = routed.call(region("us-east-1"), q -> {
            throw conditionFailed(storedWith(stamp + 100));
        });
        assertThat(routed.answerWatermark().of(answer)).isEqualTo(stamp);
        assertThat(router.supersededWrites()).isEqualTo(1);
        Routed.Answer<DeleteItemResponse> applied = routed.call(region("us-east-1"),
                q -> DeleteItemResponse.builder().build());
        assertThat(routed.answerWatermark().of(applied)).as("a delete that applied: the time it completed")
                .isGreaterThan(stamp + 100);
    }

    @Test
    void unstampedTables_areNotGuarded() {
        PutItemRequest put = PutItemRequest.builder().tableName(LEGACY).item(Map.of("id", s("1"))).build();
        Routed<PutItemRequest, PutItemResponse> routed = router.putItem(put);
        assertThat(routed.requestFor(region("us-east-1"))).isSameAs(put);
        assertThat(routed.recovers()).isFalse();
        DeleteItemRequest delete = DeleteItemRequest.builder().tableName(LEGACY).key(Map.of("id", s("1"))).build();
        assertThat(router.deleteItem(delete).requestFor(region("us-east-1"))).isSameAs(delete);
    }

    @Test
    void guardedTransaction_isASuccessOnlyIfItWasCommittedBefore() {
        Session session = Session.create();
        try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
            Routed<TransactWriteItemsRequest, TransactWriteItemsResponse> routed = router.transactWriteItems(
                    TransactWriteItemsRequest.builder().clientRequestToken("t-2").transactItems(
                            TransactWriteItem.builder().put(p -> p.tableName(ORDERS)
                                    .item(Map.of("pk", s("a"), "sk", s("1")))).build(),
                            TransactWriteItem.builder().delete(d -> d.tableName(ORDERS).key(orderKey("b"))
                                    .conditionExpression("attribute_exists(pk)")
                                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD))
                                    .build(),
                            TransactWriteItem.builder().update(u -> u.tableName(ORDERS).key(orderKey("c"))
                                    .updateExpression("SET v = :v").expressionAttributeValues(Map.of(":v", s("x"))))
                                    .build())
                    .build());
            TransactWriteItemsRequest sent = routed.requestFor(region("us-east-1"));
            long stamp = Long.parseLong(sent.transactItems().get(0).put().item().get(TS).n());
            assertThat(sent.transactItems().get(0).put().conditionExpression())
                    .isEqualTo("attribute_not_exists(#lat_ts) OR #lat_ts < :lat_ts");
            assertThat(sent.transactItems().get(1).delete().conditionExpression())
                    .isEqualTo("(attribute_exists(pk)) AND (attribute_not_exists(#lat_ts) OR #lat_ts < :lat_ts)");
            assertThat(sent.transactItems().get(2).update().conditionExpression())
                    .isEqualTo("attribute_not_exists(#lat_ts) OR #lat_ts < :lat_ts");
            assertThat(sent.transactItems()).allSatisfy(a -> assertThat(
                    a.put() != null ? a.put().returnValuesOnConditionCheckFailure()
                            : a.delete() != null ? a.delete().returnValuesOnConditionCheckFailure()
                            : a.update().returnValuesOnConditionCheckFailure())
                    .isEqualTo(ReturnValuesOnConditionCheckFailure.ALL_OLD));

            // Newer items: cancelled, and only the item the caller asked for is left in the reasons.
            TransactionCanceledException newer = TransactionCanceledException.builder().message("cancelled")
                    .cancellationReasons(
                            CancellationReason.builder().code("ConditionalCheckFailed").item(storedWith(stamp + 1))
                                    .build(),
                            CancellationReason.builder().code("ConditionalCheckFailed").item(storedWith(stamp + 2))
                                    .build(),
                            CancellationReason.builder().code("None").build())
                    .build();
            Throwable thrown = catchThrowable(() -> routed.call(region("us-east-1"), q -> {
                throw newer;
            }));
            assertThat(thrown).isExactlyInstanceOf(TransactionCanceledException.class);
            List<CancellationReason> reasons = ((TransactionCanceledException) thrown).cancellationReasons();
            assertThat(reasons.get(0).hasItem()).isFalse();
            assertThat(reasons.get(1).item()).isEqualTo(storedWith(stamp + 2));
            assertThat(session.token().isKeyLevel(ORDERS, ItemKeys.encode(orderKey("a"), "GetItem"))).isFalse();

            // One item carries the transaction's own stamp: it was committed before; the others have not replicated.
            TransactionCanceledException repeat = TransactionCanceledException.builder().message("cancelled")
                    .cancellationReasons(
                            CancellationReason.builder().code("None").build(),
                            CancellationReason.builder().code("None").build(),
                            CancellationReason.builder().code("ConditionalCheckFailed").item(storedWith(stamp))
                                    .build())
                    .build();
            Routed.Answer<TransactWriteItemsResponse> answer = routed.call(region("us-east-1"), q -> {
                throw repeat;
            });
            routed.finish(answer);
            assertThat(session.token().requirement(ORDERS, ItemKeys.encode(orderKey("a"), "GetItem")))
                    .isEqualTo(new Watermark(stamp, "us-east-1"));
            assertThat(router.supersededWrites()).isZero();
        }
    }
}
