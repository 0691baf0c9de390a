package dev.latitude;

import java.util.HashMap;
import java.util.Map;

/**
 * Routes to the nearest region by great-circle distance from the caller, with a per-region bias that grows or
 * shrinks a region's catchment like Route 53 geoproximity: the biased distance is
 * {@code distance × (1 − bias/100)}, so bias 50 halves a region's apparent distance and bias −50 makes it 1.5× as far.
 *
 * <p>The caller's location is {@link Operation#callerLocation()}, else the local region's. Regions without a
 * location, or calls without a caller location, rank last and tie.
 *
 * <pre>{@code RoutingPolicy policy = RoutingPolicy.geoproximity().bias("us-east-1", 25).build();}</pre>
 */
public final class GeoproximityPolicy implements RoutingPolicy {
    private static final double UNKNOWN = Double.MAX_VALUE;
    private final Map<String, Integer> bias;

    private GeoproximityPolicy(Map<String, Integer> bias) {
        this.bias = bias;
    }

    static Builder builder() {
        return new Builder();
    }

    @Override
    public void rank(RoutingCandidates c) {
        GeoPoint caller = c.callerLocation();
        for (int i = 0; i < c.size(); i++) {
            GeoPoint where = c.region(i).location();
            if (caller == null || where == null) {
                c.rank(i, UNKNOWN);
                continue;
            }
            Integer b = bias.get(c.region(i).id());
            c.rank(i, caller.distanceKm(where) * (1 - (b == null ? 0 : b) / 100.0));
        }
    }

    @Override
    public void validate(Topology topology) {
        bias.keySet().forEach(id -> topology.requireRegion("geoproximity.bias", id));
    }

    @Override
    public String toString() {
        return "geoproximity(bias=" + bias + ")";
    }

    /** Builds a {@link GeoproximityPolicy}. */
    public static final class Builder {
        private final Map<String, Integer> bias = new HashMap<>();

        private Builder() {
        }

        /**
         * Sets a region's bias.
         *
         * @param regionId the region id
         * @param bias −99 (shrink) to 99 (grow); default 0
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder bias(String regionId, int bias) {
            if (bias < -99 || bias > 99) {
                throw new LatitudeConfigException("geoproximity.bias[" + regionId + "]", bias
                        + " is outside [-99, 99]; positive values draw more callers to the region, negative fewer");
            }
            this.bias.put(regionId, bias);
            return this;
        }

        /** Returns the policy. */
        public GeoproximityPolicy build() {
            return new GeoproximityPolicy(Map.copyOf(bias));
        }
    }
}
