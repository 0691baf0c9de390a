package dev.latitude;

import java.util.List;

/**
 * A non-idempotent write failed in a way that leaves its outcome unknown (timeout, reset, 500), so it was not
 * retried in another region: doing so could apply it twice.
 *
 * <p>The application decides: read the item back, or retry with an idempotency key. {@link #region()} is where the
 * write may have been applied; {@link #getCause()} is the original failure.
 */
public final class AmbiguousWriteException extends LatitudeCallException {
    private static final long serialVersionUID = 1L;
    private final String region;

    /**
     * Creates an exception.
     *
     * @param operation the operation name
     * @param region the region where the write may have been applied
     * @param attempts every attempt made
     * @param cause the failure of the attempt in {@code region}
     */
    public AmbiguousWriteException(String operation, String region, List<AttemptRecord> attempts, Throwable cause) {
        super(operation, operation + ": the write to " + region + " may or may not have been applied; it was not retried"
                + " in another region because the operation is not idempotent (mark it idempotent, or make it so with"
                + " a client request token, to allow that); attempts: " + describe(attempts), attempts, cause);
        this.region = region;
    }

    /** Returns the id of the region where the write may have been applied. */
    public String region() {
        return region;
    }
}
