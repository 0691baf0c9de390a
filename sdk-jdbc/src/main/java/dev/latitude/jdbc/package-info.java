/**
 * Latitude for JDBC and PostgreSQL: a multi-region {@link javax.sql.DataSource} over one user-supplied
 * {@code DataSource} per region, for a one-writer, many-reader topology (Aurora Global Database or streaming
 * replication).
 */
package dev.latitude.jdbc;
