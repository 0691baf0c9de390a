package dev.latitude.jdbc.internal;

import dev.latitude.jdbc.WriterIdentity;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;

/**
 * Learns what became of a transaction whose commit was cut off: is its work on the writer that serves now?
 *
 * <p>Just before COMMIT the transaction's {@link Origin} is read on its writer, in the same round trip: its id, the end
 * of its WAL so far, the writer's identity and when the writer's server started. After a lost commit the writer found
 * then (the same node, or one promoted since) is asked, and the answer is trusted only where it is provably about that
 * transaction:
 *
 * <ul>
 *   <li><b>The same server, still running</b> (same system, timeline and start time): transaction ids are never handed
 *       out twice, so {@code txid_status} is the answer.</li>
 *   <li><b>A server promoted since</b> (same system, later timeline): its history holds the old timeline's WAL only up
 *       to the point where it switched timelines, read from its timeline history file. If that point is at or before
 *       the transaction's WAL end, its commit record (written after) is not in the new writer's history:
 *       {@link Outcome#NOT_ON_WRITER}, whether or not the old writer committed it (a commit the replica never received
 *       was lost by the promotion). If the point is later, the new writer replayed the transaction's changes, whose WAL
 *       records carry its id, so it counted that id as used and never handed it out again: {@code txid_status} is
 *       about this transaction. There "committed" is {@link Outcome#COMMITTED} and "aborted" (no commit record
 *       replayed) is {@link Outcome#NOT_ON_WRITER}.</li>
 *   <li><b>The same server restarted</b> (crash recovery may have dropped the WAL tail, and with it the commit, and
 *       then handed the id out again): only an id the server has not reached yet is decided
 *       ({@link Outcome#NOT_ON_WRITER}: its commit record was never replayed).</li>
 *   <li>Anything else (another cluster, an earlier timeline, a replica, a history file the user may not read, any
 *       error): {@link Outcome#UNKNOWN}.</li>
 * </ul>
 *
 * <p>Never is a transaction whose commit is on the writer asked reported as not there. Two cases rest on an
 * assumption. A transaction that wrote only temporary or unlogged tables leaves no WAL record with its id before its
 * commit record, so after a promotion a reused id could be taken for it (its changes are on no replica anyway). And a
 * timeline is known by its number: if two replicas were promoted to the same number independently (they share no WAL
 * archive) and a writer descended from the other one is asked, its history is taken for the transaction's.
 */
public final class CommitFate {
    /** Read in the transaction, just before COMMIT; the last three columns tell where and when it ran. */
    private static final String ORIGIN_SQL = "SELECT txid_current_if_assigned(),"
            + " (pg_current_wal_insert_lsn() - '0/0')::bigint,"
            + " (SELECT system_identifier FROM pg_control_system()),"
            + " ('x' || substr(pg_walfile_name(pg_current_wal_insert_lsn()), 1, 8))::bit(32)::int,"
            + " (extract(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint";
    private static final String SERVER_SQL = "SELECT (extract(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint";
    private static final String STATUS_SQL = "SELECT txid_status(?)";
    private static final String HISTORY_SQL = "SELECT pg_read_file('pg_wal/' || lpad(upper(to_hex(?)), 8, '0')"
            + " || '.history')";
    private static final String FUTURE_ID_STATE = "22023";

    /** What became of a transaction, as far as the writer asked can tell. */
    public enum Outcome {
        /** It committed and its changes are on the writer asked. */
        COMMITTED,
        /**
         * Its changes are not on the writer asked: it aborted, was cut off before it committed, or committed on a
         * writer whose last WAL never reached the one promoted after it (the promotion discarded it).
         */
        NOT_ON_WRITER,
        /** It is still running on the writer asked. */
        IN_PROGRESS,
        /** It cannot be told. */
        UNKNOWN
    }

    /**
     * Where a transaction ran, read just before its COMMIT.
     *
     * @param xid its id, as {@code txid_current()} returns it (with the epoch)
     * @param walEnd the writer's WAL insert position then: every record of the transaction ends at or before it, and
     *     its commit record starts at or after it
     * @param writer the writer's identity
     * @param serverStartMicros when the writer's server started ({@code pg_postmaster_start_time()}, in microseconds
     *     since the epoch)
     */
    public record Origin(long xid, long walEnd, WriterIdentity writer, long serverStartMicros) {

        /** Checks the components. */
        public Origin {
            Objects.requireNonNull(writer, "writer");
        }
    }

    private CommitFate() {
    }

    /**
     * Reads the {@link Origin} of the transaction open on {@code writer}, in one round trip, before its COMMIT.
     *
     * @param writer the connection of a read-write transaction on the writer
     * @return the origin, or {@code null} if the transaction has no id (it wrote nothing, so there is nothing to lose)
     * @throws SQLException if the query fails
     */
    public static Origin beforeCommit(Connection writer) throws SQLException {
        try (PreparedStatement st = writer.prepareStatement(ORIGIN_SQL); ResultSet rs = st.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("PostgreSQL returned no row for the transaction's id and WAL position");
            }
            long xid = rs.getLong(1);
            if (rs.wasNull()) {
                return null;
            }
            return new Origin(xid, rs.getLong(2), new WriterIdentity(rs.getLong(3), rs.getInt(4)), rs.getLong(5));
        }
    }

    /**
     * Asks the writer behind {@code writer} about the transaction that ran at {@code origin} (see the class comment for
     * when its answer is trusted).
     *
     * @param writer an open connection to the writer now, in auto-commit mode
     * @param origin where the transaction ran
     * @return the outcome; {@link Outcome#UNKNOWN} on any doubt or error
     */
    public static Outcome resolve(Connection writer, Origin origin) {
        try {
            NodeState now = NodeInspector.inspect("writer", writer);
            WriterIdentity was = origin.writer();
            if (now.inRecovery() || !now.identity().sameSystem(was) || now.identity().timeline() < was.timeline()) {
                return Outcome.UNKNOWN;
            }
            if (now.identity().timeline() > was.timeline()) {
                long switchPoint = switchPoint(writer, now.identity().timeline(), was.timeline());
                if (switchPoint < 0) {
                    return Outcome.UNKNOWN;
                }
                if (switchPoint <= origin.walEnd()) {
                    return Outcome.NOT_ON_WRITER; // the commit record came after the timeline the new writer took
                }
                Outcome status = status(writer, origin.xid());
                return status == Outcome.IN_PROGRESS ? Outcome.UNKNOWN : status;
            }
            if (serverStart(writer) == origin.serverStartMicros()) {
                return status(writer, origin.xid());
            }
            // Restarted on the same timeline: only an id not reached yet proves that its commit was never replayed.
            return isFuture(writer, origin.xid()) ? Outcome.NOT_ON_WRITER : Outcome.UNKNOWN;
        } catch (SQLException | RuntimeException e) {
            return Outcome.UNKNOWN;
        }
    }

    /**
     * {@code txid_status(xid)} on {@code writer}: an id the server has not reached yet was never committed there, and
     * is reported as {@link Outcome#NOT_ON_WRITER}; an id too old to be remembered as {@link Outcome#UNKNOWN}.
     */
    private static Outcome status(Connection writer, long xid) throws SQLException {
        try (PreparedStatement st = writer.prepareStatement(STATUS_SQL)) {
            st.setLong(1, xid);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    return Outcome.UNKNOWN;
                }
                String status = rs.getString(1);
                if (status == null) {
                    return Outcome.UNKNOWN; // too old: its commit-log entry was truncated away
                }
                return switch (status) {
                    case "committed" -> Outcome.COMMITTED;
                    case "aborted" -> Outcome.NOT_ON_WRITER;
                    case "in progress" -> Outcome.IN_PROGRESS;
                    default -> Outcome.UNKNOWN;
                };
            }
        } catch (SQLException e) {
            if (FUTURE_ID_STATE.equals(e.getSQLState())) {
                return Outcome.NOT_ON_WRITER; // "transaction ID ... is in the future": never replayed nor run here
            }
            throw e;
        }
    }

    /** Whether {@code xid} is one {@code writer} has not handed out yet. */
    private static boolean isFuture(Connection writer, long xid) {
        try (PreparedStatement st = writer.prepareStatement(STATUS_SQL)) {
            st.setLong(1, xid);
            st.executeQuery().close();
            return false;
        } catch (SQLException e) {
            return FUTURE_ID_STATE.equals(e.getSQLState());
        }
    }

    private static long serverStart(Connection writer) throws SQLException {
        try (PreparedStatement st = writer.prepareStatement(SERVER_SQL); ResultSet rs = st.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("PostgreSQL returned no server start time");
            }
            return rs.getLong(1);
        }
    }

    /**
     * The WAL position at which the history of timeline {@code current} left timeline {@code past}, read from the
     * server's timeline history file; -1 if {@code past} is not in that history or the file cannot be read (reading it
     * takes a superuser or the {@code pg_read_server_files} role).
     */
    private static long switchPoint(Connection writer, int current, int past) {
        String history;
        try (PreparedStatement st = writer.prepareStatement(HISTORY_SQL)) {
            st.setInt(1, current);
            try (ResultSet rs = st.executeQuery()) {
                history = rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            return -1;
        }
        return history == null ? -1 : switchPoint(history, past);
    }

    /**
     * Parses a timeline history file ({@code <parent timeline> <tab> <switch LSN> <tab> <reason>} a line) for the
     * position where timeline {@code past} ended; -1 if it has no line for {@code past}.
     *
     * @param history the file's text
     * @param past a timeline
     * @return the switch point as a byte position, or -1
     */
    static long switchPoint(String history, int past) {
        for (String line : history.split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length >= 2 && !fields[0].startsWith("#") && fields[0].equals(Integer.toString(past))) {
                return parseLsn(fields[1]);
            }
        }
        return -1;
    }

    /** Parses a PostgreSQL LSN such as {@code 0/3000060} into a byte position. */
    static long parseLsn(String lsn) {
        int slash = lsn.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not a PostgreSQL LSN: " + lsn);
        }
        return (Long.parseLong(lsn.substring(0, slash), 16) << 32) | Long.parseLong(lsn.substring(slash + 1), 16);
    }
}
