package dev.latitude.testkit;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * How long {@link ReplicationEmulator} holds a change between the moment it reads the change from the source region's
 * stream and the moment it writes it to a destination region.
 *
 * <ul>
 *   <li>{@link #none()}: as soon as read;</li>
 *   <li>{@link #fixed(Duration)}: the same lag for every change and region pair;</li>
 *   <li>{@link #jittered(Duration, Duration, long)}: uniformly between a base and base + jitter, from a seeded random
 *       sequence, so a test run repeats;</li>
 *   <li>{@link #perPair(ReplicationLag)}: a lag of its own for chosen directed pairs (from → to), another for the
 *       rest.</li>
 * </ul>
 *
 * Whatever the lag says, changes from one region reach another in the order they happened: a change is never applied
 * before an earlier one from the same source to the same destination, so a jittered lag delays but never reorders.
 * Implementations must be thread-safe; the emulator calls {@link #lag(String, String)} once per change and
 * destination.
 */
@FunctionalInterface
public interface ReplicationLag {
    /**
     * Returns the lag of one change from {@code from} to {@code to}.
     *
     * @param from the source region id
     * @param to the destination region id
     * @return zero or more
     */
    Duration lag(String from, String to);

    /** Returns a lag of zero: changes are applied as soon as they are read. */
    static ReplicationLag none() {
        return fixed(Duration.ZERO);
    }

    /**
     * Returns the same lag for every change and pair.
     *
     * @param lag zero or more
     * @return the lag model
     * @throws IllegalArgumentException if {@code lag} is negative
     */
    static ReplicationLag fixed(Duration lag) {
        Duration checked = nonNegative(lag, "lag");
        return new ReplicationLag() {
            @Override
            public Duration lag(String from, String to) {
                return checked;
            }

            @Override
            public String toString() {
                return "fixed(" + checked.toMillis() + " ms)";
            }
        };
    }

    /**
     * Returns a lag drawn uniformly from {@code [base, base + jitter]} for each change, from a random sequence seeded
     * with {@code seed} (the same seed and the same order of changes give the same lags).
     *
     * @param base the least lag, zero or more
     * @param jitter the most added to it, zero or more
     * @param seed the random seed
     * @return the lag model
     * @throws IllegalArgumentException if either duration is negative
     */
    static ReplicationLag jittered(Duration base, Duration jitter, long seed) {
        Duration b = nonNegative(base, "base");
        long spreadNanos = nonNegative(jitter, "jitter").toNanos();
        SplittableRandom random = new SplittableRandom(seed);
        return new ReplicationLag() {
            @Override
            public Duration lag(String from, String to) {
                long extra;
                synchronized (random) {
                    extra = spreadNanos == 0 ? 0 : random.nextLong(spreadNanos + 1);
                }
                return b.plusNanos(extra);
            }

            @Override
            public String toString() {
                return "jittered(" + b.toMillis() + " ms + [0, " + spreadNanos / 1_000_000 + "] ms, seed " + seed + ")";
            }
        };
    }

    /**
     * Starts a per-pair lag model: pairs added with {@link PerPair#with(String, String, ReplicationLag)} use their own
     * lag, every other pair {@code otherwise}.
     *
     * @param otherwise the lag of pairs not named
     * @return the model, to add pairs to
     */
    static PerPair perPair(ReplicationLag otherwise) {
        return new PerPair(Objects.requireNonNull(otherwise, "otherwise"), Map.of());
    }

    private static Duration nonNegative(Duration d, String what) {
        if (d == null || d.isNegative()) {
            throw new IllegalArgumentException("replication " + what + " must be zero or more, got " + d);
        }
        return d;
    }

    /** A lag per directed region pair, with a default for the others; immutable. */
    final class PerPair implements ReplicationLag {
        private final ReplicationLag otherwise;
        private final Map<String, ReplicationLag> pairs;

        private PerPair(ReplicationLag otherwise, Map<String, ReplicationLag> pairs) {
            this.otherwise = otherwise;
            this.pairs = pairs;
        }

        /**
         * Returns a copy in which changes from {@code from} to {@code to} (one direction only) use {@code lag}.
         *
         * @param from the source region id
         * @param to the destination region id
         * @param lag that pair's lag model
         * @return the new model
         * @throws IllegalArgumentException if {@code from} equals {@code to}
         */
        public PerPair with(String from, String to, ReplicationLag lag) {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(lag, "lag");
            if (from.equals(to)) {
                throw new IllegalArgumentException("a replication pair needs two regions, got " + from + " → " + to);
            }
            Map<String, ReplicationLag> copy = new LinkedHashMap<>(pairs);
            copy.put(key(from, to), lag);
            return new PerPair(otherwise, Map.copyOf(copy));
        }

        /**
         * Returns a copy in which changes from {@code from} to {@code to} take a fixed {@code lag}.
         *
         * @param from the source region id
         * @param to the destination region id
         * @param lag zero or more
         * @return the new model
         */
        public PerPair with(String from, String to, Duration lag) {
            return with(from, to, fixed(lag));
        }

        /**
         * Returns a copy in which both directions between {@code a} and {@code b} take a fixed {@code lag}.
         *
         * @param a one region id
         * @param b the other
         * @param lag zero or more
         * @return the new model
         */
        public PerPair between(String a, String b, Duration lag) {
            return with(a, b, lag).with(b, a, lag);
        }

        @Override
        public Duration lag(String from, String to) {
            return pairs.getOrDefault(key(from, to), otherwise).lag(from, to);
        }

        private static String key(String from, String to) {
            return from + "\u0000" + to;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("perPair(");
            pairs.forEach((k, v) -> sb.append(k.replace("\u0000", "→")).append('=').append(v).append(", "));
            return sb.append("otherwise ").append(otherwise).append(')').toString();
        }
    }
}
