package dev.latitude.aws;

import java.time.Duration;
import java.util.function.Predicate;
import software.amazon.awssdk.retries.StandardRetryStrategy;
import software.amazon.awssdk.retries.api.AcquireInitialTokenRequest;
import software.amazon.awssdk.retries.api.AcquireInitialTokenResponse;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.retries.api.RecordSuccessRequest;
import software.amazon.awssdk.retries.api.RecordSuccessResponse;
import software.amazon.awssdk.retries.api.RefreshRetryTokenRequest;
import software.amazon.awssdk.retries.api.RefreshRetryTokenResponse;
import software.amazon.awssdk.retries.api.RetryStrategy;

/**
 * The per-region SDK retry strategy that keeps failover fast, for the region clients of Latitude's AWS adapters (see
 * {@code MultiRegionDynamoDbClient.failoverRetryStrategy()} and {@code MultiRegionS3Client.failoverRetryStrategy()}):
 * the region's client repeats a request only when the service throttled it (never applied, so always safe), once,
 * after a short back-off; a {@code Retry-After} or {@code x-amz-retry-after} hint is honoured only up to the same cap.
 * Every other failure (5xx, timeouts, I/O) goes straight back to Latitude, which moves the call to another region or,
 * for a write that may have been applied, stops: the SDK's own retries would repeat a non-idempotent write in the same
 * region.
 */
public final class FailoverRetryStrategy implements RetryStrategy {
    /** Attempts per request in one region: the first and one repeat of a throttled one. */
    private static final int MAX_ATTEMPTS = 2;
    /** The longest back-off before the repeat, retry hints included. */
    private static final Duration MAX_THROTTLING_DELAY = Duration.ofMillis(100);

    private final RetryStrategy delegate;
    private final Duration maxDelay;

    private FailoverRetryStrategy(RetryStrategy delegate, Duration maxDelay) {
        this.delegate = delegate;
        this.maxDelay = maxDelay;
    }

    /**
     * Returns the strategy: 2 attempts, throttling only, back-off 25–100 ms, hints capped at 100 ms.
     *
     * @param throttled whether a failure is the service saying "slow down" (the request was not applied)
     * @return the strategy
     */
    public static FailoverRetryStrategy create(Predicate<Throwable> throttled) {
        return new FailoverRetryStrategy(StandardRetryStrategy.builder()
                .maxAttempts(MAX_ATTEMPTS)
                .retryOnException(throttled)
                .treatAsThrottling(throttled)
                .backoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(10), Duration.ofMillis(50)))
                .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(25), MAX_THROTTLING_DELAY))
                .circuitBreakerEnabled(false)
                .build(), MAX_THROTTLING_DELAY);
    }

    @Override
    public AcquireInitialTokenResponse acquireInitialToken(AcquireInitialTokenRequest request) {
        return delegate.acquireInitialToken(request);
    }

    @Override
    public RefreshRetryTokenResponse refreshRetryToken(RefreshRetryTokenRequest request) {
        if (request.suggestedDelay().filter(d -> d.compareTo(maxDelay) > 0).isPresent()) {
            request = request.toBuilder().suggestedDelay(maxDelay).build();
        }
        return delegate.refreshRetryToken(request);
    }

    @Override
    public RecordSuccessResponse recordSuccess(RecordSuccessRequest request) {
        return delegate.recordSuccess(request);
    }

    @Override
    public int maxAttempts() {
        return delegate.maxAttempts();
    }

    /** Returns {@code false}: the SDK must not add its default retry conditions (5xx, I/O) back. */
    @Override
    public boolean useClientDefaults() {
        return false;
    }

    @Override
    public Builder toBuilder() {
        return new Builder(delegate.toBuilder(), maxDelay);
    }

    @Override
    public String toString() {
        return "FailoverRetryStrategy[maxAttempts=" + maxAttempts() + ", throttling only, hints capped at " + maxDelay
                + "]";
    }

    /** Adjusts a copy; whatever it builds keeps the cap on retry hints. */
    public static final class Builder implements RetryStrategy.Builder<Builder, FailoverRetryStrategy> {
        private final RetryStrategy.Builder<?, ?> delegate;
        private final Duration maxDelay;

        private Builder(RetryStrategy.Builder<?, ?> delegate, Duration maxDelay) {
            this.delegate = delegate;
            this.maxDelay = maxDelay;
        }

        @Override
        public Builder retryOnException(Predicate<Throwable> shouldRetry) {
            delegate.retryOnException(shouldRetry);
            return this;
        }

        @Override
        public Builder maxAttempts(int maxAttempts) {
            delegate.maxAttempts(maxAttempts);
            return this;
        }

        @Override
        public Builder backoffStrategy(BackoffStrategy backoffStrategy) {
            delegate.backoffStrategy(backoffStrategy);
            return this;
        }

        @Override
        public Builder throttlingBackoffStrategy(BackoffStrategy backoffStrategy) {
            delegate.throttlingBackoffStrategy(backoffStrategy);
            return this;
        }

        @Override
        public Builder treatAsThrottling(Predicate<Throwable> treatAsThrottling) {
            delegate.treatAsThrottling(treatAsThrottling);
            return this;
        }

        @Override
        public FailoverRetryStrategy build() {
            return new FailoverRetryStrategy(delegate.build(), maxDelay);
        }
    }
}
