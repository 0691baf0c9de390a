package dev.latitude;

import java.util.HashMap;
import java.util.Map;

/**
 * Spreads calls over regions in proportion to weights, like Route 53 weighted records; use it for gradual traffic
 * shifts (replace the engine's policy with new weights at runtime). The first region is drawn with probability
 * weight/total; the fallbacks follow in a weighted random order too (Efraimidis–Spirakis keys), so a failed
 * region's calls also spread by weight. Regions with weight 0 rank last and tie: they only serve as fallbacks.
 *
 * <p>Weights come from {@link Builder#weight(String, int)}; if none is given, from {@link RegionSpec#weight()}.
 * Deterministic under a seeded random source ({@code Latitude.Builder.random}).
 *
 * <pre>{@code RoutingPolicy policy = RoutingPolicy.weighted().weight("us-east-1", 90).weight("us-west-2", 10).build();}</pre>
 */
public final class WeightedPolicy implements RoutingPolicy {
    private final Map<String, Integer> weights;

    private WeightedPolicy(Map<String, Integer> weights) {
        this.weights = weights;
    }

    static Builder builder() {
        return new Builder();
    }

    /** Returns the weights given to the builder; empty means the regions' own weights. */
    public Map<String, Integer> weights() {
        return weights;
    }

    @Override
    public void rank(RoutingCandidates c) {
        for (int i = 0; i < c.size(); i++) {
            RegionSpec r = c.region(i);
            int w = weights.isEmpty() ? r.weight() : weights.getOrDefault(r.id(), 0);
            // Key -ln(u)/w: the smallest key wins with probability w/sum(w); 1 - u keeps the argument in (0, 1].
            c.rank(i, w == 0 ? Double.MAX_VALUE : -Math.log(1 - c.random()) / w);
        }
    }

    @Override
    public void validate(Topology topology) {
        weights.keySet().forEach(id -> topology.requireRegion("weighted.weight", id));
    }

    @Override
    public String toString() {
        return "weighted" + (weights.isEmpty() ? "(region weights)" : weights);
    }

    /** Builds a {@link WeightedPolicy}. */
    public static final class Builder {
        private final Map<String, Integer> weights = new HashMap<>();

        private Builder() {
        }

        /**
         * Sets a region's weight; regions not named get 0 once any weight is set.
         *
         * @param regionId the region id
         * @param weight 0 to 1,000,000 (percentages work: 90 and 10)
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder weight(String regionId, int weight) {
            if (weight < 0 || weight > 1_000_000) {
                throw new LatitudeConfigException("weighted.weight[" + regionId + "]", weight
                        + " is outside [0, 1000000]; use 0 to keep the region as a fallback only");
            }
            weights.put(regionId, weight);
            return this;
        }

        /**
         * Returns the policy.
         *
         * @throws LatitudeConfigException if weights were given and all are 0
         */
        public WeightedPolicy build() {
            if (!weights.isEmpty() && weights.values().stream().allMatch(w -> w == 0)) {
                throw new LatitudeConfigException("weighted.weight", "every weight is 0 " + weights
                        + "; give at least one region a positive weight");
            }
            return new WeightedPolicy(Map.copyOf(weights));
        }
    }
}
