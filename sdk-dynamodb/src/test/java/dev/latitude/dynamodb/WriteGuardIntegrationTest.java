package dev.latitude.dynamodb;

import static dev.latitude.dynamodb.LabSupport.key;
import static dev.latitude.dynamodb.LabSupport.raw;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.dynamodb.internal.ItemKeys;
import dev.latitude.testkit.DynamoDbLocalRegion;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.ReplicationLag;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DeleteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.PutItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemResponse;

/**
 * The write guard against two DynamoDB Local regions (a single writer and a replica, 100 ms replication lag): a write
 * that arrives after a newer one of the same item (made by a client whose clock runs behind, or held back and
 * delivered late) does not overwrite it and is answered as superseded; the same stamped write sent twice, in one region
 * or in a second one it has replicated to, succeeds both times and changes nothing the second time; a caller's own
 * condition still decides, and the stored item comes back only if the caller asked for it; updates, deletes and
 * transactions are guarded; unstamped tables are not; the non-blocking client recovers the same way.
 */
class WriteGuardIntegrationTest {
    private static final String WRITER = "us-east-1";
    private static final String REPLICA = "eu-west-1";
    private static final String TABLE = "guard_items";
    private static final String PLAIN = "guard_plain";
    private static final String TS = WriteStamper.DEFAULT_ATTRIBUTE;
    /** How far the late clients' clocks run behind: their stamps are older than those of any write made now. */
    private static final Duration BEHIND = Duration.ofSeconds(30);

    static DynamoDbLocalRegions lab;
    static LabSupport.Spans spans;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeAll
    static void start() {
        lab = LabSupport.startLab(List.of(WRITER, REPLICA), ReplicationLag.fixed(Duration.ofMillis(100)));
        LabSupport.createTable(lab, TABLE, null);
        LabSupport.createTable(lab, PLAIN, null);
        LabSupport.warmUp(lab, false, TABLE, PLAIN);
        spans = new LabSupport.Spans();
    }

    @AfterAll
    static void stop() {
        LabSupport.close(lab, spans);
    }

    @AfterEach
    void closeClients() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        toClose.clear();
    }

    private static Topology topology() {
        return Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder(REPLICA).jurisdiction("EU").location(53.3, -6.3).build())
                .localRegion(REPLICA).build();
    }

    /** A blocking client whose clock runs {@code behind} the machine's. */
    private MultiRegionDynamoDbClient client(Duration behind) {
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology())
                .unstampedTables(PLAIN).keySchema(TABLE, "pk").keySchema(PLAIN, "pk")
                .router(r -> engine(r, behind));
        lab.regions().forEach(r -> b.regionClient(r.id(), r.client()));
        MultiRegionDynamoDbClient c = b.build();
        toClose.add(c);
        return c;
    }

    /** A non-blocking client whose clock runs {@code behind} the machine's. */
    private MultiRegionDynamoDbAsyncClient asyncClient(Duration behind) {
        MultiRegionDynamoDbAsyncClient.Builder b = MultiRegionDynamoDbAsyncClient.builder().topology(topology())
                .keySchema(TABLE, "pk").router(r -> engine(r, behind));
        for (DynamoDbLocalRegion r : lab.regions()) {
            DynamoDbAsyncClient c = DynamoDbAsyncClient.builder().endpointOverride(r.endpoint())
                    .region(Region.US_EAST_1).credentialsProvider(DynamoDbLocalRegion.credentials())
                    .overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy()))
                    .build();
            toClose.add(c);
            b.regionClient(r.id(), c);
        }
        MultiRegionDynamoDbAsyncClient c = b.build();
        toClose.add(0, c);
        return c;
    }

    private static void engine(dev.latitude.Latitude.Builder r, Duration behind) {
        r.openTelemetry(spans.sdk).attemptTimeout(Duration.ofSeconds(2)).deadline(Duration.ofSeconds(10))
                .routingPolicy(RoutingPolicy.failover().priority(REPLICA, WRITER).build())
                .hedging(HedgingConfig.disabled());
        if (!behind.isZero()) {
            // The late clients meet stamps from the machine's clock, 30 s ahead of theirs: follow them.
            r.clock(Clock.offset(Clock.systemUTC(), behind.negated())).maxClockSkew(Duration.ofMinutes(2));
        }
    }

    private static Map<String, AttributeValue> item(String pk, String v) {
        return Map.of("pk", AttributeValue.fromS(pk), "v", AttributeValue.fromS(v));
    }

    private static String v(Map<String, AttributeValue> item) {
        return item == null ? null : item.get("v").s();
    }

    private static Map<String, AttributeValue> inWriter(String table, String pk) {
        return raw(lab.region(WRITER).client(), table, pk);
    }

    private static Map<String, AttributeValue> inReplica(String table, String pk) {
        return raw(lab.region(REPLICA).client(), table, pk);
    }

    private static RegionSpec region(String id) {
        return RegionSpec.builder(id).build();
    }

    private static <T> T inSession(Session session, Supplier<T> body) {
        try (Scope ignored = session.storeIn(Context.current()).makeCurrent()) {
            return body.get();
        }
    }

    private static long stampOf(Map<String, AttributeValue> item) {
        return Long.parseLong(item.get(TS).n());
    }

    // ------------------------------------------------------------------------------------------ late writes

    @Test
    void aLatePut_doesNotOverwriteANewerAcknowledgedPut_andIsAnsweredAsSuperseded() {
        MultiRegionDynamoDbClient now = client(Duration.ZERO);
        MultiRegionDynamoDbClient late = client(BEHIND);
        now.putItem(p -> p.tableName(TABLE).item(item("late-put", "B")));
        long newer = stampOf(inWriter(TABLE, "late-put"));

        Session session = Session.create();
        LabSupport.Traced<PutItemResponse> a = inSession(session, () -> spans.traced(() -> late.putItem(p -> p
                .tableName(TABLE).item(item("late-put", "A")))));

        assertThat(a.region()).isEqualTo(WRITER);
        assertThat(a.hasEvent(DynamoDbRouter.SUPERSEDED_EVENT)).as("span events: %s", a.span().getEvents()).isTrue();
        assertThat(late.supersededWrites()).isEqualTo(1);
        assertThat(now.supersededWrites()).isZero();
        assertThat(v(inWriter(TABLE, "late-put"))).isEqualTo("B");
        assertThat(session.token().requirement(TABLE, ItemKeys.encode(key("late-put"), "GetItem")).value())
                .as("the session records the late write's own, older stamp").isLessThan(newer);
        lab.replication().awaitQuiescent(Duration.ofSeconds(10));
        assertThat(v(inReplica(TABLE, "late-put"))).isEqualTo("B");

        // The session's read takes the newer item; the late client's clock has moved past its stamp, so its next
        // write orders after it and applies.
        GetItemResponse read = inSession(session, () -> late.getItem(g -> g.tableName(TABLE).key(key("late-put"))));
        assertThat(read.item()).containsEntry("v", AttributeValue.fromS("B"));
        late.putItem(p -> p.tableName(TABLE).item(item("late-put", "C")));
        assertThat(v(inWriter(TABLE, "late-put"))).isEqualTo("C");
        assertThat(late.supersededWrites()).isEqualTo(1);
    }

    @Test
    void aPutHeldBackAndDeliveredAfterANewerOne_isSuperseded() {
        MultiRegionDynamoDbClient c = client(Duration.ZERO);
        // Stamped now, delivered after the next put of the same item was acknowledged: as a timed-out attempt that
        // the region applies late.
        Routed<PutItemRequest, PutItemResponse> heldBack = c.router.putItem(PutItemRequest.builder().tableName(TABLE)
                .item(item("held", "A")).build());
        c.putItem(p -> p.tableName(TABLE).item(item("held", "B")));

        DynamoDbClient writer = lab.region(WRITER).client();
        Routed.Answer<PutItemResponse> delivered = heldBack.call(region(WRITER), writer::putItem);

        assertThat(delivered.recovered()).isTrue();
        assertThat(c.supersededWrites()).isEqualTo(1);
        assertThat(v(inWriter(TABLE, "held"))).isEqualTo("B");
    }

    @Test
    void lateUpdatesAndDeletes_doNotUndoANewerWrite() {
        MultiRegionDynamoDbClient now = client(Duration.ZERO);
        now.putItem(p -> p.tableName(TABLE).item(item("late-update", "B")));
        now.putItem(p -> p.tableName(TABLE).item(item("late-delete", "B")));

        MultiRegionDynamoDbClient lateUpdater = client(BEHIND);
        lateUpdater.updateItem(u -> u.tableName(TABLE).key(key("late-update")).updateExpression("SET v = :v")
                .expressionAttributeValues(Map.of(":v", AttributeValue.fromS("A"))));
        assertThat(lateUpdater.supersededWrites()).isEqualTo(1);
        assertThat(v(inWriter(TABLE, "late-update"))).isEqualTo("B");

        MultiRegionDynamoDbClient lateDeleter = client(BEHIND);
        LabSupport.Traced<DeleteItemResponse> d = spans.traced(() -> lateDeleter.deleteItem(x -> x.tableName(TABLE)
                .key(key("late-delete"))));
        assertThat(d.hasEvent(DynamoDbRouter.SUPERSEDED_EVENT)).isTrue();
        assertThat(lateDeleter.supersededWrites()).isEqualTo(1);
        assertThat(v(inWriter(TABLE, "late-delete"))).as("a late delete leaves the newer item").isEqualTo("B");
        lab.replication().awaitQuiescent(Duration.ofSeconds(10));
        assertThat(v(inReplica(TABLE, "late-delete"))).isEqualTo("B");

        // A delete stamped after the item's write removes it.
        now.deleteItem(x -> x.tableName(TABLE).key(key("late-delete")));
        assertThat(inWriter(TABLE, "late-delete")).isNull();
        assertThat(now.supersededWrites()).isZero();
    }

    @Test
    void unstampedTables_areNotGuarded() {
        MultiRegionDynamoDbClient now = client(Duration.ZERO);
        MultiRegionDynamoDbClient late = client(BEHIND);
        now.putItem(p -> p.tableName(PLAIN).item(item("plain", "B")));
        late.putItem(p -> p.tableName(PLAIN).item(item("plain", "A")));
        assertThat(v(inWriter(PLAIN, "plain"))).as("the last to arrive wins").isEqualTo("A");
        assertThat(late.supersededWrites()).isZero();
    }

    // ------------------------------------------------------------------------------------------ repeated writes

    @Test
    void theSameStampedWriteAppliedTwice_succeedsBothTimes_inOneRegionAndInAnotherAfterReplication() {
        MultiRegionDynamoDbClient c = client(Duration.ZERO);
        DynamoDbClient writer = lab.region(WRITER).client();
        DynamoDbClient replica = lab.region(REPLICA).client();
        Routed<PutItemRequest, PutItemResponse> put = c.router.putItem(PutItemRequest.builder().tableName(TABLE)
                .item(item("twice", "x")).build());

        assertThat(put.call(region(WRITER), writer::putItem).recovered()).isFalse();
        Map<String, AttributeValue> first = inWriter(TABLE, "twice");
        LabSupport.Traced<Routed.Answer<PutItemResponse>> again = spans.traced(
                () -> put.call(region(WRITER), writer::putItem));
        assertThat(again.value().recovered()).as("sent again to the same region: already applied").isTrue();
        assertThat(inWriter(TABLE, "twice")).isEqualTo(first);

        LabSupport.awaitUntil(Duration.ofSeconds(10), "the put replicated to " + REPLICA,
                () -> inReplica(TABLE, "twice") != null);
        Map<String, AttributeValue> replicated = inReplica(TABLE, "twice");
        assertThat(put.call(region(REPLICA), replica::putItem).recovered())
                .as("sent to a region it has replicated to: already applied").isTrue();
        assertThat(inReplica(TABLE, "twice")).isEqualTo(replicated);
        assertThat(c.supersededWrites()).isZero();

        // An increment is not idempotent, yet repeating the same stamped one adds nothing; its ALL_NEW answer is the
        // item as it left it.
        Routed<UpdateItemRequest, UpdateItemResponse> add = c.router.updateItem(UpdateItemRequest.builder()
                .tableName(TABLE).key(key("twice")).updateExpression("ADD n :one")
                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1")))
                .returnValues(ReturnValue.ALL_NEW).build());
        UpdateItemResponse added = add.call(region(WRITER), writer::updateItem).response();
        Routed.Answer<UpdateItemResponse> addedAgain = add.call(region(WRITER), writer::updateItem);
        assertThat(addedAgain.recovered()).isTrue();
        assertThat(addedAgain.response().attributes()).isEqualTo(added.attributes());
        assertThat(inWriter(TABLE, "twice")).containsEntry("n", AttributeValue.fromN("1"));
    }

    @Test
    void theSameTransactionSentTwice_succeedsBothTimes_inOneRegionAndInAnotherAfterReplication() {
        MultiRegionDynamoDbClient c = client(Duration.ZERO);
        DynamoDbClient writer = lab.region(WRITER).client();
        DynamoDbClient replica = lab.region(REPLICA).client();
        Routed<TransactWriteItemsRequest, TransactWriteItemsResponse> tx = c.router.transactWriteItems(
                TransactWriteItemsRequest.builder().transactItems(
                        TransactWriteItem.builder().put(p -> p.tableName(TABLE).item(item("tx-a", "t"))).build(),
                        TransactWriteItem.builder().update(u -> u.tableName(TABLE).key(key("tx-b"))
                                .updateExpression("ADD n :one")
                                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1")))).build())
                        .build());

        assertThat(tx.call(region(WRITER), writer::transactWriteItems).recovered()).isFalse();
        long stamp = stampOf(inWriter(TABLE, "tx-a"));
        assertThat(tx.call(region(WRITER), writer::transactWriteItems).recovered()).isTrue();
        assertThat(inWriter(TABLE, "tx-b")).containsEntry("n", AttributeValue.fromN("1"));

        LabSupport.awaitUntil(Duration.ofSeconds(10), "the transaction replicated to " + REPLICA,
                () -> inReplica(TABLE, "tx-a") != null && inReplica(TABLE, "tx-b") != null);
        assertThat(tx.call(region(REPLICA), replica::transactWriteItems).recovered()).isTrue();
        assertThat(inReplica(TABLE, "tx-b")).containsEntry("n", AttributeValue.fromN("1"))
                .containsEntry(TS, AttributeValue.fromN(Long.toString(stamp)));
    }

    @Test
    void aLateTransaction_isCancelled_withoutTheStoredItemsTheCallerDidNotAskFor() {
        MultiRegionDynamoDbClient now = client(Duration.ZERO);
        MultiRegionDynamoDbClient late = client(BEHIND);
        now.putItem(p -> p.tableName(TABLE).item(item("tx-newer", "B")));

        Throwable thrown = catchThrowable(() -> late.transactWriteItems(t -> t.transactItems(
                TransactWriteItem.builder().put(p -> p.tableName(TABLE).item(item("tx-newer", "A"))).build(),
                TransactWriteItem.builder().put(p -> p.tableName(TABLE).item(item("tx-other", "A"))).build())));

        assertThat(thrown).isExactlyInstanceOf(TransactionCanceledException.class);
        TransactionCanceledException e = (TransactionCanceledException) thrown;
        assertThat(e.cancellationReasons().get(0).code()).isEqualTo("ConditionalCheckFailed");
        assertThat(e.cancellationReasons().get(0).hasItem()).isFalse();
        assertThat(v(inWriter(TABLE, "tx-newer"))).isEqualTo("B");
        assertThat(inWriter(TABLE, "tx-other")).as("all or nothing").isNull();
        assertThat(late.supersededWrites()).isZero();
    }

    // ------------------------------------------------------------------------------------------ caller conditions

    @Test
    void aCallersFailedCondition_isThrownAsBefore_withTheItemOnlyIfAsked() {
        MultiRegionDynamoDbClient c = client(Duration.ZERO);
        c.putItem(p -> p.tableName(TABLE).item(item("cond", "B")));

        Throwable plain = catchThrowable(() -> c.putItem(p -> p.tableName(TABLE).item(item("cond", "A"))
                .conditionExpression("attribute_not_exists(pk)")));
        assertThat(plain).isExactlyInstanceOf(ConditionalCheckFailedException.class);
        assertThat(((ConditionalCheckFailedException) plain).hasItem()).isFalse();

        Throwable asked = catchThrowable(() -> c.updateItem(u -> u.tableName(TABLE).key(key("cond"))
                .updateExpression("SET v = :v").conditionExpression("v = :other OR attribute_not_exists(pk)")
                .expressionAttributeValues(Map.of(":v", AttributeValue.fromS("A"), ":other",
                        AttributeValue.fromS("Z")))
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)));
        assertThat(asked).isExactlyInstanceOf(ConditionalCheckFailedException.class);
        assertThat(((ConditionalCheckFailedException) asked).item()).containsEntry("v", AttributeValue.fromS("B"));
        assertThat(v(inWriter(TABLE, "cond"))).isEqualTo("B");

        // Conditions that hold, and the caller's ReturnValues, work as without the guard.
        PutItemResponse put = c.putItem(p -> p.tableName(TABLE).item(item("cond", "C"))
                .conditionExpression("attribute_exists(pk)").returnValues(ReturnValue.ALL_OLD));
        assertThat(put.attributes()).containsEntry("v", AttributeValue.fromS("B"));
        UpdateItemResponse update = c.updateItem(u -> u.tableName(TABLE).key(key("cond"))
                .updateExpression("SET #v = :v").conditionExpression("#v = :c")
                .expressionAttributeNames(Map.of("#v", "v"))
                .expressionAttributeValues(Map.of(":v", AttributeValue.fromS("D"), ":c", AttributeValue.fromS("C")))
                .returnValues(ReturnValue.ALL_NEW));
        assertThat(update.attributes()).containsEntry("v", AttributeValue.fromS("D")).containsKey(TS);
        DeleteItemResponse delete = c.deleteItem(x -> x.tableName(TABLE).key(key("cond"))
                .conditionExpression("v = :d").expressionAttributeValues(Map.of(":d", AttributeValue.fromS("D")))
                .returnValues(ReturnValue.ALL_OLD));
        assertThat(delete.attributes()).containsEntry("v", AttributeValue.fromS("D"));
        assertThat(c.supersededWrites()).isZero();
    }

    @Test
    void aCallersConditionThatHoldsOnANewerItem_isRefusedByTheGuard() {
        MultiRegionDynamoDbClient now = client(Duration.ZERO);
        now.putItem(p -> p.tableName(TABLE).item(item("cond-newer", "B")));
        Map<String, AttributeValue> exists = Map.of(":b", AttributeValue.fromS("B"));

        List<Throwable> thrown = new ArrayList<>();
        MultiRegionDynamoDbClient late1 = client(BEHIND);
        thrown.add(catchThrowable(() -> late1.putItem(p -> p.tableName(TABLE).item(item("cond-newer", "A"))
                .conditionExpression("v = :b").expressionAttributeValues(exists))));
        MultiRegionDynamoDbClient late2 = client(BEHIND);
        thrown.add(catchThrowable(() -> late2.updateItem(u -> u.tableName(TABLE).key(key("cond-newer"))
                .updateExpression("SET v = :a").conditionExpression("v = :b")
                .expressionAttributeValues(Map.of(":a", AttributeValue.fromS("A"), ":b", AttributeValue.fromS("B"))))));
        MultiRegionDynamoDbClient late3 = client(BEHIND);
        thrown.add(catchThrowable(() -> late3.deleteItem(x -> x.tableName(TABLE).key(key("cond-newer"))
                .conditionExpression("v = :b").expressionAttributeValues(exists))));

        assertThat(thrown).allSatisfy(t -> {
            assertThat(t).isExactlyInstanceOf(ConditionalCheckFailedException.class);
            assertThat(((ConditionalCheckFailedException) t).hasItem()).as("the guard's item is not handed out")
                    .isFalse();
        });
        assertThat(v(inWriter(TABLE, "cond-newer"))).isEqualTo("B");
        assertThat(late1.supersededWrites() + late2.supersededWrites() + late3.supersededWrites()).isZero();
    }

    // ------------------------------------------------------------------------------------------ non-blocking client

    @Test
    void theNonBlockingClient_recoversTheSameWay() throws Exception {
        MultiRegionDynamoDbAsyncClient now = asyncClient(Duration.ZERO);
        MultiRegionDynamoDbAsyncClient late = asyncClient(BEHIND);
        now.putItem(p -> p.tableName(TABLE).item(item("async", "B"))).get(10, TimeUnit.SECONDS);

        LabSupport.Traced<PutItemResponse> a = spans.traced(() -> late.putItem(p -> p.tableName(TABLE)
                .item(item("async", "A"))).join());
        assertThat(late.supersededWrites()).isEqualTo(1);
        assertThat(a.hasEvent(DynamoDbRouter.SUPERSEDED_EVENT)).isTrue();
        assertThat(v(inWriter(TABLE, "async"))).isEqualTo("B");

        Throwable refused = catchThrowable(() -> now.putItem(p -> p.tableName(TABLE).item(item("async", "C"))
                .conditionExpression("attribute_not_exists(pk)")).join());
        assertThat(refused).isInstanceOf(CompletionException.class)
                .hasCauseExactlyInstanceOf(ConditionalCheckFailedException.class);
        assertThat(((ConditionalCheckFailedException) refused.getCause()).hasItem()).isFalse();

        Routed<PutItemRequest, PutItemResponse> put = now.router.putItem(PutItemRequest.builder().tableName(TABLE)
                .item(item("async", "D")).build());
        try (DynamoDbAsyncClient writer = DynamoDbAsyncClient.builder().endpointOverride(lab.region(WRITER).endpoint())
                .region(Region.US_EAST_1).credentialsProvider(DynamoDbLocalRegion.credentials()).build()) {
            assertThat(put.callAsync(region(WRITER), writer::putItem).get(10, TimeUnit.SECONDS).recovered()).isFalse();
            assertThat(put.callAsync(region(WRITER), writer::putItem).get(10, TimeUnit.SECONDS).recovered()).isTrue();
        }
        assertThat(v(inWriter(TABLE, "async"))).isEqualTo("D");
    }
}
