package dev.latitude.dynamodb;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import dev.latitude.AmbiguousWriteException;
import dev.latitude.AttemptRecord;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.FailureKind;
import dev.latitude.HedgingConfig;
import dev.latitude.LatitudeException;
import dev.latitude.RegionSpec;
import dev.latitude.RegionsUnavailableException;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.WriteMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import dev.latitude.testkit.FakeRegion;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;

/**
 * Proves what a caller of {@link MultiRegionDynamoDbClient} sees for the DynamoDB error shapes DynamoDB Local cannot
 * produce, served by three WireMock regions speaking DynamoDB's JSON protocol (routing order us-east-1, eu-west-1,
 * ap-southeast-2; every region takes writes of the table): throttling and 503 move reads and writes on; a 500, a
 * reset, a timeout or a malformed 200 moves reads and idempotent writes on but ends a non-idempotent write in
 * {@link AmbiguousWriteException} after one region; caller errors come back as the AWS SDK's exception after one
 * request; every region failing ends in {@link RegionsUnavailableException} naming each region. Request counts per
 * region come from WireMock's journal and pin what the per-region retry strategy
 * ({@link MultiRegionDynamoDbClient#failoverRetryStrategy()}: a second attempt for throttling only) adds inside one
 * Latitude attempt.
 */
class ErrorShapesFunctionalTest {
    private static final String TABLE = "orders";
    private static final String FIRST = "us-east-1";
    private static final String SECOND = "eu-west-1";
    private static final String THIRD = "ap-southeast-2";
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofMillis(1000);
    /** A throttled request is repeated once in the same region by failoverRetryStrategy(). */
    private static final int THROTTLED_ATTEMPTS = 2;
    /** Every other failure comes straight back to the engine: one request per region. */
    private static final int ONE_REQUEST = 1;
    private static final Map<String, AttributeValue> KEY = Map.of("pk", AttributeValue.fromS("k1"));

    private static StubRegion first;
    private static StubRegion second;
    private static StubRegion third;
    private MultiRegionDynamoDbClient client;

    @BeforeAll
    static void startRegions() {
        first = StubRegion.start(FIRST);
        second = StubRegion.start(SECOND);
        third = StubRegion.start(THIRD);
        warmUp();
    }

    /**
     * Loads the HTTP, signing, marshalling and engine classes once, so that no test's first attempt pays a cold
     * start against the attempt timeout on a busy machine.
     */
    private static void warmUp() {
        try (MultiRegionDynamoDbClient warm = newClient(first.client())) {
            first.error("DeleteItem", 400, "ConditionalCheckFailedException", "warm-up");
            warm.getItem(g -> g.tableName(TABLE).key(KEY));
            warm.putItem(p -> p.tableName(TABLE).item(KEY));
            warm.updateItem(u -> u.tableName(TABLE).key(KEY).updateExpression("ADD #n :one")
                    .expressionAttributeNames(Map.of("#n", "count"))
                    .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))));
            catchThrowable(() -> warm.deleteItem(d -> d.tableName(TABLE).key(KEY)));
        }
        first.closeClients();
        first.reset();
    }

    @AfterAll
    static void stopRegions() {
        Stream.of(first, second, third).forEach(StubRegion::close);
    }

    @BeforeEach
    void build() {
        for (StubRegion r : List.of(first, second, third)) {
            r.reset();
            r.answer("GetItem", StubRegion.ok(itemFrom(r.id())), 5);
        }
        // Fresh region clients per test: the SDK's retry token bucket is per client, so counts do not depend on order.
        client = newClient(first.client());
    }

    private static MultiRegionDynamoDbClient newClient(DynamoDbClient firstRegion) {
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(FIRST).writer().build())
                .region(RegionSpec.builder(SECOND).writer().build())
                .region(RegionSpec.builder(THIRD).writer().build())
                .localRegion(FIRST).build();
        return MultiRegionDynamoDbClient.builder().topology(topology)
                .regionClient(FIRST, firstRegion)
                .regionClient(SECOND, second.client())
                .regionClient(THIRD, third.client())
                .dataPolicies(DataPolicies.builder()
                        .exact(TABLE, DataPolicy.builder().writeMode(WriteMode.MULTI_WRITER).build()).build())
                .keySchema(TABLE, "pk")
                .router(b -> b.routingPolicy(RoutingPolicy.failover().priority(FIRST, SECOND, THIRD).build())
                        .hedging(HedgingConfig.disabled())
                        .attemptTimeout(ATTEMPT_TIMEOUT)
                        .deadline(Duration.ofSeconds(8)))
                .build();
    }

    @AfterEach
    void close() {
        client.close();
        Stream.of(first, second, third).forEach(StubRegion::closeClients);
    }

    private static String itemFrom(String region) {
        return "{\"Item\":{\"pk\":{\"S\":\"k1\"},\"from\":{\"S\":\"" + region + "\"}}}";
    }

    /**
     * One failure shape in the first region.
     *
     * @param name for the report
     * @param answer what the first region answers
     * @param kind how the attempt failed once the SDK gave up (null: not pinned here)
     * @param requests how many requests the first region receives for one call (-1: not pinned here)
     */
    record Shape(String name, ResponseDefinitionBuilder answer, FailureKind kind, int requests) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Shape throttling() {
        return new Shape("ThrottlingException 400", StubRegion.errorAnswer(400, "ThrottlingException", "Rate exceeded"),
                FailureKind.REGION_UNAVAILABLE, THROTTLED_ATTEMPTS);
    }

    private static Shape provisioned() {
        return new Shape("ProvisionedThroughputExceededException 400",
                StubRegion.errorAnswer(400, "ProvisionedThroughputExceededException", "The level of configured"
                        + " provisioned throughput for the table was exceeded"), FailureKind.REGION_UNAVAILABLE,
                THROTTLED_ATTEMPTS);
    }

    private static Shape requestLimit() {
        return new Shape("RequestLimitExceeded 400", StubRegion.errorAnswer(400, "RequestLimitExceeded",
                "Throughput exceeds the current throughput limit for your account"), FailureKind.REGION_UNAVAILABLE,
                THROTTLED_ATTEMPTS);
    }

    private static Shape unavailable() {
        return new Shape("ServiceUnavailable 503", StubRegion.errorAnswer(503, "ServiceUnavailable",
                "Service unavailable"), FailureKind.REGION_UNAVAILABLE, ONE_REQUEST);
    }

    private static Shape internal() {
        return new Shape("InternalServerError 500", StubRegion.errorAnswer(500, "InternalServerError",
                "Internal server error"), FailureKind.AMBIGUOUS, ONE_REQUEST);
    }

    /**
     * A 500 asking for a retry in 30 s. The AWS SDK would honour Retry-After inside its own retry; the failover
     * strategy does not repeat a 500 at all (see {@link #retryAfterDoesNotHoldTheCallInTheFailingRegion}).
     */
    private static Shape internalRetryAfter() {
        return new Shape("InternalServerError 500 + Retry-After", StubRegion.errorAnswer(500, "InternalServerError",
                "Internal server error").withHeader("Retry-After", "30"), FailureKind.AMBIGUOUS, ONE_REQUEST);
    }

    private static Shape notJson() {
        return new Shape("200 with an HTML body", StubRegion.ok("<html><body>gateway</body></html>"),
                FailureKind.AMBIGUOUS, ONE_REQUEST);
    }

    private static Shape truncated() {
        return new Shape("200 with truncated JSON", StubRegion.ok("{\"Item\":{\"pk\":{\"S\":\"k1"),
                FailureKind.AMBIGUOUS, ONE_REQUEST);
    }

    private static Shape reset() {
        return new Shape("connection reset", aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER),
                FailureKind.AMBIGUOUS, ONE_REQUEST);
    }

    /** Answers long after the attempt timeout: the engine gives up on the attempt (one request, no SDK retry). */
    private static Shape slow() {
        return new Shape("slow past the attempt timeout", StubRegion.ok(itemFrom(FIRST)).withFixedDelay(3000),
                FailureKind.TIMEOUT, 1);
    }

    static Stream<Shape> allShapes() {
        return Stream.of(throttling(), provisioned(), requestLimit(), unavailable(), internal(), internalRetryAfter(),
                notJson(), truncated(), reset(), slow());
    }

    static Stream<Shape> ambiguousShapes() {
        return Stream.of(internal(), internalRetryAfter(), notJson(), truncated(), reset(), slow());
    }

    static Stream<Shape> unavailableShapes() {
        return Stream.of(throttling(), provisioned(), requestLimit(), unavailable());
    }

    private static void assertFirstRegionRequests(Shape shape, String operation) {
        if (shape.requests() >= 0) {
            assertThat(first.count(operation)).as("requests to %s for %s after %s", FIRST, operation, shape)
                    .isEqualTo(shape.requests());
        } else {
            assertThat(first.count(operation)).as("requests to %s for %s after %s", FIRST, operation, shape)
                    .isBetween(1, THROTTLED_ATTEMPTS);
        }
    }

    // ------------------------------------------------------------------------------------------------ reads

    @ParameterizedTest(name = "{0}")
    @MethodSource("allShapes")
    void aReadMovesToTheNextRegionAndSucceeds(Shape shape) {
        first.answer("GetItem", shape.answer());

        GetItemResponse r = client.getItem(g -> g.tableName(TABLE).key(KEY));

        assertThat(r.item()).containsEntry("from", AttributeValue.fromS(SECOND));
        assertFirstRegionRequests(shape, "GetItem");
        assertThat(second.count("GetItem")).isEqualTo(1);
        assertThat(third.count()).isZero();
    }

    // ------------------------------------------------------------------------------------------------ writes

    /** Shapes after which a write's outcome is unknown (a slow answer is not among them: it still arrives). */
    static Stream<Shape> ambiguousFailureShapes() {
        return Stream.of(internal(), internalRetryAfter(), notJson(), truncated(), reset());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ambiguousFailureShapes")
    void aNonIdempotentWriteAfterAnAmbiguousFailureIsNotSentToAnotherRegion(Shape shape) {
        first.answer("UpdateItem", shape.answer());

        Throwable thrown = catchThrowable(() -> client.updateItem(u -> u.tableName(TABLE).key(KEY)
                .updateExpression("ADD #n :one").expressionAttributeNames(Map.of("#n", "count"))
                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1")))));

        assertThat(thrown).isInstanceOf(AmbiguousWriteException.class);
        AmbiguousWriteException e = (AmbiguousWriteException) thrown;
        assertThat(e.region()).isEqualTo(FIRST);
        assertThat(e.attempts()).extracting(AttemptRecord::region).containsExactly(FIRST);
        if (shape.kind() != null) {
            assertThat(e.attempts().get(0).failure()).isEqualTo(shape.kind());
        } else {
            assertThat(e.attempts().get(0).failure()).isIn(FailureKind.AMBIGUOUS, FailureKind.TIMEOUT);
        }
        // Sent to exactly one region. Inside it, the SDK's own retry repeats the ADD once after a 500, a reset or a
        // malformed 200 (counted here): the per-region retry strategy does not know the write is not idempotent.
        assertFirstRegionRequests(shape, "UpdateItem");
        assertThat(first.requests("UpdateItem").get(0).getBodyAsString()).contains("ADD #n :one");
        assertThat(second.count()).isZero();
        assertThat(third.count()).isZero();
    }

    @Test
    void aNonIdempotentWriteSlowerThanTheAttemptTimeoutIsAnsweredByItsRegion() {
        first.answer("UpdateItem", slow().answer());

        client.updateItem(u -> u.tableName(TABLE).key(KEY)
                .updateExpression("ADD #n :one").expressionAttributeNames(Map.of("#n", "count"))
                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))));

        assertThat(first.count("UpdateItem")).as("one request, which kept its chance past the attempt timeout")
                .isEqualTo(1);
        assertThat(second.count()).isZero();
        assertThat(third.count()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unavailableShapes")
    void aNonIdempotentWriteMovesOnWhenTheRegionRefusedIt(Shape shape) {
        first.answer("UpdateItem", shape.answer());

        client.updateItem(u -> u.tableName(TABLE).key(KEY).updateExpression("ADD #n :one")
                .expressionAttributeNames(Map.of("#n", "count"))
                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))));

        assertFirstRegionRequests(shape, "UpdateItem");
        assertThat(second.count("UpdateItem")).isEqualTo(1);
        assertThat(third.count()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allShapes")
    void anIdempotentPutMovesToTheNextRegion(Shape shape) {
        first.answer("PutItem", shape.answer());

        client.putItem(p -> p.tableName(TABLE).item(Map.of("pk", AttributeValue.fromS("k1"),
                "v", AttributeValue.fromS("x"))));

        assertFirstRegionRequests(shape, "PutItem");
        assertThat(second.count("PutItem")).isEqualTo(1);
        assertThat(second.requests("PutItem").get(0).getBodyAsString()).contains("\"v\":{\"S\":\"x\"}");
        assertThat(third.count()).isZero();
    }

    /**
     * {@link MultiRegionDynamoDbClient#failoverRetryStrategy()} promises that a failing region hands the call on in
     * tens of milliseconds. A 500 with {@code Retry-After: 30} must not hold the call in that region until the
     * attempt timeout: the 500 is not repeated in that region, and the next region answers well within the timeout.
     */
    @Test
    void retryAfterDoesNotHoldTheCallInTheFailingRegion() {
        first.answer("GetItem", internalRetryAfter().answer());

        long start = System.nanoTime();
        GetItemResponse r = client.getItem(g -> g.tableName(TABLE).key(KEY));
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertThat(r.item()).containsEntry("from", AttributeValue.fromS(SECOND));
        assertThat(first.count("GetItem")).as("attempts in %s before moving on", FIRST).isEqualTo(ONE_REQUEST);
        // Held in the first region, the call would have moved on only at the attempt timeout.
        assertThat(millis).as("ms until %s answered (attempt timeout %s ms)", SECOND, ATTEMPT_TIMEOUT.toMillis())
                .isLessThan(ATTEMPT_TIMEOUT.toMillis());
    }

    /** A refused connection means nothing was sent, so even a non-idempotent write moves on. */
    @Test
    void aRefusedConnectionMovesEvenANonIdempotentWriteOn() {
        try (FakeRegion closed = FakeRegion.start(FIRST, Duration.ZERO);
                DynamoDbClient toClosed = DynamoDbClient.builder().endpointOverride(closed.uri())
                        .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                        .credentialsProvider(StubRegion.credentials())
                        .overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy()))
                        .build();
                MultiRegionDynamoDbClient refusing = newClient(toClosed)) {
            closed.refuseConnections();

            refusing.updateItem(u -> u.tableName(TABLE).key(KEY).updateExpression("ADD #n :one")
                    .expressionAttributeNames(Map.of("#n", "count"))
                    .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"))));
            GetItemResponse r = refusing.getItem(g -> g.tableName(TABLE).key(KEY));

            assertThat(r.item()).containsEntry("from", AttributeValue.fromS(SECOND));
            assertThat(second.operations()).containsExactly("UpdateItem", "GetItem");
            assertThat(third.count()).isZero();
        }
    }

    // ------------------------------------------------------------------------------------------------ caller errors

    @Test
    void conditionalCheckFailedComesBackAsItIsAfterOneRequest() {
        first.error("PutItem", 400, "ConditionalCheckFailedException", "The conditional request failed");

        Throwable thrown = catchThrowable(() -> client.putItem(p -> p.tableName(TABLE)
                .item(Map.of("pk", AttributeValue.fromS("k1")))
                .conditionExpression("attribute_not_exists(pk)")));

        assertThat(thrown).isExactlyInstanceOf(ConditionalCheckFailedException.class)
                .isNotInstanceOf(LatitudeException.class);
        ConditionalCheckFailedException e = (ConditionalCheckFailedException) thrown;
        assertThat(e.statusCode()).isEqualTo(400);
        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ConditionalCheckFailedException");
        assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("The conditional request failed");
        assertThat(e.numAttempts()).isEqualTo(1);
        assertOneRequestInFirstRegion("PutItem");
    }

    @Test
    void conditionalCheckFailedOnANonIdempotentUpdateComesBackAsItIs() {
        first.error("UpdateItem", 400, "ConditionalCheckFailedException", "The conditional request failed");

        Throwable thrown = catchThrowable(() -> client.updateItem(u -> u.tableName(TABLE).key(KEY)
                .updateExpression("ADD #n :one").conditionExpression("attribute_exists(pk)")
                .expressionAttributeNames(Map.of("#n", "count"))
                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1")))));

        assertThat(thrown).isExactlyInstanceOf(ConditionalCheckFailedException.class);
        assertOneRequestInFirstRegion("UpdateItem");
    }

    @Test
    void validationExceptionComesBackAsItIsAfterOneRequest() {
        first.error("GetItem", 400, "ValidationException", "The provided key element does not match the schema");

        Throwable thrown = catchThrowable(() -> client.getItem(g -> g.tableName(TABLE).key(KEY)));

        assertThat(thrown).isExactlyInstanceOf(DynamoDbException.class).isNotInstanceOf(LatitudeException.class);
        AwsServiceException e = (AwsServiceException) thrown;
        assertThat(e.statusCode()).isEqualTo(400);
        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ValidationException");
        assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("The provided key element does not match the schema");
        assertOneRequestInFirstRegion("GetItem");
    }

    @Test
    void accessDeniedComesBackAsItIsAfterOneRequest() {
        first.error("GetItem", 400, "AccessDeniedException", "User is not authorized to perform dynamodb:GetItem");
        first.error("PutItem", 400, "AccessDeniedException", "User is not authorized to perform dynamodb:PutItem");

        Throwable read = catchThrowable(() -> client.getItem(g -> g.tableName(TABLE).key(KEY)));
        Throwable write = catchThrowable(() -> client.putItem(p -> p.tableName(TABLE)
                .item(Map.of("pk", AttributeValue.fromS("k1")))));

        for (Throwable t : List.of(read, write)) {
            assertThat(t).isExactlyInstanceOf(DynamoDbException.class);
            assertThat(((AwsServiceException) t).awsErrorDetails().errorCode()).isEqualTo("AccessDeniedException");
        }
        assertThat(read).hasMessageContaining("dynamodb:GetItem");
        assertThat(write).hasMessageContaining("dynamodb:PutItem");
        assertThat(first.count("GetItem")).isEqualTo(1);
        assertThat(first.count("PutItem")).isEqualTo(1);
        assertThat(second.count()).isZero();
        assertThat(third.count()).isZero();
    }

    private static void assertOneRequestInFirstRegion(String operation) {
        assertThat(first.count(operation)).isEqualTo(1);
        assertThat(first.count()).isEqualTo(1);
        assertThat(second.count()).isZero();
        assertThat(third.count()).isZero();
    }

    // ------------------------------------------------------------------------------------------------ all regions

    @Test
    void everyRegionFailingEndsInRegionsUnavailableNamingEachRegion() {
        for (StubRegion r : List.of(first, second, third)) {
            r.error("GetItem", 503, "ServiceUnavailable", r.id() + " is down");
        }

        Throwable thrown = catchThrowable(() -> client.getItem(g -> g.tableName(TABLE).key(KEY)));

        assertThat(thrown).isInstanceOf(RegionsUnavailableException.class);
        RegionsUnavailableException e = (RegionsUnavailableException) thrown;
        assertThat(e.deadlineExceeded()).isFalse();
        assertThat(e.getMessage()).contains(FIRST, SECOND, THIRD);
        assertThat(e.attempts()).extracting(AttemptRecord::region).containsExactly(FIRST, SECOND, THIRD);
        assertThat(e.attempts()).extracting(AttemptRecord::failure).containsOnly(FailureKind.REGION_UNAVAILABLE);
        assertThat(e.getCause()).isInstanceOf(DynamoDbException.class).hasMessageContaining(THIRD + " is down");
        for (StubRegion r : List.of(first, second, third)) {
            assertThat(r.count("GetItem")).as("requests to %s", r.id()).isEqualTo(ONE_REQUEST);
        }
    }

    @Test
    void anIdempotentWriteFailingEverywhere_someAmbiguously_endsInAmbiguousWrite() {
        first.error("PutItem", 400, "ThrottlingException", "Rate exceeded");
        second.answer("PutItem", aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER));
        third.error("PutItem", 500, "InternalServerError", "Internal server error");

        Throwable thrown = catchThrowable(() -> client.putItem(p -> p.tableName(TABLE)
                .item(Map.of("pk", AttributeValue.fromS("k1")))));

        // The reset and the 500 leave it unknown whether the put was applied: never "no region could serve".
        assertThat(thrown).isInstanceOf(AmbiguousWriteException.class);
        AmbiguousWriteException e = (AmbiguousWriteException) thrown;
        assertThat(e.region()).isEqualTo(THIRD);
        assertThat(e.getMessage()).contains(FIRST, SECOND, THIRD, "may or may not have been applied");
        assertThat(e.attempts()).extracting(AttemptRecord::region, AttemptRecord::failure).containsExactly(
                org.assertj.core.groups.Tuple.tuple(FIRST, FailureKind.REGION_UNAVAILABLE),
                org.assertj.core.groups.Tuple.tuple(SECOND, FailureKind.AMBIGUOUS),
                org.assertj.core.groups.Tuple.tuple(THIRD, FailureKind.AMBIGUOUS));
        assertThat(first.count("PutItem")).as("a throttled request is repeated once").isEqualTo(THROTTLED_ATTEMPTS);
        assertThat(second.count("PutItem")).isEqualTo(ONE_REQUEST);
        assertThat(third.count("PutItem")).isEqualTo(ONE_REQUEST);
    }
}
