package dev.latitude.jdbc.internal;

import dev.latitude.FailureKind;
import dev.latitude.spi.ErrorClassifier;
import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Classifies the failures of a JDBC attempt (taking a physical connection from a region's {@code DataSource} and
 * running the unit of work's first statement on it) for the engine, by SQLState as PostgreSQL and its driver report
 * them.
 *
 * <table>
 *   <caption>How failures are classified (first matching row wins)</caption>
 *   <tr><th>Failure</th><th>Kind</th></tr>
 *   <tr><td>no connection could be made: SQLState {@code 08001}, {@code 08004}, {@code 57P03} (starting up or in
 *   recovery), a pool's {@link SQLTransientConnectionException}, {@link ConnectException} in the cause chain</td>
 *   <td>{@link FailureKind#REGION_UNAVAILABLE}</td></tr>
 *   <tr><td>{@code 25006} (read-only transaction: the node is no longer the writer; nothing was applied)</td>
 *   <td>{@link FailureKind#REGION_UNAVAILABLE}</td></tr>
 *   <tr><td>the connection broke while the statement ran: other class {@code 08}, {@code 57P01}/{@code 57P02}
 *   (the server shut down), {@link SQLTimeoutException}</td><td>{@link FailureKind#AMBIGUOUS}</td></tr>
 *   <tr><td>everything else (syntax, constraints, permissions, serialization failures)</td>
 *   <td>{@link FailureKind#CALLER}</td></tr>
 * </table>
 */
public final class JdbcErrorClassifier implements ErrorClassifier {
    private static final JdbcErrorClassifier INSTANCE = new JdbcErrorClassifier();

    private JdbcErrorClassifier() {
    }

    /**
     * Returns the classifier (stateless and shared).
     *
     * @return the classifier
     */
    public static JdbcErrorClassifier create() {
        return INSTANCE;
    }

    @Override
    public FailureKind classify(Throwable error) {
        Throwable e = error;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof SQLTransientConnectionException) {
            // A pool that could not hand out a connection in time: nothing was sent.
            return FailureKind.REGION_UNAVAILABLE;
        }
        if (e instanceof SQLTimeoutException) {
            return FailureKind.AMBIGUOUS;
        }
        if (e instanceof SQLException sql) {
            String state = sql.getSQLState();
            if (state != null) {
                switch (state) {
                    case "08001", "08004", "57P03", "25006":
                        return FailureKind.REGION_UNAVAILABLE;
                    case "57P01", "57P02":
                        return FailureKind.AMBIGUOUS;
                    default:
                        if (state.startsWith("08")) {
                            return connectRefused(e) ? FailureKind.REGION_UNAVAILABLE : FailureKind.AMBIGUOUS;
                        }
                        return FailureKind.CALLER;
                }
            }
            return connectRefused(e) ? FailureKind.REGION_UNAVAILABLE : FailureKind.CALLER;
        }
        if (e instanceof ConnectException) {
            return FailureKind.REGION_UNAVAILABLE;
        }
        if (e instanceof java.io.IOException) {
            return FailureKind.AMBIGUOUS;
        }
        return FailureKind.CALLER;
    }

    private static boolean connectRefused(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
