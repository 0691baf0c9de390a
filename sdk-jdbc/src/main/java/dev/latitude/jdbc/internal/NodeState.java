package dev.latitude.jdbc.internal;

import dev.latitude.jdbc.WriterIdentity;
import java.util.Objects;

/**
 * What one PostgreSQL node said about itself at one moment ({@link NodeInspector#inspect}).
 *
 * @param region the region the node serves
 * @param inRecovery {@code pg_is_in_recovery()}: true for a replica, false for a writer
 * @param identity the system identifier and the timeline the node is on
 * @param lsn on a writer the position of the end of its WAL ({@code pg_current_wal_insert_lsn()}, so every commit made
 *     before is included), on a replica the position it has replayed up to ({@code pg_last_wal_replay_lsn()})
 * @param replayLagMillis on a replica how long ago the last transaction it replayed committed on the writer, 0 when it
 *     has replayed all it received, {@code -1} when unknown; always 0 on a writer
 */
public record NodeState(String region, boolean inRecovery, WriterIdentity identity, long lsn, long replayLagMillis) {

    /** Checks the components. */
    public NodeState {
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(identity, "identity");
    }
}
