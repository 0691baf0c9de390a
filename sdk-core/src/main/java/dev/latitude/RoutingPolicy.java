package dev.latitude;

import dev.latitude.internal.PolicyChain;

/**
 * Orders the candidate regions of a call, best first; the client-side counterpart of a Route 53 routing policy.
 *
 * <p>Built-in policies: {@link #latency()}, {@link #geolocation()}, {@link #geoproximity()}, {@link #failover()} and
 * {@link #weighted()}. They compose with {@link #then(RoutingPolicy)}: the first policy's ties are broken by the
 * next, so {@code RoutingPolicy.geolocation()...build().then(RoutingPolicy.latency().build())} keeps the caller in
 * its geography and picks the fastest region there. The engine's policy can be replaced at runtime with
 * {@code Latitude.routingPolicy(RoutingPolicy)}.
 *
 * <p>Ranking runs on every call: implementations must be fast, allocation-free where possible, thread-safe, and
 * must not throw. Ranking only orders: the engine has already removed regions the call may not use (role), and
 * moves regions with open circuits behind all others.
 */
public interface RoutingPolicy {

    /**
     * Gives every candidate a rank; lower ranks are tried first.
     *
     * @param candidates the regions to rank
     */
    void rank(RoutingCandidates candidates);

    /**
     * Checks that the policy fits the topology (for example that every region it names exists). Called when an
     * engine is built and when its policy is replaced.
     *
     * @param topology the engine's topology
     * @throws LatitudeConfigException if the policy names a region the topology lacks
     */
    default void validate(Topology topology) {
    }

    /**
     * Returns a policy that ranks with this one and breaks its ties with {@code tieBreaker}.
     *
     * @param tieBreaker the policy that orders regions this one ranks equally
     * @return the composed policy
     */
    default RoutingPolicy then(RoutingPolicy tieBreaker) {
        return PolicyChain.of(this, tieBreaker);
    }

    /** Starts a latency policy: the fastest region, spreading load among those within a window of it. */
    static LatencyPolicy.Builder latency() {
        return LatencyPolicy.builder();
    }

    /** Starts a geolocation policy: regions chosen by the caller's country or jurisdiction, with a default. */
    static GeolocationPolicy.Builder geolocation() {
        return GeolocationPolicy.builder();
    }

    /** Starts a geoproximity policy: the nearest region by great-circle distance, with per-region bias. */
    static GeoproximityPolicy.Builder geoproximity() {
        return GeoproximityPolicy.builder();
    }

    /** Starts a failover policy: regions in a fixed priority order. */
    static FailoverPolicy.Builder failover() {
        return FailoverPolicy.builder();
    }

    /** Starts a weighted policy: the first region drawn at random in proportion to weights. */
    static WeightedPolicy.Builder weighted() {
        return WeightedPolicy.builder();
    }
}
