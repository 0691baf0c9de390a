package dev.latitude.s3.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;

/**
 * The multipart uploads this client created, by upload id: the region (and so the physical bucket) that created
 * each, and the write stamp its object will carry. Parts, completion and abort go to that region only, since an
 * upload exists in one bucket. Bounded: the oldest of more than 100,000 open uploads, and any untouched for 7 days,
 * are forgotten (their calls are then routed to the bucket's writer).
 */
public final class Uploads {
    /**
     * One open upload.
     *
     * @param region the region that created it
     * @param bucket the logical bucket
     * @param key the object key
     * @param stamp the write stamp in its metadata
     */
    public record Upload(String region, String bucket, String key, long stamp) {
    }

    private final Cache<String, Upload> open = Caffeine.newBuilder().maximumSize(100_000)
            .expireAfterAccess(Duration.ofDays(7)).build();

    /**
     * Records an upload.
     *
     * @param uploadId the id S3 gave it
     * @param upload where it lives
     */
    public void created(String uploadId, Upload upload) {
        open.put(uploadId, upload);
    }

    /**
     * Returns the upload, or {@code null} if this client did not create it (or forgot it).
     *
     * @param uploadId the upload id
     * @return the upload or {@code null}
     */
    public Upload find(String uploadId) {
        return uploadId == null ? null : open.getIfPresent(uploadId);
    }

    /**
     * Forgets an upload that was completed or aborted.
     *
     * @param uploadId the upload id
     */
    public void ended(String uploadId) {
        open.invalidate(uploadId);
    }
}
