package dev.latitude.jdbc.internal;

import dev.latitude.jdbc.WriterIdentity;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Learns what became of a transaction whose commit was cut off, by asking a writer {@code txid_status(xid)}.
 *
 * <p>The answer is only as good as the writer's knowledge of that transaction id, so every doubt gives
 * {@link Outcome#UNKNOWN}: an id too old for the writer to remember, an id it has not reached, a writer of another
 * cluster, any error. After a promotion (the same cluster, a later timeline) there is one more trap: a transaction whose
 * commit never reached the replica that was promoted left its id unused there, and the new writer hands that id out
 * again to a new transaction, whose fate {@code txid_status} would then report. An id is therefore trusted on a later
 * timeline only when it is older than the next id recorded by the new writer's last checkpoint taken before it was
 * promoted, which proves the id was handed out on the common history.
 */
public final class CommitFate {
    private static final String STATUS_SQL = "SELECT txid_status(?)";
    private static final String CHECKPOINT_SQL = "SELECT timeline_id, next_xid FROM pg_control_checkpoint()";

    /** What became of a transaction. */
    public enum Outcome {
        /** It committed: its changes are there. */
        COMMITTED,
        /** It aborted (or was cut off before its commit was recorded): none of its changes are there. */
        ABORTED,
        /** It is still running (on this writer). */
        IN_PROGRESS,
        /** It cannot be told. */
        UNKNOWN
    }

    private CommitFate() {
    }

    /**
     * Asks {@code writer} about transaction {@code xid}, trusting that {@code writer} is the very writer (the same
     * identity) the transaction ran on, as when only the connection was lost.
     *
     * @param writer an open connection to the writer, in auto-commit mode
     * @param xid the transaction's id as {@code txid_current()} returned it (with its epoch)
     * @return the outcome; {@link Outcome#UNKNOWN} on any doubt or error
     */
    public static Outcome resolve(Connection writer, long xid) {
        try (PreparedStatement st = writer.prepareStatement(STATUS_SQL)) {
            st.setLong(1, xid);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? outcome(rs.getString(1)) : Outcome.UNKNOWN;
            }
        } catch (SQLException e) {
            return Outcome.UNKNOWN; // such as "transaction ID ... is in the future"
        }
    }

    /**
     * Asks {@code writer} about transaction {@code xid}, which ran on a writer of identity {@code origin}; the writer
     * asked may be that one or one promoted since (see the class comment for when its answer is trusted).
     *
     * @param writer an open connection to the writer, in auto-commit mode
     * @param origin the identity of the writer the transaction ran on
     * @param xid the transaction's id as {@code txid_current()} returned it (with its epoch)
     * @return the outcome; {@link Outcome#UNKNOWN} on any doubt or error
     */
    public static Outcome resolve(Connection writer, WriterIdentity origin, long xid) {
        NodeState now;
        try {
            now = NodeInspector.inspect("writer", writer);
        } catch (SQLException e) {
            return Outcome.UNKNOWN;
        }
        if (now.inRecovery() || !now.identity().sameSystem(origin) || now.identity().timeline() < origin.timeline()) {
            return Outcome.UNKNOWN;
        }
        if (now.identity().timeline() > origin.timeline() && !handedOutBeforePromotion(writer, origin, xid)) {
            return Outcome.UNKNOWN;
        }
        return resolve(writer, xid);
    }

    /** Whether the writer's last checkpoint is from {@code origin}'s timeline or before, and {@code xid} older. */
    private static boolean handedOutBeforePromotion(Connection writer, WriterIdentity origin, long xid) {
        try (PreparedStatement st = writer.prepareStatement(CHECKPOINT_SQL); ResultSet rs = st.executeQuery()) {
            if (!rs.next() || rs.getInt(1) > origin.timeline()) {
                return false;
            }
            return xid < fullXid(rs.getString(2));
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }

    /** Turns {@code pg_control_checkpoint().next_xid}, "epoch:xid", into the 64-bit id {@code txid_current()} uses. */
    static long fullXid(String epochColonXid) {
        int colon = epochColonXid.indexOf(':');
        return (Long.parseLong(epochColonXid.substring(0, colon)) << 32)
                | Long.parseLong(epochColonXid.substring(colon + 1));
    }

    private static Outcome outcome(String status) {
        if (status == null) {
            return Outcome.UNKNOWN; // too old: its commit-log entry was truncated away
        }
        return switch (status) {
            case "committed" -> Outcome.COMMITTED;
            case "aborted" -> Outcome.ABORTED;
            case "in progress" -> Outcome.IN_PROGRESS;
            default -> Outcome.UNKNOWN;
        };
    }
}
