package dev.latitude;

/**
 * The regions a {@link RoutingPolicy} orders for one call, with what the engine knows about each.
 *
 * <p>Regions are addressed by position {@code 0 <= i < size()}. A policy gives each a rank with
 * {@link #rank(int, double)}; lower ranks are tried first. Latency and calls in flight are a snapshot taken when the
 * plan started, so repeated reads during one ranking agree. The view is only valid during
 * {@link RoutingPolicy#rank(RoutingCandidates)}; policies must not keep it.
 */
public interface RoutingCandidates {

    /** Returns the call being planned. */
    Operation operation();

    /** Returns the topology. */
    Topology topology();

    /** Returns the caller's location: the operation's, else the local region's (may be {@code null}). */
    GeoPoint callerLocation();

    /** Returns the caller's jurisdiction: the operation's, else the local region's (may be {@code null}). */
    String callerJurisdiction();

    /** Returns how many candidates there are. */
    int size();

    /**
     * Returns candidate {@code i}.
     *
     * @param i a position in {@code [0, size())}
     * @return the region
     */
    RegionSpec region(int i);

    /**
     * Returns the smoothed round-trip latency of candidate {@code i} in nanoseconds: the EWMA of observed calls and
     * probes or, before the first observation, an estimate from the great-circle distance to the local region.
     *
     * @param i a position
     * @return the latency estimate in nanoseconds
     */
    long latencyNanos(int i);

    /**
     * Returns how many attempts to candidate {@code i} are in flight now, from this engine.
     *
     * @param i a position
     * @return the count
     */
    int inFlight(int i);

    /** Returns a uniformly distributed double in {@code [0, 1)} from the engine's random source. */
    double random();

    /**
     * Sets the rank of candidate {@code i}: lower is tried first; equal ranks are ties that the next policy of a
     * chain ({@link RoutingPolicy#then(RoutingPolicy)}) breaks. Candidates that get no rank keep rank 0.
     *
     * @param i a position
     * @param rank the rank; must not be NaN
     */
    void rank(int i, double rank);
}
