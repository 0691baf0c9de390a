package dev.latitude;

import java.util.Objects;

/**
 * How far a session's writes to one scope have gone: an ordered value (a hybrid-logical-clock timestamp, or an
 * opaque ordered position such as a PostgreSQL LSN) and the region that took the write. Watermarks are compared only
 * within one data class, whose adapter defines what the value means.
 *
 * @param value the watermark, zero or more
 * @param region the id of the region that took the write
 */
public record Watermark(long value, String region) {

    /** Checks the components. */
    public Watermark {
        if (value < 0) {
            throw new IllegalArgumentException("watermark must be zero or more, got " + value);
        }
        Objects.requireNonNull(region, "region");
    }

    /**
     * Returns the later of two watermarks; on equal values the one whose region id sorts first, so that merging is
     * commutative.
     *
     * @param a a watermark, or {@code null}
     * @param b a watermark, or {@code null}
     * @return the later one, or {@code null} if both are null
     */
    public static Watermark max(Watermark a, Watermark b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a.value != b.value) {
            return a.value > b.value ? a : b;
        }
        return a.region.compareTo(b.region) <= 0 ? a : b;
    }
}
