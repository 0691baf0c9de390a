package dev.latitude.dynamodb;

import static dev.latitude.dynamodb.LabSupport.key;
import static dev.latitude.dynamodb.LabSupport.raw;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.AmbiguousWriteException;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RegionsUnavailableException;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.WriteMode;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.ReplicationLag;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

/**
 * Proves how the client fails over when a region misbehaves (blackhole, refused connections, HTTP 500, throttling,
 * connection resets, slow answers), each region reached through a fault front: reads and idempotent writes (PutItem,
 * multi-writer) are answered by another region; a non-idempotent write (UpdateItem ADD) that fails ambiguously is not
 * sent anywhere else and ends in {@link AmbiguousWriteException}, its counter incremented at most once in all;
 * a non-idempotent write refused before processing (connection refused, throttled) moves on and applies exactly
 * once; a single-writer write never moves to a non-writer region; caller errors come back as they are, unretried.
 */
class FailoverIntegrationTest {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final String FAR = "ap-southeast-2";
    private static final String MULTI = "f_multi";
    private static final String SINGLE = "f_single";
    private static final String THROTTLING_BODY = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ThrottlingException\","
            + "\"message\":\"Rate of requests exceeds the allowed throughput.\"}";
    private static final String INTERNAL_ERROR_BODY = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
            + "InternalServerError\",\"message\":\"Internal server error\"}";
    private static final AtomicInteger ITEMS = new AtomicInteger();
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(2);

    static DynamoDbLocalRegions lab;
    static LabSupport.Spans spans;
    final List<DynamoDbClient> frontClients = new ArrayList<>();
    MultiRegionDynamoDbClient client;

    @BeforeAll
    static void start() {
        lab = LabSupport.startLab(List.of(WRITER, LOCAL, FAR), ReplicationLag.fixed(Duration.ofMillis(50)));
        LabSupport.createTable(lab, MULTI, null);
        LabSupport.createTable(lab, SINGLE, null);
        lab.ids().forEach(lab::front);
        LabSupport.warmUp(lab, true, MULTI, SINGLE);
        spans = new LabSupport.Spans();
    }

    @AfterAll
    static void stop() {
        LabSupport.close(lab, spans);
    }

    @AfterEach
    void healAndClose() {
        lab.ids().forEach(id -> lab.front(id).heal());
        if (client != null) {
            client.close();
        }
        frontClients.forEach(DynamoDbClient::close);
    }

    /** A client whose region clients go through the fault fronts; {@code local} may adjust the local one. */
    private MultiRegionDynamoDbClient newClient(Consumer<DynamoDbClientBuilder> local) {
        return newClient(local, true);
    }

    private MultiRegionDynamoDbClient newClient(Consumer<DynamoDbClientBuilder> local, boolean keySchemas) {
        return newClient(local, keySchemas, false);
    }

    private MultiRegionDynamoDbClient newClient(Consumer<DynamoDbClientBuilder> local, boolean keySchemas,
            boolean callerRuns) {
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder(LOCAL).jurisdiction("EU").location(53.3, -6.3).build())
                .region(RegionSpec.builder(FAR).jurisdiction("AU").location(-33.9, 151.2).build())
                .localRegion(LOCAL).build();
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology)
                .dataPolicies(DataPolicies.builder()
                        .exact(MULTI, DataPolicy.builder().writeMode(WriteMode.MULTI_WRITER).build()).build())
                .router(r -> r.openTelemetry(spans.sdk)
                        .attemptTimeout(Duration.ofMillis(300))
                        .deadline(Duration.ofSeconds(3))
                        .routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER, FAR).build())
                        .hedging(HedgingConfig.disabled())
                        .callerRunsFirstAttempt(callerRuns));
        if (keySchemas) {
            b.keySchema(MULTI, "pk").keySchema(SINGLE, "pk");
        }
        for (String id : lab.ids()) {
            DynamoDbClient c = lab.frontClient(id, cb -> {
                // The call timeout only bounds calls the engine does not (it cancels its attempts after 300 ms).
                cb.overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy())
                        .apiCallTimeout(CALL_TIMEOUT));
                if (id.equals(LOCAL) && local != null) {
                    local.accept(cb);
                }
            });
            frontClients.add(c);
            b.regionClient(id, c);
        }
        client = b.build();
        return client;
    }

    private static String newKey() {
        return "item-" + ITEMS.incrementAndGet();
    }

    /** Writes an item straight into every region and waits until it is there. */
    private static void seed(String table, String k) {
        lab.region(WRITER).client().putItem(p -> p.tableName(table).item(Map.of("pk", AttributeValue.fromS(k),
                "v", AttributeValue.fromS("seeded"))));
        lab.replication().awaitQuiescent(Duration.ofSeconds(10));
        for (String id : lab.ids()) {
            assertThat(raw(lab.region(id).client(), table, k)).as("seeded in " + id).isNotNull();
        }
    }

    private static void resetRequestCounts() {
        lab.ids().forEach(id -> lab.front(id).resetRequests());
    }

    private static UpdateItemRequest increment(String table, String k) {
        return UpdateItemRequest.builder().tableName(table).key(key(k)).updateExpression("ADD #c :one")
                .expressionAttributeNames(Map.of("#c", "counter"))
                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))).build();
    }

    /** The counter of item {@code k} in every region once replication has settled (0 if absent). */
    private static List<Integer> countersEverywhere(String table, String k) {
        lab.replication().awaitQuiescent(Duration.ofSeconds(10));
        List<Integer> counters = new ArrayList<>();
        for (String id : lab.ids()) {
            Map<String, AttributeValue> item = raw(lab.region(id).client(), table, k);
            counters.add(item == null || !item.containsKey("counter") ? 0 : Integer.parseInt(item.get("counter").n()));
        }
        return counters;
    }

    static Stream<Arguments> regionDown() {
        return Stream.of(
                Arguments.of("blackhole", Fault.blackhole()),
                Arguments.of("connection refused", Fault.refuseConnections()),
                Arguments.of("HTTP 500", Fault.errorRate(1.0, 500, INTERNAL_ERROR_BODY)),
                Arguments.of("HTTP 503", Fault.errorRate(1.0, 503, "{}")),
                Arguments.of("throttled", Fault.errorRate(1.0, 400, THROTTLING_BODY)),
                Arguments.of("connection reset", Fault.resetConnections()));
    }

    @ParameterizedTest(name = "local region: {0}")
    @MethodSource("regionDown")
    void readsAndIdempotentWritesAreAnsweredByAnotherRegion(String name, Fault fault) {
        newClient(null);
        String k = newKey();
        seed(MULTI, k);
        lab.front(LOCAL).apply(fault);

        LabSupport.Traced<GetItemResponse> read = spans.traced(() -> client.getItem(g -> g.tableName(MULTI)
                .key(key(k))));
        assertThat(read.value().item()).containsEntry("v", AttributeValue.fromS("seeded"));
        assertThat(read.region()).isIn(WRITER, FAR);

        LabSupport.Traced<?> put = spans.traced(() -> client.putItem(p -> p.tableName(MULTI).item(Map.of("pk",
                AttributeValue.fromS(k), "v", AttributeValue.fromS("put")))));
        assertThat(put.region()).as("multi-writer PutItem falls over").isIn(WRITER, FAR);
        assertThat(raw(lab.region(put.region()).client(), MULTI, k)).containsEntry("v", AttributeValue.fromS("put"));
        if (fault.kind() != Fault.Kind.REFUSE) {
            assertThat(lab.front(LOCAL).requestCount()).as("the local region was tried").isGreaterThan(0);
        }
    }

    /**
     * With callerRunsFirstAttempt the first attempt runs on the caller's thread; region clients whose own call timeout
     * equals the attempt timeout still hand a blackholed region's calls to the next region.
     */
    @Test
    void callerRunsFirstAttempt_aBlackholedLocalRegionStillFailsOver() {
        Duration attempt = Duration.ofMillis(300);
        newClient(cb -> cb.overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient
                .failoverRetryStrategy()).apiCallTimeout(attempt)), true, true);
        String k = newKey();
        seed(MULTI, k);
        lab.front(LOCAL).apply(Fault.blackhole());
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            LabSupport.Traced<GetItemResponse> read = spans.traced(() -> client.getItem(g -> g.tableName(MULTI)
                    .key(key(k))));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(read.value().item()).containsEntry("v", AttributeValue.fromS("seeded"));
            assertThat(read.region()).isIn(WRITER, FAR);
            assertThat(millis).as("answered within about one attempt timeout, not the %s call timeout", CALL_TIMEOUT)
                    .isLessThan(CALL_TIMEOUT.toMillis());
        }
        LabSupport.Traced<?> put = spans.traced(() -> client.putItem(p -> p.tableName(MULTI).item(Map.of("pk",
                AttributeValue.fromS(k), "v", AttributeValue.fromS("put")))));
        assertThat(put.region()).isIn(WRITER, FAR);
    }

    @ParameterizedTest(name = "writer region: {0}")
    @MethodSource("regionDown")
    void singleWriterWritesDoNotMoveToAReaderButReadsStillWork(String name, Fault fault) {
        newClient(null);
        String k = newKey();
        seed(SINGLE, k);
        lab.front(WRITER).apply(fault);
        resetRequestCounts();

        LabSupport.Traced<GetItemResponse> read = spans.traced(() -> client.getItem(g -> g.tableName(SINGLE)
                .key(key(k))));
        assertThat(read.region()).isEqualTo(LOCAL);
        assertThat(read.value().item()).containsEntry("v", AttributeValue.fromS("seeded"));
        // A write refused before processing certainly was not applied; after a blackhole, a 500 or a reset it may
        // have been, and the caller is told so (never "no region could serve", which reads as "not applied").
        boolean refused = fault.kind() == Fault.Kind.REFUSE || fault.status() == 503 || fault.status() == 400;
        assertThatThrownBy(() -> client.putItem(p -> p.tableName(SINGLE).item(Map.of("pk", AttributeValue.fromS(k),
                "v", AttributeValue.fromS("put")))))
                .isInstanceOf(refused ? RegionsUnavailableException.class : AmbiguousWriteException.class);
        assertThat(lab.front(LOCAL).requestCount()).as("only the read reached " + LOCAL).isEqualTo(1);
        assertThat(lab.front(FAR).requestCount()).isZero();
        lab.front(WRITER).heal();
        assertThat(countersEverywhere(SINGLE, k)).containsOnly(0);
        for (String id : lab.ids()) {
            assertThat(raw(lab.region(id).client(), SINGLE, k)).as("nothing written in " + id)
                    .containsEntry("v", AttributeValue.fromS("seeded"));
        }
    }

    static Stream<Arguments> ambiguous() {
        return Stream.of(
                Arguments.of("blackhole", Fault.blackhole()),
                Arguments.of("HTTP 500", Fault.errorRate(1.0, 500, INTERNAL_ERROR_BODY)),
                Arguments.of("connection reset", Fault.resetConnections()));
    }

    @ParameterizedTest(name = "local region: {0}")
    @MethodSource("ambiguous")
    void aNonIdempotentWriteThatFailsAmbiguouslyIsNotRetriedElsewhere(String name, Fault fault) {
        newClient(null);
        String k = newKey();
        seed(MULTI, k);
        lab.front(LOCAL).apply(fault);
        resetRequestCounts();

        assertThatThrownBy(() -> client.updateItem(increment(MULTI, k))).isInstanceOf(AmbiguousWriteException.class);
        assertThat(lab.front(WRITER).requestCount()).as("not sent to " + WRITER).isZero();
        assertThat(lab.front(FAR).requestCount()).as("not sent to " + FAR).isZero();
        lab.front(LOCAL).heal();
        List<Integer> counters = countersEverywhere(MULTI, k);
        assertThat(counters).as("the counter in every region").allMatch(c -> c <= 1);
        assertThat(counters).as("the same in every region").containsOnly(counters.get(0));
    }

    @Test
    void aNonIdempotentWriteSlowerThanTheAttemptTimeoutKeepsItsChanceAndSucceedsOnce() {
        newClient(null);
        String k = newKey();
        seed(MULTI, k);
        lab.front(LOCAL).apply(Fault.latency(Duration.ofMillis(1000)));
        resetRequestCounts();

        // Slow is not dead: past the 300 ms attempt timeout the increment cannot go elsewhere (it is not idempotent),
        // so it keeps running until the 3 s deadline, and its answer is the caller's.
        client.updateItem(increment(MULTI, k));

        assertThat(lab.front(WRITER).requestCount()).as("not sent to " + WRITER).isZero();
        assertThat(lab.front(FAR).requestCount()).as("not sent to " + FAR).isZero();
        lab.front(LOCAL).heal();
        assertThat(countersEverywhere(MULTI, k)).as("applied once, everywhere").containsOnly(1);
    }

    @Test
    void aNonIdempotentWriteWhoseAnswerIsLostAfterItWasAppliedIsAppliedAtMostOnce() {
        // The local region applies the increment and its answer becomes an HTTP 500: the outcome is unknown.
        AtomicInteger applied = new AtomicInteger();
        newClient(b -> b.overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy())
                .apiCallTimeout(CALL_TIMEOUT).addExecutionInterceptor(new LoseUpdateAnswers(applied))));
        String k = newKey();
        seed(MULTI, k);
        resetRequestCounts();

        assertThatThrownBy(() -> client.updateItem(increment(MULTI, k))).isInstanceOf(AmbiguousWriteException.class);
        assertThat(lab.front(WRITER).requestCount()).isZero();
        assertThat(lab.front(FAR).requestCount()).isZero();
        assertThat(countersEverywhere(MULTI, k)).as("the counter in every region (increments sent to %s: %s)",
                LOCAL, applied.get()).containsOnly(1);
    }

    static Stream<Arguments> refusedBeforeProcessing() {
        return Stream.of(
                Arguments.of("connection refused", Fault.refuseConnections()),
                Arguments.of("throttled", Fault.errorRate(1.0, 400, THROTTLING_BODY)),
                Arguments.of("HTTP 503", Fault.errorRate(1.0, 503, "{}")));
    }

    @ParameterizedTest(name = "local region: {0}")
    @MethodSource("refusedBeforeProcessing")
    void aNonIdempotentWriteRefusedBeforeProcessingMovesOnAndAppliesOnce(String name, Fault fault) {
        newClient(null);
        String k = newKey();
        seed(MULTI, k);
        lab.front(LOCAL).apply(fault);

        LabSupport.Traced<?> r = spans.traced(() -> client.updateItem(increment(MULTI, k)));
        assertThat(r.region()).isEqualTo(WRITER);
        lab.front(LOCAL).heal();
        assertThat(countersEverywhere(MULTI, k)).containsOnly(1);
    }

    @Test
    void callerErrorsComeBackAsTheyAreAndAreNotRetried() {
        newClient(null);
        String k = newKey();
        seed(MULTI, k);
        resetRequestCounts();

        assertThatThrownBy(() -> client.putItem(p -> p.tableName(MULTI).item(Map.of("pk", AttributeValue.fromS(k),
                "v", AttributeValue.fromS("again"))).conditionExpression("attribute_not_exists(pk)")))
                .isInstanceOf(ConditionalCheckFailedException.class);
        assertThatThrownBy(() -> client.updateItem(increment(MULTI, k).toBuilder()
                .conditionExpression("attribute_not_exists(pk)").build()))
                .isInstanceOf(ConditionalCheckFailedException.class);
        assertThat(lab.front(LOCAL).requestCount()).as("one request per call, in the local region").isEqualTo(2);
        assertThat(lab.front(WRITER).requestCount()).isZero();
        assertThat(lab.front(FAR).requestCount()).isZero();
        assertThat(countersEverywhere(MULTI, k)).containsOnly(0);
    }

    @Test
    void aWriteIsNotHeldUpByTheHomeRegionWhenItsKeySchemaIsLookedUp() {
        // No keySchema(...) given: the client learns the key attributes with a DescribeTable in the home region
        // (the local one), which is blackholed. The write itself goes to another region within the deadline.
        newClient(null, false);
        String k = newKey();
        lab.front(LOCAL).blackhole();
        long start = System.nanoTime();
        LabSupport.Traced<?> put = spans.traced(() -> client.putItem(p -> p.tableName(MULTI).item(Map.of("pk",
                AttributeValue.fromS(k), "v", AttributeValue.fromS("put")))));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(put.region()).isEqualTo(WRITER);
        // Held up by the key-schema lookup, it would have waited for the region client's call timeout first.
        assertThat(millis).as("PutItem time with the home region blackholed (attempt timeout 300 ms, deadline 3 s,"
                + " region clients' call timeout %s)", CALL_TIMEOUT).isLessThan(CALL_TIMEOUT.toMillis());
    }

    /** Lets every UpdateItem reach the server, then replaces its answer with an HTTP 500 InternalServerError. */
    private static final class LoseUpdateAnswers implements ExecutionInterceptor {
        private final AtomicInteger sent;

        LoseUpdateAnswers(AtomicInteger sent) {
            this.sent = sent;
        }

        @Override
        public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context,
                ExecutionAttributes executionAttributes) {
            if (!(context.request() instanceof UpdateItemRequest)) {
                return context.httpResponse();
            }
            sent.incrementAndGet();
            return context.httpResponse().toBuilder().statusCode(500)
                    .putHeader("x-amzn-ErrorType", "InternalServerError")
                    .removeHeader("x-amz-crc32").build();
        }

        @Override
        public Optional<InputStream> modifyHttpResponseContent(Context.ModifyHttpResponse context,
                ExecutionAttributes executionAttributes) {
            if (!(context.request() instanceof UpdateItemRequest)) {
                return context.responseBody();
            }
            return Optional.of(new ByteArrayInputStream(INTERNAL_ERROR_BODY.getBytes(StandardCharsets.UTF_8)));
        }
    }
}
