package dev.latitude;

import java.time.Duration;
import java.util.Objects;

/**
 * How fresh a read must be; immutable. Four levels, from strictest to loosest:
 *
 * <ul>
 *   <li>{@link #STRONG}: only the writer region answers.</li>
 *   <li>{@link #SESSION}: read-your-writes and monotonic reads for one {@link Session}: a replica answers only if it
 *       has provably applied the session's writes to that data (by the replication watermark), or the answer is
 *       checked against the session's token and the read escalates to the region that took the write if it is
 *       behind.</li>
 *   <li>{@link #boundedStaleness(Duration)}: a replica answers only if it is at most that far behind.</li>
 *   <li>{@link #EVENTUAL}: any region.</li>
 * </ul>
 *
 * Writes always go to a writer region of the data class, whatever the level.
 */
public final class ConsistencyLevel {
    /** The kinds of level. */
    public enum Kind {
        /** Writer region only. */
        STRONG,
        /** Read-your-writes and monotonic reads per session. */
        SESSION,
        /** At most a given staleness. */
        BOUNDED_STALENESS,
        /** Any region. */
        EVENTUAL
    }

    /** Only the writer region answers. */
    public static final ConsistencyLevel STRONG = new ConsistencyLevel(Kind.STRONG, null);
    /** Read-your-writes and monotonic reads for the call's session. */
    public static final ConsistencyLevel SESSION = new ConsistencyLevel(Kind.SESSION, null);
    /** Any region answers. */
    public static final ConsistencyLevel EVENTUAL = new ConsistencyLevel(Kind.EVENTUAL, null);

    private final Kind kind;
    private final Duration maxStaleness;

    private ConsistencyLevel(Kind kind, Duration maxStaleness) {
        this.kind = kind;
        this.maxStaleness = maxStaleness;
    }

    /**
     * Returns the level that accepts replicas at most {@code maxStaleness} behind.
     *
     * @param maxStaleness positive, at most one day
     * @return the level
     * @throws LatitudeConfigException if out of range
     */
    public static ConsistencyLevel boundedStaleness(Duration maxStaleness) {
        if (maxStaleness == null || maxStaleness.isNegative() || maxStaleness.isZero()
                || maxStaleness.compareTo(Duration.ofDays(1)) > 0) {
            throw new LatitudeConfigException("consistency.maxStaleness", LatitudeConfigException.format(maxStaleness)
                    + " is not in (0, 1 day]; give the staleness callers accept, such as Duration.ofSeconds(5)");
        }
        return new ConsistencyLevel(Kind.BOUNDED_STALENESS, maxStaleness);
    }

    /** Returns the kind. */
    public Kind kind() {
        return kind;
    }

    /** Returns the staleness bound of a {@link Kind#BOUNDED_STALENESS} level, else {@code null}. */
    public Duration maxStaleness() {
        return maxStaleness;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConsistencyLevel && ((ConsistencyLevel) o).kind == kind
                && Objects.equals(((ConsistencyLevel) o).maxStaleness, maxStaleness);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Objects.hashCode(maxStaleness);
    }

    @Override
    public String toString() {
        return kind == Kind.BOUNDED_STALENESS ? "BOUNDED_STALENESS(" + maxStaleness.toMillis() + "ms)" : kind.name();
    }
}
