package dev.latitude.s3.internal;

/**
 * A region whose bucket only receives replicas answered {@code NoSuchBucket}: that region is misconfigured (or the
 * bucket is being created), so the call moves to another region instead of telling the caller the bucket does not
 * exist. Its cause is the service's error.
 */
public final class ReplicaBucketMissingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param region the region
     * @param cause the {@code NoSuchBucket} error
     */
    public ReplicaBucketMissingException(String region, Throwable cause) {
        super("the replica bucket in " + region + " does not exist", cause);
    }
}
