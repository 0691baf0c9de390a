package dev.latitude.jdbc;

import java.sql.SQLRecoverableException;

/**
 * The writer was lost while a transaction was committing (or had work in flight), and its fate could not be learnt
 * from the writer that took over: it may or may not have committed. The SQLState is {@value #SQL_STATE}, the standard
 * "transaction resolution unknown". Retrying blindly could apply the work twice: the application should check whether
 * its change is there (or make the transaction idempotent) before running it again on a new connection. As a
 * {@link SQLRecoverableException} it is a {@code RecoverableDataAccessException} in Spring, not a transient one, so
 * generic retry templates do not replay it.
 */
public class CommitOutcomeUnknownException extends SQLRecoverableException {
    /** The SQLState: transaction resolution unknown. */
    public static final String SQL_STATE = "08007";
    private static final long serialVersionUID = 1L;

    private final String writerRegion;
    private final String newWriterRegion;
    private final long transactionId;

    /**
     * Creates the exception.
     *
     * @param writerRegion the region of the writer the transaction ran on
     * @param newWriterRegion the region of the writer asked about its fate, or {@code null} if none was found
     * @param transactionId the transaction's id ({@code txid_current()}), or -1 if it had none yet
     * @param cause the failure that lost the writer, or {@code null}
     */
    public CommitOutcomeUnknownException(String writerRegion, String newWriterRegion, long transactionId,
            Throwable cause) {
        super("the writer in region " + writerRegion + " was lost during transaction "
                + (transactionId < 0 ? "(no id yet)" : Long.toString(transactionId)) + " and "
                + (newWriterRegion == null ? "no writer could be found to ask"
                        : "the writer in region " + newWriterRegion + " could not tell")
                + " whether it committed: check whether its changes are there before running it again",
                SQL_STATE, cause);
        this.writerRegion = writerRegion;
        this.newWriterRegion = newWriterRegion;
        this.transactionId = transactionId;
    }

    /** Returns the region of the writer the transaction ran on. */
    public String writerRegion() {
        return writerRegion;
    }

    /** Returns the region of the writer asked about the transaction's fate, or {@code null} if none was found. */
    public String newWriterRegion() {
        return newWriterRegion;
    }

    /** Returns the transaction's id, or -1 if it had none yet. */
    public long transactionId() {
        return transactionId;
    }
}
