package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.FailureKind;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

class DynamoDbErrorClassifierTest {
    private final DynamoDbErrorClassifier classifier = DynamoDbErrorClassifier.create();

    static DynamoDbException service(String code, int status) {
        return (DynamoDbException) DynamoDbException.builder()
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code)
                        .sdkHttpResponse(SdkHttpResponse.builder().statusCode(status).build()).build())
                .statusCode(status).message(code).build();
    }

    static SdkClientException client(Throwable cause) {
        return SdkClientException.builder().message("Unable to execute HTTP request").cause(cause).build();
    }

    static Stream<Arguments> serviceErrors() {
        return Stream.of(
                Arguments.of("ProvisionedThroughputExceededException", 400, FailureKind.REGION_UNAVAILABLE),
                Arguments.of("RequestLimitExceeded", 400, FailureKind.REGION_UNAVAILABLE),
                Arguments.of("ThrottlingException", 400, FailureKind.REGION_UNAVAILABLE),
                Arguments.of("Throttling", 400, FailureKind.REGION_UNAVAILABLE),
                Arguments.of("SomethingNew", 429, FailureKind.REGION_UNAVAILABLE),
                Arguments.of("ServiceUnavailable", 503, FailureKind.REGION_UNAVAILABLE),
                Arguments.of(null, 503, FailureKind.REGION_UNAVAILABLE),
                Arguments.of("InternalServerError", 500, FailureKind.AMBIGUOUS),
                Arguments.of("InternalFailure", 500, FailureKind.AMBIGUOUS),
                Arguments.of(null, 502, FailureKind.AMBIGUOUS),
                Arguments.of("GatewayTimeout", 504, FailureKind.AMBIGUOUS),
                Arguments.of("ConditionalCheckFailedException", 400, FailureKind.CALLER),
                Arguments.of("ValidationException", 400, FailureKind.CALLER),
                Arguments.of("ResourceNotFoundException", 400, FailureKind.CALLER),
                Arguments.of("AccessDeniedException", 400, FailureKind.CALLER),
                Arguments.of("UnrecognizedClientException", 400, FailureKind.CALLER),
                Arguments.of("ItemCollectionSizeLimitExceededException", 400, FailureKind.CALLER),
                Arguments.of("SomeOtherClientError", 400, FailureKind.CALLER),
                Arguments.of(null, 403, FailureKind.CALLER),
                Arguments.of("ConditionalCheckFailedException", 0, FailureKind.CALLER),
                Arguments.of(null, 0, FailureKind.AMBIGUOUS));
    }

    @ParameterizedTest(name = "{0}/{1} -> {2}")
    @MethodSource("serviceErrors")
    void classifiesServiceErrors(String code, int status, FailureKind expected) {
        assertThat(classifier.classify(service(code, status))).isEqualTo(expected);
    }

    static Stream<Arguments> clientErrors() {
        return Stream.of(
                Arguments.of(new ConnectException("Connection refused"), FailureKind.REGION_UNAVAILABLE),
                Arguments.of(new UnknownHostException("dynamodb.nowhere"), FailureKind.REGION_UNAVAILABLE),
                Arguments.of(new NoRouteToHostException("no route"), FailureKind.REGION_UNAVAILABLE),
                Arguments.of(new IOException("connect: Connection refused"), FailureKind.REGION_UNAVAILABLE),
                Arguments.of(new IOException("wrapped", new ConnectException("refused")), FailureKind.REGION_UNAVAILABLE),
                Arguments.of(new SocketException("Connection reset"), FailureKind.AMBIGUOUS),
                Arguments.of(new SocketTimeoutException("Read timed out"), FailureKind.AMBIGUOUS),
                Arguments.of(new IOException("Broken pipe"), FailureKind.AMBIGUOUS),
                Arguments.of(new java.util.concurrent.TimeoutException("acquire"), FailureKind.AMBIGUOUS),
                Arguments.of(new IllegalStateException("cannot marshall"), FailureKind.CALLER));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("clientErrors")
    void classifiesClientErrorsByCause(Throwable cause, FailureKind expected) {
        assertThat(classifier.classify(client(cause))).isEqualTo(expected);
    }

    @Test
    void clientErrorWithoutCauseIsCallers() {
        assertThat(classifier.classify(SdkClientException.create("Unable to load credentials"))).isEqualTo(FailureKind.CALLER);
    }

    @Test
    void timeoutsAreAmbiguous() {
        assertThat(classifier.classify(ApiCallAttemptTimeoutException.create(1000))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(ApiCallTimeoutException.create(5000))).isEqualTo(FailureKind.AMBIGUOUS);
    }

    @Test
    void unwrapsCompletionAndExecutionExceptions() {
        assertThat(classifier.classify(new CompletionException(service("ThrottlingException", 400))))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(new CompletionException(new ExecutionException(service("InternalServerError", 500)))))
                .isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(new CompletionException(client(new ConnectException("refused")))))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
    }

    @Test
    void typedExceptionsWithoutDetails() {
        assertThat(classifier.classify(ConditionalCheckFailedException.builder().message("no").build()))
                .isEqualTo(FailureKind.CALLER);
        assertThat(classifier.classify(ProvisionedThroughputExceededException.builder().message("slow").build()))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
    }

    @Test
    void transactionCancellations() {
        TransactionCanceledException conditional = TransactionCanceledException.builder()
                .cancellationReasons(CancellationReason.builder().code("None").build(),
                        CancellationReason.builder().code("ConditionalCheckFailed").build())
                .statusCode(400).build();
        assertThat(classifier.classify(conditional)).isEqualTo(FailureKind.CALLER);
        TransactionCanceledException throttled = TransactionCanceledException.builder()
                .cancellationReasons(CancellationReason.builder().code("None").build(),
                        CancellationReason.builder().code("ThrottlingError").build())
                .statusCode(400).build();
        assertThat(classifier.classify(throttled)).isEqualTo(FailureKind.REGION_UNAVAILABLE);
    }

    @Test
    void bareExceptionsFollowTheDefaults() {
        assertThat(classifier.classify(new ConnectException("refused"))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(new SocketException("Connection reset"))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(new IllegalArgumentException("bad"))).isEqualTo(FailureKind.CALLER);
        assertThat(classifier.classify(SdkException.create("other", null))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(null)).isEqualTo(FailureKind.AMBIGUOUS);
    }
}
