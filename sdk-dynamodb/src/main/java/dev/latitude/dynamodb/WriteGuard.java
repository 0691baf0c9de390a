package dev.latitude.dynamodb;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * Makes a write's stamp a guard: the write applies only if the stored item's stamp is older than its own, so a late
 * or repeated write never overwrites a newer one. The condition is {@code attribute_not_exists(#lat_ts) OR #lat_ts <
 * :lat_ts}, joined to the caller's own as {@code (<caller's condition>) AND (<guard>)}, with placeholders the caller's
 * request does not use. Guarded writes ask for {@code ReturnValuesOnConditionCheckFailure=ALL_OLD}, so a failed
 * condition shows the stored stamp, and {@link #verdict} tells what the failure means.
 */
final class WriteGuard {
    static final String NAME_ALIAS = "#lat_ts";
    static final String VALUE_ALIAS = ":lat_ts";
    /** The code of a transaction action whose condition failed. */
    static final String CONDITION_FAILED = "ConditionalCheckFailed";

    private static final Pattern PLACEHOLDER = Pattern.compile("[#:][A-Za-z0-9_]+");

    /** What the failed condition of a guarded write means. */
    enum Verdict {
        /** The stored item carries this write's own stamp: this very write was applied before; a success. */
        ALREADY_APPLIED,
        /**
         * The stored item carries a newer stamp and the caller set no condition: the write is ordered before the newer
         * one (last writer wins, by stamp) and has nothing left to do; a success.
         */
        SUPERSEDED,
        /**
         * The caller's own condition failed, or the item changed since (a newer stamp) under a caller's condition that
         * can no longer be judged: nothing was applied; the failure goes to the caller.
         */
        REFUSED
    }

    /**
     * A guard condition and the placeholders it needs, merged with the caller's.
     *
     * @param condition the condition expression to send
     * @param names the expression attribute names to send
     * @param values the expression attribute values to send
     */
    record Guard(String condition, Map<String, String> names, Map<String, AttributeValue> values) {
    }

    /**
     * A stamped copy of a request and whether it also carries the guard (requests with legacy parameters cannot).
     *
     * @param request the copy to send
     * @param stamp the write's stamp
     * @param guarded whether the copy carries the guard and asks for the stored item on a failed condition
     * @param <T> the request type
     */
    record Guarded<T>(T request, long stamp, boolean guarded) {
    }

    private WriteGuard() {
    }

    /**
     * Builds the guard of a write: the caller's {@code condition} joined with the stamp check, the caller's names and
     * values plus the guard's two placeholders, chosen to differ from every placeholder in {@code names},
     * {@code values}, the condition and {@code otherExpressions} (the request's update expression, if any).
     *
     * @param attribute the stamp attribute
     * @param stamp the write's stamp
     * @param condition the caller's condition expression, or {@code null}
     * @param names the caller's expression attribute names (may be empty)
     * @param values the caller's expression attribute values (may be empty)
     * @param otherExpressions the request's other expressions, whose placeholders are avoided too
     * @return the guard
     */
    static Guard of(String attribute, long stamp, String condition, Map<String, String> names,
            Map<String, AttributeValue> values, String... otherExpressions) {
        Set<String> used = new HashSet<>(names.keySet());
        used.addAll(values.keySet());
        collectPlaceholders(condition, used);
        for (String e : otherExpressions) {
            collectPlaceholders(e, used);
        }
        String nameAlias = free(NAME_ALIAS, used);
        String valueAlias = free(VALUE_ALIAS, used);
        Map<String, String> newNames = new HashMap<>(names);
        newNames.put(nameAlias, attribute);
        Map<String, AttributeValue> newValues = new HashMap<>(values);
        newValues.put(valueAlias, AttributeValue.fromN(Long.toString(stamp)));
        return new Guard(condition(condition, nameAlias, valueAlias), newNames, newValues);
    }

    /**
     * Returns the condition that lets a write through only if the stored stamp is missing or older than the write's,
     * joined with the caller's condition when there is one.
     *
     * @param caller the caller's condition expression, or {@code null}/blank
     * @param nameAlias the placeholder of the stamp attribute's name
     * @param valueAlias the placeholder of the write's stamp
     * @return the condition expression
     */
    static String condition(String caller, String nameAlias, String valueAlias) {
        String guard = "attribute_not_exists(" + nameAlias + ") OR " + nameAlias + " < " + valueAlias;
        return hasText(caller) ? "(" + caller.strip() + ") AND (" + guard + ")" : guard;
    }

    /**
     * Tells what the failed condition of a guarded write means, from the stamp the stored item carries.
     *
     * @param stored the stored item's stamp, or -1 if there is no item or it carries no stamp
     * @param own the write's stamp
     * @param writesStamp whether the write stores its stamp (a put or an update; a delete only compares it), so that
     *     an equal stored stamp is this very write
     * @param callerCondition whether the caller gave a condition of their own
     * @return the verdict
     */
    static Verdict verdict(long stored, long own, boolean writesStamp, boolean callerCondition) {
        if (stored == own && writesStamp) {
            return Verdict.ALREADY_APPLIED;
        }
        if (stored >= own && own >= 0) {
            return callerCondition ? Verdict.REFUSED : Verdict.SUPERSEDED;
        }
        return Verdict.REFUSED; // the guard passed: the caller's condition failed
    }

    /** Whether the caller gave a condition expression. */
    static boolean hasText(String s) {
        return s != null && !s.isBlank();
    }

    /**
     * Returns {@code e} without the item DynamoDB returned with it, when the caller did not ask for it (the guard
     * did); {@code e} itself if it carries none.
     */
    static ConditionalCheckFailedException withoutItem(ConditionalCheckFailedException e) {
        if (!e.hasItem() || e.item().isEmpty()) {
            return e;
        }
        ConditionalCheckFailedException copy = e.toBuilder().item(null).build();
        copy.setStackTrace(e.getStackTrace());
        return copy;
    }

    /**
     * Returns {@code e} without the items DynamoDB returned for the actions at the positions in {@code strip} (where
     * the guard, not the caller, asked for them); {@code e} itself if none of them carries one.
     */
    static TransactionCanceledException withoutItems(TransactionCanceledException e, boolean[] strip) {
        if (!e.hasCancellationReasons()) {
            return e;
        }
        List<CancellationReason> reasons = new ArrayList<>(e.cancellationReasons());
        boolean changed = false;
        for (int i = 0; i < reasons.size() && i < strip.length; i++) {
            CancellationReason r = reasons.get(i);
            if (strip[i] && r != null && r.hasItem() && !r.item().isEmpty()) {
                reasons.set(i, r.toBuilder().item(null).build());
                changed = true;
            }
        }
        if (!changed) {
            return e;
        }
        TransactionCanceledException copy = e.toBuilder().cancellationReasons(reasons).build();
        copy.setStackTrace(e.getStackTrace());
        return copy;
    }

    static void collectPlaceholders(String expression, Set<String> into) {
        if (expression == null) {
            return;
        }
        Matcher m = PLACEHOLDER.matcher(expression);
        while (m.find()) {
            into.add(m.group());
        }
    }

    static String free(String base, Set<String> used) {
        if (!used.contains(base)) {
            return base;
        }
        for (int i = 1; ; i++) {
            String candidate = base + i;
            if (!used.contains(candidate)) {
                return candidate;
            }
        }
    }
}
