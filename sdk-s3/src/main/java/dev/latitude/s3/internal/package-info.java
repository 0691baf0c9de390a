/** Implementation of the multi-region S3 clients; not an API. */
package dev.latitude.s3.internal;
