package dev.latitude.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.WriteMode;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;

/** How region requests are made to end within the attempt timeout and the call's remaining deadline. */
class AttemptTimeoutsTest {
    private static final Duration ATTEMPT = Duration.ofMillis(300);
    private static final long LOTS_LEFT = Duration.ofSeconds(5).toNanos();
    private static final GetItemRequest GET = GetItemRequest.builder().tableName("t")
            .key(Map.of("pk", AttributeValue.fromS("k"))).build();

    // Never sent anything: the clients are only asked for their configuration.
    private final DynamoDbClient unbounded = client(null);
    private final DynamoDbClient bounded = client(ATTEMPT);
    private final DynamoDbClient tooLong = client(Duration.ofSeconds(2));
    private final DynamoDbClient made = client(ATTEMPT);
    private static final Topology TOPOLOGY = Topology.builder()
            .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").build())
            .region(RegionSpec.builder("eu-west-1").jurisdiction("EU").build())
            .region(RegionSpec.builder("eu-central-1").jurisdiction("EU").build())
            .localRegion("eu-west-1").build();
    private final AttemptTimeouts timeouts = new AttemptTimeouts(ATTEMPT, Duration.ofSeconds(5),
            Map.of("free", unbounded, "cut", bounded, "long", tooLong, "made", made), Set.of("made"), TOPOLOGY,
            DataPolicies.builder()
                    .exact("ledger", DataPolicy.builder().consistency(ConsistencyLevel.STRONG).build())
                    .exact("carts", DataPolicy.builder().writeMode(WriteMode.MULTI_WRITER).build())
                    .exact("us_only", DataPolicy.builder().residency("US").build())
                    .build());

    private static DynamoDbClient client(Duration apiCallTimeout) {
        return DynamoDbClient.builder().region(Region.US_EAST_1).endpointOverride(URI.create("http://127.0.0.1:9"))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .overrideConfiguration(o -> o.apiCallTimeout(apiCallTimeout)).build();
    }

    @AfterEach
    void close() {
        unbounded.close();
        bounded.close();
        tooLong.close();
        made.close();
    }

    @Test
    void bound_clientThatCutsAtTheAttemptTimeout_getsTheRequestAsItIs() {
        assertThat(timeouts.bound(GET, "cut", LOTS_LEFT, true)).isSameAs(GET);
    }

    @Test
    void bound_clientWithoutTimeoutsOrALongerOne_getsACopyCutAtTheAttemptTimeout() {
        for (String region : new String[] {"free", "long"}) {
            GetItemRequest sent = timeouts.bound(GET, region, LOTS_LEFT, true);
            AwsRequestOverrideConfiguration o = sent.overrideConfiguration().orElseThrow();
            assertThat(o.apiCallTimeout()).contains(ATTEMPT);
            assertThat(o.apiCallAttemptTimeout()).contains(ATTEMPT);
            assertThat(sent.toBuilder().overrideConfiguration((AwsRequestOverrideConfiguration) null).build())
                    .isEqualTo(GET);
        }
    }

    @Test
    void bound_lessDeadlineLeftThanTheAttemptTimeout_cutsAtTheDeadlineEvenInABoundedClient() {
        GetItemRequest sent = timeouts.bound(GET, "cut", Duration.ofMillis(120).toNanos(), true);
        assertThat(sent.overrideConfiguration().orElseThrow().apiCallTimeout()).contains(Duration.ofMillis(120));
        GetItemRequest late = timeouts.bound(GET, "cut", -5, true);
        assertThat(late.overrideConfiguration().orElseThrow().apiCallTimeout()).contains(Duration.ofMillis(1));
    }

    @Test
    void bound_requestsOwnTimeouts_keepTheShorterAndCapTheLonger() {
        GetItemRequest own = GET.toBuilder().overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMillis(100))
                .apiCallAttemptTimeout(Duration.ofSeconds(10)).putHeader("x-test", "kept")).build();
        GetItemRequest sent = timeouts.bound(own, "cut", LOTS_LEFT, true);
        AwsRequestOverrideConfiguration o = sent.overrideConfiguration().orElseThrow();
        assertThat(o.apiCallTimeout()).contains(Duration.ofMillis(100));
        assertThat(o.apiCallAttemptTimeout()).contains(ATTEMPT);
        assertThat(o.headers()).containsKey("x-test");
    }

    @Test
    void bound_aCallThatCannotMove_isCutAtTheRemainingDeadlineNotTheAttemptTimeout() {
        long left = Duration.ofSeconds(4).toNanos();
        // A client without timeouts, and one the builder made (it cuts at the attempt timeout), get the deadline.
        for (String region : new String[] {"free", "made"}) {
            GetItemRequest sent = timeouts.bound(GET, region, left, false);
            assertThat(sent.overrideConfiguration().orElseThrow().apiCallTimeout()).as(region)
                    .contains(Duration.ofSeconds(4));
        }
        // A client given with a cut of its own keeps it: the caller chose it.
        assertThat(timeouts.bound(GET, "cut", left, false)).isSameAs(GET);
        assertThat(timeouts.bound(GET, "long", left, false)).isSameAs(GET);
    }

    @Test
    void movable_readsAndIdempotentWritesWithAnotherRegionToGoTo() {
        assertThat(timeouts.movable(Operation.read("GetItem").dataClass("orders").build())).isTrue();
        assertThat(timeouts.movable(Operation.write("PutItem").dataClass("carts").idempotent(true).build())).isTrue();
        // A non-idempotent write, a single writer, STRONG reads of it, one region allowed by residency: nowhere to go.
        assertThat(timeouts.movable(Operation.write("UpdateItem").dataClass("carts").build())).isFalse();
        assertThat(timeouts.movable(Operation.write("PutItem").dataClass("orders").idempotent(true).build()))
                .isFalse();
        assertThat(timeouts.movable(Operation.read("GetItem").dataClass("ledger").build())).isFalse();
        assertThat(timeouts.movable(Operation.read("GetItem").dataClass("orders")
                .consistency(ConsistencyLevel.STRONG).build())).isFalse();
        assertThat(timeouts.movable(Operation.read("GetItem").dataClass("us_only").build())).isFalse();
    }

    @Test
    void deadlineNanos_operationsOwnDeadlineElseTheDefault() {
        assertThat(timeouts.deadlineNanos(Operation.read("GetItem").build())).isEqualTo(LOTS_LEFT);
        assertThat(timeouts.deadlineNanos(Operation.read("GetItem").deadline(Duration.ofSeconds(1)).build()))
                .isEqualTo(Duration.ofSeconds(1).toNanos());
    }
}
