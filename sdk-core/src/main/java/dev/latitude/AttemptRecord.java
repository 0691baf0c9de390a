package dev.latitude;

import java.time.Duration;
import java.util.Objects;

/**
 * One attempt of a call in one region, as reported by {@link LatitudeCallException#attempts()}.
 *
 * <p>Immutable. {@link #failure()} is {@code null} for the attempt that succeeded.
 */
public final class AttemptRecord {
    private final String region;
    private final FailureKind failure;
    private final Duration duration;
    private final boolean hedge;
    private final Throwable cause;

    /**
     * Creates a record.
     *
     * @param region the region id
     * @param failure how the attempt failed, or {@code null} if it succeeded or was cancelled after another won
     * @param duration how long the attempt ran
     * @param hedge whether this attempt was a hedge started while an earlier one was still running
     * @param cause the exception it failed with, or {@code null}
     */
    public AttemptRecord(String region, FailureKind failure, Duration duration, boolean hedge, Throwable cause) {
        this.region = Objects.requireNonNull(region, "region");
        this.failure = failure;
        this.duration = Objects.requireNonNull(duration, "duration");
        this.hedge = hedge;
        this.cause = cause;
    }

    /** Returns the id of the region the attempt went to. */
    public String region() {
        return region;
    }

    /** Returns how the attempt failed, or {@code null} if it did not fail. */
    public FailureKind failure() {
        return failure;
    }

    /** Returns how long the attempt ran before it ended or the call gave up on it. */
    public Duration duration() {
        return duration;
    }

    /** Returns whether the attempt was a hedge. */
    public boolean hedge() {
        return hedge;
    }

    /** Returns the exception the attempt failed with, or {@code null}. */
    public Throwable cause() {
        return cause;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(region).append(hedge ? " (hedge)" : "").append(": ")
                .append(failure == null ? "ok" : failure.name()).append(" after ").append(duration.toMillis()).append(" ms");
        if (cause != null) {
            sb.append(" (").append(cause.getClass().getSimpleName());
            if (cause.getMessage() != null) {
                sb.append(": ").append(cause.getMessage());
            }
            sb.append(')');
        }
        return sb.toString();
    }
}
