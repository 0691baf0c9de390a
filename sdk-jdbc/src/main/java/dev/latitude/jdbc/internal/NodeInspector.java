package dev.latitude.jdbc.internal;

import dev.latitude.jdbc.WriterIdentity;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Asks a PostgreSQL node, in one round trip, whether it is a writer or a replica, which cluster and timeline it is on
 * and how far its WAL has gone ({@link NodeState}).
 *
 * <p>The timeline comes from where each kind of node keeps it up to date: a writer's from the name of its current WAL
 * file ({@code pg_walfile_name}, on the timeline it writes), a replica's from its WAL receiver
 * ({@code pg_stat_wal_receiver.received_tli}), else from its last restart point. The timeline of the last checkpoint
 * alone would not do: after a promotion it changes only when the next checkpoint completes, minutes later.
 */
public final class NodeInspector {
    // Kept cheap, since a writer is asked after read-write work: no pg_settings scan, and the last checkpoint (a read of
    // the control file) only on a replica whose WAL receiver is not running.
    private static final String SQL = "SELECT x.r, s.system_identifier,"
            + " CASE WHEN x.r THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver),"
            + "  (SELECT timeline_id FROM pg_control_checkpoint()))"
            + "  ELSE ('x' || substr(pg_walfile_name(pg_current_wal_insert_lsn()), 1, 8))::bit(32)::int END,"
            + " ((CASE WHEN x.r THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END) - '0/0')::bigint,"
            + " CASE WHEN NOT x.r OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
            + "  ELSE (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::bigint END,"
            + " current_setting('wal_block_size')::bigint,"
            + " pg_size_bytes(current_setting('wal_segment_size'))"
            + " FROM (SELECT pg_is_in_recovery() AS r) x, pg_control_system() s";
    /** {@code SizeOfXLogShortPHD}: the header at the start of every WAL page. */
    private static final long SHORT_PAGE_HEADER = 24;
    /** {@code SizeOfXLogLongPHD}: the header of the first page of each WAL segment. */
    private static final long LONG_PAGE_HEADER = 40;

    private NodeInspector() {
    }

    /**
     * Inspects the node behind {@code c}. Sets no timeout: callers bound the round trip with
     * {@link Connection#setNetworkTimeout}.
     *
     * @param region the region the node serves
     * @param c an open connection to it, in auto-commit mode
     * @return what the node said
     * @throws SQLException if the query fails
     */
    public static NodeState inspect(String region, Connection c) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(SQL); ResultSet rs = st.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("PostgreSQL in region " + region + " returned no row describing itself");
            }
            boolean inRecovery = rs.getBoolean(1);
            WriterIdentity identity = new WriterIdentity(rs.getLong(2), rs.getInt(3));
            long lsn = rs.getLong(4);
            long lag = rs.getLong(5);
            if (rs.wasNull()) {
                lag = -1; // a replica that has not replayed any transaction since it started
            }
            return new NodeState(region, inRecovery, identity,
                    inRecovery ? lsn : recordBoundary(lsn, rs.getLong(6), rs.getLong(7)), lag);
        }
    }

    /**
     * Moves a writer's insert position that points just past a page header back to the page boundary. A record that
     * ends at the end of a page makes the insert position skip the next page's header, where no record can end; a
     * replica's replay position stops at the boundary, so without this a replica that has everything would never be
     * seen to reach the writer's position.
     */
    static long recordBoundary(long insertLsn, long blockSize, long segmentSize) {
        if (insertLsn % segmentSize == LONG_PAGE_HEADER) {
            return insertLsn - LONG_PAGE_HEADER;
        }
        if (insertLsn % blockSize == SHORT_PAGE_HEADER && insertLsn % segmentSize != SHORT_PAGE_HEADER) {
            return insertLsn - SHORT_PAGE_HEADER;
        }
        return insertLsn;
    }
}
