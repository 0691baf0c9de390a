package dev.latitude.dynamodb;

import static dev.latitude.dynamodb.LabSupport.key;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.spi.ReplicationWatermarks;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.ReplicationLag;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ScanResponse;

/**
 * Proves that replication heartbeats drive the routing of reads no single item can verify: the watermarks advance
 * while replication flows; a SESSION Query or Scan right after the session's write, and any BOUNDED_STALENESS read,
 * avoid replicas whose heartbeats show them behind (replication out of the writer stalled), and use the local replica
 * again once replication resumes and the heartbeats catch up.
 */
class HeartbeatWatermarkIntegrationTest {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final String FAR = "ap-southeast-2";
    private static final String TABLE = "hb_orders";
    private static final String BOUNDED = "hb_bounded";
    private static final HeartbeatConfig BEATS = HeartbeatConfig.builder().interval(Duration.ofMillis(100))
            .reorderMargin(Duration.ofMillis(100)).build();

    static DynamoDbLocalRegions lab;
    static LabSupport.Spans spans;
    MultiRegionDynamoDbClient client;

    @BeforeAll
    static void start() {
        lab = LabSupport.startLab(List.of(WRITER, LOCAL, FAR), ReplicationLag.fixed(Duration.ofMillis(150)));
        lab.createGlobalTable(BEATS.createTableRequest());
        LabSupport.createTable(lab, TABLE, "sk");
        LabSupport.createTable(lab, BOUNDED, null);
        LabSupport.warmUp(lab, false, BOUNDED);
        spans = new LabSupport.Spans();
    }

    @AfterAll
    static void stop() {
        LabSupport.close(lab, spans);
    }

    @AfterEach
    void closeClient() {
        lab.replication().resume(WRITER);
        if (client != null) {
            client.close();
        }
    }

    private MultiRegionDynamoDbClient newClient() {
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder(LOCAL).jurisdiction("EU").location(53.3, -6.3).build())
                .region(RegionSpec.builder(FAR).jurisdiction("AU").location(-33.9, 151.2).build())
                .localRegion(LOCAL).build();
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology)
                .heartbeats(BEATS)
                .keySchema(TABLE, "pk", "sk")
                .dataPolicies(DataPolicies.builder().exact(BOUNDED, DataPolicy.builder()
                        .consistency(ConsistencyLevel.boundedStaleness(Duration.ofMillis(1000))).build()).build())
                .router(r -> r.openTelemetry(spans.sdk).attemptTimeout(Duration.ofSeconds(2)).deadline(Duration.ofSeconds(10))
                        .routingPolicy(RoutingPolicy.failover().priority(LOCAL, FAR, WRITER).build())
                        .hedging(HedgingConfig.disabled()));
        lab.regions().forEach(r -> b.regionClient(r.id(), r.client()));
        client = b.build();
        return client;
    }

    private static <T> T inSession(Session session, Supplier<T> body) {
        try (Scope ignored = session.storeIn(Context.current()).makeCurrent()) {
            return body.get();
        }
    }

    private static void awaitCaughtUp(ReplicationWatermarks w) {
        LabSupport.awaitUntil(Duration.ofSeconds(10), "heartbeats known and fresh in " + LOCAL + " and " + FAR,
                () -> w.applied(WRITER, WRITER, TABLE) != ReplicationWatermarks.UNKNOWN
                        && w.applied(LOCAL, WRITER, TABLE) != ReplicationWatermarks.UNKNOWN
                        && w.applied(FAR, WRITER, TABLE) != ReplicationWatermarks.UNKNOWN
                        && w.stalenessMillis(LOCAL, TABLE) < 600 && w.stalenessMillis(FAR, TABLE) < 600);
    }

    private LabSupport.Traced<QueryResponse> query(Session session, String pk) {
        return inSession(session, () -> spans.traced(() -> client.query(q -> q.tableName(TABLE)
                .keyConditionExpression("pk = :pk").expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(pk))))));
    }

    private void put(Session session, String pk, String sk) {
        inSession(session, () -> client.putItem(p -> p.tableName(TABLE).item(Map.of("pk", AttributeValue.fromS(pk),
                "sk", AttributeValue.fromS(sk)))));
    }

    @Test
    void watermarksAdvanceWhileReplicationFlows() {
        ReplicationWatermarks w = newClient().replicationWatermarks();
        awaitCaughtUp(w);
        long local = w.applied(LOCAL, WRITER, TABLE);
        long far = w.applied(FAR, WRITER, TABLE);
        long own = w.applied(WRITER, WRITER, TABLE);
        assertThat(own).as("the writer's own heartbeat is ahead of what the replicas applied").isGreaterThanOrEqualTo(local);
        LabSupport.awaitUntil(Duration.ofSeconds(5), "watermarks advance",
                () -> w.applied(LOCAL, WRITER, TABLE) > local && w.applied(FAR, WRITER, TABLE) > far
                        && w.applied(WRITER, WRITER, TABLE) > own);
        assertThat(w.applied(LOCAL, FAR, TABLE)).as("a reader region writes no heartbeats")
                .isEqualTo(ReplicationWatermarks.UNKNOWN);
    }

    @Test
    void readsOfAWholeTableAvoidAReplicaWhoseReplicationIsStalledAndComeBackAfter() {
        ReplicationWatermarks w = newClient().replicationWatermarks();
        awaitCaughtUp(w);
        client.putItem(p -> p.tableName(BOUNDED).item(Map.of("pk", AttributeValue.fromS("b"),
                "v", AttributeValue.fromS("1"))));
        Session session = Session.create();

        // Flowing: right after the write no replica has a heartbeat as new as it, so the writer answers...
        put(session, "p", "1");
        LabSupport.Traced<QueryResponse> first = query(session, "p");
        assertThat(first.region()).isEqualTo(WRITER);
        assertThat(first.value().count()).isEqualTo(1);
        // ...and once the local replica's heartbeat passes the write, the local replica does. (Heartbeats and the
        // table replicate independently, so the first local answers may still miss the write: polled for both.)
        LabSupport.awaitUntil(Duration.ofSeconds(5), "session Query answered by " + LOCAL + " with the write",
                () -> {
                    LabSupport.Traced<QueryResponse> q = query(session, "p");
                    return LOCAL.equals(q.region()) && q.value().count() == 1;
                });

        // Stalled: nothing leaves the writer, heartbeats included.
        lab.replication().stall(WRITER);
        put(session, "p", "2");
        LabSupport.awaitUntil(Duration.ofSeconds(5), LOCAL + " more than 1 s behind",
                () -> w.stalenessMillis(LOCAL, TABLE) > 1200 && w.stalenessMillis(FAR, TABLE) > 1200);
        LabSupport.Traced<QueryResponse> stalled = query(session, "p");
        assertThat(stalled.region()).as("session Query while replication is stalled").isEqualTo(WRITER);
        assertThat(stalled.value().count()).isEqualTo(2);
        LabSupport.Traced<ScanResponse> scan = inSession(session, () -> spans.traced(() -> client.scan(s -> s
                .tableName(TABLE))));
        assertThat(scan.region()).as("session Scan while replication is stalled").isEqualTo(WRITER);
        assertThat(scan.value().count()).isEqualTo(2);
        LabSupport.Traced<GetItemResponse> bounded = spans.traced(() -> client.getItem(g -> g.tableName(BOUNDED)
                .key(key("b"))));
        assertThat(bounded.region()).as("BOUNDED_STALENESS(1 s) read while replicas are > 1 s behind")
                .isEqualTo(WRITER);
        assertThat(bounded.value().item()).containsEntry("v", AttributeValue.fromS("1"));
        LabSupport.Traced<QueryResponse> anonymous = spans.traced(() -> client.query(q -> q.tableName(TABLE)
                .keyConditionExpression("pk = :pk").expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("p")))));
        assertThat(anonymous.region()).as("a read without a session is not held back").isEqualTo(LOCAL);
        assertThat(anonymous.value().count()).as("the local replica lacks the write").isEqualTo(1);

        // Resumed: the queued changes and heartbeats arrive, and the local replica answers again.
        lab.replication().resume(WRITER);
        LabSupport.awaitUntil(Duration.ofSeconds(5), "session Query answered by " + LOCAL + " after resume",
                () -> {
                    LabSupport.Traced<QueryResponse> q = query(session, "p");
                    return LOCAL.equals(q.region()) && q.value().count() == 2;
                });
        LabSupport.awaitUntil(Duration.ofSeconds(5), "bounded read answered by " + LOCAL + " after resume",
                () -> LOCAL.equals(spans.traced(() -> client.getItem(g -> g.tableName(BOUNDED).key(key("b"))))
                        .region()));
    }
}
