package dev.latitude.s3;

import dev.latitude.LatitudeException;

/**
 * A request the multi-region S3 client does not route, refused before anything is sent: an S3 operation it does not
 * support (bucket configuration, which differs per physical bucket; account-wide listings), or a bucket it has no
 * mapping for. The message names the operation and what to do instead, usually calling the region's own client
 * ({@link MultiRegionS3Client#regionClient(String)}).
 */
public final class UnroutableS3RequestException extends LatitudeException {
    private static final long serialVersionUID = 1L;

    /** The operation refused. */
    private final String operation;

    /**
     * Creates the exception.
     *
     * @param operation the S3 operation, such as {@code PutBucketPolicy}
     * @param problem why it is refused and what to do instead
     */
    public UnroutableS3RequestException(String operation, String problem) {
        super(operation + ": " + problem, null);
        this.operation = operation;
    }

    /** Returns the S3 operation refused, such as {@code PutBucketPolicy}. */
    public String operation() {
        return operation;
    }
}
