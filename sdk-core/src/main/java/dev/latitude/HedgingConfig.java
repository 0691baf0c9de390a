package dev.latitude;

import java.time.Duration;

/**
 * Settings of hedged reads; immutable.
 *
 * <p>When an idempotent read has not answered after a delay that the region's ordinary requests rarely exceed, a
 * second attempt goes to the next healthy region of the plan and the first answer wins; the other attempt is
 * cancelled. The delay is the region's {@code percentile} latency, or twice its median if that is later: where
 * latencies sit close together, p95 is barely above the median, and a hedge there would mostly duplicate ordinary
 * requests and spend the budget before the real tail arrives.
 *
 * <p>Hedges are paid from a budget: each eligible call deposits {@code budgetRatio} of a token (at most
 * {@code maxBurst} tokens are kept) and each hedge spends one, so hedges never exceed {@code budgetRatio} of calls
 * plus the burst. Half the burst (rounded down) is a reserve: a hedge due at the delay above may not spend it, and
 * when only the reserve is left it waits as long again, so that once the budget is tight only requests still
 * unanswered at twice the delay (the real tail) are hedged. With a budget of 5 % and a tail of 5 % (say, 5 % of
 * requests 300 ms late in a 3 ms region) this is what lets the tail, rather than requests just above p95, take the
 * hedges ("The Tail at Scale": hedging deferred to the 95th percentile cut the 99.9th from 1,800 ms to 74 ms for
 * about 2 % more requests).
 *
 * <p>Defaults: enabled, p95 (or twice the median, whichever is later), 5 % budget, burst 10 (5 of it the reserve),
 * at least 20 samples in the window before a region's percentile is trusted, no hedge sooner than 1 ms.
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

    /** Returns the latency percentile after which a hedge starts (unless twice the median is later). */
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
         * Sets the latency percentile after which a hedge starts; a hedge never starts before twice the region's
         * median either.
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
         * Sets how many unspent hedge tokens may accumulate for bursts; half of them (rounded down) are kept for
         * hedges that waited twice the hedge delay.
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
                throw new LatitudeConfigException("hedging.minDelay", LatitudeConfigException.format(delay) + " is negative; use Duration.ZERO or more");
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
