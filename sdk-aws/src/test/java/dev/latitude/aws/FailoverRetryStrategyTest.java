package dev.latitude.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.retries.api.AcquireInitialTokenRequest;
import software.amazon.awssdk.retries.api.RefreshRetryTokenRequest;
import software.amazon.awssdk.retries.api.RetryToken;
import software.amazon.awssdk.retries.api.TokenAcquisitionFailedException;

/** Region clients repeat only throttled requests, once, and never wait long for it. */
class FailoverRetryStrategyTest {
    private static final class Throttled extends RuntimeException {
    }

    private final FailoverRetryStrategy strategy = FailoverRetryStrategy.create(e -> e instanceof Throttled);

    private RetryToken token() {
        return strategy.acquireInitialToken(AcquireInitialTokenRequest.create("test")).token();
    }

    @Test
    void aThrottledRequest_isRepeatedOnce_soonerThanAnyLongRetryHint() {
        assertThat(strategy.maxAttempts()).isEqualTo(2);
        assertThat(strategy.useClientDefaults()).as("the SDK adds no retry conditions of its own").isFalse();
        Duration delay = strategy.refreshRetryToken(RefreshRetryTokenRequest.builder().token(token())
                .failure(new Throttled()).suggestedDelay(Duration.ofSeconds(20)).build()).delay();
        assertThat(delay).isLessThanOrEqualTo(Duration.ofMillis(100));
    }

    @Test
    void otherFailures_goStraightBackToLatitude() {
        assertThatThrownBy(() -> strategy.refreshRetryToken(RefreshRetryTokenRequest.builder().token(token())
                .failure(new IllegalStateException("a 500")).build()))
                .isInstanceOf(TokenAcquisitionFailedException.class);
    }

    @Test
    void aCopyFromToBuilder_keepsTheCapOnHints() {
        FailoverRetryStrategy copy = strategy.toBuilder().maxAttempts(3).build();
        assertThat(copy.maxAttempts()).isEqualTo(3);
        RetryToken t = copy.acquireInitialToken(AcquireInitialTokenRequest.create("test")).token();
        Duration delay = copy.refreshRetryToken(RefreshRetryTokenRequest.builder().token(t).failure(new Throttled())
                .suggestedDelay(Duration.ofSeconds(20)).build()).delay();
        assertThat(delay).isLessThanOrEqualTo(Duration.ofMillis(100));
        assertThat(copy.toString()).contains("hints capped at");
    }
}
