/**
 * Implementation of the JDBC adapter; not for application use, may change without notice.
 */
package dev.latitude.jdbc.internal;
