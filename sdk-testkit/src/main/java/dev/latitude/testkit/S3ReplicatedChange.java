package dev.latitude.testkit;

import java.time.Duration;
import java.util.Objects;

/**
 * One object change that {@link S3ReplicationEmulator} delivered (or tried to) to one destination bucket, as its
 * listeners see it.
 *
 * @param sourceRegion the region the change was made in
 * @param sourceBucket the bucket it was made in
 * @param destinationRegion the region it was delivered to
 * @param destinationBucket the bucket it was delivered to
 * @param key the object key
 * @param versionId the version id of the write or delete marker, which the replica keeps; null in a bucket without
 *     versioning
 * @param kind a write (put, copy, completed multipart upload) or a delete
 * @param outcome what happened at the destination
 * @param delay from the source taking the change to the destination taking it (or refusing it)
 */
public record S3ReplicatedChange(
        String sourceRegion,
        String sourceBucket,
        String destinationRegion,
        String destinationBucket,
        String key,
        String versionId,
        ReplicatedChange.Kind kind,
        ReplicatedChange.Outcome outcome,
        Duration delay) {

    /** Checks that every component but {@code versionId} is present. */
    public S3ReplicatedChange {
        Objects.requireNonNull(sourceRegion, "sourceRegion");
        Objects.requireNonNull(sourceBucket, "sourceBucket");
        Objects.requireNonNull(destinationRegion, "destinationRegion");
        Objects.requireNonNull(destinationBucket, "destinationBucket");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(delay, "delay");
    }
}
