package dev.latitude.dynamodb;

import dev.latitude.aws.AttemptTimeouts;
import dev.latitude.aws.RegionClients;
import dev.latitude.aws.FailoverRetryStrategy;
import dev.latitude.ConsistencyLevel;
import dev.latitude.Latitude;
import dev.latitude.LatitudeConfigException;
import dev.latitude.RegionCall;
import dev.latitude.ResultWatermark;
import dev.latitude.Session;
import dev.latitude.dynamodb.internal.Heartbeats;
import dev.latitude.spi.HealthProbe;
import io.opentelemetry.context.Context;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
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
 * {@value WriteStamper#DEFAULT_ATTRIBUTE}), added to PutItem items and merged into UpdateItem's SET clause (PartiQL
 * INSERT and UPDATE statements get it too, as a first parameter; a statement writing it is refused); the session in
 * effect ({@link dev.latitude.Operation.Builder#session}, or the OpenTelemetry context) records the stamp for the key.
 * A SESSION GetItem answered by a replica is checked against it: an older item, or none, sends the read to the region
 * that took the write, with {@code ConsistentRead=true}. Deletes are recorded the same way, so a replica still holding
 * the deleted item is recognised as stale. Reads of a table as a whole (Query, Scan, batches) use replicas that
 * {@link HeartbeatConfig heartbeats} show to be caught up, else the writer. Tables listed in
 * {@link Builder#unstampedTables(String...)} are not stamped; their writes are tracked per table.
 *
 * <h2>Write guard</h2>
 * The stamp also guards the write: PutItem, UpdateItem and DeleteItem (and a transaction's Put, Update and Delete
 * actions) carry the condition that the stored item's stamp is missing or older than the write's own, joined to the
 * caller's condition with {@code AND}, and ask for {@code ReturnValuesOnConditionCheckFailure=ALL_OLD}. So a late or
 * repeated write never overwrites a newer one, in any region. When the guard fails: the stored item carrying this
 * write's own stamp means the write was already applied (a success); a newer stamp with no condition of the caller's
 * means the write was superseded (a success, counted in {@link #supersededWrites()}); otherwise the
 * {@code ConditionalCheckFailedException} is thrown, carrying the stored item only if the caller asked for it. A
 * transaction is a success only if it was already committed. BatchWriteItem, PartiQL, unstamped tables and requests
 * with legacy {@code Expected} conditions are not guarded.
 *
 * <h2>Errors</h2>
 * Errors the service returns for the request itself ({@code ConditionalCheckFailedException} of the caller's own
 * condition, {@code ValidationException}, access denied, …) are thrown as they are. When every allowed region failed the call
 * ends in {@link dev.latitude.RegionsUnavailableException} (each attempt and why, the last error as its cause); an
 * ambiguous failure of a non-idempotent write ends in {@link dev.latitude.AmbiguousWriteException}; a table pinned to
 * jurisdictions with no region left there ends in {@link dev.latitude.ResidencyException}.
 *
 * <h2>Retries</h2>
 * The per-region clients' own retries run inside one Latitude attempt: DynamoDB's default (up to 8 retries, 5xx
 * included, with back-off) would hold a call in a failing region for seconds and repeat non-idempotent writes there.
 * Clients this builder makes use {@link #failoverRetryStrategy()} (a throttled request is repeated once; nothing else
 * is); clients you pass in are checked and a warning names any that would make more than three attempts. Every region
 * request is cut by the SDK at what is left of the call's deadline; a first attempt on the calling thread of a call
 * that could go elsewhere also at the attempt timeout ({@link Builder#attemptTimeout}), when the engine moves on.
 *
 * <h2>Threads</h2>
 * A call runs its first attempt on the calling thread ({@link Builder#callerRunsFirstAttempt(boolean)}, on by
 * default): no thread hand-off, a few microseconds over the plain client. It is safe because every region request
 * ends by itself when the engine would move on. A read that may be hedged does so only while its region is calm (no
 * attempt there outlived its timeout, failed, or was beaten by a hedge in the last 10 s); otherwise it runs on
 * the engine's attempt threads, so that a hedge that wins answers at once while the slow attempt is still blocked in
 * its socket read.
 *
 * <h2>Per-request settings</h2>
 * {@link #withConsistency(ConsistencyLevel)} and {@link #withSession(Session)} return views of this client that share
 * everything (engine, region clients, stamps, heartbeats) and set the consistency of their reads or the session of
 * their calls; one request can carry the same settings ({@link LatitudeRequest}):
 * <pre>{@code
 * MultiRegionDynamoDbClient eventual = dynamo.withConsistency(ConsistencyLevel.EVENTUAL); // dynamo: the built client
 * dynamo.withSession(session).putItem(put);
 * dynamo.getItem(get.toBuilder().overrideConfiguration(LatitudeRequest.session(session)).build());
 * }</pre>
 *
 * <p>The non-blocking twin is {@link MultiRegionDynamoDbAsyncClient}; details in {@code docs/DYNAMODB.md}.
 */
public final class MultiRegionDynamoDbClient extends MultiRegionClientBase<DynamoDbClient> implements DynamoDbClient {
    private MultiRegionDynamoDbClient(Core core, Map<String, DynamoDbClient> clients) {
        super(core, clients);
    }

    private MultiRegionDynamoDbClient(MultiRegionDynamoDbClient of, RequestOptions options) {
        super(of.core, of.clients, of.router.with(options), true);
    }

    /**
     * Returns a view of this client whose reads use {@code level} instead of their table's consistency level, stronger
     * or weaker; their residency is never relaxed, and writes are unchanged. The view shares everything with this
     * client (engine, region clients, stamps, heartbeats, sessions); it is cheap, immutable and thread-safe, and
     * closing it does nothing. A request's own {@code ConsistentRead=true} still asks for STRONG, and
     * {@link LatitudeRequest} settings on a request take precedence. BOUNDED_STALENESS needs heartbeats
     * ({@link HeartbeatConfig}) to use replicas; without them its reads go to the regions that take the table's writes.
     *
     * @param level the consistency level of the view's reads
     * @return the view
     */
    public MultiRegionDynamoDbClient withConsistency(ConsistencyLevel level) {
        return new MultiRegionDynamoDbClient(this, new RequestOptions(Objects.requireNonNull(level, "consistency"),
                null));
    }

    /**
     * Returns a view of this client whose calls read and record in {@code session} instead of the session of the
     * current OpenTelemetry context ({@link Session#current()}); otherwise as {@link #withConsistency}. For code that
     * keeps sessions itself (a session per user, restored from a token).
     *
     * @param session the session
     * @return the view
     */
    public MultiRegionDynamoDbClient withSession(Session session) {
        return new MultiRegionDynamoDbClient(this, new RequestOptions(null, Objects.requireNonNull(session,
                "session")));
    }

    /** Returns a builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the retry strategy this client's builder gives the per-region clients it makes, for clients you build
     * yourself: a request is repeated in the same region only when DynamoDB throttled it (it was not applied), once,
     * after 25–100 ms; {@code Retry-After} hints are capped at 100 ms. Everything else (5xx, timeouts, I/O errors)
     * comes straight back to Latitude, which moves the call to another region within milliseconds, and never repeats
     * a write that may have been applied unless it is idempotent. DynamoDB's default (up to 8 retries, also of 5xx,
     * with back-off) would hold a call in a failing region for seconds and repeat non-idempotent writes there.
     */
    public static RetryStrategy failoverRetryStrategy() {
        return FailoverRetryStrategy.create(DynamoDbErrorClassifier::isThrottling);
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

    /**
     * Runs a routed call through the engine, each attempt on the planned region's client through
     * {@link Routed#call}, which turns a guarded write's failed guard into the answer it means. Each request ends
     * within the call's remaining deadline, and a first attempt on this thread within the attempt timeout too
     * ({@link AttemptTimeouts}).
     */
    private <Q extends DynamoDbRequest, S> S run(Routed<Q, S> routed, BiFunction<DynamoDbClient, Q, S> send) {
        BiFunction<Q, String, Q> bound = timeouts.bounding(routed.operation, Thread.currentThread());
        RegionCall<Routed.Answer<S>, RuntimeException> call = r -> routed.call(r, q -> send.apply(clients.get(r.id()),
                bound.apply(q, r.id())));
        ResultWatermark<Routed.Answer<S>> watermark = routed.answerWatermark();
        Routed.Answer<S> answer = watermark == null ? latitude.execute(routed.operation, call)
                : latitude.execute(routed.operation, call, watermark);
        return routed.finish(answer);
    }

    // ---------------------------------------------------------------- data plane: routed

    @Override
    public GetItemResponse getItem(GetItemRequest request) {
        return run(router.getItem(request), DynamoDbClient::getItem);
    }

    @Override
    public PutItemResponse putItem(PutItemRequest request) {
        return run(router.putItem(request), DynamoDbClient::putItem);
    }

    @Override
    public UpdateItemResponse updateItem(UpdateItemRequest request) {
        return run(router.updateItem(request), DynamoDbClient::updateItem);
    }

    @Override
    public DeleteItemResponse deleteItem(DeleteItemRequest request) {
        return run(router.deleteItem(request), DynamoDbClient::deleteItem);
    }

    @Override
    public QueryResponse query(QueryRequest request) {
        return run(router.query(request), DynamoDbClient::query);
    }

    @Override
    public ScanResponse scan(ScanRequest request) {
        return run(router.scan(request), DynamoDbClient::scan);
    }

    @Override
    public BatchGetItemResponse batchGetItem(BatchGetItemRequest request) {
        return run(router.batchGetItem(request), DynamoDbClient::batchGetItem);
    }

    @Override
    public TransactGetItemsResponse transactGetItems(TransactGetItemsRequest request) {
        return run(router.transactGetItems(request), DynamoDbClient::transactGetItems);
    }

    @Override
    public SearchVectorsResponse searchVectors(SearchVectorsRequest request) {
        return run(router.searchVectors(request), DynamoDbClient::searchVectors);
    }

    @Override
    public BatchWriteItemResponse batchWriteItem(BatchWriteItemRequest request) {
        return run(router.batchWriteItem(request), DynamoDbClient::batchWriteItem);
    }

    @Override
    public TransactWriteItemsResponse transactWriteItems(TransactWriteItemsRequest request) {
        return run(router.transactWriteItems(request), DynamoDbClient::transactWriteItems);
    }

    @Override
    public ExecuteStatementResponse executeStatement(ExecuteStatementRequest request) {
        return run(router.executeStatement(request), DynamoDbClient::executeStatement);
    }

    @Override
    public BatchExecuteStatementResponse batchExecuteStatement(BatchExecuteStatementRequest request) {
        return run(router.batchExecuteStatement(request), DynamoDbClient::batchExecuteStatement);
    }

    @Override
    public ExecuteTransactionResponse executeTransaction(ExecuteTransactionRequest request) {
        return run(router.executeTransaction(request), DynamoDbClient::executeTransaction);
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

    /**
     * Builds a {@link MultiRegionDynamoDbClient}. Required: {@link #topology} and a client for every region of it
     * ({@link #regionClient(String, DynamoDbClient)}, or {@link #buildClients(Consumer)} for the rest).
     */
    public static final class Builder extends MultiRegionBuilder<Builder> {
        private final Map<String, DynamoDbClient> given = new LinkedHashMap<>();
        private BiConsumer<String, DynamoDbClientBuilder> clientSettings;

        private Builder() {
        }

        @Override
        Builder self() {
            return this;
        }

        /**
         * Uses {@code client} for region {@code regionId}. The client stays yours: closing this client does not close
         * it. Give it {@link #failoverRetryStrategy()} so its own retries do not hold up a failover.
         *
         * @param regionId a region of the topology
         * @param client the region's client
         * @return this builder
         * @throws LatitudeConfigException if the region was already given a client
         */
        public Builder regionClient(String regionId, DynamoDbClient client) {
            addClient(given, regionId, client);
            return this;
        }

        /**
         * Builds a client for every region not given one: {@code DynamoDbClient.builder()} with the region, then
         * {@code settings} (credentials, HTTP client, endpoint override for tests), then, where those left them unset,
         * Latitude's: {@link #failoverRetryStrategy()}, the attempt timeout as {@code apiCallTimeout} and
         * {@code apiCallAttemptTimeout}, and a scheduled executor on a timer wheel that arms and cancels those
         * timeouts at next to no cost (the SDK's default executor wakes a thread twice per request for them). These
         * clients are closed with this one.
         *
         * @param settings applied to each region's builder
         * @return this builder
         */
        public Builder buildClients(Consumer<DynamoDbClientBuilder> settings) {
            return buildClients(perRegion(settings));
        }

        /**
         * Like {@link #buildClients(Consumer)}, with settings that depend on the region (an endpoint, a proxy or
         * credentials per region):
         * <pre>{@code .buildClients((region, b) -> b.endpointOverride(endpoints.get(region)))}</pre>
         *
         * @param settings given each region's id and builder
         * @return this builder
         */
        public Builder buildClients(BiConsumer<String, DynamoDbClientBuilder> settings) {
            this.clientSettings = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /**
         * Builds the client and starts its heartbeats.
         *
         * @return the client
         * @throws LatitudeConfigException if a setting is missing or does not fit the topology
         */
        public MultiRegionDynamoDbClient build() {
            Latitude.Builder engine = engineBuilder();
            List<AutoCloseable> resources = new ArrayList<>();
            RegionClients made = new RegionClients(engine.attemptTimeout(), true,
                    failoverRetryStrategy(), resources);
            Map<String, DynamoDbClient> clients = clients(given, clientSettings == null ? null
                    : id -> made.make(DynamoDbClient.builder(), id, clientSettings), resources);
            AttemptTimeouts timeouts = timeouts(engine, clients, resources, made);
            Heartbeats.Io io = Heartbeats.Io.of((region, put) -> clients.get(region).putItem(put),
                    (region, get) -> clients.get(region).batchGetItem(get));
            // The blocking clients' probe calls and key-schema lookups run on their own daemon threads, closed with the
            // client; each probe is cut by the SDK at the probe timeout and each lookup by its deadline, so a
            // blackholed region holds no thread here for long.
            ExecutorService threads = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "latitude-dynamodb-probe");
                t.setDaemon(true);
                return t;
            });
            resources.add(threads::shutdownNow);
            ListTablesRequest cheap = probeRequest(probeTimeout());
            HealthProbe probe = region -> CompletableFuture.supplyAsync(
                    () -> clients.get(region.id()).listTables(cheap), threads);
            // A key-schema lookup starts from a write's attempt and must not hold it up: it runs on the probe
            // threads, in the write's context, so its span is a child of the write's; bounded like other requests.
            Core core = core(engine, timeouts, io, probe, latitude -> table -> {
                long deadline = System.nanoTime() + KEY_SCHEMA_DEADLINE.toNanos();
                DescribeTableRequest describe = DescribeTableRequest.builder().tableName(table).build();
                return CompletableFuture.supplyAsync(() -> latitude.execute(describeOperation(table),
                        r -> clients.get(r.id()).describeTable(timeouts.bound(describe, r.id(),
                                deadline - System.nanoTime(), true))).table().keySchema(),
                        Context.current().wrap(threads));
            }, true, resources);
            return new MultiRegionDynamoDbClient(core, clients);
        }

    }
}
