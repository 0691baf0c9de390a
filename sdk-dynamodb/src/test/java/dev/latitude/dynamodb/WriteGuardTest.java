package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.HybridLogicalClock;
import dev.latitude.dynamodb.WriteGuard.Verdict;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.dynamodb.model.AttributeAction;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.AttributeValueUpdate;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ConditionalOperator;
import software.amazon.awssdk.services.dynamodb.model.DeleteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ExpectedAttributeValue;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

/** How the write guard is merged into requests, and what a failed guard means; no server. */
class WriteGuardTest {
    private static final String GUARD = "attribute_not_exists(#lat_ts) OR #lat_ts < :lat_ts";
    private static final Map<String, AttributeValue> KEY = Map.of("pk", AttributeValue.fromS("k"));
    private final HybridLogicalClock clock = HybridLogicalClock.create(
            Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC), Duration.ofMillis(500));
    private final WriteStamper stamper = WriteStamper.create(clock);

    private static AttributeValue n(long v) {
        return AttributeValue.fromN(Long.toString(v));
    }

    // ------------------------------------------------------------------------------------------ merging

    @Test
    void put_withoutCondition_getsTheGuardAloneAndAsksForTheStoredItem() {
        PutItemRequest original = PutItemRequest.builder().tableName("t").item(KEY).returnValues(ReturnValue.ALL_OLD)
                .build();
        WriteGuard.Guarded<PutItemRequest> g = stamper.stampGuarded(original);
        PutItemRequest sent = g.request();
        assertThat(g.guarded()).isTrue();
        assertThat(sent.conditionExpression()).isEqualTo(GUARD);
        assertThat(sent.expressionAttributeNames()).containsExactly(Map.entry("#lat_ts", "_lat_ts"));
        assertThat(sent.expressionAttributeValues()).containsExactly(Map.entry(":lat_ts", n(g.stamp())));
        assertThat(sent.item()).containsEntry("_lat_ts", n(g.stamp()));
        assertThat(sent.returnValuesOnConditionCheckFailure()).isEqualTo(ReturnValuesOnConditionCheckFailure.ALL_OLD);
        assertThat(sent.returnValues()).as("the caller's ReturnValues").isEqualTo(ReturnValue.ALL_OLD);
        assertThat(original.conditionExpression()).as("the caller's request is left alone").isNull();
    }

    @Test
    void put_callerConditionWithOr_isParenthesizedBeforeTheGuard() {
        PutItemRequest original = PutItemRequest.builder().tableName("t").item(KEY)
                .conditionExpression(" attribute_not_exists(pk) OR #v = :v ")
                .expressionAttributeNames(Map.of("#v", "v")).expressionAttributeValues(Map.of(":v", n(1))).build();
        PutItemRequest sent = stamper.stampGuarded(original).request();
        assertThat(sent.conditionExpression())
                .isEqualTo("(attribute_not_exists(pk) OR #v = :v) AND (" + GUARD + ")");
        assertThat(sent.expressionAttributeNames()).containsOnlyKeys("#v", "#lat_ts");
        assertThat(sent.expressionAttributeValues()).containsOnlyKeys(":v", ":lat_ts");
    }

    @Test
    void put_callerPlaceholders_areNotReused() {
        PutItemRequest original = PutItemRequest.builder().tableName("t").item(KEY)
                .conditionExpression("#lat_ts <> :lat_ts AND #lat_ts1 <> :lat_ts2")
                .expressionAttributeNames(Map.of("#lat_ts", "a", "#lat_ts1", "b"))
                .expressionAttributeValues(Map.of(":lat_ts", n(1), ":lat_ts2", n(2))).build();
        WriteGuard.Guarded<PutItemRequest> g = stamper.stampGuarded(original);
        PutItemRequest sent = g.request();
        assertThat(sent.conditionExpression()).isEqualTo("(#lat_ts <> :lat_ts AND #lat_ts1 <> :lat_ts2) AND"
                + " (attribute_not_exists(#lat_ts2) OR #lat_ts2 < :lat_ts1)");
        assertThat(sent.expressionAttributeNames()).containsEntry("#lat_ts", "a").containsEntry("#lat_ts1", "b")
                .containsEntry("#lat_ts2", "_lat_ts");
        assertThat(sent.expressionAttributeValues()).containsEntry(":lat_ts", n(1)).containsEntry(":lat_ts2", n(2))
                .containsEntry(":lat_ts1", n(g.stamp()));
    }

    @Test
    void placeholdersUsedOnlyInAnExpression_areAvoidedToo() {
        WriteGuard.Guard g = WriteGuard.of("_lat_ts", 7, "#lat_ts = :lat_ts", Map.of(), Map.of(), "SET #lat_ts1 = :x");
        assertThat(g.condition()).isEqualTo("(#lat_ts = :lat_ts) AND (attribute_not_exists(#lat_ts2) OR #lat_ts2 <"
                + " :lat_ts1)");
        assertThat(g.names()).containsExactly(Map.entry("#lat_ts2", "_lat_ts"));
        assertThat(g.values()).containsExactly(Map.entry(":lat_ts1", n(7)));
    }

    @Test
    void blankCallerCondition_countsAsNone() {
        assertThat(WriteGuard.condition("  ", "#a", ":b")).isEqualTo("attribute_not_exists(#a) OR #a < :b");
        assertThat(WriteGuard.condition(null, "#a", ":b")).isEqualTo("attribute_not_exists(#a) OR #a < :b");
    }

    @Test
    void put_callerAskingForTheItem_keepsItsChoice() {
        PutItemRequest sent = stamper.stampGuarded(PutItemRequest.builder().tableName("t").item(KEY)
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build()).request();
        assertThat(sent.returnValuesOnConditionCheckFailure()).isEqualTo(ReturnValuesOnConditionCheckFailure.ALL_OLD);
    }

    @Test
    void update_guardSharesThePlaceholdersOfTheSetClause() {
        UpdateItemRequest original = UpdateItemRequest.builder().tableName("t").key(KEY).updateExpression("SET a = :v")
                .conditionExpression("attribute_exists(pk) OR a < :v")
                .expressionAttributeValues(Map.of(":v", n(3))).returnValues(ReturnValue.ALL_NEW).build();
        WriteGuard.Guarded<UpdateItemRequest> g = stamper.stampGuarded(original);
        UpdateItemRequest sent = g.request();
        assertThat(g.guarded()).isTrue();
        assertThat(sent.updateExpression()).isEqualTo("SET a = :v, #lat_ts = :lat_ts");
        assertThat(sent.conditionExpression()).isEqualTo("(attribute_exists(pk) OR a < :v) AND (" + GUARD + ")");
        assertThat(sent.expressionAttributeNames()).containsExactly(Map.entry("#lat_ts", "_lat_ts"));
        assertThat(sent.expressionAttributeValues()).containsOnlyKeys(":v", ":lat_ts");
        assertThat(sent.returnValuesOnConditionCheckFailure()).isEqualTo(ReturnValuesOnConditionCheckFailure.ALL_OLD);
        assertThat(sent.returnValues()).isEqualTo(ReturnValue.ALL_NEW);
    }

    @Test
    void update_collidingPlaceholders_moveTheSetClauseAndTheGuardTogether() {
        UpdateItemRequest original = UpdateItemRequest.builder().tableName("t").key(KEY)
                .updateExpression("SET #lat_ts = :lat_ts").conditionExpression("#c = :lat_ts1")
                .expressionAttributeNames(Map.of("#lat_ts", "mine", "#c", "c"))
                .expressionAttributeValues(Map.of(":lat_ts", n(1), ":lat_ts1", n(2))).build();
        UpdateItemRequest sent = stamper.stampGuarded(original).request();
        assertThat(sent.updateExpression()).isEqualTo("SET #lat_ts = :lat_ts, #lat_ts1 = :lat_ts2");
        assertThat(sent.conditionExpression())
                .isEqualTo("(#c = :lat_ts1) AND (attribute_not_exists(#lat_ts1) OR #lat_ts1 < :lat_ts2)");
        assertThat(sent.expressionAttributeNames()).containsEntry("#lat_ts", "mine").containsEntry("#lat_ts1",
                "_lat_ts");
    }

    @Test
    void update_publicStamp_addsNoGuard() {
        UpdateItemRequest sent = stamper.stamp(UpdateItemRequest.builder().tableName("t").key(KEY)
                .updateExpression("SET a = :v").expressionAttributeValues(Map.of(":v", n(1))).build()).request();
        assertThat(sent.conditionExpression()).isNull();
        assertThat(sent.returnValuesOnConditionCheckFailure()).isNull();
    }

    @Test
    void legacyConditions_areStampedButNotGuarded() {
        Map<String, ExpectedAttributeValue> expected = Map.of("pk", ExpectedAttributeValue.builder().exists(false)
                .build());
        WriteGuard.Guarded<PutItemRequest> put = stamper.stampGuarded(PutItemRequest.builder().tableName("t")
                .item(KEY).expected(expected).build());
        assertThat(put.guarded()).isFalse();
        assertThat(put.request().conditionExpression()).isNull();
        assertThat(put.request().item()).containsKey("_lat_ts");

        WriteGuard.Guarded<UpdateItemRequest> update = stamper.stampGuarded(UpdateItemRequest.builder().tableName("t")
                .key(KEY).attributeUpdates(Map.of("a", AttributeValueUpdate.builder().action(AttributeAction.PUT)
                        .value(n(1)).build())).build());
        assertThat(update.guarded()).isFalse();
        assertThat(update.request().conditionExpression()).isNull();
        assertThat(update.request().attributeUpdates()).containsKey("_lat_ts");

        WriteGuard.Guarded<DeleteItemRequest> delete = stamper.guard(DeleteItemRequest.builder().tableName("t")
                .key(KEY).expected(expected).conditionalOperator(ConditionalOperator.AND).build());
        assertThat(delete.guarded()).isFalse();
        assertThat(delete.request().conditionExpression()).isNull();
    }

    @Test
    void delete_getsAFreshStampUsedOnlyInItsGuard() {
        long before = clock.now();
        WriteGuard.Guarded<DeleteItemRequest> g = stamper.guard(DeleteItemRequest.builder().tableName("t").key(KEY)
                .conditionExpression("attribute_exists(pk)").build());
        assertThat(g.stamp()).isGreaterThan(before);
        assertThat(g.request().conditionExpression()).isEqualTo("(attribute_exists(pk)) AND (" + GUARD + ")");
        assertThat(g.request().expressionAttributeValues()).containsExactly(Map.entry(":lat_ts", n(g.stamp())));
        assertThat(g.request().key()).isEqualTo(KEY);
    }

    // ------------------------------------------------------------------------------------------ verdicts

    @Test
    void verdicts() {
        assertThat(WriteGuard.verdict(10, 10, true, false)).isEqualTo(Verdict.ALREADY_APPLIED);
        assertThat(WriteGuard.verdict(10, 10, true, true)).as("applied before, whatever the caller's condition")
                .isEqualTo(Verdict.ALREADY_APPLIED);
        assertThat(WriteGuard.verdict(11, 10, true, false)).isEqualTo(Verdict.SUPERSEDED);
        assertThat(WriteGuard.verdict(11, 10, true, true)).isEqualTo(Verdict.REFUSED);
        assertThat(WriteGuard.verdict(9, 10, true, true)).as("the guard passed: the caller's condition failed")
                .isEqualTo(Verdict.REFUSED);
        assertThat(WriteGuard.verdict(-1, 10, true, true)).isEqualTo(Verdict.REFUSED);
        assertThat(WriteGuard.verdict(10, 10, false, false)).as("a delete's equal stamp is another write's")
                .isEqualTo(Verdict.SUPERSEDED);
        assertThat(WriteGuard.verdict(10, 10, false, true)).isEqualTo(Verdict.REFUSED);
    }

    // ------------------------------------------------------------------------------------------ stripping

    @Test
    void withoutItem_keepsEverythingButTheItem() {
        ConditionalCheckFailedException e = (ConditionalCheckFailedException) ConditionalCheckFailedException.builder()
                .message("The conditional request failed").statusCode(400).requestId("req-1").numAttempts(1)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("ConditionalCheckFailedException")
                        .errorMessage("The conditional request failed").build())
                .item(Map.of("pk", AttributeValue.fromS("k"), "_lat_ts", n(5))).build();
        ConditionalCheckFailedException stripped = WriteGuard.withoutItem(e);
        assertThat(stripped.hasItem()).isFalse();
        assertThat(stripped).isExactlyInstanceOf(ConditionalCheckFailedException.class)
                .hasMessage(e.getMessage());
        assertThat(stripped.statusCode()).isEqualTo(400);
        assertThat(stripped.requestId()).isEqualTo("req-1");
        assertThat(stripped.numAttempts()).isEqualTo(1);
        assertThat(stripped.awsErrorDetails().errorCode()).isEqualTo("ConditionalCheckFailedException");
        assertThat(stripped.getStackTrace()).isEqualTo(e.getStackTrace());

        ConditionalCheckFailedException bare = ConditionalCheckFailedException.builder().message("no").build();
        assertThat(WriteGuard.withoutItem(bare)).isSameAs(bare);
    }

    @Test
    void withoutItems_stripsOnlyTheActionsWhereTheGuardAsked() {
        Map<String, AttributeValue> item = Map.of("pk", AttributeValue.fromS("k"), "_lat_ts", n(5));
        TransactionCanceledException e = TransactionCanceledException.builder().message("cancelled").statusCode(400)
                .cancellationReasons(
                        CancellationReason.builder().code("ConditionalCheckFailed").item(item).build(),
                        CancellationReason.builder().code("ConditionalCheckFailed").item(item).build(),
                        CancellationReason.builder().code("None").build())
                .build();
        TransactionCanceledException stripped = WriteGuard.withoutItems(e, new boolean[] {true, false, true});
        List<CancellationReason> reasons = stripped.cancellationReasons();
        assertThat(reasons.get(0).hasItem()).isFalse();
        assertThat(reasons.get(0).code()).isEqualTo("ConditionalCheckFailed");
        assertThat(reasons.get(1).item()).isEqualTo(item);
        assertThat(reasons.get(2).code()).isEqualTo("None");
        assertThat(stripped.statusCode()).isEqualTo(400);
        assertThat(WriteGuard.withoutItems(e, new boolean[] {false, false, false})).isSameAs(e);
    }
}
