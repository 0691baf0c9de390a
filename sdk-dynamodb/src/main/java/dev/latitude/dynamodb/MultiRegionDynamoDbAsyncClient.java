package dev.latitude.dynamodb;

import dev.latitude.aws.AttemptTimeouts;
import dev.latitude.aws.RegionClients;
import dev.latitude.AsyncRegionCall;
import dev.latitude.ConsistencyLevel;
import dev.latitude.Futures;
import dev.latitude.Latitude;
import dev.latitude.LatitudeConfigException;
import dev.latitude.ResultWatermark;
import dev.latitude.Session;
import dev.latitude.dynamodb.internal.Heartbeats;
import dev.latitude.spi.HealthProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClientBuilder;
import software.amazon.awssdk.services.dynamodb.DynamoDbServiceClientConfiguration;
import software.amazon.awssdk.services.dynamodb.model.*;
import software.amazon.awssdk.services.dynamodb.waiters.DynamoDbAsyncWaiter;

/**
 * The non-blocking twin of {@link MultiRegionDynamoDbClient}: a {@link DynamoDbAsyncClient} over one async client per
 * region, with the same routing, fallback, write stamps and guards, session verification, residency, heartbeats and
 * telemetry (both use one request router, and one per-attempt step that recovers a failed write guard). Calls never block the caller's thread: attempts start on the caller's thread or the
 * engine's timer thread, and fallbacks and hedges are scheduled, not waited for.
 *
 * <p>Cancelling a returned future (or completing it yourself, as {@code orTimeout} does) stops the call in the engine:
 * no further attempt, fallback or hedge starts, and the attempts in flight are cancelled. A write already sent may
 * still be applied. A future derived from the returned one ({@code thenApply}) does not carry the cancel unless linked
 * with {@link dev.latitude.Futures#propagateCancellation}. The AWS SDK's Netty client does not abort a request whose
 * future is cancelled: it holds its connection until answered or until the HTTP client's read timeout, unless the
 * request has an {@code apiCallAttemptTimeout}. Every request this client sends has one (what is left of the call's
 * deadline), whoever made the region client, so a cancelled request frees its connection by then.
 *
 * <p>Errors arrive through the future, as the AWS SDK's async client delivers them: the service's own exceptions for
 * caller errors, and Latitude's ({@link dev.latitude.RegionsUnavailableException},
 * {@link dev.latitude.AmbiguousWriteException}, {@link dev.latitude.ResidencyException},
 * {@link UnroutableRequestException}) otherwise, wrapped in a {@link java.util.concurrent.CompletionException} by
 * {@code join()}.
 *
 * <p>A write to a table whose key schema is not yet known (not given with {@link MultiRegionBuilder#keySchema}) does
 * not wait for the DescribeTable lookup (as with the blocking client); until it completes, such writes are tracked for
 * the table as a whole, which is safe but sends the session's reads of that table to regions known to have them.
 */
public final class MultiRegionDynamoDbAsyncClient extends MultiRegionClientBase<DynamoDbAsyncClient> implements DynamoDbAsyncClient {
    private MultiRegionDynamoDbAsyncClient(Core core, Map<String, DynamoDbAsyncClient> clients) {
        super(core, clients);
    }

    private MultiRegionDynamoDbAsyncClient(MultiRegionDynamoDbAsyncClient of, RequestOptions options) {
        super(of.core, of.clients, of.router.with(options), true);
    }

    /**
     * Returns a view of this client whose reads use {@code level} instead of their table's consistency level; as
     * {@link MultiRegionDynamoDbClient#withConsistency}.
     *
     * @param level the consistency level of the view's reads
     * @return the view
     */
    public MultiRegionDynamoDbAsyncClient withConsistency(ConsistencyLevel level) {
        return new MultiRegionDynamoDbAsyncClient(this, new RequestOptions(Objects.requireNonNull(level,
                "consistency"), null));
    }

    /**
     * Returns a view of this client whose calls read and record in {@code session} instead of the session of the
     * current OpenTelemetry context, which does not follow a future's callbacks to other threads; as
     * {@link MultiRegionDynamoDbClient#withSession}.
     *
     * @param session the session
     * @return the view
     */
    public MultiRegionDynamoDbAsyncClient withSession(Session session) {
        return new MultiRegionDynamoDbAsyncClient(this, new RequestOptions(null, Objects.requireNonNull(session,
                "session")));
    }

    /** Returns a builder. */
    public static Builder builder() {
        return new Builder();
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
    public DynamoDbAsyncWaiter waiter() {
        return DynamoDbAsyncWaiter.builder().client(this).build();
    }

    /**
     * Runs a routed call through the engine, each attempt on the planned region's client through
     * {@link Routed#callAsync}, which turns a guarded write's failed guard into the answer it means. A request that
     * cannot be routed fails the returned future rather than throwing.
     */
    private <Q extends DynamoDbRequest, S> CompletableFuture<S> run(Supplier<Routed<Q, S>> prepare,
            BiFunction<DynamoDbAsyncClient, Q, CompletableFuture<S>> send) {
        Routed<Q, S> routed;
        try {
            routed = prepare.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        BiFunction<Q, String, Q> bound = timeouts.bounding(routed.operation, null);
        AsyncRegionCall<Routed.Answer<S>> call = r -> routed.callAsync(r, q -> send.apply(clients.get(r.id()),
                bound.apply(q, r.id())));
        ResultWatermark<Routed.Answer<S>> watermark = routed.answerWatermark();
        CompletableFuture<Routed.Answer<S>> answer = watermark == null ? latitude.executeAsync(routed.operation, call)
                : latitude.executeAsync(routed.operation, call, watermark);
        // The caller's cancel must reach the engine's call: a plain thenApply would stop only the mapped future.
        return Futures.propagateCancellation(answer.thenApply(routed::finish), answer);
    }

    // ---------------------------------------------------------------- data plane: routed

    @Override
    public CompletableFuture<GetItemResponse> getItem(GetItemRequest request) {
        return run(() -> router.getItem(request), DynamoDbAsyncClient::getItem);
    }

    @Override
    public CompletableFuture<PutItemResponse> putItem(PutItemRequest request) {
        return run(() -> router.putItem(request), DynamoDbAsyncClient::putItem);
    }

    @Override
    public CompletableFuture<UpdateItemResponse> updateItem(UpdateItemRequest request) {
        return run(() -> router.updateItem(request), DynamoDbAsyncClient::updateItem);
    }

    @Override
    public CompletableFuture<DeleteItemResponse> deleteItem(DeleteItemRequest request) {
        return run(() -> router.deleteItem(request), DynamoDbAsyncClient::deleteItem);
    }

    @Override
    public CompletableFuture<QueryResponse> query(QueryRequest request) {
        return run(() -> router.query(request), DynamoDbAsyncClient::query);
    }

    @Override
    public CompletableFuture<ScanResponse> scan(ScanRequest request) {
        return run(() -> router.scan(request), DynamoDbAsyncClient::scan);
    }

    @Override
    public CompletableFuture<BatchGetItemResponse> batchGetItem(BatchGetItemRequest request) {
        return run(() -> router.batchGetItem(request), DynamoDbAsyncClient::batchGetItem);
    }

    @Override
    public CompletableFuture<TransactGetItemsResponse> transactGetItems(TransactGetItemsRequest request) {
        return run(() -> router.transactGetItems(request), DynamoDbAsyncClient::transactGetItems);
    }

    @Override
    public CompletableFuture<SearchVectorsResponse> searchVectors(SearchVectorsRequest request) {
        return run(() -> router.searchVectors(request), DynamoDbAsyncClient::searchVectors);
    }

    @Override
    public CompletableFuture<BatchWriteItemResponse> batchWriteItem(BatchWriteItemRequest request) {
        return run(() -> router.batchWriteItem(request), DynamoDbAsyncClient::batchWriteItem);
    }

    @Override
    public CompletableFuture<TransactWriteItemsResponse> transactWriteItems(TransactWriteItemsRequest request) {
        return run(() -> router.transactWriteItems(request), DynamoDbAsyncClient::transactWriteItems);
    }

    @Override
    public CompletableFuture<ExecuteStatementResponse> executeStatement(ExecuteStatementRequest request) {
        return run(() -> router.executeStatement(request), DynamoDbAsyncClient::executeStatement);
    }

    @Override
    public CompletableFuture<BatchExecuteStatementResponse> batchExecuteStatement(BatchExecuteStatementRequest request) {
        return run(() -> router.batchExecuteStatement(request), DynamoDbAsyncClient::batchExecuteStatement);
    }

    @Override
    public CompletableFuture<ExecuteTransactionResponse> executeTransaction(ExecuteTransactionRequest request) {
        return run(() -> router.executeTransaction(request), DynamoDbAsyncClient::executeTransaction);
    }

    // ---------------------------------------------------------------- control plane: the home region, as is

    @Override
    public CompletableFuture<CreateTableResponse> createTable(CreateTableRequest request) {
        return home.createTable(request);
    }

    @Override
    public CompletableFuture<DeleteTableResponse> deleteTable(DeleteTableRequest request) {
        return home.deleteTable(request);
    }

    @Override
    public CompletableFuture<DescribeTableResponse> describeTable(DescribeTableRequest request) {
        return home.describeTable(request);
    }

    @Override
    public CompletableFuture<UpdateTableResponse> updateTable(UpdateTableRequest request) {
        return home.updateTable(request);
    }

    @Override
    public CompletableFuture<ListTablesResponse> listTables(ListTablesRequest request) {
        return home.listTables(request);
    }

    @Override
    public CompletableFuture<ListTablesResponse> listTables() {
        return listTables(ListTablesRequest.builder().build());
    }

    @Override
    public CompletableFuture<CreateBackupResponse> createBackup(CreateBackupRequest request) {
        return home.createBackup(request);
    }

    @Override
    public CompletableFuture<DeleteBackupResponse> deleteBackup(DeleteBackupRequest request) {
        return home.deleteBackup(request);
    }

    @Override
    public CompletableFuture<DescribeBackupResponse> describeBackup(DescribeBackupRequest request) {
        return home.describeBackup(request);
    }

    @Override
    public CompletableFuture<ListBackupsResponse> listBackups(ListBackupsRequest request) {
        return home.listBackups(request);
    }

    @Override
    public CompletableFuture<ListBackupsResponse> listBackups() {
        return listBackups(ListBackupsRequest.builder().build());
    }

    @Override
    public CompletableFuture<RestoreTableFromBackupResponse> restoreTableFromBackup(RestoreTableFromBackupRequest request) {
        return home.restoreTableFromBackup(request);
    }

    @Override
    public CompletableFuture<RestoreTableToPointInTimeResponse> restoreTableToPointInTime(RestoreTableToPointInTimeRequest request) {
        return home.restoreTableToPointInTime(request);
    }

    @Override
    public CompletableFuture<DescribeContinuousBackupsResponse> describeContinuousBackups(DescribeContinuousBackupsRequest request) {
        return home.describeContinuousBackups(request);
    }

    @Override
    public CompletableFuture<UpdateContinuousBackupsResponse> updateContinuousBackups(UpdateContinuousBackupsRequest request) {
        return home.updateContinuousBackups(request);
    }

    @Override
    public CompletableFuture<CreateGlobalTableResponse> createGlobalTable(CreateGlobalTableRequest request) {
        return home.createGlobalTable(request);
    }

    @Override
    public CompletableFuture<DescribeGlobalTableResponse> describeGlobalTable(DescribeGlobalTableRequest request) {
        return home.describeGlobalTable(request);
    }

    @Override
    public CompletableFuture<DescribeGlobalTableSettingsResponse> describeGlobalTableSettings(
            DescribeGlobalTableSettingsRequest request) {
        return home.describeGlobalTableSettings(request);
    }

    @Override
    public CompletableFuture<ListGlobalTablesResponse> listGlobalTables(ListGlobalTablesRequest request) {
        return home.listGlobalTables(request);
    }

    @Override
    public CompletableFuture<ListGlobalTablesResponse> listGlobalTables() {
        return listGlobalTables(ListGlobalTablesRequest.builder().build());
    }

    @Override
    public CompletableFuture<UpdateGlobalTableResponse> updateGlobalTable(UpdateGlobalTableRequest request) {
        return home.updateGlobalTable(request);
    }

    @Override
    public CompletableFuture<UpdateGlobalTableSettingsResponse> updateGlobalTableSettings(UpdateGlobalTableSettingsRequest request) {
        return home.updateGlobalTableSettings(request);
    }

    @Override
    public CompletableFuture<DescribeTableReplicaAutoScalingResponse> describeTableReplicaAutoScaling(
            DescribeTableReplicaAutoScalingRequest request) {
        return home.describeTableReplicaAutoScaling(request);
    }

    @Override
    public CompletableFuture<UpdateTableReplicaAutoScalingResponse> updateTableReplicaAutoScaling(
            UpdateTableReplicaAutoScalingRequest request) {
        return home.updateTableReplicaAutoScaling(request);
    }

    @Override
    public CompletableFuture<DescribeContributorInsightsResponse> describeContributorInsights(
            DescribeContributorInsightsRequest request) {
        return home.describeContributorInsights(request);
    }

    @Override
    public CompletableFuture<ListContributorInsightsResponse> listContributorInsights(ListContributorInsightsRequest request) {
        return home.listContributorInsights(request);
    }

    @Override
    public CompletableFuture<UpdateContributorInsightsResponse> updateContributorInsights(UpdateContributorInsightsRequest request) {
        return home.updateContributorInsights(request);
    }

    @Override
    public CompletableFuture<DescribeEndpointsResponse> describeEndpoints(DescribeEndpointsRequest request) {
        return home.describeEndpoints(request);
    }

    @Override
    public CompletableFuture<DescribeEndpointsResponse> describeEndpoints() {
        return describeEndpoints(DescribeEndpointsRequest.builder().build());
    }

    @Override
    public CompletableFuture<DescribeLimitsResponse> describeLimits(DescribeLimitsRequest request) {
        return home.describeLimits(request);
    }

    @Override
    public CompletableFuture<DescribeLimitsResponse> describeLimits() {
        return describeLimits(DescribeLimitsRequest.builder().build());
    }

    @Override
    public CompletableFuture<DescribeExportResponse> describeExport(DescribeExportRequest request) {
        return home.describeExport(request);
    }

    @Override
    public CompletableFuture<ExportTableToPointInTimeResponse> exportTableToPointInTime(ExportTableToPointInTimeRequest request) {
        return home.exportTableToPointInTime(request);
    }

    @Override
    public CompletableFuture<ListExportsResponse> listExports(ListExportsRequest request) {
        return home.listExports(request);
    }

    @Override
    public CompletableFuture<DescribeImportResponse> describeImport(DescribeImportRequest request) {
        return home.describeImport(request);
    }

    @Override
    public CompletableFuture<ImportTableResponse> importTable(ImportTableRequest request) {
        return home.importTable(request);
    }

    @Override
    public CompletableFuture<ListImportsResponse> listImports(ListImportsRequest request) {
        return home.listImports(request);
    }

    @Override
    public CompletableFuture<DescribeKinesisStreamingDestinationResponse> describeKinesisStreamingDestination(
            DescribeKinesisStreamingDestinationRequest request) {
        return home.describeKinesisStreamingDestination(request);
    }

    @Override
    public CompletableFuture<EnableKinesisStreamingDestinationResponse> enableKinesisStreamingDestination(
            EnableKinesisStreamingDestinationRequest request) {
        return home.enableKinesisStreamingDestination(request);
    }

    @Override
    public CompletableFuture<DisableKinesisStreamingDestinationResponse> disableKinesisStreamingDestination(
            DisableKinesisStreamingDestinationRequest request) {
        return home.disableKinesisStreamingDestination(request);
    }

    @Override
    public CompletableFuture<UpdateKinesisStreamingDestinationResponse> updateKinesisStreamingDestination(
            UpdateKinesisStreamingDestinationRequest request) {
        return home.updateKinesisStreamingDestination(request);
    }

    @Override
    public CompletableFuture<DescribeTimeToLiveResponse> describeTimeToLive(DescribeTimeToLiveRequest request) {
        return home.describeTimeToLive(request);
    }

    @Override
    public CompletableFuture<UpdateTimeToLiveResponse> updateTimeToLive(UpdateTimeToLiveRequest request) {
        return home.updateTimeToLive(request);
    }

    @Override
    public CompletableFuture<ListTagsOfResourceResponse> listTagsOfResource(ListTagsOfResourceRequest request) {
        return home.listTagsOfResource(request);
    }

    @Override
    public CompletableFuture<TagResourceResponse> tagResource(TagResourceRequest request) {
        return home.tagResource(request);
    }

    @Override
    public CompletableFuture<UntagResourceResponse> untagResource(UntagResourceRequest request) {
        return home.untagResource(request);
    }

    @Override
    public CompletableFuture<GetResourcePolicyResponse> getResourcePolicy(GetResourcePolicyRequest request) {
        return home.getResourcePolicy(request);
    }

    @Override
    public CompletableFuture<PutResourcePolicyResponse> putResourcePolicy(PutResourcePolicyRequest request) {
        return home.putResourcePolicy(request);
    }

    @Override
    public CompletableFuture<DeleteResourcePolicyResponse> deleteResourcePolicy(DeleteResourcePolicyRequest request) {
        return home.deleteResourcePolicy(request);
    }

    /**
     * Builds a {@link MultiRegionDynamoDbAsyncClient}. Required: {@link #topology} and a client for every region of it
     * ({@link #regionClient(String, DynamoDbAsyncClient)}, or {@link #buildClients(Consumer)} for the rest).
     */
    public static final class Builder extends MultiRegionBuilder<Builder> {
        private final Map<String, DynamoDbAsyncClient> given = new LinkedHashMap<>();
        private BiConsumer<String, DynamoDbAsyncClientBuilder> clientSettings;

        private Builder() {
        }

        @Override
        Builder self() {
            return this;
        }

        /**
         * Uses {@code client} for region {@code regionId}. The client stays yours: closing this client does not close
         * it. Give it {@link MultiRegionDynamoDbClient#failoverRetryStrategy()} so its own retries do not hold up a
         * failover.
         *
         * @param regionId a region of the topology
         * @param client the region's client
         * @return this builder
         * @throws LatitudeConfigException if the region was already given a client
         */
        public Builder regionClient(String regionId, DynamoDbAsyncClient client) {
            addClient(given, regionId, client);
            return this;
        }

        /**
         * Builds a client for every region not given one: {@code DynamoDbAsyncClient.builder()} with the region, then
         * {@code settings}, then, where those left them unset, Latitude's:
         * {@link MultiRegionDynamoDbClient#failoverRetryStrategy()}, the attempt timeout as {@code apiCallTimeout} and
         * {@code apiCallAttemptTimeout} (without them, a request the engine gave up on keeps its connection until the
         * HTTP client's read timeout), and a scheduled executor on a timer wheel that arms and cancels those timeouts
         * at next to no cost. These clients are closed with this one.
         *
         * @param settings applied to each region's builder
         * @return this builder
         */
        public Builder buildClients(Consumer<DynamoDbAsyncClientBuilder> settings) {
            return buildClients(perRegion(settings));
        }

        /**
         * Like {@link #buildClients(Consumer)}, with settings that depend on the region:
         * <pre>{@code .buildClients((region, b) -> b.endpointOverride(endpoints.get(region)))}</pre>
         *
         * @param settings given each region's id and builder
         * @return this builder
         */
        public Builder buildClients(BiConsumer<String, DynamoDbAsyncClientBuilder> settings) {
            this.clientSettings = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /**
         * Builds the client and starts its heartbeats.
         *
         * @return the client
         * @throws LatitudeConfigException if a setting is missing or does not fit the topology
         */
        public MultiRegionDynamoDbAsyncClient build() {
            Latitude.Builder engine = engineBuilder();
            List<AutoCloseable> resources = new ArrayList<>();
            RegionClients made = new RegionClients(engine.attemptTimeout(), true,
                    MultiRegionDynamoDbClient.failoverRetryStrategy(), resources);
            Map<String, DynamoDbAsyncClient> clients = clients(given,
                    clientSettings == null ? null : id -> made.make(DynamoDbAsyncClient.builder(), id, clientSettings),
                    resources);
            AttemptTimeouts timeouts = timeouts(engine, clients, resources, made);
            Heartbeats.Io io = Heartbeats.Io.of((region, put) -> clients.get(region).putItem(put).join(),
                    (region, get) -> clients.get(region).batchGetItem(get).join());
            ListTablesRequest cheap = probeRequest(probeTimeout());
            HealthProbe probe = region -> clients.get(region.id()).listTables(cheap);
            Core core = core(engine, timeouts, io, probe, latitude -> table -> latitude.executeAsync(
                    describeOperation(table), r -> clients.get(r.id()).describeTable(d -> d.tableName(table)))
                    .thenApply(d -> d.table().keySchema()), false, resources);
            return new MultiRegionDynamoDbAsyncClient(core, clients);
        }

    }
}
