package dev.latitude.dynamodb;

import dev.latitude.ConsistencyLevel;
import dev.latitude.Session;
import java.util.Objects;
import java.util.function.Consumer;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbRequest;

/**
 * Latitude's settings for one DynamoDB request, carried in the request's own override configuration (as execution
 * attributes), the way the AWS SDK takes per-request settings:
 * <pre>{@code
 * GetItemResponse r = dynamo.getItem(GetItemRequest.builder()
 *         .tableName("profiles").key(key)
 *         .overrideConfiguration(LatitudeRequest.consistency(ConsistencyLevel.EVENTUAL))
 *         .build());
 *
 * // with settings of your own: combine them, a request has one override configuration
 * .overrideConfiguration(LatitudeRequest.session(session).andThen(o -> o.apiCallTimeout(Duration.ofSeconds(2))))
 * }</pre>
 * Only {@link MultiRegionDynamoDbClient} and {@link MultiRegionDynamoDbAsyncClient} read them; a plain
 * {@code DynamoDbClient} ignores them. They take precedence over the view the request is sent through
 * ({@link MultiRegionDynamoDbClient#withConsistency}, {@link MultiRegionDynamoDbClient#withSession}).
 *
 * <p>Rules: a consistency level applies to reads (a write carrying one is refused with
 * {@link UnroutableRequestException}); it replaces the table's data-policy level for this read, stronger or weaker,
 * but never its residency (the read still only goes to regions the table may live in). A request's own
 * {@code ConsistentRead} must agree with it ({@code true} is STRONG; {@code false} is anything else), else the request
 * is refused. BOUNDED_STALENESS reads use a replica only while heartbeats ({@link HeartbeatConfig}) show it close
 * enough; without heartbeats nothing is known of the replicas, so such reads go to the regions that take the table's
 * writes.
 */
public final class LatitudeRequest {
    private static final ExecutionAttribute<ConsistencyLevel> CONSISTENCY =
            new ExecutionAttribute<>("LatitudeConsistency");
    private static final ExecutionAttribute<Session> SESSION = new ExecutionAttribute<>("LatitudeSession");

    private LatitudeRequest() {
    }

    /**
     * Returns the setting that makes a read use {@code level} instead of its table's consistency level.
     *
     * @param level the consistency level
     * @return a setting for the request builder's {@code overrideConfiguration(...)}
     */
    public static Consumer<AwsRequestOverrideConfiguration.Builder> consistency(ConsistencyLevel level) {
        Objects.requireNonNull(level, "consistency");
        return o -> o.putExecutionAttribute(CONSISTENCY, level);
    }

    /**
     * Returns the setting that makes the request read and record in {@code session} instead of the session of the
     * current OpenTelemetry context ({@link Session#current()}), which asynchronous code loses.
     *
     * @param session the session
     * @return a setting for the request builder's {@code overrideConfiguration(...)}
     */
    public static Consumer<AwsRequestOverrideConfiguration.Builder> session(Session session) {
        Objects.requireNonNull(session, "session");
        return o -> o.putExecutionAttribute(SESSION, session);
    }

    /** Returns the options a request carries, or {@code null} if it carries none. */
    static RequestOptions optionsOf(DynamoDbRequest request) {
        AwsRequestOverrideConfiguration o = request.overrideConfiguration().orElse(null);
        if (o == null) {
            return null;
        }
        ExecutionAttributes attributes = o.executionAttributes();
        ConsistencyLevel level = attributes.getAttribute(CONSISTENCY);
        Session session = attributes.getAttribute(SESSION);
        return level == null && session == null ? null : new RequestOptions(level, session);
    }
}
