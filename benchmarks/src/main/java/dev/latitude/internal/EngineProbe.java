package dev.latitude.internal;

import dev.latitude.Latitude;
import dev.latitude.Operation;

/**
 * Benchmark-only bridge to the engine's package-private planner, {@code Engine.route(Operation)}: the per-call routing
 * decision without the {@code List}/{@code Plan} wrapping that the public {@code Latitude.plan} adds.
 *
 * <p>It lives in the benchmarks module but in sdk-core's package, so it reaches package-private members without any
 * change to sdk-core. This works because the benchmarks run from a plain class-path jar (sdk-core is not a named
 * module and its jar is not sealed); it is not a supported API and nothing outside the benchmarks may use it.
 */
public final class EngineProbe {
    private EngineProbe() {
    }

    /**
     * Plans {@code op} the way every call is planned and returns the internal plan (region indexes and the healthy
     * count), for a JMH {@code Blackhole}.
     *
     * @param latitude an engine built by {@code Latitude.builder()}
     * @param op the operation
     * @return the internal plan, opaque to the caller
     * @throws ClassCastException if {@code latitude} is not the built-in engine (a decorator, say)
     */
    public static Object route(Latitude latitude, Operation op) {
        return ((Engine) latitude).route(op);
    }
}
