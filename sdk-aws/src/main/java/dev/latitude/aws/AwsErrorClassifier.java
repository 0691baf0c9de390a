package dev.latitude.aws;

import dev.latitude.FailureKind;
import dev.latitude.spi.ErrorClassifier;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * What classifying an AWS SDK v2 failure has in common across services; a service's classifier decides only what its
 * service errors mean ({@link #classifyService}) and, if it needs to, failures of its own ({@link #classifyOwn}).
 *
 * <p>In order: {@link CompletionException} and {@link ExecutionException} wrappers are looked through; the SDK's
 * {@code ApiCallAttemptTimeoutException} and {@code ApiCallTimeoutException} are AMBIGUOUS (the request may have been
 * sent and applied); then the service's own rules; an {@code AwsServiceException} goes to {@link #classifyService};
 * an {@code SdkClientException} is what its cause says the connection did ({@link ErrorClassifier#fromTransport}), or
 * CALLER without such a cause (marshalling, credentials, configuration: it never left the client and would fail the
 * same way elsewhere); any other {@code SdkException} is AMBIGUOUS; anything else is as {@link ErrorClassifier#defaults()}.
 * The classifier never throws: an internal failure yields AMBIGUOUS.
 */
public abstract class AwsErrorClassifier implements ErrorClassifier {
    private static final int MAX_CAUSE_DEPTH = 16;

    /** For subclasses. */
    protected AwsErrorClassifier() {
    }

    @Override
    public final FailureKind classify(Throwable error) {
        try {
            return classifyUnwrapped(unwrap(error));
        } catch (RuntimeException | StackOverflowError e) {
            return FailureKind.AMBIGUOUS;
        }
    }

    /**
     * Classifies a failure before the common rules for service and client errors, or returns {@code null} to leave it
     * to them; by default {@code null}. Called with the failure unwrapped, never {@code null}, and not an SDK timeout.
     *
     * @param error the failure
     * @return its kind, or {@code null}
     */
    protected FailureKind classifyOwn(Throwable error) {
        return null;
    }

    /**
     * Classifies an error the service answered with.
     *
     * @param error the service error
     * @return its kind
     */
    protected abstract FailureKind classifyService(AwsServiceException error);

    /**
     * Returns the service's error code ({@code awsErrorDetails().errorCode()}), or {@code null} if there is none.
     *
     * @param error the service error
     * @return the code or null
     */
    protected static String errorCode(AwsServiceException error) {
        AwsErrorDetails details = error.awsErrorDetails();
        return details == null ? null : details.errorCode();
    }

    private static Throwable unwrap(Throwable error) {
        Throwable e = error;
        for (int i = 0; i < MAX_CAUSE_DEPTH && (e instanceof CompletionException || e instanceof ExecutionException)
                && e.getCause() != null; i++) {
            e = e.getCause();
        }
        return e;
    }

    private FailureKind classifyUnwrapped(Throwable e) {
        if (e == null) {
            return FailureKind.AMBIGUOUS;
        }
        if (e instanceof ApiCallAttemptTimeoutException || e instanceof ApiCallTimeoutException) {
            return FailureKind.AMBIGUOUS;
        }
        FailureKind own = classifyOwn(e);
        if (own != null) {
            return own;
        }
        if (e instanceof AwsServiceException ase) {
            return classifyService(ase);
        }
        if (e instanceof SdkClientException) {
            return ErrorClassifier.fromTransport(e.getCause()).orElse(FailureKind.CALLER);
        }
        if (e instanceof SdkException) {
            return FailureKind.AMBIGUOUS;
        }
        return ErrorClassifier.defaults().classify(e);
    }
}
