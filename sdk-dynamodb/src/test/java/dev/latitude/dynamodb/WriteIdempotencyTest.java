package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.dynamodb.model.AttributeAction;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.AttributeValueUpdate;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ConditionCheck;
import software.amazon.awssdk.services.dynamodb.model.DeleteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ExpectedAttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.Update;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

class WriteIdempotencyTest {
    private static final Map<String, AttributeValue> KEY = Map.of("pk", AttributeValue.fromS("k"));

    static UpdateItemRequest update(String expression, Map<String, String> names) {
        return UpdateItemRequest.builder().tableName("t").key(KEY).updateExpression(expression)
                .expressionAttributeNames(names).build();
    }

    static Stream<Arguments> updateExpressions() {
        return Stream.of(
                Arguments.of("SET a = :v", Map.of(), true),
                Arguments.of("set a = :v, b = :w", Map.of(), true),
                Arguments.of("SET a = :v REMOVE b, c", Map.of(), true),
                Arguments.of("REMOVE b SET a = :v", Map.of(), true),
                Arguments.of("DELETE tags :t", Map.of(), true),
                Arguments.of("SET a.b[2] = :v", Map.of(), false),
                Arguments.of("SET a.b.c = :v", Map.of(), true),
                Arguments.of("SET #a.#b = :v", Map.of("#a", "a", "#b", "b"), true),
                Arguments.of("SET a = :v, b = a", Map.of(), false),
                Arguments.of("set #x = #x + :one", Map.of("#x", "count"), false),
                Arguments.of("SET #x = #y + :one", Map.of("#x", "count", "#y", "count"), false),
                Arguments.of("SET #x = :one - #y", Map.of("#x", "n", "#y", "m"), false),
                Arguments.of("ADD #c :one", Map.of("#c", "count"), false),
                Arguments.of("SET a = :v add c :one", Map.of(), false),
                Arguments.of("SET #l = list_append(#l, :v)", Map.of("#l", "list"), false),
                Arguments.of("SET #l = list_append(:v, :w)", Map.of("#l", "list"), true),
                Arguments.of("SET a = if_not_exists(a, :z)", Map.of(), false),
                Arguments.of("SET x = if_not_exists(a.b[2], :z)", Map.of(), false),
                Arguments.of("REMOVE a.b[2]", Map.of(), false),
                Arguments.of("REMOVE a.b", Map.of(), true),
                Arguments.of("SET a = ", Map.of(), false),
                Arguments.of("UPSERT a = :v", Map.of(), false));
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @MethodSource("updateExpressions")
    void judgesUpdateExpressions(String expression, Map<String, String> names, boolean idempotent) {
        WriteIdempotency.Verdict v = WriteIdempotency.of(update(expression, names));
        assertThat(v.idempotent()).as(v.reason()).isEqualTo(idempotent);
        assertThat(v.reason()).isNotBlank();
    }

    @Test
    void reasonNamesResolvedAttribute() {
        WriteIdempotency.Verdict v = WriteIdempotency.of(update("SET #x = #y + :one", Map.of("#x", "count", "#y", "count")));
        assertThat(v.reason()).contains("count").contains("from attribute count");
        assertThat(WriteIdempotency.of(update("ADD #c :one", Map.of("#c", "hits"))).reason()).contains("ADDs to hits");
    }

    @Test
    void conditionalUpdateIsNotIdempotent() {
        UpdateItemRequest r = update("SET a = :v", Map.of()).toBuilder().conditionExpression("attribute_exists(pk)").build();
        assertThat(WriteIdempotency.of(r).idempotent()).isFalse();
        assertThat(WriteIdempotency.of(r).reason()).contains("ConditionExpression");
    }

    @Test
    void legacyAttributeUpdates() {
        UpdateItemRequest put = UpdateItemRequest.builder().tableName("t").key(KEY).attributeUpdates(Map.of("a",
                AttributeValueUpdate.builder().action(AttributeAction.PUT).value(AttributeValue.fromS("x")).build())).build();
        assertThat(WriteIdempotency.of(put).idempotent()).isTrue();
        UpdateItemRequest add = UpdateItemRequest.builder().tableName("t").key(KEY).attributeUpdates(Map.of("n",
                AttributeValueUpdate.builder().action(AttributeAction.ADD).value(AttributeValue.fromN("1")).build())).build();
        assertThat(WriteIdempotency.of(add).idempotent()).isFalse();
    }

    @Test
    void putAndDelete() {
        PutItemRequest put = PutItemRequest.builder().tableName("t").item(KEY).build();
        assertThat(WriteIdempotency.of(put).idempotent()).isTrue();
        assertThat(WriteIdempotency.of(put.toBuilder().returnValues(ReturnValue.ALL_OLD).build()).idempotent()).isTrue();
        assertThat(WriteIdempotency.of(put.toBuilder().conditionExpression("attribute_not_exists(pk)").build()).idempotent())
                .isFalse();
        assertThat(WriteIdempotency.of(put.toBuilder().expected(Map.of("pk",
                ExpectedAttributeValue.builder().exists(false).build())).build()).idempotent()).isFalse();
        DeleteItemRequest delete = DeleteItemRequest.builder().tableName("t").key(KEY).build();
        assertThat(WriteIdempotency.of(delete).idempotent()).isTrue();
        assertThat(WriteIdempotency.of(delete.toBuilder().conditionExpression("v = :v").build()).idempotent()).isFalse();
        assertThat(WriteIdempotency.of((software.amazon.awssdk.services.dynamodb.model.DynamoDbRequest) delete).idempotent())
                .isTrue();
    }

    @Test
    void transactions() {
        TransactWriteItem put = TransactWriteItem.builder().put(Put.builder().tableName("t").item(KEY).build()).build();
        TransactWriteItem inc = TransactWriteItem.builder().update(Update.builder().tableName("t").key(KEY)
                .updateExpression("SET n = n + :one").build()).build();
        TransactWriteItem check = TransactWriteItem.builder().conditionCheck(ConditionCheck.builder().tableName("t")
                .key(KEY).conditionExpression("attribute_exists(pk)").build()).build();
        assertThat(WriteIdempotency.of(TransactWriteItemsRequest.builder().transactItems(put).build()).idempotent()).isFalse();
        assertThat(WriteIdempotency.of(TransactWriteItemsRequest.builder().transactItems(put)
                .clientRequestToken("tok-1").build()).idempotent()).isTrue();
        WriteIdempotency.Verdict withInc = WriteIdempotency.of(TransactWriteItemsRequest.builder().transactItems(put, inc)
                .clientRequestToken("tok-1").build());
        assertThat(withInc.idempotent()).isFalse();
        assertThat(withInc.reason()).contains("action 1");
        assertThat(WriteIdempotency.of(TransactWriteItemsRequest.builder().transactItems(put, check)
                .clientRequestToken("tok-1").build()).idempotent()).isFalse();
    }

    @Test
    void batchWriteIsIdempotentAndReadsAreNotWrites() {
        assertThat(WriteIdempotency.of(BatchWriteItemRequest.builder().build()).idempotent()).isTrue();
        assertThat(WriteIdempotency.of(GetItemRequest.builder().tableName("t").key(KEY).build()).idempotent()).isFalse();
    }

    @Test
    void updateWithoutExpressionIsIdempotent() {
        assertThat(WriteIdempotency.of(UpdateItemRequest.builder().tableName("t").key(KEY).build()).idempotent()).isTrue();
    }
}
