package dev.latitude;

import java.time.Duration;

/**
 * Routes to the fastest region; among the regions whose smoothed latency is within a window of the best, two are
 * drawn at random and the one with fewer calls in flight wins ("power of two choices"), which spreads load without
 * herding every client onto the same region. The remaining regions follow in order of latency.
 *
 * <p>Latency is the engine's estimate of a region's typical round trip: an EWMA (see
 * {@code Latitude.Builder.latencyAlpha}) of observed round trips, each clipped to 3 times the current estimate, so
 * that rare outliers (hedging's business) cannot take the ranking while a region whose answers are all slow still
 * loses its place within about ten of them. Before the first observation it is 0 for the local region, about 15 µs
 * per km of distance when both regions have coordinates, and 30 ms otherwise: with no configuration beyond the local
 * region, that region ranks first. Default window: 15 ms. The first 64 candidates can join the
 * draw (more than any cloud's region count); the rest are ordered by latency only.
 *
 * <pre>{@code RoutingPolicy policy = RoutingPolicy.latency().window(Duration.ofMillis(10)).build();}</pre>
 */
public final class LatencyPolicy implements RoutingPolicy {
    private final long windowNanos;

    private LatencyPolicy(long windowNanos) {
        this.windowNanos = windowNanos;
    }

    static Builder builder() {
        return new Builder();
    }

    /** Returns the window around the best latency, in nanoseconds. */
    public long windowNanos() {
        return windowNanos;
    }

    @Override
    public void rank(RoutingCandidates c) {
        int n = c.size();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            long l = c.latencyNanos(i);
            c.rank(i, l);
            best = Math.min(best, l);
        }
        long limit = best > Long.MAX_VALUE - windowNanos ? Long.MAX_VALUE : best + windowNanos;
        // Membership is read once into a bit set, so the draw below stays consistent even if latencies move.
        long window = 0;
        for (int i = 0; i < Math.min(n, Long.SIZE); i++) {
            if (c.latencyNanos(i) <= limit) {
                window |= 1L << i;
            }
        }
        int inWindow = Long.bitCount(window);
        if (inWindow < 2) {
            return;
        }
        int k1 = Math.min(inWindow - 1, (int) (c.random() * inWindow));
        int k2 = Math.min(inWindow - 2, (int) (c.random() * (inWindow - 1)));
        if (k2 >= k1) {
            k2++;
        }
        int a = nthSetBit(window, k1);
        int b = nthSetBit(window, k2);
        int winner = c.inFlight(b) < c.inFlight(a) ? b : a; // on a tie the first draw wins: load spreads at random
        c.rank(winner, -1);
    }

    /** Returns the position of the k-th (0-based) set bit of {@code bits}, which has more than k set bits. */
    private static int nthSetBit(long bits, int k) {
        for (int i = 0; i < k; i++) {
            bits &= bits - 1;
        }
        return Long.numberOfTrailingZeros(bits);
    }

    @Override
    public String toString() {
        return "latency(window=" + Duration.ofNanos(windowNanos).toMillis() + "ms)";
    }

    /** Builds a {@link LatencyPolicy}. */
    public static final class Builder {
        private long windowNanos = Duration.ofMillis(15).toNanos();

        private Builder() {
        }

        /**
         * Sets the window around the best latency within which regions share load.
         *
         * @param window zero (always the single fastest) or more; default 15 ms
         * @return this builder
         * @throws LatitudeConfigException if negative
         */
        public Builder window(Duration window) {
            if (window == null || window.isNegative()) {
                throw new LatitudeConfigException("latency.window", LatitudeConfigException.format(window) + " is negative; use Duration.ZERO to always"
                        + " pick the single fastest region, or a few milliseconds to share load among near-equals");
            }
            this.windowNanos = window.toNanos();
            return this;
        }

        /** Returns the policy. */
        public LatencyPolicy build() {
            return new LatencyPolicy(windowNanos);
        }
    }
}
