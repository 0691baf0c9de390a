/**
 * What Latitude's AWS SDK v2 adapters (DynamoDB, S3) share, so each rule lives once:
 * {@link dev.latitude.aws.AttemptTimeouts}, which makes each region request end by itself, so a blocking client can
 * run a call's first attempt on the calling thread without holding it past the moment the engine moves on;
 * {@link dev.latitude.aws.AwsErrorClassifier}, the rules for SDK failures around a service's own error codes; and
 * {@link dev.latitude.aws.FailoverRetryStrategy}, the region clients' retry strategy that repeats only throttled
 * requests, once. Applications use them through the adapters.
 */
package dev.latitude.aws;
