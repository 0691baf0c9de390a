/** Internals of the S3 adapter; not API, may change without notice. */
package dev.latitude.s3.internal;
