package dev.latitude.s3;

import dev.latitude.FailureKind;
import dev.latitude.aws.AwsErrorClassifier;
import dev.latitude.LatitudeException;
import dev.latitude.s3.internal.ReplicaBucketMissingException;
import dev.latitude.spi.ErrorClassifier;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Classifies the exceptions of the AWS SDK v2 S3 clients for Latitude's engine. Service errors are classified by
 * their S3 error code first and their HTTP status second; client-side errors by their cause chain.
 * {@link CompletionException} and {@link ExecutionException} wrappers are unwrapped first. The classifier never
 * throws: an internal failure yields {@link FailureKind#AMBIGUOUS}.
 *
 * <table>
 *   <caption>How failures are classified (first matching row wins)</caption>
 *   <tr><th>Failure</th><th>Kind</th><th>Why</th></tr>
 *   <tr><td>{@code ApiCallAttemptTimeoutException}, {@code ApiCallTimeoutException}</td><td>AMBIGUOUS</td>
 *       <td>the request may have been sent and applied</td></tr>
 *   <tr><td>a {@link LatitudeException} in the cause chain (such as {@link BodyNotReplayableException})</td>
 *       <td>CALLER</td><td>Latitude itself refused to go on</td></tr>
 *   <tr><td>{@code NoSuchBucket} from a bucket that only replicates (not a writer of the logical bucket)</td>
 *       <td>REGION_UNAVAILABLE</td><td>that region is misconfigured; another may serve</td></tr>
 *   <tr><td>error code {@code SlowDown}, {@code Throttling}, {@code ThrottlingException},
 *       {@code RequestLimitExceeded}, {@code TooManyRequests}, {@code ServiceUnavailable}, {@code RequestTimeout},
 *       {@code TemporaryRedirect}; HTTP 503, 429 or 307</td><td>REGION_UNAVAILABLE</td>
 *       <td>refused before processing (a builder-made client already retried {@code SlowDown} once, quickly)</td></tr>
 *   <tr><td>{@code NotImplemented}, HTTP 501</td><td>CALLER</td><td>the request asks for something this S3 does
 *       not do; it would fail the same way elsewhere</td></tr>
 *   <tr><td>{@code InternalError}, HTTP 500 or any other 5xx</td><td>AMBIGUOUS</td>
 *       <td>the write may have been applied</td></tr>
 *   <tr><td>{@code NoSuchBucket} (on a writer), {@code NoSuchKey}, {@code NoSuchUpload}, {@code NoSuchVersion},
 *       {@code AccessDenied}, {@code PreconditionFailed}, {@code InvalidRange}, {@code InvalidArgument},
 *       {@code EntityTooLarge}, {@code PermanentRedirect}, any other 3xx or 4xx</td><td>CALLER</td>
 *       <td>the request itself was refused, or the answer is "it does not exist"</td></tr>
 *   <tr><td>a service error with neither a known code nor a 3xx-5xx status</td><td>AMBIGUOUS</td>
 *       <td>nothing says it was not applied</td></tr>
 *   <tr><td>{@code SdkClientException} caused by a connection failure before sending (refused, unknown host, connect
 *       timeout)</td><td>REGION_UNAVAILABLE</td><td>nothing was sent</td></tr>
 *   <tr><td>{@code SdkClientException} caused by any other I/O error (reset, read timeout, broken pipe)</td>
 *       <td>AMBIGUOUS</td><td>the request may have been sent</td></tr>
 *   <tr><td>{@code SdkClientException} without an I/O cause (marshalling, credentials, configuration)</td>
 *       <td>CALLER</td><td>it would fail the same way elsewhere</td></tr>
 *   <tr><td>any other {@code SdkException}</td><td>AMBIGUOUS</td><td>conservative</td></tr>
 *   <tr><td>anything else</td><td>as {@link ErrorClassifier#defaults()}</td><td></td></tr>
 * </table>
 *
 * <pre>{@code
 * FailureKind kind = S3ErrorClassifier.create().classify(exception);
 * }</pre>
 */
public final class S3ErrorClassifier extends AwsErrorClassifier {
    private static final S3ErrorClassifier INSTANCE = new S3ErrorClassifier();
    private static final int MAX_CAUSE_DEPTH = 16;
    private static final Set<String> THROTTLING_CODES = Set.of(
            "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
            "TooManyRequestsException");
    private static final Set<String> UNAVAILABLE_CODES = Set.of(
            "ServiceUnavailable", "RequestTimeout", "TemporaryRedirect");
    private static final String NOT_IMPLEMENTED_CODE = "NotImplemented";
    private static final Set<String> SERVER_ERROR_CODES = Set.of("InternalError", "InternalFailure");

    private S3ErrorClassifier() {
    }

    /**
     * Returns the classifier (stateless and shared).
     *
     * @return the classifier
     */
    public static S3ErrorClassifier create() {
        return INSTANCE;
    }

    /**
     * Whether {@code error} is S3 telling the caller to slow down ({@code SlowDown} and the other throttling codes, or
     * HTTP 429/503): the request was not applied, so repeating it once in the same region is safe.
     *
     * @param error the failure
     * @return whether it is throttling
     */
    public static boolean isThrottling(Throwable error) {
        if (!(error instanceof AwsServiceException e)) {
            return false;
        }
        String code = errorCode(e);
        return (code != null && THROTTLING_CODES.contains(code)) || e.statusCode() == 429 || e.statusCode() == 503;
    }

    /** Latitude's own refusals are the caller's; a replica bucket missing in its region makes that region unusable. */
    @Override
    protected FailureKind classifyOwn(Throwable e) {
        if (e instanceof ReplicaBucketMissingException) {
            return FailureKind.REGION_UNAVAILABLE;
        }
        return latitudeRefusal(e) ? FailureKind.CALLER : null;
    }

    private static boolean latitudeRefusal(Throwable first) {
        Throwable t = first;
        for (int i = 0; t != null && i < MAX_CAUSE_DEPTH; i++, t = t.getCause()) {
            if (t instanceof LatitudeException) {
                return true;
            }
        }
        return false;
    }

    @Override
    protected FailureKind classifyService(AwsServiceException e) {
        String code = errorCode(e);
        int status = e.statusCode();
        if (code != null && (THROTTLING_CODES.contains(code) || UNAVAILABLE_CODES.contains(code))) {
            return FailureKind.REGION_UNAVAILABLE;
        }
        if (status == 503 || status == 429 || status == 307) {
            return FailureKind.REGION_UNAVAILABLE;
        }
        if (status == 501 || (code != null && NOT_IMPLEMENTED_CODE.equals(code))) {
            return FailureKind.CALLER;
        }
        if ((code != null && SERVER_ERROR_CODES.contains(code)) || (status >= 500 && status <= 599)) {
            return FailureKind.AMBIGUOUS;
        }
        if (status >= 300 && status <= 499) {
            return FailureKind.CALLER;
        }
        return FailureKind.AMBIGUOUS;
    }

    @Override
    public String toString() {
        return "S3ErrorClassifier";
    }
}
