package dev.latitude.jdbc;

/**
 * Who a PostgreSQL writer is: the cluster's system identifier (fixed by {@code initdb} and shared by every streaming
 * replica made from it) and the WAL timeline (raised by one at each promotion). A WAL position (LSN) only means
 * something on its own timeline: after a promotion the new writer's positions continue from where it forked, so a
 * position taken on the old writer is compared only with positions of the same identity, never across a promotion.
 *
 * @param systemIdentifier {@code pg_control_system().system_identifier}
 * @param timeline the WAL timeline, 1 or more
 */
public record WriterIdentity(long systemIdentifier, int timeline) {

    /** Checks the components. */
    public WriterIdentity {
        if (timeline < 1) {
            throw new IllegalArgumentException("a PostgreSQL timeline is 1 or more, got " + timeline);
        }
    }

    /**
     * Returns whether {@code other} belongs to the same cluster (the same system identifier), on any timeline.
     *
     * @param other another identity
     * @return true if both come from the same {@code initdb}
     */
    public boolean sameSystem(WriterIdentity other) {
        return other != null && other.systemIdentifier == systemIdentifier;
    }

    @Override
    public String toString() {
        return "system " + Long.toUnsignedString(systemIdentifier) + " timeline " + timeline;
    }
}
