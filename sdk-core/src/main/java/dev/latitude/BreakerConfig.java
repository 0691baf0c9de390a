package dev.latitude;

import java.time.Duration;

/**
 * Settings of the per-region circuit breaker (timed by the engine's ticker); immutable.
 *
 * <p>What counts as a failure: a region-level failure (unavailable, ambiguous); an attempt that ran past the attempt
 * timeout and then failed, or never answered before the call ended elsewhere or at its deadline; and a primary attempt
 * that a hedge to another region beat. A slow answer (past the attempt timeout) is an answer, not a failure: slow is
 * not dead (a cold process, a busy host); routing by latency and hedging deal with slowness. A caller error counts as
 * a success. Attempts the call abandoned before their timeout (another attempt won,
 * cancellation) count as nothing.
 *
 * <p>Defaults: open when 5 of the last 10 attempts in a region failed, once at least 10 attempts were judged in the
 * last 10 s (the minimum volume: a cold start's first slow calls, or a trickle of traffic, cannot open a circuit);
 * stay open 5 s; then let 3 trial calls through and close when all 3 succeed (one failure reopens).
 *
 * <pre>{@code BreakerConfig breaker = BreakerConfig.builder().failureThreshold(3, 5).openDelay(Duration.ofSeconds(2)).build();}</pre>
 */
public final class BreakerConfig {
    private final int failureThreshold;
    private final int failureWindow;
    private final int successThreshold;
    private final Duration openDelay;
    private final int minimumVolume;
    private final Duration volumePeriod;

    private BreakerConfig(Builder b) {
        this.minimumVolume = b.minimumVolume < 0 ? b.failureWindow : b.minimumVolume;
        this.volumePeriod = b.volumePeriod;
        this.failureThreshold = b.failureThreshold;
        this.failureWindow = b.failureWindow;
        this.successThreshold = b.successThreshold;
        this.openDelay = b.openDelay;
    }

    /** Returns the defaults. */
    public static BreakerConfig defaults() {
        return builder().build();
    }

    /** Starts from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns how many failures within the window open the circuit. */
    public int failureThreshold() {
        return failureThreshold;
    }

    /** Returns how many of the latest attempts are counted. */
    public int failureWindow() {
        return failureWindow;
    }

    /** Returns how many half-open trial calls must succeed to close the circuit. */
    public int successThreshold() {
        return successThreshold;
    }

    /** Returns how long the circuit stays open before trial calls. */
    public Duration openDelay() {
        return openDelay;
    }

    /**
     * Returns how many attempts must have been judged within the {@linkplain #volumePeriod() volume period} before the
     * circuit may open.
     */
    public int minimumVolume() {
        return minimumVolume;
    }

    /** Returns how far back outcomes count towards the failure threshold and the minimum volume. */
    public Duration volumePeriod() {
        return volumePeriod;
    }

    /** Builds a {@link BreakerConfig}. */
    public static final class Builder {
        private int failureThreshold = 5;
        private int failureWindow = 10;
        private int successThreshold = 3;
        private Duration openDelay = Duration.ofSeconds(5);
        private int minimumVolume = -1; // unset: the failure window
        private Duration volumePeriod = Duration.ofSeconds(10);

        private Builder() {
        }

        /**
         * Sets the minimum volume: the circuit may open only once this many attempts were judged within
         * {@code period}, and failures older than {@code period} do not count.
         *
         * @param calls 1 to the failure window (default: the failure window, 10)
         * @param period 100 ms to 1 hour (default 10 s)
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder minimumVolume(int calls, Duration period) {
            if (calls < 1 || calls > 1000) {
                throw new LatitudeConfigException("breaker.minimumVolume", calls
                        + " is outside [1, failure window]; use about the failure window, such as 10");
            }
            if (period == null || period.compareTo(Duration.ofMillis(100)) < 0
                    || period.compareTo(Duration.ofHours(1)) > 0) {
                throw new LatitudeConfigException("breaker.minimumVolume", "period " + LatitudeConfigException.format(period)
                        + " is outside [100 ms, 1 h]; use a few seconds, such as Duration.ofSeconds(10)");
            }
            this.minimumVolume = calls;
            this.volumePeriod = period;
            return this;
        }

        /**
         * Opens the circuit when {@code failures} of the last {@code window} attempts failed.
         *
         * @param failures 1 or more
         * @param window at least {@code failures}, at most 1000
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder failureThreshold(int failures, int window) {
            if (failures < 1 || window < failures || window > 1000) {
                throw new LatitudeConfigException("breaker.failureThreshold", failures + " of " + window
                        + " is not valid; need 1 <= failures <= window <= 1000, such as 5 of 10");
            }
            this.failureThreshold = failures;
            this.failureWindow = window;
            return this;
        }

        /**
         * Closes a half-open circuit after this many trial calls succeed in a row.
         *
         * @param successes 1 to 100
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder successThreshold(int successes) {
            if (successes < 1 || successes > 100) {
                throw new LatitudeConfigException("breaker.successThreshold", successes + " is outside [1, 100]");
            }
            this.successThreshold = successes;
            return this;
        }

        /**
         * Sets how long an open circuit waits before trial calls.
         *
         * @param delay positive, at most one day
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder openDelay(Duration delay) {
            if (delay == null || delay.isNegative() || delay.isZero() || delay.compareTo(Duration.ofDays(1)) > 0) {
                throw new LatitudeConfigException("breaker.openDelay", LatitudeConfigException.format(delay)
                        + " is not in (0, 1 day]; use a few seconds, such as Duration.ofSeconds(5)");
            }
            this.openDelay = delay;
            return this;
        }

        /**
         * Returns the settings.
         *
         * @throws LatitudeConfigException if the minimum volume exceeds the failure window (the circuit could never
         *     open)
         */
        public BreakerConfig build() {
            if (minimumVolume > 0 && minimumVolume > failureWindow) {
                throw new LatitudeConfigException("breaker.minimumVolume", minimumVolume + " is larger than the failure"
                        + " window of " + failureWindow + " attempts, so the circuit could never open; lower it or widen"
                        + " the window with failureThreshold(failures, window)");
            }
            return new BreakerConfig(this);
        }
    }
}
