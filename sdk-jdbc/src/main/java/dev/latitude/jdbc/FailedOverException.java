package dev.latitude.jdbc;

import java.sql.SQLTransientConnectionException;

/**
 * The logical connection lost its region and moved to another one while no transaction was open: nothing the
 * application did was lost, and the work can simply be retried on the same connection. The SQLState is
 * {@value #SQL_STATE}, the code PostgreSQL drivers and the AWS JDBC wrapper use for "failover succeeded"; as a
 * {@link SQLTransientConnectionException} it is a {@code TransientDataAccessResourceException} in Spring, so retry
 * templates that retry transient errors retry it.
 */
public class FailedOverException extends SQLTransientConnectionException {
    /** The SQLState: connection failure, failed over to another node. */
    public static final String SQL_STATE = "08S02";
    private static final long serialVersionUID = 1L;

    private final String fromRegion;
    private final String toRegion;

    /**
     * Creates the exception.
     *
     * @param fromRegion the region the connection was on
     * @param toRegion the region it moved to
     * @param cause the failure that made it move, or {@code null}
     */
    public FailedOverException(String fromRegion, String toRegion, Throwable cause) {
        super("the connection to region " + fromRegion + " failed outside a transaction and now uses region "
                + toRegion + "; nothing was lost: retry the statement", SQL_STATE, cause);
        this.fromRegion = fromRegion;
        this.toRegion = toRegion;
    }

    /** Returns the region the connection was on. */
    public String fromRegion() {
        return fromRegion;
    }

    /** Returns the region the connection moved to. */
    public String toRegion() {
        return toRegion;
    }
}
