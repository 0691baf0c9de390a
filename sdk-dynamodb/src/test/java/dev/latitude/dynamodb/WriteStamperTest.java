package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.HybridLogicalClock;
import dev.latitude.LatitudeConfigException;
import dev.latitude.dynamodb.internal.UpdateExpression;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.dynamodb.model.AttributeAction;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.AttributeValueUpdate;
import software.amazon.awssdk.services.dynamodb.model.ExpectedAttributeValue;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

class WriteStamperTest {
    private static final Map<String, AttributeValue> KEY = Map.of("pk", AttributeValue.fromS("k"));
    private final HybridLogicalClock clock = HybridLogicalClock.create(
            Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC), Duration.ofMillis(500));
    private final WriteStamper stamper = WriteStamper.create(clock);

    private static UpdateItemRequest update(String expression, Map<String, String> names, Map<String, AttributeValue> values) {
        UpdateItemRequest.Builder b = UpdateItemRequest.builder().tableName("t").key(KEY).updateExpression(expression);
        if (names != null) {
            b.expressionAttributeNames(names);
        }
        if (values != null) {
            b.expressionAttributeValues(values);
        }
        return b.build();
    }

    @Test
    void putAddsTheStampAndLeavesTheOriginalAlone() {
        PutItemRequest original = PutItemRequest.builder().tableName("t").item(Map.of("pk", AttributeValue.fromS("k"),
                "v", AttributeValue.fromN("1"))).build();
        WriteStamper.Stamped<PutItemRequest> s = stamper.stamp(original);
        assertThat(s.request().item()).containsEntry("v", AttributeValue.fromN("1"))
                .containsEntry("_lat_ts", AttributeValue.fromN(Long.toString(s.stamp())));
        assertThat(original.item()).doesNotContainKey("_lat_ts");
        assertThat(stamper.stampOf(s.request().item())).isEqualTo(s.stamp());
        assertThat(s.request().tableName()).isEqualTo("t");
    }

    @Test
    void putReplacesAStaleStampAndWorksWithoutItem() {
        PutItemRequest reput = PutItemRequest.builder().tableName("t").item(Map.of("pk", AttributeValue.fromS("k"),
                "_lat_ts", AttributeValue.fromN("5"))).build();
        WriteStamper.Stamped<PutItemRequest> s = stamper.stamp(reput);
        assertThat(stamper.stampOf(s.request().item())).isEqualTo(s.stamp()).isGreaterThan(5);
        assertThat(stamper.stamp(PutItemRequest.builder().tableName("t").build()).request().item()).containsKey("_lat_ts");
    }

    @Test
    void stampsIncreaseAcrossCalls() {
        long a = stamper.stamp(PutItemRequest.builder().tableName("t").item(KEY).build()).stamp();
        long b = stamper.stamp(update("SET a = :v", null, Map.of(":v", AttributeValue.fromS("x")))).stamp();
        long c = stamper.stamp(PutItemRequest.builder().tableName("t").item(KEY).build()).stamp();
        assertThat(a).isPositive().isLessThan(b);
        assertThat(b).isLessThan(c);
    }

    @Test
    void updateWithoutExpressionGetsASetClause() {
        WriteStamper.Stamped<UpdateItemRequest> s = stamper.stamp(UpdateItemRequest.builder().tableName("t").key(KEY).build());
        assertThat(s.request().updateExpression()).isEqualTo("SET #lat_ts = :lat_ts");
        assertThat(s.request().expressionAttributeNames()).containsExactly(Map.entry("#lat_ts", "_lat_ts"));
        assertThat(s.request().expressionAttributeValues())
                .containsExactly(Map.entry(":lat_ts", AttributeValue.fromN(Long.toString(s.stamp()))));
    }

    @Test
    void removeOnlyExpressionGetsASetClause() {
        WriteStamper.Stamped<UpdateItemRequest> s = stamper.stamp(update("REMOVE #a, b.c", Map.of("#a", "a"), null));
        assertThat(s.request().updateExpression()).isEqualTo("SET #lat_ts = :lat_ts REMOVE #a, b.c");
        assertThat(s.request().expressionAttributeNames()).containsEntry("#a", "a").containsEntry("#lat_ts", "_lat_ts");
        assertParses(s.request());
    }

    @Test
    void addOnlyExpressionGetsASetClause() {
        WriteStamper.Stamped<UpdateItemRequest> s = stamper.stamp(update("ADD n :one",
                null, Map.of(":one", AttributeValue.fromN("1"))));
        assertThat(s.request().updateExpression()).isEqualTo("SET #lat_ts = :lat_ts ADD n :one");
        assertThat(s.request().expressionAttributeValues()).containsKeys(":one", ":lat_ts");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SET a = :v|SET a = :v, #lat_ts = :lat_ts",
        "set a = :v, b = list_append(b, :v)|set a = :v, b = list_append(b, :v), #lat_ts = :lat_ts",
        "REMOVE c SET a = :v ADD n :v|REMOVE c SET a = :v, #lat_ts = :lat_ts ADD n :v",
        "SET a = :v REMOVE c|SET a = :v, #lat_ts = :lat_ts REMOVE c",
        "DELETE s :v   SET a=:v   REMOVE c|DELETE s :v   SET a=:v, #lat_ts = :lat_ts   REMOVE c",
        "  SET a = :v  |  SET a = :v, #lat_ts = :lat_ts  ",
        "SET a[1] = if_not_exists(x.y[0], :v)|SET a[1] = if_not_exists(x.y[0], :v), #lat_ts = :lat_ts"
    })
    void mergesIntoTheExistingSetClause(String spec) {
        String[] parts = spec.split("\\|");
        WriteStamper.Stamped<UpdateItemRequest> s = stamper.stamp(update(parts[0], null,
                Map.of(":v", AttributeValue.fromS("x"))));
        assertThat(s.request().updateExpression()).isEqualTo(parts[1]);
        assertParses(s.request());
    }

    @Test
    void avoidsCallerPlaceholders() {
        Map<String, String> names = Map.of("#lat_ts", "other", "#lat_ts1", "more");
        Map<String, AttributeValue> values = Map.of(":lat_ts", AttributeValue.fromS("mine"));
        WriteStamper.Stamped<UpdateItemRequest> s = stamper.stamp(update("SET #lat_ts = :lat_ts, #lat_ts1 = :lat_ts",
                names, values));
        assertThat(s.request().updateExpression())
                .isEqualTo("SET #lat_ts = :lat_ts, #lat_ts1 = :lat_ts, #lat_ts2 = :lat_ts1");
        assertThat(s.request().expressionAttributeNames()).containsEntry("#lat_ts", "other")
                .containsEntry("#lat_ts1", "more").containsEntry("#lat_ts2", "_lat_ts");
        assertThat(s.request().expressionAttributeValues()).containsEntry(":lat_ts", AttributeValue.fromS("mine"))
                .containsEntry(":lat_ts1", AttributeValue.fromN(Long.toString(s.stamp())));
    }

    @Test
    void avoidsPlaceholdersUsedOnlyInTheCondition() {
        UpdateItemRequest r = update("SET a = :v", null, Map.of(":v", AttributeValue.fromS("x"), ":lat_ts",
                AttributeValue.fromN("3"))).toBuilder()
                .conditionExpression("#lat_ts < :lat_ts").expressionAttributeNames(Map.of("#lat_ts", "_lat_ts")).build();
        WriteStamper.Stamped<UpdateItemRequest> s = stamper.stamp(r);
        assertThat(s.request().updateExpression()).isEqualTo("SET a = :v, #lat_ts1 = :lat_ts1");
        assertThat(s.request().conditionExpression()).isEqualTo("#lat_ts < :lat_ts");
        assertThat(s.request().expressionAttributeValues()).containsEntry(":lat_ts", AttributeValue.fromN("3"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET _lat_ts = :v", "SET #t = :v", "REMOVE #t", "REMOVE a, _lat_ts",
        "set b = :v remove #t.x", "ADD #t :v"})
    void refusesExpressionsTouchingTheStamp(String expression) {
        UpdateItemRequest r = update(expression, Map.of("#t", "_lat_ts"), Map.of(":v", AttributeValue.fromN("1")));
        assertThatThrownBy(() -> stamper.stamp(r)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("_lat_ts");
    }

    @Test
    void legacyAttributeUpdatesGetAPut() {
        UpdateItemRequest r = UpdateItemRequest.builder().tableName("t").key(KEY).attributeUpdates(Map.of("a",
                AttributeValueUpdate.builder().action(AttributeAction.PUT).value(AttributeValue.fromS("x")).build())).build();
        WriteStamper.Stamped<UpdateItemRequest> s = stamper.stamp(r);
        assertThat(s.request().updateExpression()).isNull();
        assertThat(s.request().attributeUpdates()).containsKey("a");
        assertThat(s.request().attributeUpdates().get("_lat_ts")).isEqualTo(AttributeValueUpdate.builder()
                .action(AttributeAction.PUT).value(AttributeValue.fromN(Long.toString(s.stamp()))).build());
        assertThat(s.request().hasExpressionAttributeNames()).isFalse();
    }

    @Test
    void legacyExpectedWithoutUpdatesUsesAttributeUpdates() {
        UpdateItemRequest r = UpdateItemRequest.builder().tableName("t").key(KEY).expected(Map.of("pk",
                ExpectedAttributeValue.builder().exists(true).value(AttributeValue.fromS("k")).build())).build();
        WriteStamper.Stamped<UpdateItemRequest> s = stamper.stamp(r);
        assertThat(s.request().updateExpression()).isNull();
        assertThat(s.request().attributeUpdates()).containsOnlyKeys("_lat_ts");
    }

    @Test
    void legacyAttributeUpdatesTouchingTheStampAreRefused() {
        UpdateItemRequest r = UpdateItemRequest.builder().tableName("t").key(KEY).attributeUpdates(Map.of("_lat_ts",
                AttributeValueUpdate.builder().action(AttributeAction.DELETE).build())).build();
        assertThatThrownBy(() -> stamper.stamp(r)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("_lat_ts");
    }

    @Test
    void emptyMapsAndMalformedExpressions() {
        WriteStamper.Stamped<UpdateItemRequest> s = stamper.stamp(update("SET a = :v", Map.of(), Map.of(":v",
                AttributeValue.fromS("x"))));
        assertThat(s.request().expressionAttributeNames()).containsOnlyKeys("#lat_ts");
        assertThatThrownBy(() -> stamper.stamp(update("SET a =", null, null))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void customAttributeAndValidation() {
        WriteStamper custom = WriteStamper.create("ver.ts", clock);
        assertThat(custom.attributeName()).isEqualTo("ver.ts");
        WriteStamper.Stamped<UpdateItemRequest> s = custom.stamp(update("SET a = :v", null, null));
        assertThat(s.request().expressionAttributeNames()).containsEntry("#lat_ts", "ver.ts");
        for (String bad : new String[] {null, "", " ", "a b", "#x", ":x", "x".repeat(256)}) {
            assertThatThrownBy(() -> WriteStamper.create(bad, clock)).as(String.valueOf(bad))
                    .isInstanceOf(LatitudeConfigException.class);
        }
    }

    @Test
    void stampOfReadsOnlyNumbers() {
        assertThat(stamper.stampOf(null)).isEqualTo(-1);
        assertThat(stamper.stampOf(Map.of())).isEqualTo(-1);
        assertThat(stamper.stampOf(Map.of("_lat_ts", AttributeValue.fromS("12")))).isEqualTo(-1);
        assertThat(stamper.stampOf(Map.of("_lat_ts", AttributeValue.fromN("1.5")))).isEqualTo(-1);
        assertThat(stamper.stampOf(Map.of("_lat_ts", AttributeValue.fromN("-3")))).isEqualTo(-1);
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("_lat_ts", AttributeValue.fromN("123456789"));
        assertThat(stamper.stampOf(item)).isEqualTo(123456789L);
    }

    private static void assertParses(UpdateItemRequest r) {
        UpdateExpression parsed = UpdateExpression.parse(r.updateExpression(), r.expressionAttributeNames());
        assertThat(parsed.clause(UpdateExpression.ClauseKind.SET).actions())
                .anySatisfy(a -> assertThat(a.target().attribute()).isEqualTo("_lat_ts"));
    }
}
