package dev.latitude.testkit;

/**
 * One completed operation of a recorded history; immutable.
 *
 * @param id the order in which operations were invoked, from 0
 * @param session the session (client) that performed it
 * @param type read or write
 * @param dataClass the data class (table, bucket, schema)
 * @param key the key
 * @param regionAsked the region the client sent it to
 * @param regionAnswered the region that answered, or {@code null} if none did
 * @param version for a write, the version it wrote; for a read, the version it returned ({@link #NONE} if not found)
 * @param value the value written or read, or {@code null}
 * @param outcome how it ended
 * @param startNanos when it was invoked
 * @param endNanos when it completed
 */
public record HistoryOp(long id, String session, Type type, String dataClass, String key, String regionAsked,
        String regionAnswered, long version, String value, Outcome outcome, long startNanos, long endNanos) {

    /** The version of "nothing there". */
    public static final long NONE = -1;

    /** Read or write. */
    public enum Type {
        /** Read a key. */
        READ,
        /** Wrote a key. */
        WRITE,
        /** Read the final state of a key in one region after the faults healed and replication settled. */
        FINAL_READ
    }

    /** How an operation ended. */
    public enum Outcome {
        /** Acknowledged: the client saw success. */
        OK,
        /** Failed for sure: nothing was applied. */
        FAILED,
        /** Unknown: it may or may not have been applied. */
        AMBIGUOUS
    }

    @Override
    public String toString() {
        return "#" + id + " " + session + " " + type + " " + dataClass + "/" + key + " v" + version + " " + outcome
                + " asked=" + regionAsked + " answered=" + regionAnswered + " [" + startNanos + ".." + endNanos + "]";
    }
}
