package dev.latitude.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Round-trip times between regions: a symmetric matrix with every pair present, immutable.
 *
 * <p>{@link #aws()} is a default matrix for eight AWS regions. Its values are <b>approximate</b> median round-trip
 * times, rounded to the millisecond, of the kind published by public inter-region latency dashboards (such as
 * cloudping.co's AWS inter-region latency table) and in providers' network documentation; they were not measured by
 * this project, drift over time, and are meant only to give fake regions a realistic relative geometry (Virginia is
 * close to Ohio, far from Sydney). Same-region round trips are 1 ms. Build your own with {@link #builder()}.
 *
 * <pre>{@code
 * RttMatrix matrix = RttMatrix.aws().scaled(0.1);           // a tenth of real latency
 * Duration d = matrix.rtt("us-east-1", "eu-west-1");        // about 6.8 ms
 * try (FakeRegions lab = FakeRegions.fromMatrix(RttMatrix.aws(), "us-east-1",
 *         List.of("us-east-1", "eu-west-1", "ap-northeast-1"), 0.1)) { ... }
 * }</pre>
 */
public final class RttMatrix {
    /** The regions of {@link #aws()}, in order. */
    public static final List<String> AWS_REGIONS = List.of("us-east-1", "us-east-2", "us-west-2", "eu-west-1",
            "eu-central-1", "ap-northeast-1", "ap-southeast-2", "sa-east-1");

    private static final RttMatrix AWS = awsMatrix();

    private final List<String> regions;
    private final Map<String, Map<String, Duration>> rtt;

    private RttMatrix(List<String> regions, Map<String, Map<String, Duration>> rtt) {
        this.regions = List.copyOf(regions);
        Map<String, Map<String, Duration>> copy = new LinkedHashMap<>();
        rtt.forEach((from, row) -> copy.put(from, Collections.unmodifiableMap(new LinkedHashMap<>(row))));
        this.rtt = Collections.unmodifiableMap(copy);
    }

    private static RttMatrix awsMatrix() {
        Builder b = builder().sameRegion(Duration.ofMillis(1));
        // Approximate median RTTs in ms (public inter-region latency dashboards), rounded.
        pair(b, "us-east-1", "us-east-2", 12);
        pair(b, "us-east-1", "us-west-2", 65);
        pair(b, "us-east-1", "eu-west-1", 68);
        pair(b, "us-east-1", "eu-central-1", 90);
        pair(b, "us-east-1", "ap-northeast-1", 145);
        pair(b, "us-east-1", "ap-southeast-2", 197);
        pair(b, "us-east-1", "sa-east-1", 115);
        pair(b, "us-east-2", "us-west-2", 50);
        pair(b, "us-east-2", "eu-west-1", 80);
        pair(b, "us-east-2", "eu-central-1", 98);
        pair(b, "us-east-2", "ap-northeast-1", 133);
        pair(b, "us-east-2", "ap-southeast-2", 186);
        pair(b, "us-east-2", "sa-east-1", 125);
        pair(b, "us-west-2", "eu-west-1", 120);
        pair(b, "us-west-2", "eu-central-1", 140);
        pair(b, "us-west-2", "ap-northeast-1", 98);
        pair(b, "us-west-2", "ap-southeast-2", 140);
        pair(b, "us-west-2", "sa-east-1", 175);
        pair(b, "eu-west-1", "eu-central-1", 25);
        pair(b, "eu-west-1", "ap-northeast-1", 200);
        pair(b, "eu-west-1", "ap-southeast-2", 255);
        pair(b, "eu-west-1", "sa-east-1", 178);
        pair(b, "eu-central-1", "ap-northeast-1", 225);
        pair(b, "eu-central-1", "ap-southeast-2", 255);
        pair(b, "eu-central-1", "sa-east-1", 200);
        pair(b, "ap-northeast-1", "ap-southeast-2", 105);
        pair(b, "ap-northeast-1", "sa-east-1", 255);
        pair(b, "ap-southeast-2", "sa-east-1", 310);
        return b.build();
    }

    private static void pair(Builder b, String a, String c, long millis) {
        b.rtt(a, c, Duration.ofMillis(millis));
    }

    /** Returns the default matrix of approximate round-trip times between the {@link #AWS_REGIONS}. */
    public static RttMatrix aws() {
        return AWS;
    }

    /** Returns a builder for a matrix of your own. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the regions, in the order they were first named. */
    public List<String> regions() {
        return regions;
    }

    /**
     * Returns whether {@code region} is in the matrix.
     *
     * @param region a region id
     * @return whether the matrix has it
     */
    public boolean contains(String region) {
        return rtt.containsKey(region);
    }

    /**
     * Returns the round-trip time between two regions (the same both ways).
     *
     * @param from a region of the matrix
     * @param to a region of the matrix, possibly {@code from}
     * @return the round-trip time
     * @throws IllegalArgumentException if either region is not in the matrix
     */
    public Duration rtt(String from, String to) {
        return rtt.get(require(from)).get(require(to));
    }

    /**
     * Returns the latency model a client in {@code clientRegion} sees when it calls {@code region}: a fixed model of
     * one round trip, to be shaped further ({@link LatencyModel#withJitter(double)}, ...).
     *
     * @param clientRegion where the client runs
     * @param region the region called
     * @return the model
     */
    public LatencyModel model(String clientRegion, String region) {
        return LatencyModel.fixed(rtt(clientRegion, region));
    }

    /**
     * Returns this matrix with every round-trip time multiplied by {@code factor} (0.1 for tests at a tenth of real
     * latency).
     *
     * @param factor positive and finite
     * @return the scaled matrix
     */
    public RttMatrix scaled(double factor) {
        LatencyModel.requireScale(factor);
        Map<String, Map<String, Duration>> scaled = new LinkedHashMap<>();
        rtt.forEach((from, row) -> {
            Map<String, Duration> r = new LinkedHashMap<>();
            row.forEach((to, d) -> r.put(to, LatencyModel.scale(d, factor)));
            scaled.put(from, r);
        });
        return new RttMatrix(regions, scaled);
    }

    private String require(String region) {
        if (region == null || !rtt.containsKey(region)) {
            throw new IllegalArgumentException("region " + region + " is not in the RTT matrix; known regions: "
                    + regions + " (add it with RttMatrix.builder())");
        }
        return region;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RttMatrix && rtt.equals(((RttMatrix) o).rtt);
    }

    @Override
    public int hashCode() {
        return rtt.hashCode();
    }

    @Override
    public String toString() {
        return "RttMatrix" + regions;
    }

    /**
     * Builds a matrix. Name each unordered pair once ({@link #rtt(String, String, Duration)} sets both directions);
     * same-region times come from {@link #sameRegion(Duration)} (1 ms unless set) or an explicit
     * {@code rtt(a, a, d)}. {@link #build()} checks that every pair of the named regions is present.
     */
    public static final class Builder {
        private final Set<String> regions = new LinkedHashSet<>();
        private final Map<String, Map<String, Duration>> rtt = new LinkedHashMap<>();
        private Duration sameRegion = Duration.ofMillis(1);

        private Builder() {
        }

        /**
         * Adds a region with no round-trip times yet (its pairs must still be given before {@link #build()}).
         *
         * @param region a region id
         * @return this builder
         */
        public Builder region(String region) {
            regions.add(requireId(region));
            return this;
        }

        /**
         * Sets the round-trip time within one region, for every region with no explicit one.
         *
         * @param d positive
         * @return this builder
         */
        public Builder sameRegion(Duration d) {
            this.sameRegion = requirePositive("same-region", "", d);
            return this;
        }

        /**
         * Sets the round-trip time between {@code a} and {@code b}, both ways.
         *
         * @param a a region id
         * @param b a region id
         * @param d positive
         * @return this builder
         * @throws IllegalArgumentException if the pair was already given with another value
         */
        public Builder rtt(String a, String b, Duration d) {
            requireId(a);
            requireId(b);
            requirePositive(a, b, d);
            Duration existing = rtt.getOrDefault(a, Map.of()).get(b);
            if (existing != null && !existing.equals(d)) {
                throw new IllegalArgumentException("RTT " + a + " <-> " + b + " given twice, as " + existing.toMillis()
                        + " ms and " + d.toMillis() + " ms; the matrix is symmetric, so give each pair once");
            }
            regions.add(a);
            regions.add(b);
            rtt.computeIfAbsent(a, k -> new LinkedHashMap<>()).put(b, d);
            rtt.computeIfAbsent(b, k -> new LinkedHashMap<>()).put(a, d);
            return this;
        }

        /**
         * Sets the round-trip time between {@code a} and {@code b} in milliseconds.
         *
         * @param a a region id
         * @param b a region id
         * @param millis positive
         * @return this builder
         */
        public Builder rttMillis(String a, String b, double millis) {
            if (!(millis > 0) || Double.isInfinite(millis)) {
                throw new IllegalArgumentException("RTT " + a + " <-> " + b + " must be positive, got " + millis
                        + " ms; give a round-trip time such as 68");
            }
            return rtt(a, b, Duration.ofNanos(Math.round(millis * 1_000_000)));
        }

        /**
         * Returns the matrix.
         *
         * @return the matrix
         * @throws IllegalArgumentException if there are no regions or a pair is missing
         */
        public RttMatrix build() {
            if (regions.isEmpty()) {
                throw new IllegalArgumentException("an RTT matrix needs at least one region; add pairs with rtt(a, b, d)");
            }
            List<String> missing = new ArrayList<>();
            Map<String, Map<String, Duration>> full = new LinkedHashMap<>();
            List<String> order = new ArrayList<>(regions);
            for (int i = 0; i < order.size(); i++) {
                String a = order.get(i);
                Map<String, Duration> row = new LinkedHashMap<>();
                for (String b : order) {
                    Duration d = rtt.getOrDefault(a, Map.of()).get(b);
                    if (d == null && a.equals(b)) {
                        d = sameRegion;
                    }
                    if (d == null) {
                        if (order.indexOf(b) > i) {
                            missing.add(a + " <-> " + b);
                        }
                    } else {
                        row.put(b, d);
                    }
                }
                full.put(a, row);
            }
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("RTT matrix is missing " + missing.size() + " pair(s): " + missing
                        + "; give each with rtt(a, b, d)");
            }
            return new RttMatrix(order, full);
        }

        private static String requireId(String region) {
            if (region == null || region.isBlank()) {
                throw new IllegalArgumentException("region id must be non-blank, got '" + region
                        + "'; use an id such as us-east-1");
            }
            return region;
        }

        private static Duration requirePositive(String a, String b, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                String what = b.isEmpty() ? a : a + " <-> " + b;
                throw new IllegalArgumentException("RTT " + what + " must be positive, got " + dev.latitude.LatitudeConfigException.format(d)
                        + "; give a round-trip time such as Duration.ofMillis(68)");
            }
            return d;
        }
    }
}
