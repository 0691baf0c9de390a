package dev.latitude.s3.internal;

import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * What one region answered: a value, or "no such key" (kept as an answer rather than an error so that a session read
 * can tell a replica that has not received an object yet from one that truly lacks it).
 *
 * @param value the response, or {@code null} if the key was missing
 * @param missing the region's {@code NoSuchKey} error, or {@code null}
 * @param region the id of the region that answered
 * @param <R> the response type
 */
public record Answer<R>(R value, S3Exception missing, String region) {

    /**
     * Returns the value, or throws the region's {@code NoSuchKey} error.
     *
     * @return the value
     */
    public R valueOrThrow() {
        if (missing != null) {
            throw missing;
        }
        return value;
    }
}
