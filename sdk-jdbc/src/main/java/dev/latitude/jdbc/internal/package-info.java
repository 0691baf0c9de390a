/**
 * The JDBC adapter's implementation; not an API: anything here may change in any release.
 */
package dev.latitude.jdbc.internal;
