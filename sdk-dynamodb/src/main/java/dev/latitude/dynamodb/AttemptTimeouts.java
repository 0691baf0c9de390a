package dev.latitude.dynamodb;

import dev.latitude.Operation;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbRequest;

/**
 * Makes every region request end by itself within the engine's attempt timeout (and the call's remaining deadline):
 * the AWS SDK then cuts a request that runs longer, socket reads included. That is what lets the blocking client run
 * a call's first attempt on the calling thread ({@code callerRunsFirstAttempt}): the caller is never held past the
 * attempt timeout by a region that hangs.
 *
 * <p>A region whose client already cuts every call at the attempt timeout or sooner (the clients the builder makes,
 * or clients given with such an {@code apiCallTimeout}) gets its requests as they are while the remaining deadline is
 * longer than the attempt timeout; any other request is copied with {@code apiCallTimeout} and
 * {@code apiCallAttemptTimeout} set to the shorter of the two limits (or the request's own, if shorter still).
 */
final class AttemptTimeouts {
    private static final long MIN_NANOS = Duration.ofMillis(1).toNanos();

    private final Duration attempt;
    private final long attemptNanos;
    private final long deadlineNanos;
    /** The regions whose clients cut every call within the attempt timeout by themselves. */
    private final Set<String> bounded;
    /** The override for a request with none of its own when the attempt timeout is the limit. */
    private final AwsRequestOverrideConfiguration atAttemptTimeout;

    AttemptTimeouts(Duration attempt, Duration deadline, Map<String, ? extends SdkClient> clients) {
        this.attempt = attempt;
        this.attemptNanos = attempt.toNanos();
        this.deadlineNanos = deadline.toNanos();
        Set<String> b = new HashSet<>();
        clients.forEach((region, client) -> {
            if (cutsWithin(client, attempt)) {
                b.add(region);
            }
        });
        this.bounded = Set.copyOf(b);
        this.atAttemptTimeout = AwsRequestOverrideConfiguration.builder().apiCallTimeout(attempt)
                .apiCallAttemptTimeout(attempt).build();
    }

    /** Returns the attempt timeout. */
    Duration attempt() {
        return attempt;
    }

    /** Returns how long {@code operation} may take in all, in nanoseconds: its own deadline, else the default. */
    long deadlineNanos(Operation operation) {
        Duration own = operation.deadline();
        return own != null ? own.toNanos() : deadlineNanos;
    }

    /**
     * Returns {@code request} made to end within the attempt timeout and {@code remainingNanos} in {@code region}.
     *
     * @param request the request to send
     * @param region the region it goes to
     * @param remainingNanos what is left of the call's deadline
     * @param <Q> the request type
     * @return the request, or a copy with timeouts
     */
    @SuppressWarnings("unchecked")
    <Q extends DynamoDbRequest> Q bound(Q request, String region, long remainingNanos) {
        Optional<AwsRequestOverrideConfiguration> own = request.overrideConfiguration();
        boolean attemptLimits = remainingNanos >= attemptNanos;
        if (own.isEmpty() && attemptLimits && bounded.contains(region)) {
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

    private static Duration shorter(Optional<Duration> own, Duration limit) {
        return own.isPresent() && own.get().compareTo(limit) < 0 ? own.get() : limit;
    }

    /** Whether {@code client} cuts every call, its own retries included, at {@code limit} or sooner. */
    private static boolean cutsWithin(SdkClient client, Duration limit) {
        try {
            ClientOverrideConfiguration c = client.serviceClientConfiguration().overrideConfiguration();
            return c.apiCallTimeout().map(t -> t.compareTo(limit) <= 0).orElse(false);
        } catch (RuntimeException e) {
            return false; // a client that cannot say (a test double): bound each request
        }
    }
}
