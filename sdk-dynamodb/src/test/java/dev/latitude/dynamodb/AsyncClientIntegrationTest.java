package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.HybridLogicalClock;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.testkit.DynamoDbLocalRegion;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.ReplicationLag;
import dev.latitude.testkit.ReplicationSettings;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * The non-blocking client against three DynamoDB Local regions with 500 ms replication lag: a session reads its own
 * write at once although the local replica does not have it yet, the written item carries the stamp, caller errors
 * come back through the future unchanged, a blackholed local region is left at the attempt timeout without blocking
 * the caller, cancelling a future cancels its attempt, and an unroutable request fails the future instead of throwing.
 */
class AsyncClientIntegrationTest {
    private static final String TABLE = "async_orders";
    private static DynamoDbLocalRegions lab;
    private static final List<DynamoDbAsyncClient> regionClients = new ArrayList<>();
    private static MultiRegionDynamoDbAsyncClient client;

    @BeforeAll
    static void start() {
        lab = DynamoDbLocalRegions.start(List.of("us-east-1", "eu-west-1", "ap-southeast-2"),
                ReplicationSettings.builder().lag(ReplicationLag.fixed(Duration.ofMillis(500)))
                        .clockToTimestamp(ms -> HybridLogicalClock.timestamp(ms, 0)).build());
        lab.createGlobalTable(CreateTableRequest.builder().tableName(TABLE)
                .keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("pk")
                        .attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST).build());
        Topology topology = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder("eu-west-1").jurisdiction("EU").location(53.3, -6.3).build())
                .region(RegionSpec.builder("ap-southeast-2").jurisdiction("AU").location(-33.9, 151.2).build())
                .localRegion("eu-west-1").build();
        MultiRegionDynamoDbAsyncClient.Builder b = MultiRegionDynamoDbAsyncClient.builder().topology(topology)
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority("eu-west-1", "us-east-1",
                        "ap-southeast-2").build()).attemptTimeout(Duration.ofMillis(500)));
        for (DynamoDbLocalRegion r : lab.regions()) {
            // Each region through its fault front, so a test can blackhole one.
            DynamoDbAsyncClient c = DynamoDbAsyncClient.builder().endpointOverride(lab.front(r.id()).uri())
                    .region(Region.US_EAST_1).credentialsProvider(DynamoDbLocalRegion.credentials())
                    .overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy()))
                    .build();
            regionClients.add(c);
            b.regionClient(r.id(), c);
        }
        client = b.build();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        regionClients.forEach(DynamoDbAsyncClient::close);
        lab.close();
    }

    @AfterEach
    void heal() {
        lab.ids().forEach(id -> lab.front(id).heal());
    }

    private static Map<String, AttributeValue> key(String pk) {
        return Map.of("pk", AttributeValue.fromS(pk));
    }

    @Test
    void sessionReadsItsOwnWriteBeforeTheLocalReplicaHasIt() throws Exception {
        Session session = Session.create();
        try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
            client.putItem(p -> p.tableName(TABLE).item(Map.of("pk", AttributeValue.fromS("a1"),
                    "v", AttributeValue.fromS("x")))).get(10, TimeUnit.SECONDS);
            GetItemResponse local = lab.region("eu-west-1").client().getItem(g -> g.tableName(TABLE).key(key("a1")));
            assertThat(local.hasItem() && !local.item().isEmpty()).as("the local replica lags").isFalse();
            GetItemResponse read = client.getItem(g -> g.tableName(TABLE).key(key("a1"))).get(10, TimeUnit.SECONDS);
            assertThat(read.item()).containsEntry("v", AttributeValue.fromS("x"))
                    .containsKey(client.stampAttribute());
        }
        assertThat(session.token().requirement(TABLE, null)).isNotNull();
        assertThat(session.token().requirement(TABLE, null).region()).isEqualTo("us-east-1");
    }

    @Test
    void callerErrorsComeBackThroughTheFutureUnchanged() {
        assertThatThrownBy(() -> client.putItem(p -> p.tableName(TABLE).item(key("a2"))
                        .conditionExpression("attribute_exists(pk)")).join())
                .isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(ConditionalCheckFailedException.class);
    }

    @Test
    void aBlackholedLocalRegionIsLeftAtTheAttemptTimeoutWithoutBlockingTheCaller() throws Exception {
        lab.region("us-east-1").client().putItem(p -> p.tableName(TABLE).item(Map.of("pk", AttributeValue.fromS("a3"),
                "v", AttributeValue.fromS("y"))));
        lab.replication().awaitQuiescent(Duration.ofSeconds(10));
        lab.front("eu-west-1").apply(Fault.blackhole());
        CompletableFuture<GetItemResponse> read = client.getItem(g -> g.tableName(TABLE).key(key("a3")));
        // The blackholed region never answers and the fallback starts only at the attempt timeout: a caller that had
        // waited for a region would get a completed future.
        assertThat(read).as("the call returned its future without waiting for a region").isNotDone();
        assertThat(read.get(10, TimeUnit.SECONDS).item()).containsEntry("v", AttributeValue.fromS("y"));
        assertThat(lab.front("eu-west-1").requestCount()).as("the local region was tried first").isPositive();
    }

    @Test
    void cancellingTheFutureCancelsTheAttemptInFlight() {
        lab.front("eu-west-1").apply(Fault.blackhole());
        CompletableFuture<GetItemResponse> read = client.getItem(g -> g.tableName(TABLE).key(key("nothing")));
        assertThat(read.cancel(true)).isTrue();
        assertThat(read).isCancelled();
        LabSupport.awaitUntil(Duration.ofSeconds(5), "no attempt in flight after the cancel",
                () -> client.latitude().status().stream().allMatch(st -> st.inFlight() == 0));
    }

    @Test
    void anUnroutableRequestFailsTheFuture() {
        var future = client.executeStatement(e -> e.statement("EXPLAIN nothing"));
        assertThat(future).isCompletedExceptionally();
        assertThatThrownBy(future::join).hasCauseInstanceOf(UnroutableRequestException.class);
    }
}
