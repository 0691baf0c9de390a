package dev.latitude.dynamodb;

import dev.latitude.HybridLogicalClock;
import dev.latitude.LatitudeConfigException;
import dev.latitude.dynamodb.internal.UpdateExpression;
import dev.latitude.dynamodb.internal.UpdateExpression.Action;
import dev.latitude.dynamodb.internal.UpdateExpression.Clause;
import dev.latitude.dynamodb.internal.UpdateExpression.ClauseKind;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.dynamodb.model.AttributeAction;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.AttributeValueUpdate;
import software.amazon.awssdk.services.dynamodb.model.DeleteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

/**
 * Stamps DynamoDB writes with a {@link HybridLogicalClock} timestamp in one number attribute (by default
 * {@value #DEFAULT_ATTRIBUTE}), so that a session can later tell whether a replica has its write. Requests are never
 * modified: copies are returned, with the stamp used. Thread-safe.
 *
 * <ul>
 *   <li>PutItem: the item gets the attribute (type N, the timestamp in decimal); an existing value, such as one read
 *       with the item earlier, is replaced.</li>
 *   <li>UpdateItem with an {@code UpdateExpression} (or neither expression nor legacy parameters): {@code SET #alias =
 *       :alias} is added to the {@code SET} clause, or a {@code SET} clause is added; the placeholders are
 *       {@code #lat_ts}/{@code :lat_ts}, with a numeric suffix when the caller already uses those. If the caller's
 *       expression itself writes the attribute, an {@link IllegalArgumentException} names it.</li>
 *   <li>UpdateItem with legacy {@code AttributeUpdates} or {@code Expected}: a {@code PUT} of the attribute is added
 *       to {@code AttributeUpdates} (expressions and legacy parameters cannot be mixed).</li>
 * </ul>
 *
 * <p>The public methods only stamp. {@link MultiRegionDynamoDbClient} and {@link MultiRegionDynamoDbAsyncClient} also
 * make the stamp a guard: their PutItem, UpdateItem and DeleteItem (and a transaction's Put, Update and Delete
 * actions) carry the condition {@code attribute_not_exists(#lat_ts) OR #lat_ts < :lat_ts}, joined to the caller's
 * own, so a late or repeated write never overwrites a newer one, and they turn the failed guard into the answer it
 * means (see {@code docs/DYNAMODB.md}, "The write guard"). A request sent with a stamp from these methods through a
 * plain client is not guarded.
 *
 * <pre>{@code
 * WriteStamper stamper = WriteStamper.create(hlc);
 * WriteStamper.Stamped<PutItemRequest> s = stamper.stamp(putRequest);
 * client.putItem(s.request());
 * session.recordWrite(..., s.stamp());
 * }</pre>
 */
public final class WriteStamper {
    /** The attribute used unless another is given. */
    public static final String DEFAULT_ATTRIBUTE = "_lat_ts";

    private static final Pattern VALID_NAME = Pattern.compile("[A-Za-z0-9_.\\-]+");
    private static final String NAME_ALIAS = WriteGuard.NAME_ALIAS;
    private static final String VALUE_ALIAS = WriteGuard.VALUE_ALIAS;

    /**
     * A stamped copy of a request.
     *
     * @param request the copy to send
     * @param stamp the HLC timestamp written
     * @param <T> the request type
     */
    public record Stamped<T>(T request, long stamp) {
    }

    private final String attribute;
    private final HybridLogicalClock clock;

    private WriteStamper(String attribute, HybridLogicalClock clock) {
        this.attribute = attribute;
        this.clock = clock;
    }

    /**
     * Creates a stamper writing {@value #DEFAULT_ATTRIBUTE}.
     *
     * @param clock the clock the stamps come from
     * @return the stamper
     */
    public static WriteStamper create(HybridLogicalClock clock) {
        return create(DEFAULT_ATTRIBUTE, clock);
    }

    /**
     * Creates a stamper writing {@code attributeName}.
     *
     * @param attributeName a top-level attribute name: 1 to 255 bytes of letters, digits, {@code _ . -}
     * @param clock the clock the stamps come from
     * @return the stamper
     * @throws LatitudeConfigException if the name is not valid
     */
    public static WriteStamper create(String attributeName, HybridLogicalClock clock) {
        Objects.requireNonNull(clock, "clock");
        if (attributeName == null || !VALID_NAME.matcher(attributeName).matches()
                || attributeName.getBytes(StandardCharsets.UTF_8).length > 255) {
            throw new LatitudeConfigException("dynamodb.stampAttribute", "'" + attributeName
                    + "' is not a usable attribute name; use 1 to 255 letters, digits, '_', '.' or '-', such as '"
                    + DEFAULT_ATTRIBUTE + "'");
        }
        return new WriteStamper(attributeName, clock);
    }

    /** Returns the stamp attribute's name. */
    public String attributeName() {
        return attribute;
    }

    /**
     * Returns a copy of {@code request} whose item carries a new stamp.
     *
     * @param request the caller's request
     * @return the copy and the stamp
     */
    public Stamped<PutItemRequest> stamp(PutItemRequest request) {
        Objects.requireNonNull(request, "request");
        long stamp = clock.now();
        return new Stamped<>(request.toBuilder().item(withStamp(request.hasItem() ? request.item() : Map.of(), stamp))
                .build(), stamp);
    }

    /** Returns a copy of {@code item} carrying {@code stamp} in the stamp attribute. */
    Map<String, AttributeValue> withStamp(Map<String, AttributeValue> item, long stamp) {
        Map<String, AttributeValue> copy = new LinkedHashMap<>(item);
        copy.put(attribute, number(stamp));
        return copy;
    }

    /**
     * Stamps {@code request} with a new stamp and makes the stamp its guard (see {@link WriteGuard}). A request with a
     * legacy {@code Expected} condition (or {@code ConditionalOperator}) is stamped but not guarded: expressions and
     * legacy parameters cannot be mixed, and the guard has no {@code Expected} form.
     */
    WriteGuard.Guarded<PutItemRequest> stampGuarded(PutItemRequest request) {
        Stamped<PutItemRequest> s = stamp(request);
        if ((request.hasExpected() && !request.expected().isEmpty()) || request.conditionalOperator() != null) {
            return new WriteGuard.Guarded<>(s.request(), s.stamp(), false);
        }
        WriteGuard.Guard g = WriteGuard.of(attribute, s.stamp(), request.conditionExpression(),
                request.hasExpressionAttributeNames() ? request.expressionAttributeNames() : Map.of(),
                request.hasExpressionAttributeValues() ? request.expressionAttributeValues() : Map.of());
        return new WriteGuard.Guarded<>(s.request().toBuilder().conditionExpression(g.condition())
                .expressionAttributeNames(g.names()).expressionAttributeValues(g.values())
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build(),
                s.stamp(), true);
    }

    /**
     * Takes a new stamp for a delete and makes it the delete's guard (see {@link WriteGuard}): nothing is written, but a
     * stored item newer than the stamp is not removed. A request with a legacy {@code Expected} condition (or
     * {@code ConditionalOperator}) is returned as it is, unguarded.
     */
    WriteGuard.Guarded<DeleteItemRequest> guard(DeleteItemRequest request) {
        Objects.requireNonNull(request, "request");
        long stamp = clock.now();
        if ((request.hasExpected() && !request.expected().isEmpty()) || request.conditionalOperator() != null) {
            return new WriteGuard.Guarded<>(request, stamp, false);
        }
        WriteGuard.Guard g = WriteGuard.of(attribute, stamp, request.conditionExpression(),
                request.hasExpressionAttributeNames() ? request.expressionAttributeNames() : Map.of(),
                request.hasExpressionAttributeValues() ? request.expressionAttributeValues() : Map.of());
        return new WriteGuard.Guarded<>(request.toBuilder().conditionExpression(g.condition())
                .expressionAttributeNames(g.names()).expressionAttributeValues(g.values())
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build(),
                stamp, true);
    }

    /**
     * Returns a copy of {@code request} that also sets a new stamp.
     *
     * @param request the caller's request
     * @return the copy and the stamp
     * @throws IllegalArgumentException if the request itself writes the stamp attribute, or its update expression is
     *     malformed
     */
    public Stamped<UpdateItemRequest> stamp(UpdateItemRequest request) {
        return stamp(request, clock.now());
    }

    /** Stamps {@code request} with a given stamp (the actions of one transaction share one). */
    Stamped<UpdateItemRequest> stamp(UpdateItemRequest request, long stamp) {
        WriteGuard.Guarded<UpdateItemRequest> g = stampUpdate(request, stamp, false);
        return new Stamped<>(g.request(), g.stamp());
    }

    /**
     * Stamps {@code request} with a new stamp and makes the stamp its guard (see {@link WriteGuard}): the SET clause
     * and the guard share one pair of placeholders. A request with legacy parameters ({@code AttributeUpdates},
     * {@code Expected}, {@code ConditionalOperator}) is stamped but not guarded.
     */
    WriteGuard.Guarded<UpdateItemRequest> stampGuarded(UpdateItemRequest request) {
        return stampUpdate(request, clock.now(), true);
    }

    /** Stamps (and guards) {@code request} with a given stamp (the actions of one transaction share one). */
    WriteGuard.Guarded<UpdateItemRequest> stampGuarded(UpdateItemRequest request, long stamp) {
        return stampUpdate(request, stamp, true);
    }

    private WriteGuard.Guarded<UpdateItemRequest> stampUpdate(UpdateItemRequest request, long stamp, boolean guard) {
        Objects.requireNonNull(request, "request");
        boolean legacy = (request.hasAttributeUpdates() && !request.attributeUpdates().isEmpty())
                || (request.hasExpected() && !request.expected().isEmpty());
        String expression = request.updateExpression();
        boolean hasExpression = expression != null && !expression.isBlank();
        if (legacy && !hasExpression) {
            return new WriteGuard.Guarded<>(stampLegacy(request, stamp).request(), stamp, false);
        }
        Map<String, String> names = request.hasExpressionAttributeNames()
                ? request.expressionAttributeNames() : Map.of();
        Map<String, AttributeValue> values = request.hasExpressionAttributeValues()
                ? request.expressionAttributeValues() : Map.of();
        Set<String> used = new HashSet<>(names.keySet());
        used.addAll(values.keySet());
        WriteGuard.collectPlaceholders(expression, used);
        WriteGuard.collectPlaceholders(request.conditionExpression(), used);
        String nameAlias = WriteGuard.free(NAME_ALIAS, used);
        String valueAlias = WriteGuard.free(VALUE_ALIAS, used);
        String assignment = nameAlias + " = " + valueAlias;

        String merged;
        if (!hasExpression) {
            merged = "SET " + assignment;
        } else {
            UpdateExpression parsed = UpdateExpression.parse(expression, names);
            for (Clause clause : parsed.clauses()) {
                for (Action a : clause.actions()) {
                    if (a.target().attribute().equals(attribute)) {
                        throw new IllegalArgumentException("The UpdateExpression " + clause.kind() + "s "
                                + a.target().resolved() + ", the attribute Latitude stamps writes with ('"
                                + attribute + "'); leave it to Latitude or configure another stamp attribute");
                    }
                }
            }
            Clause set = parsed.clause(ClauseKind.SET);
            if (set == null) {
                merged = "SET " + assignment + " " + expression.strip();
            } else {
                merged = expression.substring(0, set.end()) + ", " + assignment + expression.substring(set.end());
            }
        }
        Map<String, String> newNames = new HashMap<>(names);
        newNames.put(nameAlias, attribute);
        Map<String, AttributeValue> newValues = new HashMap<>(values);
        newValues.put(valueAlias, number(stamp));
        UpdateItemRequest.Builder copy = request.toBuilder()
                .updateExpression(merged)
                .expressionAttributeNames(newNames)
                .expressionAttributeValues(newValues);
        boolean guarded = guard && !legacy && request.conditionalOperator() == null;
        if (guarded) {
            copy.conditionExpression(WriteGuard.condition(request.conditionExpression(), nameAlias, valueAlias))
                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD);
        }
        return new WriteGuard.Guarded<>(copy.build(), stamp, guarded);
    }

    private Stamped<UpdateItemRequest> stampLegacy(UpdateItemRequest request, long stamp) {
        Map<String, AttributeValueUpdate> updates = new LinkedHashMap<>();
        if (request.hasAttributeUpdates()) {
            if (request.attributeUpdates().containsKey(attribute)) {
                throw new IllegalArgumentException("AttributeUpdates writes '" + attribute
                        + "', the attribute Latitude stamps writes with; leave it to Latitude or configure another"
                        + " stamp attribute");
            }
            updates.putAll(request.attributeUpdates());
        }
        updates.put(attribute, AttributeValueUpdate.builder().action(AttributeAction.PUT).value(number(stamp)).build());
        return new Stamped<>(request.toBuilder().attributeUpdates(updates).build(), stamp);
    }

    /**
     * Returns the stamp an item carries.
     *
     * @param item an item as read, or {@code null}
     * @return the stamp, or -1 if the item is {@code null} or has no numeric stamp
     */
    public long stampOf(Map<String, AttributeValue> item) {
        if (item == null) {
            return -1;
        }
        AttributeValue v = item.get(attribute);
        if (v == null || v.n() == null) {
            return -1;
        }
        try {
            long stamp = Long.parseLong(v.n().strip());
            return stamp < 0 ? -1 : stamp;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static AttributeValue number(long stamp) {
        return AttributeValue.builder().n(Long.toString(stamp)).build();
    }

    @Override
    public String toString() {
        return "WriteStamper[" + attribute + "]";
    }
}
