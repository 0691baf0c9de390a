package dev.latitude.samples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.HybridLogicalClock;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.dynamodb.HeartbeatConfig;
import dev.latitude.dynamodb.MultiRegionDynamoDbClient;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.FakeRegions;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.History;
import dev.latitude.testkit.HistoryChecker;
import dev.latitude.testkit.HistoryOp;
import dev.latitude.testkit.ReplicationLag;
import dev.latitude.testkit.ReplicationSettings;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/** The examples of docs/TESTING.md, run as they are written there. */
class TestingGuideTest {

    /** What the example's own HTTP client throws for a 5xx answer: it carries the status, which the defaults read. */
    static final class ServerErrorException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int status;

        ServerErrorException(int status) {
            super("HTTP " + status);
            this.status = status;
        }

        public int statusCode() {
            return status;
        }
    }

    @Test
    void yourClientFailsOverOnFakeRegions() throws Exception {
        // snippet: testing-fake-regions
        try (FakeRegions lab = FakeRegions.start(Map.of(
                "us-east-1", Duration.ofMillis(5), "us-west-2", Duration.ofMillis(30)));
             Latitude latitude = Latitude.builder()
                .topology(Topology.builder()
                    .region(RegionSpec.builder("us-east-1").writer().build())
                    .region(RegionSpec.builder("us-west-2").build())
                    .localRegion("us-east-1").build())
                .routingPolicy(RoutingPolicy.failover().priority("us-east-1", "us-west-2").build())
                .attemptTimeout(Duration.ofMillis(200))
                .build()) {
            HttpClient http = HttpClient.newHttpClient();
            Operation read = Operation.read("GetProfile").build();
            // Your client, as your service calls it: each fake region answers with its own id.
            RegionCallCounter answeredBy = new RegionCallCounter();

            lab.region("us-east-1").apply(Fault.blackhole());   // accepts connections, never answers
            for (int i = 0; i < 20; i++) {
                String body = latitude.execute(read, region -> {
                    HttpRequest request = HttpRequest.newBuilder(lab.endpoints().get(region.id()).resolve("/profiles/42"))
                        .timeout(Duration.ofSeconds(2)).build();   // frees the thread of a hung request
                    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() >= 500) {
                        throw new ServerErrorException(response.statusCode());
                    }
                    return response.body();
                });
                answeredBy.add(body);
            }
            lab.region("us-east-1").heal();

            assertThat(answeredBy.counts()).containsOnlyKeys("us-west-2").containsEntry("us-west-2", 20);
        }
        // end snippet
    }

    /** Counts answers per region. */
    static final class RegionCallCounter {
        private final Map<String, Integer> counts = new LinkedHashMap<>();

        void add(String region) {
            counts.merge(region, 1, Integer::sum);
        }

        Map<String, Integer> counts() {
            return counts;
        }
    }

    @Test
    void dynamoDbLocalRegionsWithReplicationLagAndTheHistoryChecker() throws Exception {
        // snippet: testing-dynamodb-local
        ReplicationSettings replication = ReplicationSettings.builder()
            .lag(ReplicationLag.fixed(Duration.ofMillis(500)))
            .clockToTimestamp(ms -> HybridLogicalClock.timestamp(ms, 0))  // heartbeats compare in HLC time
            .build();
        try (DynamoDbLocalRegions lab = DynamoDbLocalRegions.start(List.of("us-east-1", "eu-west-1"), replication)) {
            lab.createGlobalTable(CreateTableRequest.builder().tableName("orders")
                .keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("pk")
                    .attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST).build());
            lab.createGlobalTable(HeartbeatConfig.defaults().createTableRequest()); // only if you use heartbeats

            Topology topology = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().build())
                .region(RegionSpec.builder("eu-west-1").build())
                .localRegion("eu-west-1").build();
            List<DynamoDbClient> regionClients = new ArrayList<>();
            MultiRegionDynamoDbClient.Builder builder = MultiRegionDynamoDbClient.builder().topology(topology)
                .keySchema("orders", "pk")                     // saves a DescribeTable lookup on a cold start
                .heartbeats(HeartbeatConfig.defaults())
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority("eu-west-1", "us-east-1").build()))
                .deadline(Duration.ofSeconds(30));             // a cold test JVM on a busy machine can be slow
            for (String region : lab.ids()) {
                // Through the region's HTTP fault front, with the retry strategy Latitude gives the clients it makes.
                DynamoDbClient client = lab.frontClient(region, b -> b.overrideConfiguration(
                    o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy())));
                regionClients.add(client);
                builder.regionClient(region, client);
            }

            History history = History.create();
            try (MultiRegionDynamoDbClient dynamo = builder.build()) {
                Session session = Session.create();
                try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
                    for (int version = 1; version <= 5; version++) {
                        String value = "v" + version;
                        History.Pending write = history.invoke("s1", HistoryOp.Type.WRITE, "orders", "o-1", null);
                        dynamo.putItem(p -> p.tableName("orders").item(Map.of(
                            "pk", AttributeValue.fromS("o-1"), "v", AttributeValue.fromN(value.substring(1)))));
                        write.ok("us-east-1", Long.parseLong(value.substring(1)), value);

                        // eu-west-1 is half a second behind: the session's read must still see its write.
                        History.Pending read = history.invoke("s1", HistoryOp.Type.READ, "orders", "o-1", null);
                        GetItemResponse got = dynamo.getItem(g -> g.tableName("orders")
                            .key(Map.of("pk", AttributeValue.fromS("o-1"))));
                        long seen = Long.parseLong(got.item().get("v").n());
                        read.ok("unknown", seen, "v" + seen);
                    }
                }
                lab.front("eu-west-1").apply(Fault.blackhole());   // faults act on the region's front
                GetItemResponse duringOutage = dynamo.getItem(g -> g.tableName("orders")
                    .key(Map.of("pk", AttributeValue.fromS("o-1"))));
                assertThat(duringOutage.hasItem()).isTrue();
                lab.front("eu-west-1").heal();
            } finally {
                regionClients.forEach(DynamoDbClient::close);
            }
            HistoryChecker.builder().topology(topology).build().check(history).assertClean();
        }
        // end snippet
    }
}
