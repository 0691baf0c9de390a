package dev.latitude;

import java.time.Duration;

/**
 * Routes to the fastest region; among the regions whose smoothed latency is within a window of the best, two are
 * drawn at random and the one with fewer calls in flight wins ("power of two choices"), which spreads load without
 * herding every client onto the same region. The remaining regions follow in order of latency.
 *
 * <p>Latency is the engine's EWMA of observed round trips (see {@code Latitude.Builder.latencyAlpha}), or a
 * distance-based estimate before the first observation. Default window: 15 ms.
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
        int inWindow = 0;
        long limit = best > Long.MAX_VALUE - windowNanos ? Long.MAX_VALUE : best + windowNanos;
        for (int i = 0; i < n; i++) {
            if (c.latencyNanos(i) <= limit) {
                inWindow++;
            }
        }
        if (inWindow < 2) {
            return;
        }
        int k1 = Math.min(inWindow - 1, (int) (c.random() * inWindow));
        int k2 = Math.min(inWindow - 2, (int) (c.random() * (inWindow - 1)));
        if (k2 >= k1) {
            k2++;
        }
        int a = nthInWindow(c, limit, k1);
        int b = nthInWindow(c, limit, k2);
        int winner = c.inFlight(b) < c.inFlight(a) ? b : a; // on a tie the first draw wins: load spreads at random
        c.rank(winner, -1);
    }

    /** Returns the position of the k-th (0-based) candidate within the window. */
    private static int nthInWindow(RoutingCandidates c, long limit, int k) {
        for (int i = 0, seen = 0; i < c.size(); i++) {
            if (c.latencyNanos(i) <= limit && seen++ == k) {
                return i;
            }
        }
        throw new IllegalStateException("window holds fewer than " + (k + 1) + " candidates");
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
                throw new LatitudeConfigException("latency.window", window + " is negative; use Duration.ZERO to always"
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
