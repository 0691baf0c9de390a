package dev.latitude.dynamodb;

import static dev.latitude.dynamodb.LabSupport.key;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.ResidencyException;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.History;
import dev.latitude.testkit.HistoryChecker;
import dev.latitude.testkit.HistoryOp;
import dev.latitude.testkit.ReplicationLag;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;

/**
 * Proves that a table pinned to the EU is only ever sent to EU regions, even though the local region and the writer
 * of the topology are in the US: its reads and writes go to the EU regions, fail over between them, and when every EU
 * region is down end in {@link ResidencyException} with not one request to the US region (counted on the fault
 * fronts), while an unrestricted table keeps using the US region.
 */
class ResidencyIntegrationTest {
    private static final String US = "us-east-1";
    private static final String EU_WEST = "eu-west-1";
    private static final String EU_CENTRAL = "eu-central-1";
    private static final String PINNED = "customers_eu";
    private static final String FREE = "catalog";

    static DynamoDbLocalRegions lab;
    static LabSupport.Spans spans;

    @BeforeAll
    static void start() {
        lab = LabSupport.startLab(List.of(US, EU_WEST, EU_CENTRAL), ReplicationLag.fixed(Duration.ofMillis(50)));
        LabSupport.createTable(lab, PINNED, null);
        LabSupport.createTable(lab, FREE, null);
        lab.ids().forEach(lab::front);
        LabSupport.warmUp(lab, true, PINNED, FREE);
        spans = new LabSupport.Spans();
    }

    @AfterAll
    static void stop() {
        LabSupport.close(lab, spans);
    }

    @Test
    void anEuTableNeverLeavesTheEuEvenWhenEveryEuRegionIsDown() {
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(US).writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder(EU_WEST).writer().jurisdiction("EU").location(53.3, -6.3).build())
                .region(RegionSpec.builder(EU_CENTRAL).jurisdiction("EU").location(50.1, 8.7).build())
                .localRegion(US).build();
        DataPolicies policies = DataPolicies.builder()
                .exact(PINNED, DataPolicy.builder().residency("EU").writerRegion(EU_WEST).build()).build();
        List<DynamoDbClient> fronts = new ArrayList<>();
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology)
                .dataPolicies(policies).keySchema(PINNED, "pk").keySchema(FREE, "pk")
                .router(r -> r.openTelemetry(spans.sdk).attemptTimeout(Duration.ofMillis(700))
                        .deadline(Duration.ofSeconds(3))
                        .routingPolicy(RoutingPolicy.failover().priority(US, EU_WEST, EU_CENTRAL).build())
                        .hedging(HedgingConfig.disabled()));
        for (String id : lab.ids()) {
            DynamoDbClient c = lab.frontClient(id, cb -> cb.overrideConfiguration(o -> o
                    .retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy())
                    .apiCallTimeout(Duration.ofSeconds(2))));
            fronts.add(c);
            b.regionClient(id, c);
        }
        History history = History.create();
        try (MultiRegionDynamoDbClient client = b.build();
                Scope ignored = Session.create().storeIn(Context.current()).makeCurrent()) {
            lab.ids().forEach(id -> lab.front(id).resetRequests());

            // Healthy: writes go to the EU writer, reads to the first EU region in the routing order.
            for (int i = 0; i < 3; i++) {
                String k = "c" + i;
                History.Pending w = history.invoke("s", HistoryOp.Type.WRITE, PINNED, k, null);
                LabSupport.Traced<?> put = spans.traced(() -> client.putItem(p -> p.tableName(PINNED)
                        .item(Map.of("pk", AttributeValue.fromS(k), "v", AttributeValue.fromS("eu")))));
                w.ok(put.region(), i, "eu");
                History.Pending r = history.invoke("s", HistoryOp.Type.READ, PINNED, k, null);
                LabSupport.Traced<GetItemResponse> get = spans.traced(() -> client.getItem(g -> g.tableName(PINNED)
                        .key(key(k))));
                r.ok(get.region(), i, get.value().item().get("v").s());
                assertThat(put.region()).isEqualTo(EU_WEST);
                assertThat(get.region()).isIn(EU_WEST, EU_CENTRAL);
            }
            lab.replication().awaitQuiescent(Duration.ofSeconds(10));

            // One EU region down: the other EU region answers, never the US one.
            lab.front(EU_WEST).apply(Fault.refuseConnections());
            LabSupport.Traced<GetItemResponse> failover = spans.traced(() -> client.getItem(g -> g.tableName(PINNED)
                    .key(key("c0"))));
            assertThat(failover.region()).isEqualTo(EU_CENTRAL);
            history.invoke("s", HistoryOp.Type.READ, PINNED, "c0", null).ok(failover.region(), 0, "eu");

            // Every EU region down.
            lab.front(EU_CENTRAL).apply(Fault.blackhole());
            assertThatThrownBy(() -> client.getItem(g -> g.tableName(PINNED).key(key("c1"))))
                    .isInstanceOf(ResidencyException.class);
            assertThatThrownBy(() -> client.putItem(p -> p.tableName(PINNED).item(Map.of("pk",
                    AttributeValue.fromS("c9"), "v", AttributeValue.fromS("x"))))).isInstanceOf(ResidencyException.class);
            assertThatThrownBy(() -> client.query(q -> q.tableName(PINNED).keyConditionExpression("pk = :pk")
                    .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("c2")))))
                    .isInstanceOf(ResidencyException.class);
            assertThatThrownBy(() -> client.scan(s -> s.tableName(PINNED))).isInstanceOf(ResidencyException.class);
            assertThat(lab.front(US).requestCount()).as("requests of the EU table that reached " + US).isZero();

            // The US region was up all along: an unrestricted table uses it.
            LabSupport.Traced<?> free = spans.traced(() -> client.putItem(p -> p.tableName(FREE).item(Map.of("pk",
                    AttributeValue.fromS("p1")))));
            assertThat(free.region()).isEqualTo(US);
            assertThat(lab.front(US).requestCount()).isEqualTo(1);
        } finally {
            lab.ids().forEach(id -> lab.front(id).heal());
            fronts.forEach(DynamoDbClient::close);
        }
        HistoryChecker.builder().topology(topology).dataPolicies(policies).build().check(history).assertClean();
        for (String id : lab.ids()) {
            assertThat(LabSupport.raw(lab.region(id).client(), PINNED, "c9")).as("refused write in " + id).isNull();
        }
    }
}
