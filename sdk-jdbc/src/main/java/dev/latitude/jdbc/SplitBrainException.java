package dev.latitude.jdbc;

import java.sql.SQLNonTransientConnectionException;
import java.util.List;

/**
 * Two or more regions answered that they are the writer ({@code pg_is_in_recovery()} false on each): a replica was
 * promoted while the old writer still runs. Latitude refuses to guess which one is right, because writing to the wrong
 * one loses data: no read-write work is routed until only one writer is left. An operator has to stop (fence) the
 * writer that should not take writes. The SQLState is {@value #SQL_STATE} ("server rejected the connection");
 * Spring translates it to a {@code DataAccessResourceFailureException}.
 */
public class SplitBrainException extends SQLNonTransientConnectionException {
    /** The SQLState: the connection was rejected. */
    public static final String SQL_STATE = "08004";
    private static final long serialVersionUID = 1L;

    private final List<String> writerRegions;

    /**
     * Creates the exception.
     *
     * @param writerRegions every region that claimed to be the writer, two or more
     */
    public SplitBrainException(List<String> writerRegions) {
        super("regions " + String.join(" and ", writerRegions) + " all claim to be the PostgreSQL writer (split brain);"
                + " no read-write work is routed until one of them is stopped or turned back into a replica",
                SQL_STATE);
        this.writerRegions = List.copyOf(writerRegions);
    }

    /** Returns every region that claimed to be the writer. */
    public List<String> writerRegions() {
        return writerRegions;
    }
}
