package dev.latitude;

/**
 * Receives region health changes: circuit-breaker transitions and probe verdicts.
 *
 * <p>Callbacks run on the thread that caused the change (a call completing, a probe finishing); they must be fast
 * and must not block. An exception thrown by a callback is logged and swallowed, never passed to the caller.
 * {@link #NONE} ignores everything.
 */
public interface HealthListener {
    /** A listener that does nothing. */
    HealthListener NONE = new HealthListener() {
    };

    /**
     * A region's circuit breaker changed state.
     *
     * @param region the region
     * @param from the previous state
     * @param to the new state
     */
    default void onCircuitStateChange(RegionSpec region, CircuitState from, CircuitState to) {
    }

    /**
     * A region's probe verdict changed.
     *
     * @param region the region
     * @param from the previous verdict
     * @param to the new verdict
     */
    default void onProbeStateChange(RegionSpec region, ProbeState from, ProbeState to) {
    }
}
