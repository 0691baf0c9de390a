package dev.latitude.testkit;

import java.time.Duration;
import java.util.Objects;
import java.util.function.LongUnaryOperator;

/**
 * How {@link ReplicationEmulator} replicates; immutable, built with {@link #builder()}.
 *
 * <ul>
 *   <li>{@code timestampAttribute} (default {@value #DEFAULT_TIMESTAMP_ATTRIBUTE}): the numeric item attribute that
 *       orders writes for last-writer-wins. An item written without it gets the time the emulator read the write,
 *       through {@code clockToTimestamp}.</li>
 *   <li>{@code originAttribute} (default {@value #DEFAULT_ORIGIN_ATTRIBUTE}): the string attribute the emulator adds
 *       to every replicated item, naming the region the write was made in.</li>
 *   <li>{@code lag} (default {@link ReplicationLag#none()}): see {@link ReplicationLag}; can be changed later with
 *       {@link ReplicationEmulator#lag(ReplicationLag)}.</li>
 *   <li>{@code pollInterval} (default 5 ms): how long a region's stream reader pauses after a pass that read nothing.
 *       Every read costs DynamoDB Local a few milliseconds of CPU, so much shorter intervals load the machine.</li>
 *   <li>{@code clockToTimestamp} (default: identity, epoch milliseconds): turns a wall-clock time in epoch milliseconds
 *       into the timestamp domain of {@code timestampAttribute}, for writes without it and for deletes. An
 *       application stamping hybrid logical clock values would pass {@code ms -> HybridLogicalClock.timestamp(ms, 0)}.
 *       </li>
 * </ul>
 */
public final class ReplicationSettings {
    /** The default last-writer-wins attribute. */
    public static final String DEFAULT_TIMESTAMP_ATTRIBUTE = "_lat_ts";
    /** The default origin marker attribute. */
    public static final String DEFAULT_ORIGIN_ATTRIBUTE = "_lat_origin";

    private static final ReplicationSettings DEFAULTS = builder().build();

    private final String timestampAttribute;
    private final String originAttribute;
    private final ReplicationLag lag;
    private final Duration pollInterval;
    private final LongUnaryOperator clockToTimestamp;

    private ReplicationSettings(Builder b) {
        this.timestampAttribute = b.timestampAttribute;
        this.originAttribute = b.originAttribute;
        this.lag = b.lag;
        this.pollInterval = b.pollInterval;
        this.clockToTimestamp = b.clockToTimestamp;
    }

    /** Returns the defaults. */
    public static ReplicationSettings defaults() {
        return DEFAULTS;
    }

    /** Returns a builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the last-writer-wins attribute. */
    public String timestampAttribute() {
        return timestampAttribute;
    }

    /** Returns the origin marker attribute. */
    public String originAttribute() {
        return originAttribute;
    }

    /** Returns the initial lag model. */
    public ReplicationLag lag() {
        return lag;
    }

    /** Returns the stream readers' pause after an empty pass. */
    public Duration pollInterval() {
        return pollInterval;
    }

    /** Returns the wall-clock to timestamp conversion. */
    public LongUnaryOperator clockToTimestamp() {
        return clockToTimestamp;
    }

    @Override
    public String toString() {
        return "ReplicationSettings[timestampAttribute=" + timestampAttribute + ", originAttribute=" + originAttribute
                + ", lag=" + lag + ", pollInterval=" + pollInterval.toMillis() + " ms]";
    }

    /** Builds {@link ReplicationSettings}. */
    public static final class Builder {
        private String timestampAttribute = DEFAULT_TIMESTAMP_ATTRIBUTE;
        private String originAttribute = DEFAULT_ORIGIN_ATTRIBUTE;
        private ReplicationLag lag = ReplicationLag.none();
        private Duration pollInterval = Duration.ofMillis(5);
        private LongUnaryOperator clockToTimestamp = LongUnaryOperator.identity();

        private Builder() {
        }

        /**
         * Sets the numeric attribute that orders writes.
         *
         * @param name an attribute name
         * @return this builder
         */
        public Builder timestampAttribute(String name) {
            this.timestampAttribute = attributeName(name, "timestampAttribute");
            return this;
        }

        /**
         * Sets the string attribute that names a replicated item's origin region.
         *
         * @param name an attribute name
         * @return this builder
         */
        public Builder originAttribute(String name) {
            this.originAttribute = attributeName(name, "originAttribute");
            return this;
        }

        /**
         * Sets the lag model.
         *
         * @param lag the model
         * @return this builder
         */
        public Builder lag(ReplicationLag lag) {
            this.lag = Objects.requireNonNull(lag, "lag");
            return this;
        }

        /**
         * Sets the pause after a stream pass that read nothing.
         *
         * @param interval 1 ms to 1 s
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder pollInterval(Duration interval) {
            if (interval == null || interval.compareTo(Duration.ofMillis(1)) < 0
                    || interval.compareTo(Duration.ofSeconds(1)) > 0) {
                throw new IllegalArgumentException("pollInterval must be within [1 ms, 1 s], got " + interval
                        + "; a few milliseconds keeps replication lag close to the configured one");
            }
            this.pollInterval = interval;
            return this;
        }

        /**
         * Sets how a wall-clock time (epoch milliseconds) becomes a timestamp, for writes without the timestamp
         * attribute and for deletes.
         *
         * @param conversion the conversion
         * @return this builder
         */
        public Builder clockToTimestamp(LongUnaryOperator conversion) {
            this.clockToTimestamp = Objects.requireNonNull(conversion, "conversion");
            return this;
        }

        /**
         * Builds the settings.
         *
         * @return the settings
         * @throws IllegalArgumentException if both attributes have the same name
         */
        public ReplicationSettings build() {
            if (timestampAttribute.equals(originAttribute)) {
                throw new IllegalArgumentException("timestampAttribute and originAttribute are both '"
                        + timestampAttribute + "'; give them different names");
            }
            return new ReplicationSettings(this);
        }

        private static String attributeName(String name, String what) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException(what + " must be a non-blank attribute name, got '" + name + "'");
            }
            return name;
        }
    }
}
