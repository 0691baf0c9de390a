package dev.latitude.dynamodb;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;

import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.retry.backoff.FixedDelayBackoffStrategy;
import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.core.waiters.WaiterResponse;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchStatementRequest;
import software.amazon.awssdk.services.dynamodb.model.DescribeTableRequest;
import software.amazon.awssdk.services.dynamodb.model.DescribeTableResponse;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.ParameterizedStatement;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.TableStatus;
import software.amazon.awssdk.services.dynamodb.model.TransactGetItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

/**
 * Proves where {@link MultiRegionDynamoDbClient} sends each kind of call, on three WireMock regions answering
 * DynamoDB's JSON: batches, transactions and PartiQL statements it cannot route safely are refused before any request;
 * control-plane calls and waiters go to the home region only; strong reads go to the writer; a SESSION GetItem with a
 * projection asks for the stamp attribute and hands the item back without it; every call's span carries the DynamoDB
 * attributes. The routing policy prefers ap-southeast-2, so the writer (us-east-1) and the home region (eu-west-1)
 * are each chosen for a reason, not by chance.
 */
class MultiRegionRoutingTest {
    private static final String WRITER = "us-east-1";
    private static final String HOME = "eu-west-1";
    private static final String NEAREST = "ap-southeast-2";
    private static final Map<String, AttributeValue> KEY = Map.of("pk", AttributeValue.fromS("k1"));

    private static StubRegion writer;
    private static StubRegion home;
    private static StubRegion nearest;

    private InMemorySpanExporter spans;
    private OpenTelemetrySdk otel;
    private MultiRegionDynamoDbClient client;

    @BeforeAll
    static void startRegions() {
        writer = StubRegion.start(WRITER);
        home = StubRegion.start(HOME);
        nearest = StubRegion.start(NEAREST);
        // Load the HTTP, signing, marshalling and engine classes once, so no test's first attempt pays a cold start.
        try (OpenTelemetrySdk warmTelemetry = OpenTelemetrySdk.builder().build();
                MultiRegionDynamoDbClient warm = MultiRegionDynamoDbClient.builder()
                        .topology(Topology.builder().region(RegionSpec.builder(WRITER).writer().build())
                                .localRegion(WRITER).build())
                        .regionClient(WRITER, writer.client())
                        .router(r -> r.openTelemetry(warmTelemetry).attemptTimeout(Duration.ofSeconds(5))).build()) {
            warm.getItem(g -> g.tableName("orders").key(KEY));
            warm.putItem(p -> p.tableName("orders").item(KEY));
            warm.describeTable(d -> d.tableName("orders"));
        }
        writer.closeClients();
        writer.reset();
    }

    @AfterAll
    static void stopRegions() {
        Stream.of(writer, home, nearest).forEach(StubRegion::close);
    }

    private static List<StubRegion> regions() {
        return List.of(writer, home, nearest);
    }

    @BeforeEach
    void build() {
        regions().forEach(StubRegion::reset);
        spans = InMemorySpanExporter.create();
        otel = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
        client = newClient(b -> { });
    }

    private MultiRegionDynamoDbClient newClient(Consumer<MultiRegionDynamoDbClient.Builder> more) {
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").build())
                .region(RegionSpec.builder(HOME).jurisdiction("EU").build())
                .region(RegionSpec.builder(NEAREST).jurisdiction("AU").build())
                .localRegion(HOME).build();
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology)
                .regionClient(WRITER, writer.client())
                .regionClient(HOME, home.client())
                .regionClient(NEAREST, nearest.client())
                .dataPolicies(DataPolicies.builder()
                        .exact("customers_eu", DataPolicy.builder().residency("EU").writerRegion(HOME).build())
                        .exact("ledger", DataPolicy.builder().consistency(ConsistencyLevel.STRONG).build())
                        .build())
                .keySchema("orders", "pk")
                .keySchema("customers_eu", "pk")
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(NEAREST, HOME, WRITER).build())
                        .hedging(HedgingConfig.disabled())
                        .attemptTimeout(Duration.ofSeconds(2))
                        .openTelemetry(otel));
        more.accept(b);
        return b.build();
    }

    @AfterEach
    void close() {
        if (client != null) {
            client.close();
        }
        otel.close();
        regions().forEach(StubRegion::closeClients);
    }

    private static void assertNothingSent() {
        for (StubRegion r : regions()) {
            assertThat(r.operations()).as("requests to %s", r.id()).isEmpty();
        }
    }

    // ------------------------------------------------------------------------------------------ unroutable requests

    @Test
    void aBatchGetOverTablesWithDifferentPoliciesIsRefusedBeforeAnyRequest() {
        Throwable t = catchThrowable(() -> client.batchGetItem(b -> b.requestItems(Map.of(
                "orders", KeysAndAttributes.builder().keys(KEY).build(),
                "customers_eu", KeysAndAttributes.builder().keys(KEY).build()))));

        assertThat(t).isInstanceOf(UnroutableRequestException.class)
                .hasMessageContaining("BatchGetItem").hasMessageContaining("orders")
                .hasMessageContaining("customers_eu");
        assertNothingSent();
    }

    @Test
    void aBatchWriteOverTablesWithDifferentPoliciesIsRefusedBeforeAnyRequest() {
        WriteRequest put = WriteRequest.builder().putRequest(PutRequest.builder().item(KEY).build()).build();
        Throwable t = catchThrowable(() -> client.batchWriteItem(b -> b.requestItems(Map.of(
                "orders", List.of(put), "customers_eu", List.of(put)))));

        assertThat(t).isInstanceOf(UnroutableRequestException.class).hasMessageContaining("BatchWriteItem");
        assertNothingSent();
    }

    @Test
    void aTransactGetOverTablesWithDifferentPoliciesIsRefusedBeforeAnyRequest() {
        Throwable t = catchThrowable(() -> client.transactGetItems(b -> b.transactItems(
                TransactGetItem.builder().get(g -> g.tableName("orders").key(KEY)).build(),
                TransactGetItem.builder().get(g -> g.tableName("ledger").key(KEY)).build())));

        assertThat(t).isInstanceOf(UnroutableRequestException.class).hasMessageContaining("TransactGetItems")
                .hasMessageContaining("ledger");
        assertNothingSent();
    }

    @Test
    void aTransactWriteOverTablesWithDifferentPoliciesIsRefusedBeforeAnyRequest() {
        Throwable t = catchThrowable(() -> client.transactWriteItems(b -> b.transactItems(
                TransactWriteItem.builder().put(p -> p.tableName("orders").item(KEY)).build(),
                TransactWriteItem.builder().update(u -> u.tableName("customers_eu").key(KEY)
                        .updateExpression("SET v = :v")
                        .expressionAttributeValues(Map.of(":v", AttributeValue.fromS("x")))).build())));

        assertThat(t).isInstanceOf(UnroutableRequestException.class).hasMessageContaining("TransactWriteItems");
        assertNothingSent();
    }

    /**
     * The same refusal for tables whose key schema the client was not given: nothing at all may be sent first, not
     * even the DescribeTable that would look the key schema up.
     */
    @Test
    void aTransactWriteOfTablesWithUnknownKeySchemasIsRefusedBeforeAnyRequest() {
        Throwable t = catchThrowable(() -> client.transactWriteItems(b -> b.transactItems(
                TransactWriteItem.builder().put(p -> p.tableName("ledger").item(KEY)).build(),
                TransactWriteItem.builder().put(p -> p.tableName("invoices").item(KEY)).build())));

        assertThat(t).isInstanceOf(UnroutableRequestException.class).hasMessageContaining("TransactWriteItems");
        assertNothingSent();
    }

    @Test
    void aPartiQlTransactionOverTablesWithDifferentPoliciesIsRefusedBeforeAnyRequest() {
        Throwable t = catchThrowable(() -> client.executeTransaction(b -> b.transactStatements(
                ParameterizedStatement.builder().statement("UPDATE \"orders\" SET v = 1 WHERE pk = 'k1'").build(),
                ParameterizedStatement.builder().statement("DELETE FROM \"customers_eu\" WHERE pk = 'k1'").build())));

        assertThat(t).isInstanceOf(UnroutableRequestException.class).hasMessageContaining("ExecuteTransaction");
        assertNothingSent();
    }

    @Test
    void tablesSharingAPolicyMayShareABatch() {
        nearest.answer("BatchGetItem", StubRegion.ok("{\"Responses\":{}}"));
        client.batchGetItem(b -> b.requestItems(Map.of(
                "orders", KeysAndAttributes.builder().keys(KEY).build(),
                "invoices", KeysAndAttributes.builder().keys(KEY).build())));
        assertThat(nearest.operations()).containsExactly("BatchGetItem");
        assertThat(home.count() + writer.count()).isZero();
    }

    @Test
    void aPartiQlStatementThatCannotBeParsedIsRefusedBeforeAnyRequest() {
        Throwable single = catchThrowable(() -> client.executeStatement(s -> s.statement("EXEC something(1)")));
        // The message gives the reason and where, but quotes nothing of the statement (it may hold literal values).
        assertThat(single).isInstanceOf(UnroutableRequestException.class)
                .hasMessageContaining("ExecuteStatement").hasMessageContaining("at character 1")
                .hasMessageNotContaining("EXEC").hasMessageNotContaining("something");

        Throwable batch = catchThrowable(() -> client.batchExecuteStatement(b -> b.statements(
                BatchStatementRequest.builder().statement("SELECT * FROM \"orders\" WHERE pk = 'k1'").build(),
                BatchStatementRequest.builder().statement("garbage").build())));
        assertThat(batch).isInstanceOf(UnroutableRequestException.class)
                .hasMessageContaining("BatchExecuteStatement").hasMessageNotContaining("garbage")
                .hasMessageNotContaining("k1");
        assertNothingSent();
    }

    @Test
    void aPartiQlReadGoesByTheReadPlanAndAWriteToTheWriter() {
        client.executeStatement(s -> s.statement("SELECT * FROM \"orders\" WHERE pk = 'k1'"));
        client.executeStatement(s -> s.statement("UPDATE \"orders\" SET v = 1 WHERE pk = 'k1'"));
        assertThat(nearest.operations()).containsExactly("ExecuteStatement");
        assertThat(writer.operations()).containsExactly("ExecuteStatement");
        assertThat(writer.requests("ExecuteStatement").get(0).getBodyAsString()).contains("UPDATE");
        assertThat(home.count()).isZero();
    }

    // ------------------------------------------------------------------------------------------ control plane

    @Test
    void controlPlaneCallsGoToTheHomeRegionOnly() {
        home.answer("DescribeTable", StubRegion.ok("{\"Table\":{\"TableName\":\"orders\",\"TableStatus\":\"ACTIVE\"}}"));
        home.answer("CreateTable", StubRegion.ok("{\"TableDescription\":{\"TableName\":\"fresh\","
                + "\"TableStatus\":\"CREATING\"}}"));
        home.answer("ListTables", StubRegion.ok("{\"TableNames\":[\"fresh\",\"orders\"]}"));

        assertThat(client.describeTable(d -> d.tableName("orders")).table().tableStatus()).isEqualTo(TableStatus.ACTIVE);
        assertThat(client.createTable(c -> c.tableName("fresh")).tableDescription().tableName()).isEqualTo("fresh");
        assertThat(client.listTables().tableNames()).containsExactly("fresh", "orders");

        assertThat(client.homeRegion()).isEqualTo(HOME);
        assertThat(home.operations()).containsExactly("DescribeTable", "CreateTable", "ListTables");
        assertThat(writer.count() + nearest.count()).isZero();
    }

    @Test
    void controlPlaneCallsFollowAnExplicitHomeRegion() {
        try (MultiRegionDynamoDbClient explicit = newClient(b -> b.homeRegion(WRITER))) {
            writer.answer("ListTables", StubRegion.ok("{\"TableNames\":[\"orders\"]}"));
            assertThat(explicit.homeRegion()).isEqualTo(WRITER);
            assertThat(explicit.listTables().tableNames()).containsExactly("orders");
            explicit.describeTable(d -> d.tableName("orders"));
            assertThat(writer.operations()).containsExactly("ListTables", "DescribeTable");
            assertThat(home.count() + nearest.count()).isZero();
        }
    }

    @Test
    void theWaiterPollsTheHomeRegion() {
        home.server().stubFor(post(urlEqualTo("/")).withHeader("X-Amz-Target",
                        equalTo(StubRegion.TARGET + "DescribeTable")).atPriority(1)
                .inScenario("creation").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(StubRegion.errorAnswer(400, "ResourceNotFoundException", "Requested resource not found"))
                .willSetStateTo("created"));
        home.server().stubFor(post(urlEqualTo("/")).withHeader("X-Amz-Target",
                        equalTo(StubRegion.TARGET + "DescribeTable")).atPriority(1)
                .inScenario("creation").whenScenarioStateIs("created")
                .willReturn(StubRegion.ok("{\"Table\":{\"TableName\":\"orders\",\"TableStatus\":\"ACTIVE\"}}")));

        WaiterResponse<DescribeTableResponse> done = client.waiter().waitUntilTableExists(
                DescribeTableRequest.builder().tableName("orders").build(), WaiterOverrideConfiguration.builder()
                        .maxAttempts(5).backoffStrategy(FixedDelayBackoffStrategy.create(Duration.ofMillis(10)))
                        .waitTimeout(Duration.ofSeconds(5)).build());

        assertThat(done.attemptsExecuted()).isEqualTo(2);
        assertThat(done.matched().response()).hasValueSatisfying(r ->
                assertThat(r.table().tableStatus()).isEqualTo(TableStatus.ACTIVE));
        assertThat(home.operations()).containsExactly("DescribeTable", "DescribeTable");
        assertThat(writer.count() + nearest.count()).isZero();
    }

    // ------------------------------------------------------------------------------------------ reads

    @Test
    void aConsistentGetItemGoesToTheWriterRegion() {
        writer.answer("GetItem", StubRegion.ok("{\"Item\":{\"pk\":{\"S\":\"k1\"}}}"));

        GetItemResponse r = client.getItem(g -> g.tableName("orders").key(KEY).consistentRead(true));

        assertThat(r.item()).containsEntry("pk", AttributeValue.fromS("k1"));
        assertThat(writer.operations()).containsExactly("GetItem");
        assertThat(writer.requests("GetItem").get(0).getBodyAsString()).contains("\"ConsistentRead\":true");
        assertThat(home.count() + nearest.count()).isZero();
    }

    @Test
    void aGetItemOfAStrongTableGoesToTheWriterWithConsistentRead() {
        client.getItem(g -> g.tableName("ledger").key(KEY));
        assertThat(writer.operations()).containsExactly("GetItem");
        assertThat(writer.requests("GetItem").get(0).getBodyAsString()).contains("\"ConsistentRead\":true");
        assertThat(home.count() + nearest.count()).isZero();
    }

    @Test
    void anEventualGetItemGoesByTheRoutingPolicy() {
        client.getItem(g -> g.tableName("orders").key(KEY));
        assertThat(nearest.operations()).containsExactly("GetItem");
        assertThat(nearest.requests("GetItem").get(0).getBodyAsString()).doesNotContain("ConsistentRead");
        assertThat(home.count() + writer.count()).isZero();
    }

    @Test
    void aSessionGetItemWithAProjectionAsksForTheStampAndHidesIt() {
        nearest.answer("GetItem", StubRegion.ok("{\"Item\":{\"v\":{\"S\":\"x\"},\"_lat_ts\":{\"N\":\"12345\"}}}"));
        Session session = Session.create();

        GetItemResponse r;
        try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
            r = client.getItem(g -> g.tableName("orders").key(KEY).projectionExpression("#v")
                    .expressionAttributeNames(Map.of("#v", "v")));
        }

        String body = nearest.requests("GetItem").get(0).getBodyAsString();
        assertThat(body).contains("\"ProjectionExpression\":\"#v, #latStamp\"").contains("\"#latStamp\":\"_lat_ts\"")
                .contains("\"#v\":\"v\"");
        assertThat(r.item()).containsOnlyKeys("v").containsEntry("v", AttributeValue.fromS("x"));
    }

    @Test
    void aSessionGetItemWithAttributesToGetAsksForTheStampAndHidesIt() {
        nearest.answer("GetItem", StubRegion.ok("{\"Item\":{\"v\":{\"S\":\"x\"},\"_lat_ts\":{\"N\":\"12345\"}}}"));
        Session session = Session.create();

        GetItemResponse r;
        try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
            r = client.getItem(g -> g.tableName("orders").key(KEY).attributesToGet("v"));
        }

        assertThat(nearest.requests("GetItem").get(0).getBodyAsString())
                .contains("\"AttributesToGet\":[\"v\",\"_lat_ts\"]");
        assertThat(r.item()).containsOnlyKeys("v");
    }

    @Test
    void aProjectionThatAsksForTheStampItselfKeepsIt() {
        nearest.answer("GetItem", StubRegion.ok("{\"Item\":{\"v\":{\"S\":\"x\"},\"_lat_ts\":{\"N\":\"12345\"}}}"));
        Session session = Session.create();

        GetItemResponse r;
        try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
            r = client.getItem(g -> g.tableName("orders").key(KEY).projectionExpression("#v, #ts")
                    .expressionAttributeNames(Map.of("#v", "v", "#ts", "_lat_ts")));
        }

        assertThat(nearest.requests("GetItem").get(0).getBodyAsString())
                .contains("\"ProjectionExpression\":\"#v, #ts\"").doesNotContain("latStamp");
        assertThat(r.item()).containsOnlyKeys("v", "_lat_ts");
    }

    // ------------------------------------------------------------------------------------------ spans

    private List<SpanData> awaitSpans(int count) {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (spans.getFinishedSpanItems().size() < count) {
            if (System.nanoTime() - deadline > 0) {
                fail("expected " + count + " spans within 2 s, got " + spans.getFinishedSpanItems());
            }
            LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
        }
        return spans.getFinishedSpanItems();
    }

    private static SpanData span(List<SpanData> spans, String name) {
        return spans.stream().filter(s -> s.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no span " + name + " in " + spans));
    }

    @Test
    void callsCarryTheDynamoDbSpanAttributes() {
        client.getItem(g -> g.tableName("orders").key(KEY));
        client.putItem(p -> p.tableName("orders").item(KEY));

        List<SpanData> finished = awaitSpans(2);
        for (String op : List.of("GetItem", "PutItem")) {
            SpanData s = span(finished, op);
            assertThat(s.getAttributes().get(AttributeKey.stringKey("db.system"))).isEqualTo("dynamodb");
            assertThat(s.getAttributes().get(AttributeKey.stringKey("db.operation.name"))).isEqualTo(op);
            assertThat(s.getAttributes().get(AttributeKey.stringArrayKey("aws.dynamodb.table_names")))
                    .containsExactly("orders");
        }
    }

    @Test
    void aBatchSpanNamesEveryTableOfTheRequest() {
        nearest.answer("BatchGetItem", StubRegion.ok("{\"Responses\":{}}"));
        client.batchGetItem(b -> b.requestItems(Map.of(
                "orders", KeysAndAttributes.builder().keys(KEY).build(),
                "invoices", KeysAndAttributes.builder().keys(KEY).build())));

        SpanData s = span(awaitSpans(1), "BatchGetItem");
        assertThat(s.getAttributes().get(AttributeKey.stringKey("db.system"))).isEqualTo("dynamodb");
        assertThat(s.getAttributes().get(AttributeKey.stringKey("db.operation.name"))).isEqualTo("BatchGetItem");
        assertThat(s.getAttributes().get(AttributeKey.stringArrayKey("aws.dynamodb.table_names")))
                .containsExactlyInAnyOrder("invoices", "orders");
    }

    /**
     * The DescribeTable that looks up the key schema of a table the client was not given is sent by the first write's
     * attempt, so a trace shows it under that write, not beside it; the write does not wait for it.
     */
    @Test
    void theKeySchemaLookupOfAFirstWriteIsAChildOfTheWritesSpan() {
        String describe = "{\"Table\":{\"TableName\":\"invoices\",\"KeySchema\":[{\"AttributeName\":\"pk\","
                + "\"KeyType\":\"HASH\"}]}}";
        regions().forEach(r -> r.answer("DescribeTable", StubRegion.ok(describe)));

        client.putItem(p -> p.tableName("invoices").item(KEY));
        assertLookupIsAChildOfTheWrite();

        spans.reset();
        MultiRegionDynamoDbAsyncClient.Builder b = MultiRegionDynamoDbAsyncClient.builder()
                .topology(Topology.builder().region(RegionSpec.builder(WRITER).writer().build())
                        .region(RegionSpec.builder(HOME).build()).localRegion(HOME).build())
                .regionClient(WRITER, writer.asyncClient())
                .regionClient(HOME, home.asyncClient())
                .router(r -> r.hedging(HedgingConfig.disabled()).attemptTimeout(Duration.ofSeconds(2))
                        .openTelemetry(otel));
        try (MultiRegionDynamoDbAsyncClient async = b.build()) {
            async.putItem(p -> p.tableName("invoices").item(KEY)).join();
            assertLookupIsAChildOfTheWrite();
        }
    }

    private void assertLookupIsAChildOfTheWrite() {
        List<SpanData> finished = awaitSpans(2);
        SpanData put = span(finished, "PutItem");
        SpanData lookup = span(finished, "DescribeTable");
        assertThat(lookup.getTraceId()).isEqualTo(put.getTraceId());
        assertThat(lookup.getParentSpanId()).isEqualTo(put.getSpanId());
        assertThat(writer.operations()).contains("PutItem");
    }
}
