package dev.latitude.samples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.ConsistencyLevel;
import dev.latitude.RegionSpec;
import dev.latitude.Session;
import dev.latitude.SessionTokenCodec;
import dev.latitude.Topology;
import dev.latitude.WatermarkBounds;
import dev.latitude.dynamodb.LatitudeRequest;
import dev.latitude.dynamodb.MultiRegionDynamoDbClient;
import dev.latitude.testkit.DynamoDbLocalRegions;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/** The Java snippets of docs/DYNAMODB.md, run on two DynamoDB Local regions (the client uses the writer's). */
class DynamoDbDocSnippetsTest {
    private static DynamoDbLocalRegions lab;
    private static DynamoDbClient regionClient;
    private static MultiRegionDynamoDbClient dynamo;

    @BeforeAll
    static void start() {
        lab = DynamoDbLocalRegions.start("us-east-1", "eu-west-1");
        lab.createGlobalTable(CreateTableRequest.builder().tableName("profiles")
                .keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("pk")
                        .attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST).build());
        regionClient = lab.region("us-east-1").client();
        dynamo = MultiRegionDynamoDbClient.builder()
                .topology(Topology.builder().region(RegionSpec.builder("us-east-1").writer().build())
                        .localRegion("us-east-1").build())
                .regionClient("us-east-1", regionClient).keySchema("profiles", "pk")
                // The first requests of a cold DynamoDB Local on a busy machine can take seconds: the test's calls
                // get their time from a generous deadline (with one region there is nowhere else to go).
                .deadline(Duration.ofSeconds(60)).build();
    }

    @AfterAll
    static void stop() {
        if (dynamo != null) {
            dynamo.close();
        }
        if (regionClient != null) {
            regionClient.close();
        }
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void sessionTokenBetweenRequests() {
        byte[] secret = "a 32-byte secret for tests only!".getBytes(StandardCharsets.UTF_8);
        ReadmeSnippetsTest.Http request = new ReadmeSnippetsTest.Http();
        ReadmeSnippetsTest.Http response = new ReadmeSnippetsTest.Http();
        Map<String, AttributeValue> key = Map.of("pk", AttributeValue.fromS("user-1"));
        PutItemRequest put = PutItemRequest.builder().tableName("profiles")
                .item(Map.of("pk", AttributeValue.fromS("user-1"), "name", AttributeValue.fromS("Ada"))).build();
        GetItemRequest get = GetItemRequest.builder().tableName("profiles").key(key).build();

        // snippet: dynamodb-session-token
        WatermarkBounds bounds = dynamo.latitude().watermarkBounds();
        SessionTokenCodec codec = SessionTokenCodec.builder().signingKey("k2026-11", secret)
            .audience("orders-api.prod").bounds(bounds).build();
        // No header yet: a new session.
        Session session = Session.of(codec.decode(request.getHeader("X-Session-Token")), bounds);
        try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
            dynamo.putItem(put);                          // recorded per key in the session
            dynamo.getItem(get);                          // checked against it
        }
        response.setHeader("X-Session-Token", codec.encode(session.token()));
        // end snippet

        Session next = Session.of(codec.decode(response.getHeader("X-Session-Token")), bounds);
        assertThat(next.token().keyCount()).isEqualTo(1);
    }

    @Test
    void perRequestSettings() {
        Map<String, AttributeValue> key = Map.of("pk", AttributeValue.fromS("user-2"));
        dynamo.putItem(p -> p.tableName("profiles").item(Map.of("pk", AttributeValue.fromS("user-2"))));
        Session session = Session.create();

        // snippet: dynamodb-request-options
        GetItemResponse eventual = dynamo.getItem(GetItemRequest.builder().tableName("profiles").key(key)
            .overrideConfiguration(LatitudeRequest.consistency(ConsistencyLevel.EVENTUAL))
            .build());
        // Combined with settings of your own: a request has one override configuration.
        GetItemResponse inSession = dynamo.getItem(GetItemRequest.builder().tableName("profiles").key(key)
            .overrideConfiguration(LatitudeRequest.session(session).andThen(o -> o.apiCallTimeout(Duration.ofSeconds(2))))
            .build());
        // end snippet

        assertThat(eventual.hasItem()).isTrue();
        assertThat(inSession.hasItem()).isTrue();
    }
}
