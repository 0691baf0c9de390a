package dev.latitude.spi;

import dev.latitude.FailureKind;

/**
 * Tells the engine what a failed attempt means, so it can decide whether to try another region.
 *
 * <p>Adapters supply one that knows their client's errors (for DynamoDB: throttling and 5xx are region-level,
 * {@code ConditionalCheckFailedException} is the caller's). It is called on the hot path: it must be fast and
 * must not throw; if it does, the failure is treated as {@link FailureKind#AMBIGUOUS}.
 */
@FunctionalInterface
public interface ErrorClassifier {

    /**
     * Classifies {@code error}, the exception an attempt failed with (already unwrapped from
     * {@code CompletionException}/{@code ExecutionException}).
     *
     * @param error the failure
     * @return what kind of failure it is; never {@code null}
     */
    FailureKind classify(Throwable error);

    /**
     * Returns a conservative classifier for clients the engine knows nothing about: connection-level I/O errors
     * that happen before a request is sent ({@code java.net.ConnectException}) are
     * {@link FailureKind#REGION_UNAVAILABLE}, other {@link java.io.IOException}s are {@link FailureKind#AMBIGUOUS},
     * and everything else is {@link FailureKind#CALLER}.
     */
    static ErrorClassifier defaults() {
        return error -> {
            if (error instanceof java.net.ConnectException) {
                return FailureKind.REGION_UNAVAILABLE;
            }
            if (error instanceof java.io.IOException) {
                return FailureKind.AMBIGUOUS;
            }
            return FailureKind.CALLER;
        };
    }
}
