package dev.latitude;

import java.time.Duration;

/**
 * Settings of the active health probes; immutable.
 *
 * <p>Defaults: probe each region every 1 s with a 500 ms timeout; 3 consecutive failures mark it
 * {@link ProbeState#DOWN}, 2 consecutive successes mark it {@link ProbeState#UP}. A region going down opens its circuit;
 * coming up half-opens it at once. A probe past its timeout counts as a failure, but if it answers later that answer
 * counts as a success (slow is not dead: a cold or busy region is not marked down). The probe acts only through the circuit: after the breaker's open delay, trial calls
 * decide even if the probe never answers, so a broken probe cannot keep a region out longer than the breaker would.
 *
 * <pre>{@code ProbeConfig probes = ProbeConfig.builder().interval(Duration.ofMillis(500)).failureThreshold(2).build();}</pre>
 */
public final class ProbeConfig {
    private final Duration interval;
    private final Duration timeout;
    private final int failureThreshold;
    private final int successThreshold;
    private final boolean unhealthyOnly;

    private ProbeConfig(Builder b) {
        this.unhealthyOnly = b.unhealthyOnly;
        this.interval = b.interval;
        this.timeout = b.timeout;
        this.failureThreshold = b.failureThreshold;
        this.successThreshold = b.successThreshold;
    }

    /** Returns the defaults. */
    public static ProbeConfig defaults() {
        return builder().build();
    }

    /** Starts from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the time between two probes of a region. */
    public Duration interval() {
        return interval;
    }

    /** Returns how long a probe may take before it counts as failed. */
    public Duration timeout() {
        return timeout;
    }

    /** Returns how many consecutive failures mark a region down. */
    public int failureThreshold() {
        return failureThreshold;
    }

    /** Returns how many consecutive successes mark a region up. */
    public int successThreshold() {
        return successThreshold;
    }

    /**
     * Returns whether only regions that are not healthy (circuit not closed, or probe down) are probed; healthy ones
     * are left alone, so probing costs nothing in steady state and a region that failed is probed until it is back.
     */
    public boolean unhealthyOnly() {
        return unhealthyOnly;
    }

    /** Builds a {@link ProbeConfig}; {@link #build()} checks that the timeout fits in the interval. */
    public static final class Builder {
        private Duration interval = Duration.ofSeconds(1);
        private Duration timeout = Duration.ofMillis(500);
        private int failureThreshold = 3;
        private int successThreshold = 2;
        private boolean unhealthyOnly;

        private Builder() {
        }

        /**
         * Probes only regions that are not healthy (circuit open or half-open, or probe down): nothing is sent to a
         * healthy region, and a region that failed is probed every interval until it answers, which half-opens its
         * circuit at once instead of after the breaker's open delay. Default: every region is probed.
         *
         * @param enabled whether to skip healthy regions
         * @return this builder
         */
        public Builder unhealthyOnly(boolean enabled) {
            this.unhealthyOnly = enabled;
            return this;
        }

        /**
         * Sets the time between probes.
         *
         * @param interval 10 ms to 1 hour
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder interval(Duration interval) {
            if (interval == null || interval.compareTo(Duration.ofMillis(10)) < 0 || interval.compareTo(Duration.ofHours(1)) > 0) {
                throw new LatitudeConfigException("probe.interval", LatitudeConfigException.format(interval) + " is outside [10 ms, 1 h]; use about a second");
            }
            this.interval = interval;
            return this;
        }

        /**
         * Sets how long a probe may take.
         *
         * @param timeout positive and not longer than the interval
         * @return this builder
         * @throws LatitudeConfigException if not positive
         */
        public Builder timeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new LatitudeConfigException("probe.timeout", LatitudeConfigException.format(timeout) + " is not positive; use a few hundred ms");
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * Sets how many consecutive failures mark a region down.
         *
         * @param failures 1 to 100
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder failureThreshold(int failures) {
            if (failures < 1 || failures > 100) {
                throw new LatitudeConfigException("probe.failureThreshold", failures + " is outside [1, 100]");
            }
            this.failureThreshold = failures;
            return this;
        }

        /**
         * Sets how many consecutive successes mark a region up.
         *
         * @param successes 1 to 100
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder successThreshold(int successes) {
            if (successes < 1 || successes > 100) {
                throw new LatitudeConfigException("probe.successThreshold", successes + " is outside [1, 100]");
            }
            this.successThreshold = successes;
            return this;
        }

        /**
         * Returns the settings.
         *
         * @throws LatitudeConfigException if the timeout is longer than the interval
         */
        public ProbeConfig build() {
            if (timeout.compareTo(interval) > 0) {
                throw new LatitudeConfigException("probe.timeout", LatitudeConfigException.format(timeout) + " is longer than the interval " + LatitudeConfigException.format(interval)
                        + "; probes would overlap: shorten the timeout or lengthen the interval");
            }
            return new ProbeConfig(this);
        }
    }
}
