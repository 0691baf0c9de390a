package dev.latitude.spi;

/**
 * Tells the planner how far each replica has caught up, so that SESSION and BOUNDED_STALENESS reads can use a
 * replica that provably has what they need. Supplied by adapters: DynamoDB from heartbeat items written in each region
 * and read back in the others, PostgreSQL from {@code pg_last_wal_replay_lsn()}, S3 from replication status.
 *
 * <p>Called on every planned read of a session that has written: implementations return cached values and never
 * block or throw. {@link #UNKNOWN} means "no evidence"; the planner then treats the replica conservatively.
 */
public interface ReplicationWatermarks {
    /** The value for "not known". */
    long UNKNOWN = -1;

    /** A source of no information: every replica's progress is unknown. */
    ReplicationWatermarks NONE = new ReplicationWatermarks() {
        @Override
        public long applied(String region, String sourceRegion, String dataClass) {
            return UNKNOWN;
        }

        @Override
        public long stalenessMillis(String region, String dataClass) {
            return UNKNOWN;
        }
    };

    /**
     * Returns the highest watermark of writes taken in {@code sourceRegion} that {@code region} has applied for
     * {@code dataClass}, in the data class's watermark domain (HLC timestamp or LSN).
     *
     * @param region the replica region
     * @param sourceRegion the region whose writes are replicated
     * @param dataClass the data class
     * @return the watermark, or {@link #UNKNOWN}
     */
    long applied(String region, String sourceRegion, String dataClass);

    /**
     * Returns how far behind the freshest writer {@code region} is for {@code dataClass}, in milliseconds.
     *
     * @param region the replica region
     * @param dataClass the data class
     * @return the staleness, or {@link #UNKNOWN}
     */
    long stalenessMillis(String region, String dataClass);
}
