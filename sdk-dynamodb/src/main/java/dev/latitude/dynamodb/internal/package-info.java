/** Internals of the DynamoDB adapter; not API, may change without notice. */
package dev.latitude.dynamodb.internal;
