package dev.latitude.dynamodb;

import dev.latitude.FailureKind;
import dev.latitude.aws.AwsErrorClassifier;
import dev.latitude.spi.ErrorClassifier;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * Classifies the exceptions of the AWS SDK v2 DynamoDB client for Latitude's engine. Service errors are classified by
 * {@code awsErrorDetails().errorCode()} first and by the HTTP status code second; client-side errors by their cause
 * chain. {@link CompletionException} and {@link ExecutionException} wrappers are unwrapped first. The classifier never
 * throws: an internal failure yields {@link FailureKind#AMBIGUOUS}.
 *
 * <table>
 *   <caption>How failures are classified (first matching row wins)</caption>
 *   <tr><th>Failure</th><th>Kind</th><th>Why</th></tr>
 *   <tr><td>{@code ApiCallAttemptTimeoutException}, {@code ApiCallTimeoutException}</td><td>AMBIGUOUS</td>
 *       <td>the request may have been sent and applied</td></tr>
 *   <tr><td>{@code TransactionCanceledException} whose reasons include a throttling code
 *       ({@code ThrottlingError}, {@code ProvisionedThroughputExceeded}, {@code RequestLimitExceeded})</td>
 *       <td>REGION_UNAVAILABLE</td><td>a cancelled transaction applied nothing; the region is overloaded</td></tr>
 *   <tr><td>{@code TransactionCanceledException} with other reasons ({@code ConditionalCheckFailed},
 *       {@code ValidationError}, {@code TransactionConflict}, ...)</td><td>CALLER</td><td>the request was refused</td></tr>
 *   <tr><td>error code {@code ProvisionedThroughputExceededException}, {@code RequestLimitExceeded},
 *       {@code ThrottlingException}, {@code Throttling}, {@code ThrottledException},
 *       {@code TooManyRequestsException}</td><td>REGION_UNAVAILABLE</td><td>throttled: not processed</td></tr>
 *   <tr><td>error code {@code ServiceUnavailable}/{@code ServiceUnavailableException}, or HTTP 503</td>
 *       <td>REGION_UNAVAILABLE</td><td>refused before processing</td></tr>
 *   <tr><td>HTTP 429</td><td>REGION_UNAVAILABLE</td><td>throttled: not processed</td></tr>
 *   <tr><td>error code {@code InternalServerError}/{@code InternalFailure}, HTTP 500 or any other 5xx</td>
 *       <td>AMBIGUOUS</td><td>the write may have been applied</td></tr>
 *   <tr><td>{@code ConditionalCheckFailedException}, {@code ValidationException}, {@code ResourceNotFoundException},
 *       {@code AccessDeniedException}, {@code UnrecognizedClientException},
 *       {@code ItemCollectionSizeLimitExceededException}, any other error code with a 4xx status</td>
 *       <td>CALLER</td><td>the request itself was refused</td></tr>
 *   <tr><td>a service error with neither a known code nor a 4xx/5xx status</td><td>AMBIGUOUS</td>
 *       <td>nothing says it was not applied</td></tr>
 *   <tr><td>{@code SdkClientException} whose causes {@link ErrorClassifier#defaults()} classifies (connect failures:
 *       REGION_UNAVAILABLE; resets, read timeouts, broken pipes, TLS failures: AMBIGUOUS)</td><td>as the defaults</td>
 *       <td>what the connection did decides</td></tr>
 *   <tr><td>{@code SdkClientException} without such a cause (marshalling, credentials, configuration)</td>
 *       <td>CALLER</td><td>the request never left the client and would fail the same way elsewhere</td></tr>
 *   <tr><td>any other {@code SdkException}</td><td>AMBIGUOUS</td><td>conservative</td></tr>
 *   <tr><td>anything else</td><td>as {@link ErrorClassifier#defaults()}</td><td>not an AWS SDK failure</td></tr>
 * </table>
 *
 * <pre>{@code
 * ErrorClassifier classifier = DynamoDbErrorClassifier.create();
 * FailureKind kind = classifier.classify(exception);
 * }</pre>
 */
public final class DynamoDbErrorClassifier extends AwsErrorClassifier {
    private static final DynamoDbErrorClassifier INSTANCE = new DynamoDbErrorClassifier();

    private static final Set<String> THROTTLING_CODES = Set.of(
            "ProvisionedThroughputExceededException", "RequestLimitExceeded", "ThrottlingException", "Throttling",
            "ThrottledException", "TooManyRequestsException");
    private static final Set<String> UNAVAILABLE_CODES = Set.of("ServiceUnavailable", "ServiceUnavailableException");
    private static final Set<String> SERVER_ERROR_CODES = Set.of(
            "InternalServerError", "InternalFailure", "InternalServerErrorException");
    private static final Set<String> CALLER_CODES = Set.of(
            "ConditionalCheckFailedException", "ValidationException", "ResourceNotFoundException",
            "AccessDeniedException", "UnrecognizedClientException", "ItemCollectionSizeLimitExceededException",
            "TransactionCanceledException", "SerializationException", "MissingAuthenticationTokenException",
            "IncompleteSignatureException", "InvalidSignatureException");
    private static final Set<String> THROTTLING_CANCELLATION_CODES = Set.of(
            "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded");

    private DynamoDbErrorClassifier() {
    }

    /**
     * Returns the classifier (stateless and shared).
     *
     * @return the classifier
     */
    public static DynamoDbErrorClassifier create() {
        return INSTANCE;
    }

    /**
     * Whether {@code error} is DynamoDB telling the caller to slow down (throttling error codes or HTTP 429): the
     * request was not applied, so repeating it is always safe.
     */
    static boolean isThrottling(Throwable error) {
        if (!(error instanceof AwsServiceException e)) {
            return false;
        }
        String code = errorCode(e);
        return (code != null && THROTTLING_CODES.contains(code)) || e.statusCode() == 429;
    }

    @Override
    protected FailureKind classifyService(AwsServiceException e) {
        if (e instanceof TransactionCanceledException tce && tce.hasCancellationReasons()) {
            for (CancellationReason reason : tce.cancellationReasons()) {
                if (reason != null && reason.code() != null && THROTTLING_CANCELLATION_CODES.contains(reason.code())) {
                    return FailureKind.REGION_UNAVAILABLE;
                }
            }
            return FailureKind.CALLER;
        }
        AwsErrorDetails details = e.awsErrorDetails();
        String code = details == null ? null : details.errorCode();
        int status = e.statusCode();
        if (status == 0 && details != null && details.sdkHttpResponse() != null) {
            status = details.sdkHttpResponse().statusCode();
        }
        if (code != null) {
            if (THROTTLING_CODES.contains(code)) {
                return FailureKind.REGION_UNAVAILABLE;
            }
            if (UNAVAILABLE_CODES.contains(code)) {
                return FailureKind.REGION_UNAVAILABLE;
            }
            if (SERVER_ERROR_CODES.contains(code)) {
                return FailureKind.AMBIGUOUS;
            }
        }
        if (status == 503 || status == 429) {
            return FailureKind.REGION_UNAVAILABLE;
        }
        if (status >= 500 && status <= 599) {
            return FailureKind.AMBIGUOUS;
        }
        if (code != null && CALLER_CODES.contains(code)) {
            return FailureKind.CALLER;
        }
        if (status >= 400 && status <= 499) {
            return FailureKind.CALLER;
        }
        if (e instanceof software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException
                || e instanceof software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException
                || e instanceof software.amazon.awssdk.services.dynamodb.model.ItemCollectionSizeLimitExceededException
                || e instanceof TransactionCanceledException) {
            return FailureKind.CALLER;
        }
        if (e instanceof software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughputExceededException
                || e instanceof software.amazon.awssdk.services.dynamodb.model.RequestLimitExceededException) {
            return FailureKind.REGION_UNAVAILABLE;
        }
        if (e instanceof software.amazon.awssdk.services.dynamodb.model.InternalServerErrorException) {
            return FailureKind.AMBIGUOUS;
        }
        return FailureKind.AMBIGUOUS;
    }

    @Override
    public String toString() {
        return "DynamoDbErrorClassifier";
    }
}
