package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.testkit.DynamoDbLocalRegions;
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
import software.amazon.awssdk.services.dynamodb.model.BatchStatementRequest;
import software.amazon.awssdk.services.dynamodb.model.ExecuteStatementResponse;
import software.amazon.awssdk.services.dynamodb.model.ParameterizedStatement;

/**
 * Proves that PartiQL statements on an EU-only table stay in the EU whatever comments they carry: the review's
 * statements (a comment naming another table before the real one; a {@code --} comment between the keyword and the
 * table name) run on the EU table in EU regions, with not one request to the US region (the local region and first in
 * the routing order), counted at the fault fronts; the session records them under the EU table; statements the reader
 * is not sure of, and PartiQL writes of the stamp attribute, are refused before any request; the writes carry a
 * stamp; while a statement on the unrestricted table whose comment names the EU table goes to the US region.
 */
class PartiQlResidencyIntegrationTest {
    private static final String US = "us-east-1";
    private static final String EU_WEST = "eu-west-1";
    private static final String EU_CENTRAL = "eu-central-1";
    private static final String EU_TABLE = "eu_users";
    private static final String PUBLIC = "public_t";

    static DynamoDbLocalRegions lab;
    static LabSupport.Spans spans;

    @BeforeAll
    static void start() {
        lab = LabSupport.startLab(List.of(US, EU_WEST, EU_CENTRAL), ReplicationLag.fixed(Duration.ofMillis(50)));
        LabSupport.createTable(lab, EU_TABLE, null);
        LabSupport.createTable(lab, PUBLIC, null);
        lab.ids().forEach(lab::front);
        LabSupport.warmUp(lab, true, EU_TABLE, PUBLIC);
        spans = new LabSupport.Spans();
    }

    @AfterAll
    static void stop() {
        LabSupport.close(lab, spans);
    }

    @Test
    void commentsNeverTakeAPartiQlStatementOnAnEuTableOutOfTheEu() {
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(US).writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder(EU_WEST).writer().jurisdiction("EU").location(53.3, -6.3).build())
                .region(RegionSpec.builder(EU_CENTRAL).jurisdiction("EU").location(50.1, 8.7).build())
                .localRegion(US).build();
        DataPolicies policies = DataPolicies.builder()
                .exact(EU_TABLE, DataPolicy.builder().residency("EU").writerRegion(EU_WEST).build()).build();
        List<DynamoDbClient> fronts = new ArrayList<>();
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology)
                .dataPolicies(policies).keySchema(EU_TABLE, "pk").keySchema(PUBLIC, "pk")
                .router(r -> r.openTelemetry(spans.sdk).attemptTimeout(Duration.ofSeconds(2))
                        .deadline(Duration.ofSeconds(10))
                        .routingPolicy(RoutingPolicy.failover().priority(US, EU_WEST, EU_CENTRAL).build())
                        .hedging(HedgingConfig.disabled()));
        for (String id : lab.ids()) {
            DynamoDbClient c = lab.frontClient(id, cb -> cb.overrideConfiguration(o -> o
                    .retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy())
                    .apiCallTimeout(Duration.ofSeconds(5))));
            fronts.add(c);
            b.regionClient(id, c);
        }
        Session session = Session.create();
        try (MultiRegionDynamoDbClient client = b.build();
                Scope ignored = session.storeIn(Context.current()).makeCurrent()) {
            client.putItem(p -> p.tableName(EU_TABLE).item(Map.of("pk", AttributeValue.fromS("k1"),
                    "v", AttributeValue.fromS("before"))));
            lab.replication().awaitQuiescent(Duration.ofSeconds(10));
            long putStamp = Long.parseLong(LabSupport.raw(lab.region(EU_WEST).client(), EU_TABLE, "k1")
                    .get(WriteStamper.DEFAULT_ATTRIBUTE).n());
            lab.ids().forEach(id -> lab.front(id).resetRequests());

            // The review's statements: each runs on eu_users, in the EU.
            LabSupport.Traced<ExecuteStatementResponse> select = spans.traced(() -> client.executeStatement(s -> s
                    .statement("SELECT /* FROM \"public_t\" */ * FROM \"eu_users\" WHERE pk = 'k1'")));
            assertThat(select.region()).isIn(EU_WEST, EU_CENTRAL);
            assertThat(select.value().items()).hasSize(1);
            LabSupport.Traced<ExecuteStatementResponse> update = spans.traced(() -> client.executeStatement(s -> s
                    .statement("UPDATE -- c\n\"eu_users\" SET v = 'after' WHERE pk = 'k1'")));
            assertThat(update.region()).isEqualTo(EU_WEST);
            client.executeStatement(s -> s.statement("INSERT INTO --c\n\"eu_users\" VALUE {'pk': 'k2', 'v': 'new'}"));
            client.executeStatement(s -> s.statement("DELETE FROM --c\n\"eu_users\" WHERE pk = 'k2'"));
            client.executeStatement(s -> s.statement("SELECT * FROM \"eu_users\" -- FROM \"public_t\"\n"
                    + "WHERE pk = 'k1'"));
            client.batchExecuteStatement(r -> r.statements(
                    BatchStatementRequest.builder().statement("INSERT INTO/*\"public_t\"*/eu_users VALUE {'pk': 'k4'}")
                            .build(),
                    BatchStatementRequest.builder().statement("update --\reu_users set w = 1 where pk = 'k1'").build()));
            client.executeTransaction(r -> r.transactStatements(
                    ParameterizedStatement.builder().statement("EXISTS(SELECT /* public_t */ * FROM \"eu_users\""
                            + " WHERE pk = 'k1' AND v = 'after')").build(),
                    ParameterizedStatement.builder().statement("INSERT /* INTO \"public_t\" */ INTO \"eu_users\""
                            + " VALUE {'pk': 'k3'}").build()));

            // Statements the reader is not sure of, and a write of the stamp attribute: refused, nothing sent.
            for (String refused : List.of("UPDATE eu-users SET v = 1 WHERE pk = 'k1'",
                    "SELECT * FROM\u00A0\"eu_users\" WHERE pk = 'k1'",
                    "SELECT * FROM /* \"public_t\" \"eu_users\" WHERE pk = 'k1'",
                    "SELECT * FROM \"eu_users\" WHERE pk = 'k1'; DELETE FROM \"eu_users\" WHERE pk = 'k1'")) {
                assertThat(catchThrowable(() -> client.executeStatement(s -> s.statement(refused))))
                        .isInstanceOf(UnroutableRequestException.class).hasMessageNotContaining("k1");
            }
            assertThat(catchThrowable(() -> client.executeStatement(s -> s.statement(
                    "UPDATE \"eu_users\" SET \"_lat_ts\" = 1 WHERE pk = 'k1'"))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("_lat_ts");

            assertThat(lab.front(US).requestCount()).as("requests of the EU table that reached " + US).isZero();
            assertThat(lab.front(EU_WEST).requestCount() + lab.front(EU_CENTRAL).requestCount()).isPositive();
            assertThat(session.token().dataClasses()).as("data classes the session recorded").containsOnly(EU_TABLE);
            Map<String, AttributeValue> k1 = LabSupport.raw(lab.region(EU_WEST).client(), EU_TABLE, "k1");
            assertThat(k1).containsEntry("v", AttributeValue.fromS("after")).containsEntry("w",
                    AttributeValue.fromN("1"));
            // PartiQL writes are stamped like PutItem and UpdateItem: a newer stamp than the put's.
            assertThat(Long.parseLong(k1.get(WriteStamper.DEFAULT_ATTRIBUTE).n())).isGreaterThan(putStamp);
            assertThat(LabSupport.raw(lab.region(EU_WEST).client(), EU_TABLE, "k2")).isNull();
            assertThat(LabSupport.raw(lab.region(EU_WEST).client(), EU_TABLE, "k3"))
                    .containsKey(WriteStamper.DEFAULT_ATTRIBUTE);
            assertThat(LabSupport.raw(lab.region(EU_WEST).client(), EU_TABLE, "k4"))
                    .containsKey(WriteStamper.DEFAULT_ATTRIBUTE);

            // The unrestricted table, with a comment naming the EU table, uses the US region.
            LabSupport.Traced<ExecuteStatementResponse> free = spans.traced(() -> client.executeStatement(s -> s
                    .statement("SELECT /* FROM \"eu_users\" */ * FROM \"public_t\" WHERE pk = 'p1'")));
            assertThat(free.region()).isEqualTo(US);
            assertThat(lab.front(US).requestCount()).isEqualTo(1);
        } finally {
            fronts.forEach(DynamoDbClient::close);
        }
        for (String id : lab.ids()) {
            assertThat(LabSupport.raw(lab.region(id).client(), PUBLIC, "k2")).as("public_t in " + id).isNull();
            assertThat(LabSupport.raw(lab.region(id).client(), PUBLIC, "k3")).as("public_t in " + id).isNull();
            assertThat(LabSupport.raw(lab.region(id).client(), PUBLIC, "k4")).as("public_t in " + id).isNull();
        }
    }
}
