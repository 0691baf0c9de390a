package dev.latitude;

import java.util.List;

/**
 * A write ended with its outcome unknown: it may or may not have been applied. Either a non-idempotent write failed in
 * a way that leaves its outcome unknown (timeout, reset, 500), so it was not retried in another region (doing so could
 * apply it twice); or an attempt of the write was still running, or had failed ambiguously, when the call's deadline
 * passed or its last region failed. Never read it as "not applied".
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
        this(operation, region, "it was not retried in another region because the operation is not idempotent (mark it"
                + " idempotent, or make it so with a client request token, to allow that)", attempts, cause);
    }

    /**
     * Creates an exception that says why the outcome is unknown.
     *
     * @param operation the operation name
     * @param region the region where the write may have been applied
     * @param why why the outcome is unknown, such as "the deadline passed while it was in flight"
     * @param attempts every attempt made
     * @param cause the failure of the attempt in {@code region}, or {@code null}
     */
    public AmbiguousWriteException(String operation, String region, String why, List<AttemptRecord> attempts,
            Throwable cause) {
        super(operation, operation + ": the write to " + region + " may or may not have been applied; " + why
                + "; attempts: " + describe(attempts), attempts, cause);
        this.region = region;
    }

    /** Returns the id of the region where the write may have been applied. */
    public String region() {
        return region;
    }
}
