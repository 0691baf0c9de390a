package dev.latitude.dynamodb;

import dev.latitude.dynamodb.internal.UpdateExpression;
import dev.latitude.dynamodb.internal.UpdateExpression.Action;
import dev.latitude.dynamodb.internal.UpdateExpression.Clause;
import dev.latitude.dynamodb.internal.UpdateExpression.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import software.amazon.awssdk.services.dynamodb.model.AttributeAction;
import software.amazon.awssdk.services.dynamodb.model.AttributeValueUpdate;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.Delete;
import software.amazon.awssdk.services.dynamodb.model.DeleteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbRequest;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.Update;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

/**
 * Decides whether a DynamoDB write may be repeated in another region after an
 * {@link dev.latitude.FailureKind#AMBIGUOUS ambiguous} failure, that is, whether applying it twice has the same effect
 * as applying it once. Pure and thread-safe; the verdict carries a reason for spans and logs.
 *
 * <table>
 *   <caption>Rules</caption>
 *   <tr><th>Request</th><th>Idempotent when</th></tr>
 *   <tr><td>PutItem, DeleteItem</td><td>it has no {@code ConditionExpression} and no legacy {@code Expected}
 *       (a condition may pass the first time and fail the second, or the reverse). {@code ReturnValues} does not
 *       change the verdict: the item ends the same, though old values returned by a repeat reflect the first attempt.</td></tr>
 *   <tr><td>UpdateItem</td><td>it has no condition, and its {@code UpdateExpression} has no {@code ADD} clause, no
 *       {@code SET} whose value reads an attribute ({@code SET #c = #c + :one}, {@code if_not_exists(a, :z)},
 *       {@code list_append(#l, :v)}, {@code SET b = a}), no {@code SET} of a list element by index (past the end it
 *       appends) and no {@code REMOVE} of a list element (the list shifts); legacy {@code AttributeUpdates} must have
 *       no {@code ADD} action. A malformed expression is not idempotent.</td></tr>
 *   <tr><td>TransactWriteItems</td><td>it carries a {@code ClientRequestToken} and every action is idempotent by the
 *       rules above ({@code ConditionCheck} never is). The token makes DynamoDB ignore a repeat in the same region only,
 *       for ten minutes; another region does not know it, so the actions themselves must be safe to repeat.</td></tr>
 *   <tr><td>BatchWriteItem</td><td>always: its puts and deletes cannot carry conditions.</td></tr>
 *   <tr><td>anything else</td><td>never.</td></tr>
 * </table>
 *
 * <pre>{@code
 * WriteIdempotency.Verdict v = WriteIdempotency.of(updateRequest);
 * Operation op = Operation.write("UpdateItem").idempotent(v.idempotent()).build();
 * }</pre>
 */
public final class WriteIdempotency {

    /**
     * The verdict on one request.
     *
     * @param idempotent whether the request may be repeated in another region after an ambiguous failure
     * @param reason why, in a few words for spans and logs
     */
    public record Verdict(boolean idempotent, String reason) {
        /** Checks the reason is present. */
        public Verdict {
            Objects.requireNonNull(reason, "reason");
        }

        static Verdict yes(String reason) {
            return new Verdict(true, reason);
        }

        static Verdict no(String reason) {
            return new Verdict(false, reason);
        }
    }

    private WriteIdempotency() {
    }

    /**
     * Judges any DynamoDB request: the write requests this class knows by their rules, anything else not idempotent.
     *
     * @param request the request
     * @return the verdict
     */
    public static Verdict of(DynamoDbRequest request) {
        Objects.requireNonNull(request, "request");
        if (request instanceof PutItemRequest r) {
            return of(r);
        }
        if (request instanceof DeleteItemRequest r) {
            return of(r);
        }
        if (request instanceof UpdateItemRequest r) {
            return of(r);
        }
        if (request instanceof TransactWriteItemsRequest r) {
            return of(r);
        }
        if (request instanceof BatchWriteItemRequest r) {
            return of(r);
        }
        return Verdict.no(request.getClass().getSimpleName() + " is not a write this adapter knows");
    }

    /**
     * Judges a PutItem.
     *
     * @param request the request
     * @return idempotent unless it is conditional
     */
    public static Verdict of(PutItemRequest request) {
        return conditional("PutItem", request.conditionExpression(), request.hasExpected() && !request.expected().isEmpty());
    }

    /**
     * Judges a DeleteItem.
     *
     * @param request the request
     * @return idempotent unless it is conditional
     */
    public static Verdict of(DeleteItemRequest request) {
        return conditional("DeleteItem", request.conditionExpression(), request.hasExpected() && !request.expected().isEmpty());
    }

    /**
     * Judges an UpdateItem.
     *
     * @param request the request
     * @return the verdict
     */
    public static Verdict of(UpdateItemRequest request) {
        Verdict condition = conditional("UpdateItem", request.conditionExpression(),
                request.hasExpected() && !request.expected().isEmpty());
        if (!condition.idempotent()) {
            return condition;
        }
        if (request.hasAttributeUpdates()) {
            for (Map.Entry<String, AttributeValueUpdate> e : request.attributeUpdates().entrySet()) {
                if (e.getValue() != null && e.getValue().action() == AttributeAction.ADD) {
                    return Verdict.no("UpdateItem AttributeUpdates ADDs to " + e.getKey());
                }
            }
        }
        return updateExpression("UpdateItem", request.updateExpression(),
                request.hasExpressionAttributeNames() ? request.expressionAttributeNames() : Map.of());
    }

    /**
     * Judges a TransactWriteItems.
     *
     * @param request the request
     * @return idempotent only with a client request token and idempotent actions
     */
    public static Verdict of(TransactWriteItemsRequest request) {
        String token = request.clientRequestToken();
        if (token == null || token.isBlank()) {
            return Verdict.no("TransactWriteItems without ClientRequestToken");
        }
        List<TransactWriteItem> items = request.hasTransactItems() ? request.transactItems() : List.of();
        for (int i = 0; i < items.size(); i++) {
            Verdict v = of(items.get(i));
            if (!v.idempotent()) {
                return Verdict.no("TransactWriteItems action " + i + ": " + v.reason()
                        + " (the ClientRequestToken dedupes only in the same region)");
            }
        }
        return Verdict.yes("TransactWriteItems with ClientRequestToken and idempotent actions");
    }

    /**
     * Judges a BatchWriteItem.
     *
     * @param request the request
     * @return always idempotent
     */
    public static Verdict of(BatchWriteItemRequest request) {
        Objects.requireNonNull(request, "request");
        return Verdict.yes("BatchWriteItem puts and deletes are unconditional");
    }

    private static Verdict of(TransactWriteItem item) {
        if (item == null) {
            return Verdict.no("empty action");
        }
        if (item.conditionCheck() != null) {
            return Verdict.no("ConditionCheck");
        }
        Put put = item.put();
        if (put != null) {
            return conditional("Put", put.conditionExpression(), false);
        }
        Delete delete = item.delete();
        if (delete != null) {
            return conditional("Delete", delete.conditionExpression(), false);
        }
        Update update = item.update();
        if (update != null) {
            Verdict c = conditional("Update", update.conditionExpression(), false);
            if (!c.idempotent()) {
                return c;
            }
            return updateExpression("Update", update.updateExpression(),
                    update.hasExpressionAttributeNames() ? update.expressionAttributeNames() : Map.of());
        }
        return Verdict.no("empty action");
    }

    private static Verdict conditional(String what, String conditionExpression, boolean hasExpected) {
        if (conditionExpression != null && !conditionExpression.isBlank()) {
            return Verdict.no(what + " has a ConditionExpression");
        }
        if (hasExpected) {
            return Verdict.no(what + " has legacy Expected conditions");
        }
        return Verdict.yes(what + " is unconditional");
    }

    private static Verdict updateExpression(String what, String expression, Map<String, String> names) {
        if (expression == null || expression.isBlank()) {
            return Verdict.yes(what + " is unconditional and sets or removes fixed values");
        }
        UpdateExpression parsed;
        try {
            parsed = UpdateExpression.parse(expression, names);
        } catch (IllegalArgumentException e) {
            return Verdict.no(what + " has an UpdateExpression this adapter cannot parse");
        }
        for (Clause clause : parsed.clauses()) {
            switch (clause.kind()) {
                case ADD -> {
                    return Verdict.no(what + " ADDs to " + clause.actions().get(0).target().resolved());
                }
                case SET -> {
                    for (Action a : clause.actions()) {
                        if (!a.reads().isEmpty()) {
                            Path read = a.reads().get(0);
                            String how = a.functions().isEmpty() ? "" : " via " + a.functions().get(0);
                            return Verdict.no(what + " SETs " + a.target().resolved() + " from attribute "
                                    + read.resolved() + how);
                        }
                        if (a.target().indexed()) {
                            return Verdict.no(what + " SETs list element " + a.target().resolved()
                                    + " (appends when past the end)");
                        }
                    }
                }
                case REMOVE -> {
                    for (Action a : clause.actions()) {
                        if (a.target().indexed()) {
                            return Verdict.no(what + " REMOVEs list element " + a.target().resolved()
                                    + " (the list shifts)");
                        }
                    }
                }
                case DELETE -> {
                    // Removing elements from a set twice leaves the same set.
                }
                default -> {
                    return Verdict.no(what + " has an unknown clause");
                }
            }
        }
        return Verdict.yes(what + " is unconditional and sets or removes fixed values");
    }
}
