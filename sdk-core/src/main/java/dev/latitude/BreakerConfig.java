package dev.latitude;

import java.time.Duration;

/**
 * Settings of the per-region circuit breaker (a Failsafe {@code CircuitBreaker} whose timing runs on the engine's
 * ticker); immutable.
 *
 * <p>What counts as a failure: a region-level failure (unavailable, ambiguous), an attempt timeout, and a primary
 * attempt that a hedge to another region beat (a slow call: slower than the region's hedging percentile plus the other
 * region's round trip). A caller error counts as a success. Attempts the call abandoned for other reasons (deadline,
 * cancellation) count as nothing.
 *
 * <p>Defaults: open when 5 of the last 10 attempts in a region failed; stay open 5 s; then let 3 trial calls through
 * and close when all 3 succeed (one failure reopens).
 *
 * <pre>{@code BreakerConfig breaker = BreakerConfig.builder().failureThreshold(3, 5).openDelay(Duration.ofSeconds(2)).build();}</pre>
 */
public final class BreakerConfig {
    private final int failureThreshold;
    private final int failureWindow;
    private final int successThreshold;
    private final Duration openDelay;

    private BreakerConfig(Builder b) {
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

    /** Builds a {@link BreakerConfig}. */
    public static final class Builder {
        private int failureThreshold = 5;
        private int failureWindow = 10;
        private int successThreshold = 3;
        private Duration openDelay = Duration.ofSeconds(5);

        private Builder() {
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
                throw new LatitudeConfigException("breaker.openDelay", delay
                        + " is not in (0, 1 day]; use a few seconds, such as Duration.ofSeconds(5)");
            }
            this.openDelay = delay;
            return this;
        }

        /** Returns the settings. */
        public BreakerConfig build() {
            return new BreakerConfig(this);
        }
    }
}
