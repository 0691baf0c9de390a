/**
 * What Latitude's AWS SDK v2 adapters share: {@link dev.latitude.aws.AttemptTimeouts}, which makes each region
 * request end by itself, so a blocking client can run a call's first attempt on the calling thread without holding
 * it past the moment the engine moves on.
 */
package dev.latitude.aws;
