/**
 * Latitude's adapter for the AWS SDK v2 DynamoDB client: how its errors map to failure kinds
 * ({@link dev.latitude.dynamodb.DynamoDbErrorClassifier}), which writes may be repeated in another region
 * ({@link dev.latitude.dynamodb.WriteIdempotency}), and hybrid-logical-clock stamps on writes
 * ({@link dev.latitude.dynamodb.WriteStamper}).
 */
package dev.latitude.dynamodb;
