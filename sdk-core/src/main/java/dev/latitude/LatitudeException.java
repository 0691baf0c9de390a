package dev.latitude;

/**
 * The root of every exception Latitude throws; unchecked, like the AWS SDK's {@code SdkException}.
 *
 * <p>Subtypes: {@link LatitudeConfigException} (a setting is wrong), {@link RegionsUnavailableException} (no
 * region could serve a call), {@link AmbiguousWriteException} (a non-idempotent write may or may not have been
 * applied).
 */
public class LatitudeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message what went wrong and how to fix it
     * @param cause the underlying failure, or {@code null}
     */
    public LatitudeException(String message, Throwable cause) {
        super(message, cause);
    }
}
