package dev.latitude.dynamodb;

import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HybridLogicalClock;
import dev.latitude.Latitude;
import dev.latitude.LatitudeConfigException;
import dev.latitude.Operation;
import dev.latitude.ProbeConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RegionCall;
import dev.latitude.ResultWatermark;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.Watermark;
import dev.latitude.dynamodb.internal.Heartbeats;
import dev.latitude.dynamodb.internal.ItemKeys;
import dev.latitude.dynamodb.internal.KeySchemas;
import dev.latitude.dynamodb.internal.PartiQl;
import dev.latitude.dynamodb.internal.UpdateExpression;
import dev.latitude.spi.ReplicationWatermarks;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;
import software.amazon.awssdk.services.dynamodb.DynamoDbServiceClientConfiguration;
import software.amazon.awssdk.services.dynamodb.model.*;
import software.amazon.awssdk.services.dynamodb.waiters.DynamoDbWaiter;

/**
 * A {@link DynamoDbClient} over one DynamoDB client per region, for global tables: existing code changes only where
 * the client is built, and every call goes through Latitude's pipeline (plan, execute with fallback, verify, record).
 * <pre>{@code
 * DynamoDbClient dynamo = MultiRegionDynamoDbClient.builder()
 *         .topology(topology)                         // regions, roles, jurisdictions, the local region
 *         .buildClients(b -> b.credentialsProvider(credentials))
 *         .dataPolicies(DataPolicies.builder()
 *                 .exact("customers_eu", DataPolicy.builder().residency("EU").build())
 *                 .build())
 *         .heartbeats(HeartbeatConfig.defaults())
 *         .build();
 * }</pre>
 *
 * <h2>Routing</h2>
 * <ul>
 *   <li>Reads (GetItem, BatchGetItem, Query, Scan, TransactGetItems, SearchVectors, PartiQL SELECT) go by the read
 *       plan: the table's data policy gives the consistency level; {@code ConsistentRead=true} on a request asks for
 *       STRONG (the writer region, read with {@code ConsistentRead}).</li>
 *   <li>Writes (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems, PartiQL writes) go to the table's
 *       writer region (single-writer) or the best writable region (multi-writer). They move to another region after
 *       an ambiguous failure only when repeating them is harmless (see {@link WriteIdempotency}).</li>
 *   <li>Control-plane calls (CreateTable, DescribeTable, backups, tags, …) go to the home region
 *       ({@link Builder#homeRegion(String)}, by default the topology's local region), as they are.</li>
 *   <li>Paginators and waiters are built on this client, so every page and poll is routed too.</li>
 * </ul>
 * A batch or transaction over several tables needs their data policies to agree; otherwise it fails with
 * {@link UnroutableRequestException} before anything is sent.
 *
 * <h2>Read-your-writes</h2>
 * Writes carry a hybrid-logical-clock stamp in a number attribute ({@link Builder#stampAttribute(String)}, default
 * {@value WriteStamper#DEFAULT_ATTRIBUTE}), added to PutItem items and merged into UpdateItem's SET clause; the
 * session in effect ({@link Operation.Builder#session}, or the OpenTelemetry context) records the stamp for the key.
 * A SESSION GetItem answered by a replica is checked against it: an older item, or none, sends the read to the region
 * that took the write, with {@code ConsistentRead=true}. Deletes are recorded the same way, so a replica still holding
 * the deleted item is recognised as stale. Reads of a table as a whole (Query, Scan, batches) use replicas that
 * {@link HeartbeatConfig heartbeats} show to be caught up, else the writer. Tables listed in
 * {@link Builder#unstampedTables(String...)} are not stamped; their writes are tracked per table.
 *
 * <h2>Errors</h2>
 * Errors the service returns for the request itself ({@code ConditionalCheckFailedException},
 * {@code ValidationException}, access denied, …) are thrown as they are. When every allowed region failed the call
 * ends in {@link dev.latitude.RegionsUnavailableException} (each attempt and why, the last error as its cause); an
 * ambiguous failure of a non-idempotent write ends in {@link dev.latitude.AmbiguousWriteException}; a table pinned to
 * jurisdictions with no region left there ends in {@link dev.latitude.ResidencyException}.
 *
 * <h2>Retries</h2>
 * The per-region clients' own retries run inside one Latitude attempt: DynamoDB's default (up to 8 retries with
 * back-off, more under throttling) would hold a call in a failing region for seconds. Clients this builder makes use
 * {@link #failoverRetryStrategy()} (one quick retry); clients you pass in are checked and a warning names any that
 * retries more than twice. The attempt timeout ({@link Latitude.Builder#attemptTimeout}) caps it in any case.
 */
public final class MultiRegionDynamoDbClient implements DynamoDbClient {
    private static final Logger LOG = LoggerFactory.getLogger(MultiRegionDynamoDbClient.class);
    private static final AttributeKey<String> DB_SYSTEM = AttributeKey.stringKey("db.system");
    private static final AttributeKey<String> DB_SYSTEM_NAME = AttributeKey.stringKey("db.system.name");
    private static final AttributeKey<String> DB_OPERATION = AttributeKey.stringKey("db.operation.name");
    private static final AttributeKey<String> DB_COLLECTION = AttributeKey.stringKey("db.collection.name");
    private static final AttributeKey<List<String>> TABLE_NAMES = AttributeKey.stringArrayKey(
            "aws.dynamodb.table_names");
    private static final int MAX_WARNED_RETRIES = 3;

    private final Latitude latitude;
    private final Topology topology;
    private final DataPolicies policies;
    private final Map<String, DynamoDbClient> clients;
    private final List<DynamoDbClient> owned;
    private final String homeRegion;
    private final DynamoDbClient home;
    private final WriteStamper stamper;
    private final HybridLogicalClock clock;
    private final Set<String> unstamped;
    private final KeySchemas keySchemas;
    private final Heartbeats heartbeats;
    private final ExecutorService probeExecutor;
    private final ConcurrentHashMap<String, Attributes> spanAttributes = new ConcurrentHashMap<>();
    private final AtomicInteger skewRefusals = new AtomicInteger();

    private MultiRegionDynamoDbClient(Builder b, Map<String, DynamoDbClient> clients, List<DynamoDbClient> owned,
            Heartbeats heartbeats, ExecutorService probeExecutor, Latitude latitude) {
        this.latitude = latitude;
        this.topology = b.topology;
        this.policies = latitude.dataPolicies();
        this.clients = clients;
        this.owned = owned;
        this.homeRegion = b.homeRegion != null ? b.homeRegion : topology.localRegion().id();
        this.home = clients.get(homeRegion);
        this.clock = latitude.hybridClock();
        this.stamper = WriteStamper.create(b.stampAttribute, clock);
        this.unstamped = Set.copyOf(b.unstamped);
        this.keySchemas = new KeySchemas(b.keySchemas,
                table -> home.describeTable(r -> r.tableName(table)).table().keySchema(), Duration.ofSeconds(30));
        this.heartbeats = heartbeats;
        this.probeExecutor = probeExecutor;
    }

    /** Returns a builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the retry strategy this client's builder gives the per-region clients it makes, for clients you build
     * yourself: two attempts in all (one quick local retry), back-off 10–50 ms (25–100 ms when throttled), so a failing
     * region hands the call to the next one in tens of milliseconds rather than seconds.
     */
    public static RetryStrategy failoverRetryStrategy() {
        return AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(2)
                .backoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(10), Duration.ofMillis(50)))
                .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(25),
                        Duration.ofMillis(100)))
                .build();
    }

    /** Returns the engine routing this client's calls: its status, plans, routing policy and clocks. */
    public Latitude latitude() {
        return latitude;
    }

    /** Returns the region that takes control-plane calls. */
    public String homeRegion() {
        return homeRegion;
    }

    /** Returns the replication watermarks from heartbeats, or {@link ReplicationWatermarks#NONE} without them. */
    public ReplicationWatermarks replicationWatermarks() {
        return heartbeats != null ? heartbeats : ReplicationWatermarks.NONE;
    }

    /** Returns the write stamp attribute. */
    public String stampAttribute() {
        return stamper.attributeName();
    }

    /**
     * Returns how many write stamps read from items were further ahead of this process's clock than the clock's skew
     * bound, and so were not followed (see {@link HybridLogicalClock#observe(long)}).
     */
    public int clockSkewRefusals() {
        return skewRefusals.get();
    }

    @Override
    public String serviceName() {
        return SERVICE_NAME;
    }

    @Override
    public DynamoDbServiceClientConfiguration serviceClientConfiguration() {
        return home.serviceClientConfiguration();
    }

    @Override
    public DynamoDbWaiter waiter() {
        return DynamoDbWaiter.builder().client(this).build();
    }

    // ---------------------------------------------------------------- single-item reads and writes

    @Override
    public GetItemResponse getItem(GetItemRequest request) {
        String table = table(request.tableName(), "GetItem");
        boolean strongAsked = Boolean.TRUE.equals(request.consistentRead());
        ConsistencyLevel level = strongAsked ? ConsistencyLevel.STRONG : policies.policyFor(table).consistency();
        String key = ItemKeys.encode(request.key());
        Operation.Builder ob = read("GetItem", table, strongAsked);
        if (key != null) {
            ob.key(key);
        }
        Operation op = ob.build();
        if (level.kind() == ConsistencyLevel.Kind.STRONG) {
            GetItemRequest consistent = strongAsked ? request : request.toBuilder().consistentRead(true).build();
            return latitude.execute(op, r -> client(r).getItem(consistent));
        }
        if (level.kind() != ConsistencyLevel.Kind.SESSION || unstamped.contains(table)) {
            return latitude.execute(op, r -> client(r).getItem(request));
        }
        // SESSION: the answer is checked against the session's write stamp for this key (or the table's); the region
        // that took the write is read with ConsistentRead, so its answer includes the write.
        Projection projection = Projection.of(request, stamper.attributeName());
        GetItemRequest send = projection.request;
        Session session = Session.current();
        Watermark required = session == null ? null : session.token().requirement(table, key);
        String writeRegion = required == null ? null : required.region();
        GetItemRequest consistent = writeRegion == null ? send : send.toBuilder().consistentRead(true).build();
        GetItemResponse response = latitude.execute(op,
                r -> client(r).getItem(r.id().equals(writeRegion) ? consistent : send),
                this::stampOfGet);
        return projection.strip(response);
    }

    private long stampOfGet(GetItemResponse response) {
        return observed(response.hasItem() ? stamper.stampOf(response.item()) : ResultWatermark.NONE);
    }

    @Override
    public PutItemResponse putItem(PutItemRequest request) {
        String table = table(request.tableName(), "PutItem");
        boolean idempotent = WriteIdempotency.of(request).idempotent();
        if (unstamped.contains(table)) {
            return latitude.execute(write("PutItem", table, null, idempotent).build(), r -> client(r).putItem(request),
                    r -> clock.now());
        }
        WriteStamper.Stamped<PutItemRequest> stamped = stamper.stamp(request);
        PutItemRequest send = stamped.request();
        long stamp = stamped.stamp();
        String key = request.hasItem() ? keySchemas.keyOf(table, request.item()) : null;
        return latitude.execute(write("PutItem", table, key, idempotent).build(), r -> client(r).putItem(send), r -> stamp);
    }

    @Override
    public UpdateItemResponse updateItem(UpdateItemRequest request) {
        String table = table(request.tableName(), "UpdateItem");
        boolean idempotent = WriteIdempotency.of(request).idempotent();
        String key = ItemKeys.encode(request.key());
        if (!unstamped.contains(table)) {
            try {
                WriteStamper.Stamped<UpdateItemRequest> stamped = stamper.stamp(request);
                UpdateItemRequest send = stamped.request();
                long stamp = stamped.stamp();
                return latitude.execute(write("UpdateItem", table, key, idempotent).build(),
                        r -> client(r).updateItem(send), r -> stamp);
            } catch (UpdateExpression.MalformedExpressionException e) {
                // The service is the judge of the expression: send it as it is, tracked for the table as a whole.
                LOG.debug("UpdateItem on {} sent unstamped: {}", table, e.getMessage());
            }
        }
        return latitude.execute(write("UpdateItem", table, null, idempotent).build(), r -> client(r).updateItem(request),
                r -> clock.now());
    }

    @Override
    public DeleteItemResponse deleteItem(DeleteItemRequest request) {
        String table = table(request.tableName(), "DeleteItem");
        boolean idempotent = WriteIdempotency.of(request).idempotent();
        String key = unstamped.contains(table) ? null : ItemKeys.encode(request.key());
        // The delete's watermark is taken when it has completed: any version of the item a replica still holds is
        // older, so it is recognised as stale.
        return latitude.execute(write("DeleteItem", table, key, idempotent).build(), r -> client(r).deleteItem(request),
                r -> clock.now());
    }

    // ---------------------------------------------------------------- reads of many items

    @Override
    public QueryResponse query(QueryRequest request) {
        String table = table(request.tableName(), "Query");
        boolean strongAsked = Boolean.TRUE.equals(request.consistentRead());
        Operation op = read("Query", table, strongAsked).build();
        QueryRequest send = strongRead(table, strongAsked, request.indexName())
                ? request.toBuilder().consistentRead(true).build() : request;
        return latitude.execute(op, r -> client(r).query(send));
    }

    @Override
    public ScanResponse scan(ScanRequest request) {
        String table = table(request.tableName(), "Scan");
        boolean strongAsked = Boolean.TRUE.equals(request.consistentRead());
        Operation op = read("Scan", table, strongAsked).build();
        ScanRequest send = strongRead(table, strongAsked, request.indexName())
                ? request.toBuilder().consistentRead(true).build() : request;
        return latitude.execute(op, r -> client(r).scan(send));
    }

    @Override
    public BatchGetItemResponse batchGetItem(BatchGetItemRequest request) {
        Map<String, KeysAndAttributes> items = request.hasRequestItems() ? request.requestItems() : Map.of();
        String table = dataClassOf(items.keySet(), "BatchGetItem");
        boolean strongAsked = items.values().stream().anyMatch(k -> Boolean.TRUE.equals(k.consistentRead()));
        Operation op = read("BatchGetItem", table, strongAsked).build();
        return latitude.execute(op, r -> client(r).batchGetItem(request));
    }

    @Override
    public TransactGetItemsResponse transactGetItems(TransactGetItemsRequest request) {
        Set<String> tables = new TreeSet<>();
        if (request.hasTransactItems()) {
            for (TransactGetItem item : request.transactItems()) {
                if (item.get() != null && item.get().tableName() != null) {
                    tables.add(item.get().tableName());
                }
            }
        }
        Operation op = read("TransactGetItems", dataClassOf(tables, "TransactGetItems"), false).build();
        return latitude.execute(op, r -> client(r).transactGetItems(request));
    }

    @Override
    public SearchVectorsResponse searchVectors(SearchVectorsRequest request) {
        Operation op = read("SearchVectors", table(request.tableName(), "SearchVectors"), false).build();
        return latitude.execute(op, r -> client(r).searchVectors(request));
    }

    // ---------------------------------------------------------------- writes of many items

    @Override
    public BatchWriteItemResponse batchWriteItem(BatchWriteItemRequest request) {
        Map<String, List<WriteRequest>> items = request.hasRequestItems() ? request.requestItems() : Map.of();
        String dataClass = dataClassOf(items.keySet(), "BatchWriteItem");
        boolean idempotent = WriteIdempotency.of(request).idempotent();
        long stamp = clock.now();
        Map<String, List<WriteRequest>> stampedItems = new LinkedHashMap<>();
        List<Object[]> written = new ArrayList<>(); // {table, key or null, stamp or null: when it completed}
        items.forEach((table, writes) -> {
            boolean stamps = !unstamped.contains(table);
            List<WriteRequest> copy = new ArrayList<>(writes.size());
            for (WriteRequest w : writes) {
                if (w.putRequest() != null && w.putRequest().hasItem()) {
                    Map<String, AttributeValue> item = w.putRequest().item();
                    copy.add(stamps ? w.toBuilder().putRequest(p -> p.item(stamper.withStamp(item, stamp))).build()
                            : w);
                    written.add(new Object[] {table, stamps ? keySchemas.keyOf(table, item) : null, stamp});
                } else {
                    copy.add(w);
                    if (w.deleteRequest() != null) {
                        written.add(new Object[] {table, stamps ? ItemKeys.encode(w.deleteRequest().key()) : null,
                            null});
                    }
                }
            }
            stampedItems.put(table, copy);
        });
        BatchWriteItemRequest send = items.isEmpty() ? request : request.toBuilder().requestItems(stampedItems).build();
        Session session = Session.current();
        Answer<BatchWriteItemResponse> answer = latitude.execute(write("BatchWriteItem", dataClass, null, idempotent)
                .build(), r -> new Answer<>(client(r).batchWriteItem(send), r.id()));
        if (session != null) {
            Set<String> unprocessed = new HashSet<>();
            BatchWriteItemResponse response = answer.response;
            if (response.hasUnprocessedItems()) {
                response.unprocessedItems().forEach((table, writes) -> {
                    for (WriteRequest w : writes) {
                        unprocessed.add(table + '\u0000' + keyOfWrite(table, w));
                    }
                });
            }
            recordWrites(session, written, answer.region, unprocessed);
        }
        return answer.response;
    }

    /**
     * Records the writes of a batch or transaction in the session: a stamped item by its key and stamp; a delete, or
     * an item whose key is not known, at the time the call completed (later than any version a replica still holds).
     */
    private void recordWrites(Session session, List<Object[]> written, String region, Set<String> unprocessed) {
        long done = clock.now();
        for (Object[] w : written) {
            String table = (String) w[0];
            String key = (String) w[1];
            if (key != null && unprocessed.contains(table + '\u0000' + key)) {
                continue;
            }
            session.recordWrite(table, key, key != null && w[2] != null ? (Long) w[2] : done, region);
        }
    }

    private String keyOfWrite(String table, WriteRequest w) {
        if (w.putRequest() != null) {
            return keySchemas.keyOf(table, w.putRequest().item());
        }
        return w.deleteRequest() != null ? ItemKeys.encode(w.deleteRequest().key()) : null;
    }

    @Override
    public TransactWriteItemsResponse transactWriteItems(TransactWriteItemsRequest request) {
        List<TransactWriteItem> actions = request.hasTransactItems() ? request.transactItems() : List.of();
        boolean idempotent = WriteIdempotency.of(request).idempotent();
        Set<String> tables = new TreeSet<>();
        List<TransactWriteItem> send = new ArrayList<>(actions.size());
        List<Object[]> written = new ArrayList<>(); // {table, key or null, stamp or null}
        long putStamp = clock.now();
        for (TransactWriteItem a : actions) {
            if (a.put() != null && a.put().tableName() != null) {
                String table = a.put().tableName();
                tables.add(table);
                boolean stamps = !unstamped.contains(table) && a.put().hasItem();
                send.add(stamps ? a.toBuilder().put(a.put().toBuilder().item(stamper.withStamp(a.put().item(),
                        putStamp)).build()).build() : a);
                written.add(new Object[] {table, stamps ? keySchemas.keyOf(table, a.put().item()) : null,
                        putStamp});
            } else if (a.update() != null && a.update().tableName() != null) {
                String table = a.update().tableName();
                tables.add(table);
                Object[] entry = {table, null, null};
                TransactWriteItem out = a;
                if (!unstamped.contains(table)) {
                    try {
                        out = stampUpdate(a);
                        entry[1] = ItemKeys.encode(a.update().key());
                        entry[2] = putStamp;
                    } catch (UpdateExpression.MalformedExpressionException e) {
                        LOG.debug("TransactWriteItems update on {} sent unstamped: {}", table, e.getMessage());
                    }
                }
                send.add(out);
                written.add(entry);
            } else if (a.delete() != null && a.delete().tableName() != null) {
                String table = a.delete().tableName();
                tables.add(table);
                send.add(a);
                written.add(new Object[] {table, unstamped.contains(table) ? null
                        : ItemKeys.encode(a.delete().key()), null});
            } else {
                if (a.conditionCheck() != null && a.conditionCheck().tableName() != null) {
                    tables.add(a.conditionCheck().tableName());
                }
                send.add(a);
            }
        }
        String dataClass = dataClassOf(tables, "TransactWriteItems");
        TransactWriteItemsRequest stamped = actions.isEmpty() ? request
                : request.toBuilder().transactItems(send).build();
        Session session = Session.current();
        Answer<TransactWriteItemsResponse> answer = latitude.execute(
                write("TransactWriteItems", dataClass, null, idempotent).build(),
                r -> new Answer<>(client(r).transactWriteItems(stamped), r.id()));
        if (session != null) {
            recordWrites(session, written, answer.region, Set.of());
        }
        return answer.response;
    }

    /** Stamps the Update action of a transaction the way {@link WriteStamper} stamps an UpdateItem. */
    private TransactWriteItem stampUpdate(TransactWriteItem a) {
        Update u = a.update();
        UpdateItemRequest asRequest = UpdateItemRequest.builder().tableName(u.tableName()).key(u.key())
                .updateExpression(u.updateExpression()).conditionExpression(u.conditionExpression())
                .expressionAttributeNames(u.hasExpressionAttributeNames() ? u.expressionAttributeNames() : null)
                .expressionAttributeValues(u.hasExpressionAttributeValues() ? u.expressionAttributeValues() : null)
                .build();
        UpdateItemRequest stamped = stamper.stamp(asRequest).request();
        return a.toBuilder().update(u.toBuilder().updateExpression(stamped.updateExpression())
                .expressionAttributeNames(stamped.expressionAttributeNames())
                .expressionAttributeValues(stamped.expressionAttributeValues()).build()).build();
    }

    // ---------------------------------------------------------------- PartiQL

    @Override
    public ExecuteStatementResponse executeStatement(ExecuteStatementRequest request) {
        PartiQl statement = parse(request.statement(), "ExecuteStatement");
        if (statement.read()) {
            Operation op = read("ExecuteStatement", statement.table(),
                    Boolean.TRUE.equals(request.consistentRead())).build();
            return latitude.execute(op, r -> client(r).executeStatement(request));
        }
        // PartiQL writes are not stamped: they are tracked for the table as a whole, at the time they completed.
        return latitude.execute(write("ExecuteStatement", statement.table(), null, false).build(),
                r -> client(r).executeStatement(request), r -> clock.now());
    }

    @Override
    public BatchExecuteStatementResponse batchExecuteStatement(BatchExecuteStatementRequest request) {
        List<BatchStatementRequest> statements = request.hasStatements() ? request.statements() : List.of();
        List<String> texts = new ArrayList<>(statements.size());
        boolean strongAsked = false;
        for (BatchStatementRequest s : statements) {
            texts.add(s.statement());
            strongAsked |= Boolean.TRUE.equals(s.consistentRead());
        }
        return partiQlBatch("BatchExecuteStatement", texts, strongAsked,
                r -> client(r).batchExecuteStatement(request));
    }

    @Override
    public ExecuteTransactionResponse executeTransaction(ExecuteTransactionRequest request) {
        List<String> texts = new ArrayList<>();
        if (request.hasTransactStatements()) {
            for (ParameterizedStatement s : request.transactStatements()) {
                texts.add(s.statement());
            }
        }
        return partiQlBatch("ExecuteTransaction", texts, false, r -> client(r).executeTransaction(request));
    }

    private <T> T partiQlBatch(String name, List<String> texts, boolean strongAsked,
            RegionCall<T, RuntimeException> call) {
        Set<String> tables = new TreeSet<>();
        Set<String> writtenTables = new TreeSet<>();
        for (String text : texts) {
            PartiQl s = parse(text, name);
            tables.add(s.table());
            if (!s.read()) {
                writtenTables.add(s.table());
            }
        }
        String dataClass = dataClassOf(tables, name);
        if (writtenTables.isEmpty()) {
            return latitude.execute(read(name, dataClass, strongAsked).build(), call);
        }
        Session session = Session.current();
        Answer<T> answer = latitude.execute(write(name, dataClass, null, false).build(),
                r -> new Answer<>(call.call(r), r.id()));
        if (session != null) {
            long done = clock.now();
            for (String table : writtenTables) {
                session.recordWrite(table, null, done, answer.region);
            }
        }
        return answer.response;
    }

    private static PartiQl parse(String statement, String operation) {
        PartiQl parsed = PartiQl.parse(statement);
        if (parsed == null) {
            throw new UnroutableRequestException(operation, "cannot tell which table the statement touches, so it"
                    + " cannot be routed by its table's data policy: '" + abbreviate(statement) + "'. Use one of"
                    + " DynamoDB's PartiQL forms (SELECT ... FROM \"table\", INSERT INTO \"table\", UPDATE \"table\","
                    + " DELETE FROM \"table\")");
        }
        return parsed;
    }

    private static String abbreviate(String s) {
        return s == null ? "null" : s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }

    // ---------------------------------------------------------------- control plane: the home region, as is

    @Override
    public CreateTableResponse createTable(CreateTableRequest request) {
        return home.createTable(request);
    }

    @Override
    public DeleteTableResponse deleteTable(DeleteTableRequest request) {
        return home.deleteTable(request);
    }

    @Override
    public DescribeTableResponse describeTable(DescribeTableRequest request) {
        return home.describeTable(request);
    }

    @Override
    public UpdateTableResponse updateTable(UpdateTableRequest request) {
        return home.updateTable(request);
    }

    @Override
    public ListTablesResponse listTables(ListTablesRequest request) {
        return home.listTables(request);
    }

    @Override
    public ListTablesResponse listTables() {
        return listTables(ListTablesRequest.builder().build());
    }

    @Override
    public CreateBackupResponse createBackup(CreateBackupRequest request) {
        return home.createBackup(request);
    }

    @Override
    public DeleteBackupResponse deleteBackup(DeleteBackupRequest request) {
        return home.deleteBackup(request);
    }

    @Override
    public DescribeBackupResponse describeBackup(DescribeBackupRequest request) {
        return home.describeBackup(request);
    }

    @Override
    public ListBackupsResponse listBackups(ListBackupsRequest request) {
        return home.listBackups(request);
    }

    @Override
    public ListBackupsResponse listBackups() {
        return listBackups(ListBackupsRequest.builder().build());
    }

    @Override
    public RestoreTableFromBackupResponse restoreTableFromBackup(RestoreTableFromBackupRequest request) {
        return home.restoreTableFromBackup(request);
    }

    @Override
    public RestoreTableToPointInTimeResponse restoreTableToPointInTime(RestoreTableToPointInTimeRequest request) {
        return home.restoreTableToPointInTime(request);
    }

    @Override
    public DescribeContinuousBackupsResponse describeContinuousBackups(DescribeContinuousBackupsRequest request) {
        return home.describeContinuousBackups(request);
    }

    @Override
    public UpdateContinuousBackupsResponse updateContinuousBackups(UpdateContinuousBackupsRequest request) {
        return home.updateContinuousBackups(request);
    }

    @Override
    public CreateGlobalTableResponse createGlobalTable(CreateGlobalTableRequest request) {
        return home.createGlobalTable(request);
    }

    @Override
    public DescribeGlobalTableResponse describeGlobalTable(DescribeGlobalTableRequest request) {
        return home.describeGlobalTable(request);
    }

    @Override
    public DescribeGlobalTableSettingsResponse describeGlobalTableSettings(
            DescribeGlobalTableSettingsRequest request) {
        return home.describeGlobalTableSettings(request);
    }

    @Override
    public ListGlobalTablesResponse listGlobalTables(ListGlobalTablesRequest request) {
        return home.listGlobalTables(request);
    }

    @Override
    public ListGlobalTablesResponse listGlobalTables() {
        return listGlobalTables(ListGlobalTablesRequest.builder().build());
    }

    @Override
    public UpdateGlobalTableResponse updateGlobalTable(UpdateGlobalTableRequest request) {
        return home.updateGlobalTable(request);
    }

    @Override
    public UpdateGlobalTableSettingsResponse updateGlobalTableSettings(UpdateGlobalTableSettingsRequest request) {
        return home.updateGlobalTableSettings(request);
    }

    @Override
    public DescribeTableReplicaAutoScalingResponse describeTableReplicaAutoScaling(
            DescribeTableReplicaAutoScalingRequest request) {
        return home.describeTableReplicaAutoScaling(request);
    }

    @Override
    public UpdateTableReplicaAutoScalingResponse updateTableReplicaAutoScaling(
            UpdateTableReplicaAutoScalingRequest request) {
        return home.updateTableReplicaAutoScaling(request);
    }

    @Override
    public DescribeContributorInsightsResponse describeContributorInsights(
            DescribeContributorInsightsRequest request) {
        return home.describeContributorInsights(request);
    }

    @Override
    public ListContributorInsightsResponse listContributorInsights(ListContributorInsightsRequest request) {
        return home.listContributorInsights(request);
    }

    @Override
    public UpdateContributorInsightsResponse updateContributorInsights(UpdateContributorInsightsRequest request) {
        return home.updateContributorInsights(request);
    }

    @Override
    public DescribeEndpointsResponse describeEndpoints(DescribeEndpointsRequest request) {
        return home.describeEndpoints(request);
    }

    @Override
    public DescribeEndpointsResponse describeEndpoints() {
        return describeEndpoints(DescribeEndpointsRequest.builder().build());
    }

    @Override
    public DescribeLimitsResponse describeLimits(DescribeLimitsRequest request) {
        return home.describeLimits(request);
    }

    @Override
    public DescribeLimitsResponse describeLimits() {
        return describeLimits(DescribeLimitsRequest.builder().build());
    }

    @Override
    public DescribeExportResponse describeExport(DescribeExportRequest request) {
        return home.describeExport(request);
    }

    @Override
    public ExportTableToPointInTimeResponse exportTableToPointInTime(ExportTableToPointInTimeRequest request) {
        return home.exportTableToPointInTime(request);
    }

    @Override
    public ListExportsResponse listExports(ListExportsRequest request) {
        return home.listExports(request);
    }

    @Override
    public DescribeImportResponse describeImport(DescribeImportRequest request) {
        return home.describeImport(request);
    }

    @Override
    public ImportTableResponse importTable(ImportTableRequest request) {
        return home.importTable(request);
    }

    @Override
    public ListImportsResponse listImports(ListImportsRequest request) {
        return home.listImports(request);
    }

    @Override
    public DescribeKinesisStreamingDestinationResponse describeKinesisStreamingDestination(
            DescribeKinesisStreamingDestinationRequest request) {
        return home.describeKinesisStreamingDestination(request);
    }

    @Override
    public EnableKinesisStreamingDestinationResponse enableKinesisStreamingDestination(
            EnableKinesisStreamingDestinationRequest request) {
        return home.enableKinesisStreamingDestination(request);
    }

    @Override
    public DisableKinesisStreamingDestinationResponse disableKinesisStreamingDestination(
            DisableKinesisStreamingDestinationRequest request) {
        return home.disableKinesisStreamingDestination(request);
    }

    @Override
    public UpdateKinesisStreamingDestinationResponse updateKinesisStreamingDestination(
            UpdateKinesisStreamingDestinationRequest request) {
        return home.updateKinesisStreamingDestination(request);
    }

    @Override
    public DescribeTimeToLiveResponse describeTimeToLive(DescribeTimeToLiveRequest request) {
        return home.describeTimeToLive(request);
    }

    @Override
    public UpdateTimeToLiveResponse updateTimeToLive(UpdateTimeToLiveRequest request) {
        return home.updateTimeToLive(request);
    }

    @Override
    public ListTagsOfResourceResponse listTagsOfResource(ListTagsOfResourceRequest request) {
        return home.listTagsOfResource(request);
    }

    @Override
    public TagResourceResponse tagResource(TagResourceRequest request) {
        return home.tagResource(request);
    }

    @Override
    public UntagResourceResponse untagResource(UntagResourceRequest request) {
        return home.untagResource(request);
    }

    @Override
    public GetResourcePolicyResponse getResourcePolicy(GetResourcePolicyRequest request) {
        return home.getResourcePolicy(request);
    }

    @Override
    public PutResourcePolicyResponse putResourcePolicy(PutResourcePolicyRequest request) {
        return home.putResourcePolicy(request);
    }

    @Override
    public DeleteResourcePolicyResponse deleteResourcePolicy(DeleteResourcePolicyRequest request) {
        return home.deleteResourcePolicy(request);
    }

    /** Stops the heartbeats and the engine, and closes the region clients this client's builder made. */
    @Override
    public void close() {
        if (heartbeats != null) {
            heartbeats.close();
        }
        if (probeExecutor != null) {
            probeExecutor.shutdownNow();
        }
        latitude.close();
        for (DynamoDbClient c : owned) {
            try {
                c.close();
            } catch (RuntimeException e) {
                LOG.warn("Closing a region client failed", e);
            }
        }
    }

    @Override
    public String toString() {
        return "MultiRegionDynamoDbClient[regions=" + clients.keySet() + ", home=" + homeRegion + "]";
    }

    // ---------------------------------------------------------------- helpers

    private DynamoDbClient client(RegionSpec region) {
        return clients.get(region.id());
    }

    private static String table(String table, String operation) {
        if (table == null || table.isEmpty()) {
            throw new IllegalArgumentException(operation + " needs a TableName: the table decides where the call may"
                    + " go (its data policy); set tableName(...) on the request");
        }
        return table;
    }

    /** Whether a Query or Scan must read with {@code ConsistentRead} (a STRONG table, on the base table or an LSI). */
    private boolean strongRead(String table, boolean strongAsked, String indexName) {
        return !strongAsked && indexName == null
                && policies.policyFor(table).consistency().kind() == ConsistencyLevel.Kind.STRONG;
    }

    private Operation.Builder read(String name, String table, boolean strongAsked) {
        Operation.Builder b = Operation.read(name).attributes(attributes(name, table));
        if (table != null) {
            b.dataClass(table);
        }
        if (strongAsked) {
            b.consistency(ConsistencyLevel.STRONG);
        }
        return b;
    }

    private Operation.Builder write(String name, String table, String key, boolean idempotent) {
        Operation.Builder b = Operation.write(name).idempotent(idempotent).attributes(attributes(name, table));
        if (table != null) {
            b.dataClass(table);
        }
        if (key != null) {
            b.key(key);
        }
        return b;
    }

    private Attributes attributes(String operation, String table) {
        String cacheKey = table == null ? operation : operation + '\u0000' + table;
        Attributes a = spanAttributes.get(cacheKey);
        if (a != null) {
            return a;
        }
        var builder = Attributes.builder().put(DB_SYSTEM, "dynamodb").put(DB_SYSTEM_NAME, "aws.dynamodb")
                .put(DB_OPERATION, operation);
        if (table != null) {
            builder.put(DB_COLLECTION, table).put(TABLE_NAMES, List.of(table));
        }
        a = builder.build();
        if (spanAttributes.size() < 10_000) {
            spanAttributes.putIfAbsent(cacheKey, a);
        }
        return a;
    }

    /**
     * Returns the data class of a request over {@code tables}: the table when there is one, the first when several
     * share one data policy; fails when their policies differ.
     */
    private String dataClassOf(Collection<String> tables, String operation) {
        if (tables.isEmpty()) {
            return null;
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
            } catch (dev.latitude.ClockSkewException e) {
                if (skewRefusals.incrementAndGet() % 1000 == 1) {
                    LOG.warn("An item's write stamp is ahead of this clock by more than the skew bound; not"
                            + " followed: {}", e.getMessage());
                }
            }
        }
        return stamp;
    }

    /** A response and the region that gave it. */
    private record Answer<T>(T response, String region) {
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
                if (names.containsValue(attribute) && expression.contains("#")) {
                    for (Map.Entry<String, String> e : names.entrySet()) {
                        if (e.getValue().equals(attribute) && expression.contains(e.getKey())) {
                            return new Projection(request, null);
                        }
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

    /**
     * Builds a {@link MultiRegionDynamoDbClient}. Required: {@link #topology(Topology)} and a client for every region
     * of it ({@link #regionClient(String, DynamoDbClient)}, or {@link #buildClients(Consumer)} for the rest).
     */
    public static final class Builder {
        private Topology topology;
        private final Map<String, DynamoDbClient> given = new LinkedHashMap<>();
        private Consumer<DynamoDbClientBuilder> clientSettings;
        private String homeRegion;
        private DataPolicies dataPolicies;
        private Consumer<Latitude.Builder> router;
        private String stampAttribute = WriteStamper.DEFAULT_ATTRIBUTE;
        private final Set<String> unstamped = new HashSet<>();
        private final Map<String, List<String>> keySchemas = new HashMap<>();
        private HeartbeatConfig heartbeats;
        private ProbeConfig probe;

        private Builder() {
        }

        /**
         * Sets the regions: ids (the AWS region names), roles, jurisdictions, locations and the local region.
         *
         * @param topology the topology
         * @return this builder
         */
        public Builder topology(Topology topology) {
            this.topology = Objects.requireNonNull(topology, "topology");
            return this;
        }

        /**
         * Uses {@code client} for region {@code regionId}. The client stays yours: closing this client does not close
         * it. Give it {@link #failoverRetryStrategy()} so its own retries do not hold up a failover.
         *
         * @param regionId a region of the topology
         * @param client the region's client
         * @return this builder
         */
        public Builder regionClient(String regionId, DynamoDbClient client) {
            Objects.requireNonNull(regionId, "regionId");
            if (given.putIfAbsent(regionId, Objects.requireNonNull(client, "client")) != null) {
                throw new LatitudeConfigException("regionClient", "region '" + regionId + "' was given two clients;"
                        + " give one per region");
            }
            return this;
        }

        /**
         * Builds a client for every region not given one: {@code DynamoDbClient.builder()} with the region and
         * {@link #failoverRetryStrategy()}, then {@code settings} (credentials, HTTP client, endpoint override for
         * tests). These clients are closed with this one.
         *
         * @param settings applied to each region's builder
         * @return this builder
         */
        public Builder buildClients(Consumer<DynamoDbClientBuilder> settings) {
            this.clientSettings = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /**
         * Sets the region that takes control-plane calls (default: the topology's local region).
         *
         * @param regionId a region of the topology
         * @return this builder
         */
        public Builder homeRegion(String regionId) {
            this.homeRegion = Objects.requireNonNull(regionId, "homeRegion");
            return this;
        }

        /**
         * Sets the data policies, by table name: consistency, residency and write mode.
         *
         * @param policies the policies
         * @return this builder
         */
        public Builder dataPolicies(DataPolicies policies) {
            this.dataPolicies = Objects.requireNonNull(policies, "dataPolicies");
            return this;
        }

        /**
         * Adjusts the routing engine: routing policy, timeouts, breaker, hedging, OpenTelemetry, clocks. The topology,
         * data policies, error classifier, replication watermarks and health probe are set by this builder.
         *
         * @param settings applied to the engine's builder
         * @return this builder
         */
        public Builder router(Consumer<Latitude.Builder> settings) {
            this.router = Objects.requireNonNull(settings, "router");
            return this;
        }

        /**
         * Sets the number attribute writes are stamped with (default {@value WriteStamper#DEFAULT_ATTRIBUTE}).
         *
         * @param attribute the attribute name
         * @return this builder
         * @throws LatitudeConfigException if empty or longer than DynamoDB allows
         */
        public Builder stampAttribute(String attribute) {
            if (attribute == null || attribute.isEmpty() || attribute.length() > 255) {
                throw new LatitudeConfigException("stampAttribute", "'" + attribute + "' is not an attribute name;"
                        + " give 1 to 255 characters, such as '_lat_ts'");
            }
            this.stampAttribute = attribute;
            return this;
        }

        /**
         * Leaves the items of these tables as they are (no stamp attribute). Their writes are tracked per table, so a
         * session's reads of them use replicas heartbeats show to be caught up, else the writer.
         *
         * @param tables table names
         * @return this builder
         */
        public Builder unstampedTables(String... tables) {
            for (String t : tables) {
                unstamped.add(Objects.requireNonNull(t, "table"));
            }
            return this;
        }

        /**
         * Gives a table's key attributes, so written items' keys are tracked without a DescribeTable.
         *
         * @param table the table
         * @param partitionKey the partition key attribute
         * @param sortKey the sort key attribute, if the table has one
         * @return this builder
         */
        public Builder keySchema(String table, String partitionKey, String... sortKey) {
            if (sortKey.length > 1) {
                throw new LatitudeConfigException("keySchema", "table '" + table + "' was given " + sortKey.length
                        + " sort keys; a DynamoDB key has a partition key and at most one sort key");
            }
            List<String> names = new ArrayList<>(2);
            names.add(Objects.requireNonNull(partitionKey, "partitionKey"));
            if (sortKey.length == 1) {
                names.add(Objects.requireNonNull(sortKey[0], "sortKey"));
            }
            keySchemas.put(Objects.requireNonNull(table, "table"), List.copyOf(names));
            return this;
        }

        /**
         * Turns on replication heartbeats (see {@link HeartbeatConfig}).
         *
         * @param config the settings
         * @return this builder
         */
        public Builder heartbeats(HeartbeatConfig config) {
            this.heartbeats = Objects.requireNonNull(config, "heartbeats");
            return this;
        }

        /**
         * Turns on active health probes: a {@code ListTables} with limit 1 per region, so a region that comes back is
         * used again without waiting for a real call to try it, and one that goes dark is noticed between calls.
         *
         * @param config interval, timeout and thresholds
         * @return this builder
         */
        public Builder healthProbes(ProbeConfig config) {
            this.probe = Objects.requireNonNull(config, "healthProbes");
            return this;
        }

        /**
         * Builds the client and starts its heartbeats.
         *
         * @return the client
         * @throws LatitudeConfigException if a setting is missing or does not fit the topology
         */
        public MultiRegionDynamoDbClient build() {
            if (topology == null) {
                throw new LatitudeConfigException("topology", "is required; give the regions with topology(...)");
            }
            for (String id : given.keySet()) {
                if (!topology.contains(id)) {
                    throw new LatitudeConfigException("regionClient", "region '" + id + "' is not in the topology "
                            + topology.regions().stream().map(RegionSpec::id).toList()
                            + "; add it to the topology or drop its client");
                }
            }
            if (homeRegion != null && !topology.contains(homeRegion)) {
                throw new LatitudeConfigException("homeRegion", "'" + homeRegion + "' is not in the topology");
            }
            Map<String, DynamoDbClient> clients = new LinkedHashMap<>();
            List<DynamoDbClient> owned = new ArrayList<>();
            for (RegionSpec r : topology.regions()) {
                DynamoDbClient c = given.get(r.id());
                if (c == null) {
                    if (clientSettings == null) {
                        throw new LatitudeConfigException("regionClient", "region '" + r.id() + "' has no client;"
                                + " give one with regionClient(\"" + r.id() + "\", client) or let the builder make"
                                + " them with buildClients(settings)");
                    }
                    c = newClient(r.id());
                    owned.add(c);
                } else {
                    warnIfRetriesStretchFailover(r.id(), c);
                }
                clients.put(r.id(), c);
            }
            Heartbeats beats = heartbeats == null ? null
                    : new Heartbeats(heartbeats, topology, Map.copyOf(clients), stampAttribute);
            ExecutorService probes = null;
            Latitude latitude;
            try {
                Latitude.Builder lb = Latitude.builder().topology(topology)
                        .errorClassifier(DynamoDbErrorClassifier.create());
                if (dataPolicies != null) {
                    lb.dataPolicies(dataPolicies);
                }
                if (beats != null) {
                    lb.replicationWatermarks(beats);
                }
                if (probe != null) {
                    ExecutorService ex = Executors.newCachedThreadPool(r -> {
                        Thread t = new Thread(r, "latitude-dynamodb-probe");
                        t.setDaemon(true);
                        return t;
                    });
                    probes = ex;
                    lb.healthProbe(region -> CompletableFuture.supplyAsync(
                            () -> clients.get(region.id()).listTables(t -> t.limit(1)), ex), probe);
                }
                if (router != null) {
                    try {
                        router.accept(lb);
                    } catch (LatitudeConfigException e) {
                        throw new LatitudeConfigException("router", e.getMessage() + " (the topology, data policies,"
                                + " error classifier, replication watermarks and health probe are set by"
                                + " MultiRegionDynamoDbClient.Builder: use its topology, dataPolicies, heartbeats and"
                                + " healthProbes)");
                    }
                }
                latitude = lb.build();
            } catch (RuntimeException e) {
                if (probes != null) {
                    probes.shutdownNow();
                }
                owned.forEach(DynamoDbClient::close);
                throw e;
            }
            MultiRegionDynamoDbClient client = new MultiRegionDynamoDbClient(this, Map.copyOf(clients),
                    List.copyOf(owned), beats, probes, latitude);
            if (beats != null) {
                beats.start(latitude.hybridClock());
            }
            return client;
        }

        private DynamoDbClient newClient(String regionId) {
            DynamoDbClientBuilder b = DynamoDbClient.builder().region(Region.of(regionId))
                    .overrideConfiguration(o -> o.retryStrategy(failoverRetryStrategy()));
            clientSettings.accept(b);
            return b.build();
        }

        private static void warnIfRetriesStretchFailover(String regionId, DynamoDbClient client) {
            try {
                Optional<RetryStrategy> strategy = client.serviceClientConfiguration().overrideConfiguration()
                        .retryStrategy();
                int attempts = strategy.map(RetryStrategy::maxAttempts).orElse(-1);
                if (attempts > MAX_WARNED_RETRIES || attempts < 0) {
                    LOG.warn("The DynamoDB client of {} {}; a failing region holds each call until they are spent"
                            + " (or the attempt timeout passes) before Latitude moves it to another region. Build it"
                            + " with .overrideConfiguration(o -> o.retryStrategy("
                            + "MultiRegionDynamoDbClient.failoverRetryStrategy()))", regionId,
                            attempts < 0 ? "uses the SDK's default retries (up to 9 attempts for DynamoDB)"
                                    : "makes up to " + attempts + " attempts per call");
                }
            } catch (RuntimeException e) {
                LOG.debug("Could not read the retry settings of the client of {}", regionId, e);
            }
        }
    }
}
