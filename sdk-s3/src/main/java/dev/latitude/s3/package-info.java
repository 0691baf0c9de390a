/**
 * Latitude for the AWS SDK v2 S3 client: one bucket per region linked by replication (direct mode), or a
 * Multi-Region Access Point, with read-your-writes for objects and client-driven failover.
 */
package dev.latitude.s3;
