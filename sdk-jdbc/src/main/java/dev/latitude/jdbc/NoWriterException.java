package dev.latitude.jdbc;

import java.sql.SQLTransientConnectionException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * No region answered as the writer: every region that answered is a replica and the others could not be reached in
 * time, as during a promotion. Read-only work can go on on the replicas; read-write work should be retried after a
 * back-off, by when a replica may have been promoted. The SQLState is {@value #SQL_STATE} ("unable to establish the
 * connection"); as a {@link SQLTransientConnectionException} Spring translates it to a
 * {@code TransientDataAccessResourceException}.
 */
public class NoWriterException extends SQLTransientConnectionException {
    /** The SQLState: unable to establish the connection. */
    public static final String SQL_STATE = "08001";
    private static final long serialVersionUID = 1L;

    private final Map<String, String> answers;

    /**
     * Creates the exception.
     *
     * @param answers each region asked, in order, with what it answered ("replica", or why it could not be reached)
     */
    public NoWriterException(Map<String, String> answers) {
        super("no PostgreSQL writer found: " + answers.entrySet().stream()
                .map(e -> "region " + e.getKey() + ": " + e.getValue()).collect(Collectors.joining("; "))
                + "; retry read-write work after a back-off (a replica may be being promoted)", SQL_STATE);
        this.answers = Collections.unmodifiableMap(new LinkedHashMap<>(answers));
    }

    /** Returns each region asked with what it answered ("replica", or why it could not be reached). */
    public Map<String, String> answers() {
        return answers;
    }
}
