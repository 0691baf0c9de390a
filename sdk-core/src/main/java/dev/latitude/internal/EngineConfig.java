package dev.latitude.internal;

import dev.latitude.BreakerConfig;
import dev.latitude.DataPolicies;
import dev.latitude.HybridLogicalClock;
import dev.latitude.HealthListener;
import dev.latitude.HedgingConfig;
import dev.latitude.ProbeConfig;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.spi.ErrorClassifier;
import dev.latitude.spi.HealthProbe;
import dev.latitude.spi.ReplicationWatermarks;
import dev.latitude.spi.Scheduler;
import dev.latitude.spi.Ticker;
import io.opentelemetry.api.OpenTelemetry;
import java.util.concurrent.Executor;
import java.util.random.RandomGenerator;

/**
 * The validated settings an {@link Engine} is built from; produced by {@code Latitude.Builder}.
 *
 * @param topology the regions
 * @param policy the initial routing policy
 * @param classifier the adapter's error classifier
 * @param attemptTimeoutNanos the per-attempt timeout
 * @param deadlineNanos the default overall deadline
 * @param breaker circuit-breaker settings
 * @param hedging hedging settings
 * @param probe the health probe, or {@code null}
 * @param probeConfig probe settings
 * @param listener the health listener
 * @param openTelemetry where spans and metrics go
 * @param ticker the time source
 * @param scheduler the timer, or {@code null} for an engine-owned one
 * @param attemptExecutor where blocking attempts run, or {@code null} for an engine-owned pool
 * @param random the random source, or {@code null} for {@code ThreadLocalRandom}
 * @param latencyAlpha the EWMA weight of a new sample
 * @param latencyWindowNanos how far back the hedging percentile looks
 * @param dataPolicies each data class's consistency, residency and write mode
 * @param watermarks replica progress
 * @param hybridClock the clock writes are stamped with
 * @param callerRunsFirstAttempt whether a blocking call's first attempt runs on the calling thread (a hedgeable one, in a calm region)
 * @param maxConcurrentAttempts the per-region bulkhead
 * @param slowFallbackShare fallbacks beside slow attempts allowed at a time, as a share of calls in flight
 * @param slowFallbackMinimum fallbacks beside slow attempts always allowed at a time
 */
public record EngineConfig(Topology topology, RoutingPolicy policy, ErrorClassifier classifier,
        long attemptTimeoutNanos, long deadlineNanos, BreakerConfig breaker, HedgingConfig hedging, HealthProbe probe,
        ProbeConfig probeConfig, HealthListener listener, OpenTelemetry openTelemetry, Ticker ticker,
        Scheduler scheduler, Executor attemptExecutor, RandomGenerator random, double latencyAlpha,
        long latencyWindowNanos, DataPolicies dataPolicies, ReplicationWatermarks watermarks,
        HybridLogicalClock hybridClock, boolean callerRunsFirstAttempt,
        int maxConcurrentAttempts, double slowFallbackShare, int slowFallbackMinimum) {
}
