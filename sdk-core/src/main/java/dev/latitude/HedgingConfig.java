package dev.latitude;

import java.time.Duration;

/**
 * Settings of hedged reads; immutable.
 *
 * <p>When an idempotent read has not answered after the region's {@code percentile} latency, a second attempt goes
 * to the next healthy region of the plan and the first answer wins; the other attempt is cancelled. Hedges are paid
 * from a budget: each eligible call deposits {@code budgetRatio} of a token (at most {@code maxBurst} tokens are
 * kept) and each hedge spends one, so hedges never exceed {@code budgetRatio} of calls plus the burst.
 *
 * <p>Defaults: enabled, p95, 5 % budget, burst 10, at least 20 samples in the window before a region's percentile
 * is trusted, no hedge sooner than 1 ms.
 *
 * <pre>{@code HedgingConfig hedging = HedgingConfig.builder().percentile(99).budgetRatio(0.02).build();}</pre>
 */
public final class HedgingConfig {
    private final boolean enabled;
    private final double percentile;
    private final double budgetRatio;
    private final int maxBurst;
    private final int minSamples;
    private final Duration minDelay;

    private HedgingConfig(Builder b) {
        this.enabled = b.enabled;
        this.percentile = b.percentile;
        this.budgetRatio = b.budgetRatio;
        this.maxBurst = b.maxBurst;
        this.minSamples = b.minSamples;
        this.minDelay = b.minDelay;
    }

    /** Returns the defaults. */
    public static HedgingConfig defaults() {
        return builder().build();
    }

    /** Returns settings with hedging turned off. */
    public static HedgingConfig disabled() {
        return builder().enabled(false).build();
    }

    /** Starts from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns whether reads are hedged. */
    public boolean enabled() {
        return enabled;
    }

    /** Returns the latency percentile after which a hedge starts. */
    public double percentile() {
        return percentile;
    }

    /** Returns the share of calls that may be hedged in the long run. */
    public double budgetRatio() {
        return budgetRatio;
    }

    /** Returns how many unspent hedge tokens may accumulate. */
    public int maxBurst() {
        return maxBurst;
    }

    /** Returns how many samples a region needs before its percentile is trusted. */
    public int minSamples() {
        return minSamples;
    }

    /** Returns the shortest hedge delay. */
    public Duration minDelay() {
        return minDelay;
    }

    /** Builds a {@link HedgingConfig}. */
    public static final class Builder {
        private boolean enabled = true;
        private double percentile = 95;
        private double budgetRatio = 0.05;
        private int maxBurst = 10;
        private int minSamples = 20;
        private Duration minDelay = Duration.ofMillis(1);

        private Builder() {
        }

        /**
         * Turns hedging on or off.
         *
         * @param enabled whether to hedge
         * @return this builder
         */
        public Builder enabled(boolean enabled) {
            this.enabled = enabled;
            return this;
        }

        /**
         * Sets the latency percentile after which a hedge starts.
         *
         * @param percentile in [50, 99.99]
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder percentile(double percentile) {
            if (!(percentile >= 50 && percentile <= 99.99)) {
                throw new LatitudeConfigException("hedging.percentile", percentile
                        + " is outside [50, 99.99]; hedging below the median doubles load, use 90 to 99");
            }
            this.percentile = percentile;
            return this;
        }

        /**
         * Sets the long-run share of calls that may be hedged.
         *
         * @param ratio in (0, 1]; 0.05 means at most 5 % extra requests
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder budgetRatio(double ratio) {
            if (!(ratio > 0 && ratio <= 1)) {
                throw new LatitudeConfigException("hedging.budgetRatio", ratio
                        + " is outside (0, 1]; use 0.05 for at most 5 % extra requests, or disable hedging");
            }
            this.budgetRatio = ratio;
            return this;
        }

        /**
         * Sets how many unspent hedge tokens may accumulate for bursts.
         *
         * @param tokens 1 to 10,000
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder maxBurst(int tokens) {
            if (tokens < 1 || tokens > 10_000) {
                throw new LatitudeConfigException("hedging.maxBurst", tokens + " is outside [1, 10000]");
            }
            this.maxBurst = tokens;
            return this;
        }

        /**
         * Sets how many samples a region needs before its percentile is trusted (no hedging before).
         *
         * @param samples 1 to 1,000,000
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder minSamples(int samples) {
            if (samples < 1 || samples > 1_000_000) {
                throw new LatitudeConfigException("hedging.minSamples", samples + " is outside [1, 1000000]");
            }
            this.minSamples = samples;
            return this;
        }

        /**
         * Sets the shortest hedge delay, whatever the percentile says.
         *
         * @param delay zero or more
         * @return this builder
         * @throws LatitudeConfigException if negative
         */
        public Builder minDelay(Duration delay) {
            if (delay == null || delay.isNegative()) {
                throw new LatitudeConfigException("hedging.minDelay", delay + " is negative; use Duration.ZERO or more");
            }
            this.minDelay = delay;
            return this;
        }

        /** Returns the settings. */
        public HedgingConfig build() {
            return new HedgingConfig(this);
        }
    }
}
