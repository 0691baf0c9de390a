package dev.latitude;

import java.util.List;

/**
 * No region could serve a call: every region in the plan was tried and failed, or the call's deadline passed.
 *
 * <p>{@link #attempts()} lists each region tried and why it failed. The call may be retried later; nothing in
 * this exception means a write was applied (a possibly-applied non-idempotent write is reported as
 * {@link AmbiguousWriteException} instead).
 */
public final class RegionsUnavailableException extends LatitudeCallException {
    private static final long serialVersionUID = 1L;
    private final boolean deadlineExceeded;

    /**
     * Creates an exception.
     *
     * @param operation the operation name
     * @param deadlineExceeded whether the call gave up because its deadline passed
     * @param attempts every attempt made
     * @param cause the last failure, or {@code null}
     */
    public RegionsUnavailableException(String operation, boolean deadlineExceeded, List<AttemptRecord> attempts,
            Throwable cause) {
        super(operation, (deadlineExceeded ? operation + ": deadline exceeded before any region answered; attempts: "
                : operation + ": no region could serve the call; attempts: ") + describe(attempts), attempts, cause);
        this.deadlineExceeded = deadlineExceeded;
    }

    /** Returns whether the call ended because its overall deadline passed. */
    public boolean deadlineExceeded() {
        return deadlineExceeded;
    }
}
