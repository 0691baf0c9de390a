package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.latitude.LatitudeConfigException;
import dev.latitude.RegionSpec;
import dev.latitude.RegionsUnavailableException;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.spi.ErrorClassifier;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;

/**
 * Proves that {@link MultiRegionDynamoDbClient.Builder} refuses each invalid setting with a
 * {@link LatitudeConfigException} that names the setting (missing topology, a client for a region outside it, a region
 * without a client, two clients for one region, an unknown home region, a bad stamp attribute or key schema, engine
 * settings the builder owns set again through {@code router}), and that {@code buildClients} makes a working client
 * per region: each signs for its own region, uses the failover retry strategy and reaches the endpoint it was given.
 */
class MultiRegionDynamoDbClientBuilderTest {
    private static final Topology TOPOLOGY = Topology.builder()
            .region(RegionSpec.builder("us-east-1").writer().build())
            .region(RegionSpec.builder("eu-west-1").build())
            .localRegion("eu-west-1").build();
    private static final Pattern SCOPE = Pattern.compile("Credential=x/\\d{8}/([a-z0-9-]+)/dynamodb/aws4_request");

    private static StubRegion stub;
    private static StubRegion other;

    @BeforeAll
    static void start() {
        stub = StubRegion.start("any");
        other = StubRegion.start("given");
    }

    @AfterAll
    static void stop() {
        stub.close();
        other.close();
    }

    @BeforeEach
    void reset() {
        stub.reset();
        other.reset();
    }

    private static MultiRegionDynamoDbClient.Builder complete() {
        return MultiRegionDynamoDbClient.builder().topology(TOPOLOGY)
                .regionClient("us-east-1", stub.client())
                .regionClient("eu-west-1", stub.client());
    }

    private static LatitudeConfigException configError(Runnable r) {
        Throwable t = catchThrowable(r::run);
        assertThat(t).isInstanceOf(LatitudeConfigException.class);
        return (LatitudeConfigException) t;
    }

    private static void assertNames(LatitudeConfigException e, String setting, String... mentions) {
        assertThat(e.setting()).isEqualTo(setting);
        assertThat(e.getMessage()).startsWith(setting + ":");
        for (String m : mentions) {
            assertThat(e.getMessage()).contains(m);
        }
    }

    // ---------------------------------------------------------------------------------------------- refusals

    @Test
    void aTopologyIsRequired() {
        LatitudeConfigException e = configError(() -> MultiRegionDynamoDbClient.builder()
                .regionClient("us-east-1", stub.client()).build());
        assertNames(e, "topology");
    }

    @Test
    void aClientForARegionOutsideTheTopologyIsRefused() {
        LatitudeConfigException e = configError(() -> complete().regionClient("ap-south-1", stub.client()).build());
        assertNames(e, "regionClient", "ap-south-1", "us-east-1", "eu-west-1");
    }

    @Test
    void everyRegionNeedsAClientUnlessTheBuilderMakesThem() {
        LatitudeConfigException e = configError(() -> MultiRegionDynamoDbClient.builder().topology(TOPOLOGY)
                .regionClient("us-east-1", stub.client()).build());
        assertNames(e, "regionClient", "eu-west-1", "buildClients");
    }

    @Test
    void twoClientsForOneRegionAreRefusedAtOnce() {
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().regionClient("eu-west-1",
                stub.client());
        LatitudeConfigException e = configError(() -> b.regionClient("eu-west-1", stub.client()));
        assertNames(e, "regionClient", "eu-west-1");
    }

    @Test
    void theHomeRegionMustBeInTheTopology() {
        LatitudeConfigException e = configError(() -> complete().homeRegion("eu-central-1").build());
        assertNames(e, "homeRegion", "eu-central-1");
    }

    @Test
    void theStampAttributeMustBeAnAttributeName() {
        assertNames(configError(() -> MultiRegionDynamoDbClient.builder().stampAttribute("")), "stampAttribute");
        assertNames(configError(() -> MultiRegionDynamoDbClient.builder().stampAttribute(null)), "stampAttribute");
        assertNames(configError(() -> MultiRegionDynamoDbClient.builder().stampAttribute("a".repeat(256))),
                "stampAttribute");
        assertThatNoException().isThrownBy(() -> MultiRegionDynamoDbClient.builder().stampAttribute("a".repeat(255)));
    }

    @Test
    void aKeySchemaHasAtMostOneSortKey() {
        LatitudeConfigException e = configError(() -> MultiRegionDynamoDbClient.builder()
                .keySchema("orders", "pk", "sk", "extra"));
        assertNames(e, "keySchema", "orders");
        assertThatNoException().isThrownBy(() -> MultiRegionDynamoDbClient.builder().keySchema("orders", "pk", "sk")
                .keySchema("events", "pk"));
    }

    @Test
    void routerCannotSetWhatTheBuilderOwns() {
        Topology another = Topology.builder().region(RegionSpec.builder("us-west-2").writer().build())
                .localRegion("us-west-2").build();
        LatitudeConfigException topology = configError(() -> complete().router(b -> b.topology(another)).build());
        assertNames(topology, "router", "topology", "set twice");

        LatitudeConfigException classifier = configError(() -> complete()
                .router(b -> b.errorClassifier(ErrorClassifier.defaults())).build());
        assertNames(classifier, "router", "errorClassifier");
    }

    @Test
    void anEngineSettingRouterMayChangeIsValidatedAgainstTheTopology() {
        LatitudeConfigException e = configError(() -> complete()
                .router(b -> b.routingPolicy(RoutingPolicy.failover().priority("ap-south-1").build())).build());
        assertThat(e.getMessage()).contains("ap-south-1");
    }

    // ---------------------------------------------------------------------------------------------- buildClients

    private static String signedRegion(LoggedRequest r) {
        Matcher m = SCOPE.matcher(r.getHeader("Authorization"));
        assertThat(m.find()).as("SigV4 scope in %s", r.getHeader("Authorization")).isTrue();
        return m.group(1);
    }

    private static Consumer<software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder> settings(StubRegion to) {
        return b -> b.endpointOverride(to.uri()).credentialsProvider(StubRegion.credentials());
    }

    @Test
    void buildClientsMakesAWorkingClientPerRegion() {
        stub.answer("GetItem", StubRegion.ok("{\"Item\":{\"pk\":{\"S\":\"k1\"}}}"), 5);
        stub.answer("ListTables", StubRegion.ok("{\"TableNames\":[\"orders\"]}"), 5);
        try (MultiRegionDynamoDbClient client = MultiRegionDynamoDbClient.builder().topology(TOPOLOGY)
                .buildClients(settings(stub))
                .router(b -> b.attemptTimeout(Duration.ofSeconds(5)).deadline(Duration.ofSeconds(20)))
                .build()) {
            // Control plane: the home region (the topology's local region), signed for it.
            assertThat(client.listTables().tableNames()).containsExactly("orders");
            assertThat(signedRegion(stub.requests("ListTables").get(0))).isEqualTo("eu-west-1");

            // A strong read: the writer region, signed for it.
            GetItemResponse r = client.getItem(g -> g.tableName("orders").consistentRead(true)
                    .key(Map.of("pk", AttributeValue.fromS("k1"))));
            assertThat(r.item()).containsEntry("pk", AttributeValue.fromS("k1"));
            assertThat(signedRegion(stub.requests("GetItem").get(0))).isEqualTo("us-east-1");

            // Every region throttling: each built client makes the failover strategy's two attempts (a throttled
            // request is repeated once locally), then gives up.
            stub.reset();
            stub.error("GetItem", 400, "ThrottlingException", "Rate exceeded");
            Throwable t = catchThrowable(() -> client.getItem(g -> g.tableName("orders")
                    .key(Map.of("pk", AttributeValue.fromS("k1")))));
            assertThat(t).isInstanceOf(RegionsUnavailableException.class);
            List<String> signed = stub.requests("GetItem").stream().map(MultiRegionDynamoDbClientBuilderTest::signedRegion)
                    .toList();
            assertThat(signed).containsExactlyInAnyOrder("us-east-1", "us-east-1", "eu-west-1", "eu-west-1");
        }
    }

    @Test
    void buildClientsOnlyFillsTheRegionsNotGivenAClient() {
        other.answer("GetItem", StubRegion.ok("{\"Item\":{\"from\":{\"S\":\"given\"}}}"), 5);
        stub.answer("GetItem", StubRegion.ok("{\"Item\":{\"from\":{\"S\":\"built\"}}}"), 5);
        DynamoDbClient given = other.client();
        try (MultiRegionDynamoDbClient client = MultiRegionDynamoDbClient.builder().topology(TOPOLOGY)
                .regionClient("us-east-1", given)
                .buildClients(settings(stub))
                .router(b -> b.routingPolicy(RoutingPolicy.failover().priority("eu-west-1", "us-east-1").build())
                        .attemptTimeout(Duration.ofSeconds(5)))
                .build()) {
            assertThat(client.getItem(g -> g.tableName("orders").consistentRead(true)
                    .key(Map.of("pk", AttributeValue.fromS("k1")))).item().get("from").s()).isEqualTo("given");
            assertThat(client.getItem(g -> g.tableName("orders")
                    .key(Map.of("pk", AttributeValue.fromS("k1")))).item().get("from").s()).isEqualTo("built");
            assertThat(signedRegion(stub.requests("GetItem").get(0))).isEqualTo("eu-west-1");
            assertThat(other.count()).isEqualTo(1);
        }
        // The given client stays the caller's: still usable after the multi-region client is closed.
        assertThat(given.getItem(g -> g.tableName("orders").key(Map.of("pk", AttributeValue.fromS("k1"))))
                .item().get("from").s()).isEqualTo("given");
    }
}
