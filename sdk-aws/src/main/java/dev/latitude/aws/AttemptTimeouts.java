package dev.latitude.aws;

import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.WriteMode;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import software.amazon.awssdk.awscore.AwsRequest;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;

/**
 * Makes every region request end by itself: the AWS SDK cuts a request that runs longer, socket reads included. That
 * is what lets the blocking client run a call's first attempt on the calling thread ({@code callerRunsFirstAttempt}):
 * the caller is never held past the moment the engine would move on.
 *
 * <p>The limit depends on where the attempt runs and whether the call could move to another region
 * ({@link #movable}). The blocking client's first attempt, run on the calling thread, of a call that could move is cut
 * at the attempt timeout (or the call's remaining deadline, if less), when the engine starts the next region anyway:
 * the caller is then free to take the next region's answer. Every other attempt (fallbacks and hedges on the attempt
 * threads, the non-blocking client's attempts, calls that could not move: a write that is not idempotent, a write or
 * STRONG read of a single-writer table, a table pinned to one region) is cut at the remaining deadline only: nothing
 * waits on it, and a slow answer is still an answer that may win beside the next region's.
 *
 * <p>A request is sent as it is when its region's client already cuts every call at that limit: a client the builder
 * made (cut at the attempt timeout) or one given with such an {@code apiCallTimeout}, for a call that could move; a
 * client given with any {@code apiCallTimeout} of its own, for one that could not (the caller chose that cut). Any
 * other request is copied with {@code apiCallTimeout} and {@code apiCallAttemptTimeout} set to the limit (or to the
 * request's own, if shorter).
 *
 * <p>Shared by Latitude's AWS SDK adapters (DynamoDB, S3); an application does not need it.
 */
public final class AttemptTimeouts {
    private static final long MIN_NANOS = Duration.ofMillis(1).toNanos();

    private final Duration attempt;
    private final long attemptNanos;
    private final long deadlineNanos;
    /** The regions whose clients cut every call within the attempt timeout by themselves. */
    private final Set<String> bounded;
    /** The regions whose clients were given by the caller with an {@code apiCallTimeout} of their own. */
    private final Set<String> ownCut;
    private final Topology topology;
    private final DataPolicies policies;
    /** The override for a request with none of its own when the attempt timeout is the limit. */
    private final AwsRequestOverrideConfiguration atAttemptTimeout;

    /**
     * @param attempt the engine's attempt timeout
     * @param deadline the engine's default deadline
     * @param clients the region clients
     * @param made the regions whose clients the builder made (cut at the attempt timeout)
     * @param topology the regions
     * @param policies the tables' data policies
     */
    public AttemptTimeouts(Duration attempt, Duration deadline, Map<String, ? extends SdkClient> clients, Set<String> made,
            Topology topology, DataPolicies policies) {
        this.attempt = attempt;
        this.attemptNanos = attempt.toNanos();
        this.deadlineNanos = deadline.toNanos();
        this.topology = topology;
        this.policies = policies;
        Set<String> b = new HashSet<>();
        Set<String> own = new HashSet<>();
        clients.forEach((region, client) -> {
            Optional<Duration> cut = apiCallTimeout(client);
            if (cut.isPresent() && cut.get().compareTo(attempt) <= 0) {
                b.add(region);
            }
            if (cut.isPresent() && !made.contains(region)) {
                own.add(region);
            }
        });
        this.bounded = Set.copyOf(b);
        this.ownCut = Set.copyOf(own);
        this.atAttemptTimeout = AwsRequestOverrideConfiguration.builder().apiCallTimeout(attempt)
                .apiCallAttemptTimeout(attempt).build();
    }

    /**
     * Returns the attempt timeout.
     *
     * @return the engine's attempt timeout
     */
    public Duration attempt() {
        return attempt;
    }

    /**
     * Returns how long {@code operation} may take in all, in nanoseconds: its own deadline, else the default.
     *
     * @param operation the call
     * @return its deadline in nanoseconds
     */
    public long deadlineNanos(Operation operation) {
        Duration own = operation.deadline();
        return own != null ? own.toNanos() : deadlineNanos;
    }

    /**
     * Whether {@code operation} could move to another region after its attempt timeout: a read, or an idempotent
     * write, whose data policy leaves it more than one region. Health does not count: an unhealthy region is still
     * tried, last.
     *
     * @param operation the call
     * @return whether it could move
     */
    public boolean movable(Operation operation) {
        if (!operation.isRead() && !operation.idempotent()) {
            return false;
        }
        DataPolicy policy = policies.policyFor(operation.dataClass());
        ConsistencyLevel level = operation.consistency() != null ? operation.consistency() : policy.consistency();
        boolean writers = !operation.isRead() || level.kind() == ConsistencyLevel.Kind.STRONG;
        boolean multiWriter = policy.writeMode() == WriteMode.MULTI_WRITER;
        if (writers && !multiWriter) {
            return false; // one region takes the table's writes
        }
        int regions = 0;
        for (RegionSpec r : topology.regions()) {
            if (policy.allows(r) && (writers || r.isReader()) && ++regions > 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * Returns {@code request} made to end in {@code region} within the attempt timeout and {@code remainingNanos} if
     * {@code movable} (a call that could move, its attempt on the calling thread), else within {@code remainingNanos}.
     *
     * @param request the request to send
     * @param region the region it goes to
     * @param remainingNanos what is left of the call's deadline
     * @param movable whether to cut at the attempt timeout: the call could move to another region ({@link #movable})
     *     and the attempt holds the caller
     * @param <Q> the request type
     * @return the request, or a copy with timeouts
     */
    @SuppressWarnings("unchecked")
    public <Q extends AwsRequest> Q bound(Q request, String region, long remainingNanos, boolean movable) {
        Optional<AwsRequestOverrideConfiguration> own = request.overrideConfiguration();
        boolean attemptLimits = movable && remainingNanos >= attemptNanos;
        if (own.isEmpty() && (attemptLimits ? bounded.contains(region) : !movable && ownCut.contains(region))) {
            return request;
        }
        Duration limit = attemptLimits ? attempt : Duration.ofNanos(Math.max(remainingNanos, MIN_NANOS));
        AwsRequestOverrideConfiguration config;
        if (own.isEmpty()) {
            config = attemptLimits ? atAttemptTimeout : AwsRequestOverrideConfiguration.builder()
                    .apiCallTimeout(limit).apiCallAttemptTimeout(limit).build();
        } else {
            AwsRequestOverrideConfiguration o = own.get();
            config = o.toBuilder().apiCallTimeout(shorter(o.apiCallTimeout(), limit))
                    .apiCallAttemptTimeout(shorter(o.apiCallAttemptTimeout(), limit)).build();
        }
        return (Q) request.toBuilder().overrideConfiguration(config).build();
    }

    /**
     * Returns what makes each attempt's request of {@code operation} end by itself, counted from now: an attempt
     * running on {@code caller} (a blocking client's first attempt) within the attempt timeout when the call could
     * move to another region, so the caller is free when the engine moves on; any other attempt (on the attempt
     * threads, or non-blocking) within what is left of the call's deadline, so a slow attempt keeps its chance beside
     * the next region's.
     *
     * @param operation the call
     * @param caller the thread that may run the first attempt itself, or {@code null} (a non-blocking client)
     * @param <Q> the request type
     * @return given a request and the region it goes to, the request to send
     */
    public <Q extends AwsRequest> BiFunction<Q, String, Q> bounding(Operation operation, Thread caller) {
        long start = System.nanoTime();
        long deadline = deadlineNanos(operation);
        boolean move = movable(operation);
        return (request, region) -> bound(request, region, deadline - (System.nanoTime() - start),
                move && Thread.currentThread() == caller);
    }

    private static Duration shorter(Optional<Duration> own, Duration limit) {
        return own.isPresent() && own.get().compareTo(limit) < 0 ? own.get() : limit;
    }

    /** Returns the time {@code client} cuts every call at, its own retries included, if it has one. */
    private static Optional<Duration> apiCallTimeout(SdkClient client) {
        try {
            ClientOverrideConfiguration c = client.serviceClientConfiguration().overrideConfiguration();
            return c.apiCallTimeout();
        } catch (RuntimeException e) {
            return Optional.empty(); // a client that cannot say (a test double): bound each request
        }
    }
}
