/**
 * Internals of the S3 adapter (the multi-region clients, Multi-Region Access Points); not API, may change without
 * notice.
 */
package dev.latitude.s3.internal;
