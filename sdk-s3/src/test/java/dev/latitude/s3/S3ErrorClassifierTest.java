package dev.latitude.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.FailureKind;
import dev.latitude.s3.internal.ReplicaBucketMissingException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;

/** Checks {@link S3ErrorClassifier} row by row against its documented table. */
class S3ErrorClassifierTest {
    private final S3ErrorClassifier classifier = S3ErrorClassifier.create();

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource({
        "503, SlowDown, REGION_UNAVAILABLE",
        "503, ServiceUnavailable, REGION_UNAVAILABLE",
        "429, TooManyRequests, REGION_UNAVAILABLE",
        "400, RequestTimeout, REGION_UNAVAILABLE",
        "307, TemporaryRedirect, REGION_UNAVAILABLE",
        "500, InternalError, AMBIGUOUS",
        "502, BadGateway, AMBIGUOUS",
        "501, NotImplemented, CALLER",
        "404, NoSuchBucket, CALLER",
        "404, NoSuchKey, CALLER",
        "403, AccessDenied, CALLER",
        "412, PreconditionFailed, CALLER",
        "416, InvalidRange, CALLER",
        "301, PermanentRedirect, CALLER",
        "0, Unknown, AMBIGUOUS",
    })
    void serviceErrors(int status, String code, FailureKind expected) {
        assertThat(classifier.classify(FakeS3Region.error(status, code))).isEqualTo(expected);
        assertThat(classifier.classify(new CompletionException(FakeS3Region.error(status, code))))
                .isEqualTo(expected);
    }

    @Test
    void clientSideErrors() {
        assertThat(classifier.classify(SdkClientException.create("x", new ConnectException("refused"))))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(SdkClientException.create("x", new IOException("Connection reset"))))
                .isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(SdkClientException.create("x", new SocketTimeoutException("read"))))
                .isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(SdkClientException.create("bad credentials")))
                .isEqualTo(FailureKind.CALLER);
        assertThat(classifier.classify(ApiCallAttemptTimeoutException.create(100)))
                .isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(SdkClientException.create("x",
                new BodyNotReplayableException("PutObject", "a", "b")))).isEqualTo(FailureKind.CALLER);
        assertThat(classifier.classify(new ReplicaBucketMissingException("eu-west-1",
                NoSuchBucketException.builder().build()))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(new IllegalArgumentException())).isEqualTo(FailureKind.CALLER);
    }

    @Test
    void throttling_isWhatTheFailoverRetryStrategyRepeats() {
        assertThat(S3ErrorClassifier.isThrottling(FakeS3Region.error(503, "SlowDown"))).isTrue();
        assertThat(S3ErrorClassifier.isThrottling(FakeS3Region.error(500, "InternalError"))).isFalse();
        assertThat(MultiRegionS3Client.failoverRetryStrategy().maxAttempts()).isEqualTo(2);
    }
}
