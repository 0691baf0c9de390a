package dev.latitude.dynamodb;

import dev.latitude.ClockSkewException;
import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HybridLogicalClock;
import dev.latitude.Operation;
import dev.latitude.ResultWatermark;
import dev.latitude.SensitiveData;
import dev.latitude.Session;
import dev.latitude.Watermark;
import dev.latitude.dynamodb.internal.ItemKeys;
import dev.latitude.dynamodb.internal.KeySchemas;
import dev.latitude.dynamodb.internal.PartiQl;
import dev.latitude.dynamodb.internal.UpdateExpression;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.*;

/**
 * Turns each data-plane request into a {@link Routed} call: classifies it (read or write, idempotent or not, table and
 * key), stamps writes and makes their stamps guards ({@link WriteGuard}), prepares the {@code ConsistentRead} copy for
 * the region that took the session's write, and says how to verify and record the answer and what a guarded write's
 * failed guard means. Shared by {@link MultiRegionDynamoDbClient} and {@link MultiRegionDynamoDbAsyncClient}, which
 * only differ in how they send. A client view has its own router ({@link #with}) sharing this one's state, whose
 * options (read consistency, session) apply to each request, under the request's own ({@link LatitudeRequest}).
 */
final class DynamoDbRouter {
    private static final Logger LOG = LoggerFactory.getLogger(DynamoDbRouter.class);
    private static final AttributeKey<String> DB_SYSTEM = AttributeKey.stringKey("db.system");
    private static final AttributeKey<String> DB_SYSTEM_NAME = AttributeKey.stringKey("db.system.name");
    private static final AttributeKey<String> DB_OPERATION = AttributeKey.stringKey("db.operation.name");
    private static final AttributeKey<String> DB_COLLECTION = AttributeKey.stringKey("db.collection.name");
    private static final AttributeKey<List<String>> TABLE_NAMES = AttributeKey.stringArrayKey(
            "aws.dynamodb.table_names");
    private static final int MAX_CACHED_ATTRIBUTES = 10_000;
    private static final AttributeKey<String> CLOUD_REGION = AttributeKey.stringKey("cloud.region");
    private static final AttributeKey<Long> WRITE_STAMP = AttributeKey.longKey("latitude.write.stamp");
    private static final AttributeKey<Long> STORED_STAMP = AttributeKey.longKey("latitude.write.stored_stamp");
    static final String SUPERSEDED_EVENT = "latitude.write_superseded";
    static final String ALREADY_APPLIED_EVENT = "latitude.write_already_applied";

    private final DataPolicies policies;
    private final HybridLogicalClock clock;
    private final WriteStamper stamper;
    private final Set<String> unstamped;
    private final KeySchemas keySchemas;
    /** Span attributes by operation name, then table (or the sorted tables of a batch). */
    private final ConcurrentHashMap<String, Map<String, Attributes>> spanAttributes = new ConcurrentHashMap<>();
    private final AtomicInteger skewRefusals;
    private final AtomicLong superseded;
    /** The options of the client view this router serves; a request's own options are merged over them. */
    private final RequestOptions options;

    DynamoDbRouter(DataPolicies policies, HybridLogicalClock clock, String stampAttribute, Set<String> unstamped,
            KeySchemas keySchemas) {
        this.policies = policies;
        this.clock = clock;
        this.stamper = WriteStamper.create(stampAttribute, clock);
        this.unstamped = Set.copyOf(unstamped);
        this.keySchemas = keySchemas;
        this.skewRefusals = new AtomicInteger();
        this.superseded = new AtomicLong();
        this.options = RequestOptions.NONE;
    }

    /** A router sharing everything with {@code shared} (caches, counters, stamper) but with other view options. */
    private DynamoDbRouter(DynamoDbRouter shared, RequestOptions options) {
        this.policies = shared.policies;
        this.clock = shared.clock;
        this.stamper = shared.stamper;
        this.unstamped = shared.unstamped;
        this.keySchemas = shared.keySchemas;
        this.skewRefusals = shared.skewRefusals;
        this.superseded = shared.superseded;
        this.options = options;
    }

    /** Returns a router that routes like this one with {@code more} merged over its options. */
    DynamoDbRouter with(RequestOptions more) {
        return new DynamoDbRouter(this, options.mergedWith(more));
    }

    /** Returns the options this router's requests start from. */
    RequestOptions options() {
        return options;
    }

    String stampAttribute() {
        return stamper.attributeName();
    }

    int clockSkewRefusals() {
        return skewRefusals.get();
    }

    long supersededWrites() {
        return superseded.get();
    }

    // ---------------------------------------------------------------- single items

    Routed<GetItemRequest, GetItemResponse> getItem(GetItemRequest request) {
        String table = table(request.tableName(), "GetItem");
        RequestOptions o = optionsOf(request, "GetItem", false, request.consistentRead());
        boolean strongAsked = Boolean.TRUE.equals(request.consistentRead());
        ConsistencyLevel level = strongAsked ? ConsistencyLevel.STRONG : levelOf(table, o);
        String key = ItemKeys.encode(request.key(), "GetItem");
        Operation.Builder ob = read("GetItem", table, strongAsked, null, o);
        if (key != null) {
            ob.key(key);
        }
        if (level.kind() == ConsistencyLevel.Kind.STRONG) {
            return Routed.of(ob.build(), strongAsked ? request : request.toBuilder().consistentRead(true).build());
        }
        if (level.kind() != ConsistencyLevel.Kind.SESSION || unstamped.contains(table)) {
            return Routed.of(ob.build(), request);
        }
        // SESSION: the answer is checked against the session's write stamp for this key (or the table's); the region
        // that took the write is read with ConsistentRead, so its answer includes the write. The session is looked
        // up once here and handed to the engine with the operation.
        Session session = o.sessionOrCurrent();
        if (session != null) {
            ob.session(session);
        }
        Projection projection = Projection.of(request, stamper.attributeName());
        GetItemRequest send = projection.request;
        Watermark required = session == null ? null : session.token().requirement(table, key);
        Routed<GetItemRequest, GetItemResponse> routed = Routed.of(ob.build(), send, this::stampOfGet);
        if (required == null) {
            return projection.added == null ? routed : routed.then((response, region) -> projection.strip(response));
        }
        return routed.consistentIn(required.region(), send.toBuilder().consistentRead(true).build())
                .then((response, region) -> {
                    if (!response.hasItem() || response.item().isEmpty()) {
                        // The session knew a version of this item and now sees none: it was deleted after that
                        // version and before now. Record it, so no later read brings the deleted item back.
                        session.recordRead(table, key, clock.now(), region);
                    }
                    return projection.strip(response);
                });
    }

    private long stampOfGet(GetItemResponse response) {
        return observed(response.hasItem() ? stamper.stampOf(response.item()) : ResultWatermark.NONE);
    }

    Routed<PutItemRequest, PutItemResponse> putItem(PutItemRequest request) {
        String table = table(request.tableName(), "PutItem");
        RequestOptions o = optionsOf(request, "PutItem", true, null);
        boolean idempotent = WriteIdempotency.of(request).idempotent();
        if (unstamped.contains(table)) {
            return Routed.of(write("PutItem", table, null, idempotent, o), request, r -> clock.now());
        }
        WriteGuard.Guarded<PutItemRequest> stamped = stamper.stampGuarded(request);
        long stamp = stamped.stamp();
        String key = request.hasItem() ? keySchemas.keyOf(table, request.item(), "PutItem") : null;
        Routed<PutItemRequest, PutItemResponse> routed = Routed.<PutItemRequest, PutItemResponse>of(
                write("PutItem", table, key, idempotent, o),
                stamped.request(), r -> stamp).onAttempt(request.hasItem() ? lookUps(Set.of(table)) : null);
        if (!stamped.guarded()) {
            return routed;
        }
        // The item our write replaced is not known when the guard failed: no ALL_OLD attributes then.
        return routed.recovering(recovery(stamp, true, request.conditionExpression(),
                request.returnValuesOnConditionCheckFailure(), item -> PutItemResponse.builder().build()), stamp);
    }

    Routed<UpdateItemRequest, UpdateItemResponse> updateItem(UpdateItemRequest request) {
        String table = table(request.tableName(), "UpdateItem");
        RequestOptions o = optionsOf(request, "UpdateItem", true, null);
        boolean idempotent = WriteIdempotency.of(request).idempotent();
        if (!unstamped.contains(table)) {
            try {
                WriteGuard.Guarded<UpdateItemRequest> stamped = stamper.stampGuarded(request);
                long stamp = stamped.stamp();
                Routed<UpdateItemRequest, UpdateItemResponse> routed = Routed.of(write("UpdateItem", table,
                        ItemKeys.encode(request.key(), "UpdateItem"), idempotent, o), stamped.request(), r -> stamp);
                if (!stamped.guarded()) {
                    return routed;
                }
                // Already applied, the stored item is the one this update left (nothing newer came since): it is
                // the ALL_NEW answer. Other ReturnValues cannot be told from it.
                boolean allNew = request.returnValues() == ReturnValue.ALL_NEW;
                return routed.recovering(recovery(stamp, true, request.conditionExpression(),
                        request.returnValuesOnConditionCheckFailure(), item -> allNew && item != null
                                ? UpdateItemResponse.builder().attributes(item).build()
                                : UpdateItemResponse.builder().build()), stamp);
            } catch (UpdateExpression.MalformedExpressionException e) {
                // The service is the judge of the expression: send it as it is, tracked for the table as a whole.
                LOG.debug("UpdateItem on {} sent unstamped: {}", table, e.getMessage());
            }
        }
        return Routed.of(write("UpdateItem", table, null, idempotent, o), request, r -> clock.now());
    }

    Routed<DeleteItemRequest, DeleteItemResponse> deleteItem(DeleteItemRequest request) {
        String table = table(request.tableName(), "DeleteItem");
        RequestOptions o = optionsOf(request, "DeleteItem", true, null);
        boolean idempotent = WriteIdempotency.of(request).idempotent();
        if (unstamped.contains(table)) {
            return Routed.of(write("DeleteItem", table, null, idempotent, o), request, r -> clock.now());
        }
        String key = ItemKeys.encode(request.key(), "DeleteItem");
        // The stamp taken now only guards the delete: a stored item newer than it is not removed. The delete's
        // watermark is taken when it has completed: any version of the item a replica still holds is older, so it is
        // recognised as stale. A superseded delete records its own stamp instead: the newer item is no older.
        WriteGuard.Guarded<DeleteItemRequest> guarded = stamper.guard(request);
        Routed<DeleteItemRequest, DeleteItemResponse> routed = Routed.of(write("DeleteItem", table, key, idempotent, o),
                guarded.request(), r -> clock.now());
        return !guarded.guarded() ? routed : routed.recovering(recovery(guarded.stamp(), false,
                request.conditionExpression(), request.returnValuesOnConditionCheckFailure(),
                item -> DeleteItemResponse.builder().build()), guarded.stamp());
    }

    /**
     * What a guarded single-item write's failed condition means (see {@link WriteGuard.Verdict}): this write already
     * applied, or superseded by a newer one without a condition of the caller's, is a success, answered by
     * {@code response} (given the stored item, or {@code null} when superseded); anything else is thrown, without the
     * stored item unless the caller asked for it. Every other failure is thrown as it is.
     */
    private <S> Routed.Recovery<S> recovery(long stamp, boolean writesStamp, String callerCondition,
            ReturnValuesOnConditionCheckFailure callerAsked, Function<Map<String, AttributeValue>, S> response) {
        boolean conditional = WriteGuard.hasText(callerCondition);
        boolean keepItem = callerAsked == ReturnValuesOnConditionCheckFailure.ALL_OLD;
        return (failure, region, span) -> {
            if (!(failure instanceof ConditionalCheckFailedException e)) {
                throw failure;
            }
            Map<String, AttributeValue> item = e.hasItem() ? e.item() : null;
            long stored = stamper.stampOf(item);
            observed(stored); // a later write of this process then orders after the stored one
            switch (WriteGuard.verdict(stored, stamp, writesStamp, conditional)) {
                case ALREADY_APPLIED -> {
                    guardEvent(span, ALREADY_APPLIED_EVENT, region, stamp, stored);
                    return response.apply(item);
                }
                case SUPERSEDED -> {
                    superseded.incrementAndGet();
                    guardEvent(span, SUPERSEDED_EVENT, region, stamp, stored);
                    return response.apply(null);
                }
                default -> throw keepItem ? e : WriteGuard.withoutItem(e);
            }
        };
    }

    private static void guardEvent(Span span, String name, String region, long stamp, long stored) {
        if (span != null && span.isRecording()) {
            span.addEvent(name, Attributes.of(CLOUD_REGION, region, WRITE_STAMP, stamp, STORED_STAMP, stored));
        }
    }

    // ---------------------------------------------------------------- reads of many items

    Routed<QueryRequest, QueryResponse> query(QueryRequest request) {
        return tableRead("Query", request.tableName(), request.consistentRead(), request.indexName(), request,
                () -> request.toBuilder().consistentRead(true).build());
    }

    Routed<ScanRequest, ScanResponse> scan(ScanRequest request) {
        return tableRead("Scan", request.tableName(), request.consistentRead(), request.indexName(), request,
                () -> request.toBuilder().consistentRead(true).build());
    }

    /**
     * A Query or Scan: a read of the table as a whole. {@code ConsistentRead=true} asks for STRONG; a STRONG table's
     * read of the base table (an index may not read consistently) gets {@code ConsistentRead} added.
     */
    private <Q extends DynamoDbRequest, S> Routed<Q, S> tableRead(String name, String tableName,
            Boolean consistentRead, String indexName, Q request, Supplier<Q> consistent) {
        String table = table(tableName, name);
        RequestOptions o = optionsOf(request, name, false, consistentRead);
        boolean strongAsked = Boolean.TRUE.equals(consistentRead);
        boolean addConsistentRead = !strongAsked && indexName == null
                && levelOf(table, o).kind() == ConsistencyLevel.Kind.STRONG;
        return Routed.of(read(name, table, strongAsked, null, o).build(),
                addConsistentRead ? consistent.get() : request);
    }

    Routed<BatchGetItemRequest, BatchGetItemResponse> batchGetItem(BatchGetItemRequest request) {
        Map<String, KeysAndAttributes> items = request.hasRequestItems() ? request.requestItems() : Map.of();
        String table = dataClassOf(items.keySet(), "BatchGetItem");
        boolean strongAsked = items.values().stream().anyMatch(k -> Boolean.TRUE.equals(k.consistentRead()));
        RequestOptions o = optionsOf(request, "BatchGetItem", false, null);
        return Routed.of(read("BatchGetItem", table, strongAsked, items.keySet(), o).build(), request);
    }

    Routed<TransactGetItemsRequest, TransactGetItemsResponse> transactGetItems(TransactGetItemsRequest request) {
        Set<String> tables = new TreeSet<>();
        if (request.hasTransactItems()) {
            for (TransactGetItem item : request.transactItems()) {
                if (item.get() != null && item.get().tableName() != null) {
                    tables.add(item.get().tableName());
                }
            }
        }
        RequestOptions o = optionsOf(request, "TransactGetItems", false, null);
        return Routed.of(read("TransactGetItems", dataClassOf(tables, "TransactGetItems"), false, tables, o)
                .build(), request);
    }

    Routed<SearchVectorsRequest, SearchVectorsResponse> searchVectors(SearchVectorsRequest request) {
        RequestOptions o = optionsOf(request, "SearchVectors", false, null);
        return Routed.of(read("SearchVectors", table(request.tableName(), "SearchVectors"), false, null, o).build(),
                request);
    }

    // ---------------------------------------------------------------- writes of many items

    Routed<BatchWriteItemRequest, BatchWriteItemResponse> batchWriteItem(BatchWriteItemRequest request) {
        Map<String, List<WriteRequest>> items = request.hasRequestItems() ? request.requestItems() : Map.of();
        String dataClass = dataClassOf(items.keySet(), "BatchWriteItem");
        RequestOptions o = optionsOf(request, "BatchWriteItem", true, null);
        boolean idempotent = WriteIdempotency.of(request).idempotent();
        long stamp = clock.now();
        Map<String, List<WriteRequest>> stampedItems = new LinkedHashMap<>();
        List<Written> written = new ArrayList<>();
        Set<String> putTables = new HashSet<>();
        items.forEach((table, writes) -> {
            boolean stamps = !unstamped.contains(table);
            List<WriteRequest> copy = new ArrayList<>(writes.size());
            for (WriteRequest w : writes) {
                if (w.putRequest() != null && w.putRequest().hasItem()) {
                    Map<String, AttributeValue> item = w.putRequest().item();
                    copy.add(stamps ? w.toBuilder().putRequest(p -> p.item(stamper.withStamp(item, stamp))).build()
                            : w);
                    written.add(new Written(table, stamps ? keySchemas.keyOf(table, item, "BatchWriteItem") : null,
                            stamp));
                    if (stamps) {
                        putTables.add(table);
                    }
                } else {
                    copy.add(w);
                    if (w.deleteRequest() != null) {
                        written.add(new Written(table, stamps
                                ? ItemKeys.encode(w.deleteRequest().key(), "BatchWriteItem") : null,
                                Written.AT_COMPLETION));
                    }
                }
            }
            stampedItems.put(table, copy);
        });
        BatchWriteItemRequest send = items.isEmpty() ? request : request.toBuilder().requestItems(stampedItems).build();
        Session session = o.sessionOrCurrent();
        Routed<BatchWriteItemRequest, BatchWriteItemResponse> routed = Routed.<BatchWriteItemRequest,
                BatchWriteItemResponse>of(write("BatchWriteItem", dataClass, null, idempotent, items.keySet(), session), send)
                .onAttempt(lookUps(putTables));
        if (session == null) {
            return routed;
        }
        return routed.then((response, region) -> {
            Set<String> unprocessed = new HashSet<>();
            if (response.hasUnprocessedItems()) {
                response.unprocessedItems().forEach((table, writes) -> {
                    for (WriteRequest w : writes) {
                        unprocessed.add(table + '\u0000' + keyOfWrite(table, w));
                    }
                });
            }
            record(session, written, region, unprocessed);
            return response;
        });
    }

    /**
     * Returns what starts the key-schema lookups of {@code tables} whose schema is unknown (so their puts are tracked
     * per table this time), run from the write's attempts so each DescribeTable is a child of the write's span; or
     * {@code null} when every schema is known.
     */
    private Runnable lookUps(Set<String> tables) {
        List<String> unknown = null;
        for (String t : tables) {
            if (keySchemas.needsLookUp(t)) {
                if (unknown == null) {
                    unknown = new ArrayList<>(tables.size());
                }
                unknown.add(t);
            }
        }
        if (unknown == null) {
            return null;
        }
        List<String> lookUp = unknown;
        return () -> lookUp.forEach(keySchemas::lookUpIfUnknown);
    }

    private String keyOfWrite(String table, WriteRequest w) {
        if (w.putRequest() != null) {
            return keySchemas.keyOf(table, w.putRequest().item(), "BatchWriteItem");
        }
        return w.deleteRequest() != null ? ItemKeys.encode(w.deleteRequest().key(), "BatchWriteItem") : null;
    }

    Routed<TransactWriteItemsRequest, TransactWriteItemsResponse> transactWriteItems(
            TransactWriteItemsRequest request) {
        List<TransactWriteItem> actions = request.hasTransactItems() ? request.transactItems() : List.of();
        boolean idempotent = WriteIdempotency.of(request).idempotent();
        Set<String> tables = new TreeSet<>();
        for (TransactWriteItem a : actions) {
            String t = a.put() != null ? a.put().tableName() : a.update() != null ? a.update().tableName()
                    : a.delete() != null ? a.delete().tableName()
                    : a.conditionCheck() != null ? a.conditionCheck().tableName() : null;
            if (t != null) {
                tables.add(t);
            }
        }
        // Refused before anything (a key-schema lookup included) is sent.
        String dataClass = dataClassOf(tables, "TransactWriteItems");
        List<TransactWriteItem> send = new ArrayList<>(actions.size());
        List<Written> written = new ArrayList<>();
        long stamp = clock.now();
        // By action: whether it writes the stamp (a guarded Put or Update), and whether only the guard asked for the
        // stored item on a failed condition (so it is taken out of what the caller gets).
        boolean[] writesStamp = new boolean[actions.size()];
        boolean[] strip = new boolean[actions.size()];
        boolean guarded = false;
        Set<String> putTables = new HashSet<>();
        for (TransactWriteItem a : actions) {
            int i = send.size();
            if (a.put() != null && a.put().tableName() != null) {
                Put p = a.put();
                String table = p.tableName();
                boolean stamps = !unstamped.contains(table) && p.hasItem();
                TransactWriteItem out = a;
                if (stamps) {
                    WriteGuard.Guard g = WriteGuard.of(stamper.attributeName(), stamp, p.conditionExpression(),
                            p.hasExpressionAttributeNames() ? p.expressionAttributeNames() : Map.of(),
                            p.hasExpressionAttributeValues() ? p.expressionAttributeValues() : Map.of());
                    out = a.toBuilder().put(p.toBuilder().item(stamper.withStamp(p.item(), stamp))
                            .conditionExpression(g.condition()).expressionAttributeNames(g.names())
                            .expressionAttributeValues(g.values())
                            .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build())
                            .build();
                    writesStamp[i] = true;
                    strip[i] = p.returnValuesOnConditionCheckFailure() != ReturnValuesOnConditionCheckFailure.ALL_OLD;
                    guarded = true;
                }
                send.add(out);
                written.add(new Written(table, stamps ? keySchemas.keyOf(table, p.item(), "TransactWriteItems") : null,
                        stamp));
                if (stamps) {
                    putTables.add(table);
                }
            } else if (a.update() != null && a.update().tableName() != null) {
                String table = a.update().tableName();
                TransactWriteItem out = a;
                String key = null;
                if (!unstamped.contains(table)) {
                    try {
                        out = stampUpdate(a, stamp);
                        key = ItemKeys.encode(a.update().key(), "TransactWriteItems");
                        writesStamp[i] = true;
                        strip[i] = a.update().returnValuesOnConditionCheckFailure()
                                != ReturnValuesOnConditionCheckFailure.ALL_OLD;
                        guarded = true;
                    } catch (UpdateExpression.MalformedExpressionException e) {
                        LOG.debug("TransactWriteItems update on {} sent unstamped: {}", table, e.getMessage());
                    }
                }
                send.add(out);
                written.add(new Written(table, key, stamp));
            } else if (a.delete() != null && a.delete().tableName() != null) {
                Delete d = a.delete();
                String table = d.tableName();
                TransactWriteItem out = a;
                if (!unstamped.contains(table)) {
                    WriteGuard.Guard g = WriteGuard.of(stamper.attributeName(), stamp, d.conditionExpression(),
                            d.hasExpressionAttributeNames() ? d.expressionAttributeNames() : Map.of(),
                            d.hasExpressionAttributeValues() ? d.expressionAttributeValues() : Map.of());
                    out = a.toBuilder().delete(d.toBuilder().conditionExpression(g.condition())
                            .expressionAttributeNames(g.names()).expressionAttributeValues(g.values())
                            .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build())
                            .build();
                    strip[i] = d.returnValuesOnConditionCheckFailure() != ReturnValuesOnConditionCheckFailure.ALL_OLD;
                    guarded = true;
                }
                send.add(out);
                written.add(new Written(table, unstamped.contains(table) ? null
                        : ItemKeys.encode(d.key(), "TransactWriteItems"), Written.AT_COMPLETION));
            } else {
                send.add(a);
            }
        }
        TransactWriteItemsRequest stamped = actions.isEmpty() ? request
                : request.toBuilder().transactItems(send).build();
        Session session = optionsOf(request, "TransactWriteItems", true, null).sessionOrCurrent();
        Routed<TransactWriteItemsRequest, TransactWriteItemsResponse> routed = Routed.<TransactWriteItemsRequest,
                TransactWriteItemsResponse>of(write("TransactWriteItems", dataClass, null, idempotent, tables, session), stamped)
                .onAttempt(lookUps(putTables));
        if (guarded) {
            routed = routed.recovering(transactionRecovery(stamp, writesStamp, strip), ResultWatermark.NONE);
        }
        return session == null ? routed : routed.then((response, region) -> {
            record(session, written, region, Set.of());
            return response;
        });
    }

    /**
     * What a guarded transaction's cancellation means: if any Put or Update action found its item carrying the
     * transaction's own stamp, the transaction was committed before (in this region or, replicated, in another), and
     * the cancellation of this repeat is a success. Otherwise it is thrown, without the stored items only the guard
     * asked for. A transaction is all or nothing, so it is never partly superseded: one older than an item it writes
     * is cancelled, as by a failed condition of the caller's.
     */
    private Routed.Recovery<TransactWriteItemsResponse> transactionRecovery(long stamp, boolean[] writesStamp,
            boolean[] strip) {
        return (failure, region, span) -> {
            if (!(failure instanceof TransactionCanceledException e) || !e.hasCancellationReasons()) {
                throw failure;
            }
            List<CancellationReason> reasons = e.cancellationReasons();
            long newest = ResultWatermark.NONE;
            boolean applied = false;
            for (int i = 0; i < reasons.size() && i < strip.length; i++) {
                CancellationReason r = reasons.get(i);
                if (r == null || !WriteGuard.CONDITION_FAILED.equals(r.code()) || !r.hasItem()) {
                    continue;
                }
                long stored = stamper.stampOf(r.item());
                newest = Math.max(newest, stored);
                applied |= writesStamp[i] && stored == stamp;
            }
            observed(newest);
            if (applied) {
                guardEvent(span, ALREADY_APPLIED_EVENT, region, stamp, stamp);
                return TransactWriteItemsResponse.builder().build();
            }
            throw WriteGuard.withoutItems(e, strip);
        };
    }

    /** Stamps and guards the Update action of a transaction the way {@link WriteStamper} does an UpdateItem. */
    private TransactWriteItem stampUpdate(TransactWriteItem a, long stamp) {
        Update u = a.update();
        UpdateItemRequest asRequest = UpdateItemRequest.builder().tableName(u.tableName()).key(u.key())
                .updateExpression(u.updateExpression()).conditionExpression(u.conditionExpression())
                .expressionAttributeNames(u.hasExpressionAttributeNames() ? u.expressionAttributeNames() : null)
                .expressionAttributeValues(u.hasExpressionAttributeValues() ? u.expressionAttributeValues() : null)
                .build();
        UpdateItemRequest stamped = stamper.stampGuarded(asRequest, stamp).request();
        return a.toBuilder().update(u.toBuilder().updateExpression(stamped.updateExpression())
                .conditionExpression(stamped.conditionExpression())
                .expressionAttributeNames(stamped.expressionAttributeNames())
                .expressionAttributeValues(stamped.expressionAttributeValues())
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build()).build();
    }

    /**
     * Records the writes of a batch or transaction in the session: a stamped item by its key and stamp; a delete, or
     * an item whose key is not known, at the time the call completed (later than any version a replica still holds).
     */
    private void record(Session session, List<Written> written, String region, Set<String> unprocessed) {
        long done = clock.now();
        for (Written w : written) {
            if (w.key != null && unprocessed.contains(w.table + '\u0000' + w.key)) {
                continue;
            }
            session.recordWrite(w.table, w.key, w.key != null && w.stamp != Written.AT_COMPLETION ? w.stamp : done,
                    region);
        }
    }

    /** One item a batch or transaction writes: its table, key ({@code null} if not tracked) and stamp. */
    private record Written(String table, String key, long stamp) {
        static final long AT_COMPLETION = -1;
    }

    // ---------------------------------------------------------------- PartiQL

    Routed<ExecuteStatementRequest, ExecuteStatementResponse> executeStatement(ExecuteStatementRequest request) {
        PartiQl statement = parse(request.statement(), "ExecuteStatement");
        RequestOptions o = optionsOf(request, "ExecuteStatement", !statement.read(), request.consistentRead());
        if (statement.read()) {
            return Routed.of(read("ExecuteStatement", statement.table(),
                    Boolean.TRUE.equals(request.consistentRead()), null, o).build(), request);
        }
        String stamped = stamped(statement, "ExecuteStatement");
        ExecuteStatementRequest send = stamped == null ? request : request.toBuilder().statement(stamped)
                .parameters(withStamp(request.hasParameters() ? request.parameters() : null, clock.now())).build();
        // PartiQL writes are stamped but not guarded, and tracked for the table as a whole, at the time they completed.
        return Routed.of(write("ExecuteStatement", statement.table(), null, false, o), send, r -> clock.now());
    }

    Routed<BatchExecuteStatementRequest, BatchExecuteStatementResponse> batchExecuteStatement(
            BatchExecuteStatementRequest request) {
        List<PartiQl> statements = new ArrayList<>();
        List<BatchStatementRequest> send = new ArrayList<>();
        boolean strongAsked = false;
        long stamp = 0; // taken for the first statement stamped: the batch's statements share one
        if (request.hasStatements()) {
            for (BatchStatementRequest s : request.statements()) {
                PartiQl statement = parse(s.statement(), "BatchExecuteStatement");
                statements.add(statement);
                strongAsked |= Boolean.TRUE.equals(s.consistentRead());
                String stamped = stamped(statement, "BatchExecuteStatement");
                if (stamped == null) {
                    send.add(s);
                } else {
                    stamp = stamp == 0 ? clock.now() : stamp;
                    send.add(s.toBuilder().statement(stamped)
                            .parameters(withStamp(s.hasParameters() ? s.parameters() : null, stamp)).build());
                }
            }
        }
        return partiQlBatch("BatchExecuteStatement", statements, strongAsked, request,
                stamp != 0 ? request.toBuilder().statements(send).build() : request);
    }

    Routed<ExecuteTransactionRequest, ExecuteTransactionResponse> executeTransaction(
            ExecuteTransactionRequest request) {
        List<PartiQl> statements = new ArrayList<>();
        List<ParameterizedStatement> send = new ArrayList<>();
        long stamp = 0; // taken for the first statement stamped: the transaction's statements share one
        if (request.hasTransactStatements()) {
            for (ParameterizedStatement s : request.transactStatements()) {
                PartiQl statement = parse(s.statement(), "ExecuteTransaction");
                statements.add(statement);
                String stamped = stamped(statement, "ExecuteTransaction");
                if (stamped == null) {
                    send.add(s);
                } else {
                    stamp = stamp == 0 ? clock.now() : stamp;
                    send.add(s.toBuilder().statement(stamped)
                            .parameters(withStamp(s.hasParameters() ? s.parameters() : null, stamp)).build());
                }
            }
        }
        return partiQlBatch("ExecuteTransaction", statements, false, request,
                stamp != 0 ? request.toBuilder().transactStatements(send).build() : request);
    }

    /**
     * A PartiQL batch or transaction; {@code asked} is the caller's request (for its options), {@code request} the one
     * sent.
     */
    private <Q, S> Routed<Q, S> partiQlBatch(String name, List<PartiQl> statements, boolean strongAsked,
            DynamoDbRequest asked, Q request) {
        Set<String> tables = new TreeSet<>();
        Set<String> writtenTables = new TreeSet<>();
        for (PartiQl s : statements) {
            tables.add(s.table());
            if (!s.read()) {
                writtenTables.add(s.table());
            }
        }
        String dataClass = dataClassOf(tables, name);
        RequestOptions o = optionsOf(asked, name, !writtenTables.isEmpty(), null);
        if (writtenTables.isEmpty()) {
            return Routed.of(read(name, dataClass, strongAsked, tables, o).build(), request);
        }
        Session session = o.sessionOrCurrent();
        Routed<Q, S> routed = Routed.of(write(name, dataClass, null, false, tables, session), request);
        return session == null ? routed : routed.then((response, region) -> {
            long done = clock.now();
            for (String table : writtenTables) {
                session.recordWrite(table, null, done, region);
            }
            return response;
        });
    }

    /**
     * Reads a statement; one the reader is not sure of is refused. The message names the reason and a character
     * position, never the statement's text or a literal from it (they may hold personal data).
     */
    private static PartiQl parse(String statement, String operation) {
        try {
            return PartiQl.parse(statement);
        } catch (PartiQl.UnreadableStatementException e) {
            throw new UnroutableRequestException(operation, "cannot tell for sure which table the statement touches,"
                    + " so it cannot be routed by its table's data policy: " + e.reason() + " at character "
                    + e.position() + ". Use one of DynamoDB's PartiQL forms (SELECT ... FROM \"table\", INSERT INTO"
                    + " \"table\" VALUE {...}, UPDATE \"table\" SET ..., DELETE FROM \"table\" WHERE ...; see"
                    + " docs/DYNAMODB.md, \"How PartiQL statements are read\")" + (SensitiveData.shown()
                            ? "; the statement: '" + statement + "'" : ""));
        }
    }

    /**
     * Returns a PartiQL write made to also write the stamp attribute from a first parameter (see
     * {@link PartiQl#withFirstParameterWriting}), or {@code null} if it is sent as it is: a read, a DELETE (nothing is
     * written; it is recorded at the time it completed), or a statement on an unstamped table. A statement that writes
     * the stamp attribute itself is refused: a stamp written by the caller would make a region's stale copy of the
     * item pass the session's check, and would defeat the write guard.
     */
    private String stamped(PartiQl statement, String operation) {
        String attribute = stamper.attributeName();
        if (statement.read() || unstamped.contains(statement.table())) {
            return null;
        }
        if (statement.writes(attribute)) {
            throw new IllegalArgumentException(operation + ": the " + statement.kind() + " statement on '"
                    + statement.table() + "' writes '" + attribute + "', the attribute Latitude stamps writes with;"
                    + " leave it to Latitude (remove it from the statement), or configure another stamp attribute"
                    + " (stampAttribute(...)) if the table needs this one for its own data");
        }
        return statement.withFirstParameterWriting(attribute);
    }

    /** Returns {@code parameters} (or none) with the stamp, a number, put first. */
    private static List<AttributeValue> withStamp(List<AttributeValue> parameters, long stamp) {
        List<AttributeValue> all = new ArrayList<>();
        all.add(AttributeValue.fromN(Long.toString(stamp)));
        if (parameters != null) {
            all.addAll(parameters);
        }
        return all;
    }

    // ---------------------------------------------------------------- helpers

    private static String table(String table, String operation) {
        if (table == null || table.isEmpty()) {
            throw new IllegalArgumentException(operation + " needs a TableName: the table decides where the call may"
                    + " go (its data policy); set tableName(...) on the request");
        }
        return table;
    }

    /**
     * Returns this router's options with the request's own ({@link LatitudeRequest}) merged over them. A consistency
     * level on a write, or one that contradicts the request's own {@code ConsistentRead}, is refused.
     */
    private RequestOptions optionsOf(DynamoDbRequest request, String operation, boolean write,
            Boolean consistentRead) {
        RequestOptions own = LatitudeRequest.optionsOf(request);
        if (own == null) {
            return options;
        }
        ConsistencyLevel level = own.consistency();
        if (level != null && write) {
            throw new UnroutableRequestException(operation, "a consistency level (" + level + ") was set on a write;"
                    + " consistency levels choose which regions a read may use, and writes always go to the regions"
                    + " that take writes: remove LatitudeRequest.consistency(...) from this request");
        }
        if (level != null && consistentRead != null
                && consistentRead != (level.kind() == ConsistencyLevel.Kind.STRONG)) {
            throw new UnroutableRequestException(operation, "ConsistentRead=" + consistentRead + " contradicts the"
                    + " consistency level " + level + " set with LatitudeRequest.consistency(...); ConsistentRead=true"
                    + " is STRONG: set one of the two, or make them agree");
        }
        return options.mergedWith(own);
    }

    /** Returns a read's consistency level: the options' if set, else the table's data policy's. */
    private ConsistencyLevel levelOf(String table, RequestOptions o) {
        return o.consistency() != null ? o.consistency() : policies.policyFor(table).consistency();
    }

    /**
     * Starts a read; {@code tables} lists every table of a batch (for the span), or is {@code null}. The options'
     * consistency level and session, when set, go with the operation; a caller's {@code ConsistentRead=true} is
     * STRONG whatever they say.
     */
    private Operation.Builder read(String name, String dataClass, boolean strongAsked, Collection<String> tables,
            RequestOptions o) {
        Operation.Builder b = Operation.read(name).attributes(attributes(name, dataClass, tables));
        if (dataClass != null) {
            b.dataClass(dataClass);
        }
        if (strongAsked) {
            b.consistency(ConsistencyLevel.STRONG);
        } else if (o.consistency() != null) {
            b.consistency(o.consistency());
        }
        if (o.session() != null) {
            b.session(o.session());
        }
        return b;
    }

    private Operation write(String name, String table, String key, boolean idempotent, RequestOptions o) {
        return write(name, table, key, idempotent, null, o.session());
    }

    /**
     * Makes a write; {@code tables} lists every table of a batch (for the span), or is {@code null}; {@code session}
     * is the one the caller records the batch's writes in (the engine then uses it too), or {@code null}.
     */
    private Operation write(String name, String dataClass, String key, boolean idempotent,
            Collection<String> tables, Session session) {
        Operation.Builder b = Operation.write(name).idempotent(idempotent)
                .attributes(attributes(name, dataClass, tables));
        if (dataClass != null) {
            b.dataClass(dataClass);
        }
        if (key != null) {
            b.key(key);
        }
        if (session != null) {
            b.session(session);
        }
        return b.build();
    }

    /**
     * The span attributes of an operation on one table, or on several ({@code tables}, when more than one). Cached
     * per operation and table, so a call on one table looks them up without building anything.
     */
    private Attributes attributes(String operation, String table, Collection<String> tables) {
        String scope = tables != null && tables.size() > 1 ? String.join(",", new TreeSet<>(tables))
                : table == null ? "" : table;
        Map<String, Attributes> byScope = spanAttributes.computeIfAbsent(operation, o -> new ConcurrentHashMap<>());
        Attributes a = byScope.get(scope);
        if (a != null) {
            return a;
        }
        var builder = Attributes.builder().put(DB_SYSTEM, "dynamodb").put(DB_SYSTEM_NAME, "aws.dynamodb")
                .put(DB_OPERATION, operation);
        if (tables != null && tables.size() > 1) {
            builder.put(TABLE_NAMES, List.copyOf(new TreeSet<>(tables)));
        } else if (table != null) {
            builder.put(DB_COLLECTION, table).put(TABLE_NAMES, List.of(table));
        }
        a = builder.build();
        if (byScope.size() < MAX_CACHED_ATTRIBUTES) {
            byScope.putIfAbsent(scope, a);
        }
        return a;
    }

    /**
     * Returns the data class of a request over {@code tables}: the table when there is one, the first when several
     * share one data policy; fails when their policies differ.
     */
    private String dataClassOf(Collection<String> tables, String operation) {
        if (tables.size() == 1) {
            return tables.iterator().next();
        }
        String first = null;
        DataPolicy policy = null;
        for (String t : new TreeSet<>(tables)) {
            DataPolicy p = policies.policyFor(t);
            if (first == null) {
                first = t;
                policy = p;
            } else if (!samePolicy(policy, p)) {
                throw new UnroutableRequestException(operation, "tables '" + first + "' (" + policy + ") and '" + t
                        + "' (" + p + ") have different data policies, so no one region plan honours both; split the"
                        + " request per table");
            }
        }
        return first;
    }

    private static boolean samePolicy(DataPolicy a, DataPolicy b) {
        return a == b || (a.consistency().equals(b.consistency()) && a.residency().equals(b.residency())
                && a.writeMode() == b.writeMode() && Objects.equals(a.writerRegion(), b.writerRegion()));
    }

    /** Moves this process's clock past a stamp read from an item (causality), unless it is too far ahead. */
    private long observed(long stamp) {
        if (stamp > 0) {
            try {
                clock.observe(stamp);
            } catch (ClockSkewException e) {
                if (skewRefusals.incrementAndGet() % 1000 == 1) {
                    LOG.warn("An item's write stamp is ahead of this clock by more than the skew bound; not"
                            + " followed: {}", e.getMessage());
                }
            }
        }
        return stamp;
    }

    /**
     * A GetItem request made to return the stamp attribute even if its projection leaves it out, and the way to take
     * it back out of the answer.
     */
    private static final class Projection {
        final GetItemRequest request;
        final String added;

        private Projection(GetItemRequest request, String added) {
            this.request = request;
            this.added = added;
        }

        static Projection of(GetItemRequest request, String attribute) {
            String expression = request.projectionExpression();
            if (expression != null && !expression.isBlank()) {
                Map<String, String> names = request.hasExpressionAttributeNames()
                        ? request.expressionAttributeNames() : Map.of();
                for (String path : expression.split(",")) {
                    String p = path.strip();
                    if (p.equals(attribute) || attribute.equals(names.get(p))) {
                        return new Projection(request, null); // the caller asked for the stamp already
                    }
                }
                String alias = "#latStamp";
                while (names.containsKey(alias) || expression.contains(alias)) {
                    alias = alias + "_";
                }
                Map<String, String> newNames = new HashMap<>(names);
                newNames.put(alias, attribute);
                return new Projection(request.toBuilder().projectionExpression(expression + ", " + alias)
                        .expressionAttributeNames(newNames).build(), attribute);
            }
            if (request.hasAttributesToGet() && !request.attributesToGet().isEmpty()
                    && !request.attributesToGet().contains(attribute)) {
                List<String> names = new ArrayList<>(request.attributesToGet());
                names.add(attribute);
                return new Projection(request.toBuilder().attributesToGet(names).build(), attribute);
            }
            return new Projection(request, null);
        }

        GetItemResponse strip(GetItemResponse response) {
            if (added == null || !response.hasItem() || !response.item().containsKey(added)) {
                return response;
            }
            Map<String, AttributeValue> item = new LinkedHashMap<>(response.item());
            item.remove(added);
            return response.toBuilder().item(item).build();
        }
    }
}
