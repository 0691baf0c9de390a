package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.HybridLogicalClock;
import dev.latitude.RegionSpec;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.ReplicationLag;
import dev.latitude.testkit.ReplicationSettings;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

class MultiRegionSmokeTest {
    static DynamoDbLocalRegions lab;

    @BeforeAll
    static void start() {
        lab = DynamoDbLocalRegions.start(List.of("us-east-1", "eu-west-1", "ap-southeast-2"),
                ReplicationSettings.builder().lag(ReplicationLag.fixed(Duration.ofMillis(500)))
                        .clockToTimestamp(ms -> HybridLogicalClock.timestamp(ms, 0)).build());
        lab.createGlobalTable(CreateTableRequest.builder().tableName("orders")
                .keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("pk")
                        .attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST).build());
        lab.createGlobalTable(HeartbeatConfig.defaults().createTableRequest());
    }

    @AfterAll
    static void stop() {
        lab.close();
    }

    @Test
    void readYourWrites() throws Exception {
        Topology topology = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder("eu-west-1").jurisdiction("EU").location(53.3, -6.3).build())
                .region(RegionSpec.builder("ap-southeast-2").jurisdiction("AU").location(-33.9, 151.2).build())
                .localRegion("eu-west-1").build();
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology)
                .heartbeats(HeartbeatConfig.builder().interval(Duration.ofMillis(100)).build());
        lab.regions().forEach(r -> b.regionClient(r.id(), r.client()));
        try (MultiRegionDynamoDbClient client = b.build()) {
            Session session = Session.create();
            try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
                client.putItem(p -> p.tableName("orders").item(Map.of("pk", AttributeValue.fromS("o1"),
                        "v", AttributeValue.fromS("x"))));
                GetItemResponse local = lab.region("eu-west-1").client().getItem(g -> g.tableName("orders")
                        .key(Map.of("pk", AttributeValue.fromS("o1"))));
                assertThat(local.hasItem() && !local.item().isEmpty()).isFalse();
                GetItemResponse r = client.getItem(g -> g.tableName("orders")
                        .key(Map.of("pk", AttributeValue.fromS("o1"))));
                assertThat(r.item()).containsEntry("v", AttributeValue.fromS("x"));
                System.out.println("token " + session.token());
            }
            Thread.sleep(1500);
            System.out.println("heartbeats " + ((dev.latitude.dynamodb.internal.Heartbeats) client.replicationWatermarks()).snapshot());
            System.out.println("status " + client.latitude().status());
        }
    }
}
