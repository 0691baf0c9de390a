package dev.latitude;

import dev.latitude.internal.Engine;
import dev.latitude.internal.EngineConfig;
import dev.latitude.spi.ErrorClassifier;
import dev.latitude.spi.HealthProbe;
import dev.latitude.spi.Scheduler;
import dev.latitude.spi.Ticker;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import dev.latitude.spi.ReplicationWatermarks;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.random.RandomGenerator;

/**
 * The region routing engine: plans each call over the regions of a {@link Topology}, runs it with per-attempt
 * timeouts, falls back and hedges across regions, tracks region health and latency, and reports every decision as
 * OpenTelemetry spans and metrics. Thread-safe; build one per set of regions and share it.
 *
 * <pre>{@code
 * Latitude latitude = Latitude.builder()
 *     .topology(topology)
 *     .routingPolicy(RoutingPolicy.latency().build())
 *     .errorClassifier(myClientErrors)
 *     .attemptTimeout(Duration.ofMillis(300))
 *     .build();
 *
 * String body = latitude.execute(Operation.read("GetProfile").dataClass("profiles").build(),
 *     region -> httpGet(endpoints.get(region.id()) + "/profile/42"));
 * }</pre>
 *
 * <p>Adapters (DynamoDB, JDBC, S3) wrap their client calls in {@link #execute} or {@link #executeAsync}; the
 * engine decides which region each attempt goes to.
 */
public interface Latitude extends AutoCloseable {

    /** Starts a builder. */
    static Builder builder() {
        return new Builder();
    }

    /**
     * Runs a blocking call: plans it, then runs attempts in plan order on the attempt executor until one succeeds,
     * a caller error ends it, or the plan or deadline runs out.
     *
     * @param operation what the call is
     * @param call the attempt in one region
     * @param <T> the result type
     * @param <E> the checked exception the call may throw
     * @return the first successful result
     * @throws E the call's own checked exception when an attempt failed with a caller error
     * @throws RegionsUnavailableException if every planned region failed or the deadline passed
     * @throws AmbiguousWriteException if a non-idempotent write failed with an unknown outcome
     * @throws LatitudeException if the calling thread is interrupted while waiting (the interrupt flag is kept)
     */
    <T, E extends Exception> T execute(Operation operation, RegionCall<T, E> call) throws E;

    /**
     * Runs a non-blocking call; the same as {@link #execute} but the result comes as a future that fails with the
     * same exceptions. Cancelling the future cancels the attempts in flight.
     *
     * @param operation what the call is
     * @param call the attempt in one region
     * @param <T> the result type
     * @return the future result
     */
    <T> CompletableFuture<T> executeAsync(Operation operation, AsyncRegionCall<T> call);

    /**
     * Runs a non-blocking call that keeps its session consistent: a write's result watermark advances the session
     * token; a SESSION read's result is checked against the session's requirement when the answering replica could not
     * be proven up to date beforehand, and a stale answer makes the engine escalate to the region that took the write
     * (counted as a stale read avoided). Reads also record what they saw, for monotonic reads.
     *
     * @param operation what the call is
     * @param call the attempt in one region
     * @param watermark reads the watermark of a result
     * @param <T> the result type
     * @return the future result
     */
    <T> CompletableFuture<T> executeAsync(Operation operation, AsyncRegionCall<T> call,
            ResultWatermark<? super T> watermark);

    /**
     * The blocking form of {@link #executeAsync(Operation, AsyncRegionCall, ResultWatermark)}.
     *
     * @param operation what the call is
     * @param call the attempt in one region
     * @param watermark reads the watermark of a result
     * @param <T> the result type
     * @param <E> the checked exception the call may throw
     * @return the first acceptable result
     * @throws E the call's own checked exception when an attempt failed with a caller error
     */
    <T, E extends Exception> T execute(Operation operation, RegionCall<T, E> call, ResultWatermark<? super T> watermark)
            throws E;

    /** Returns the hybrid logical clock adapters stamp writes with. */
    HybridLogicalClock hybridClock();

    /**
     * Returns the bounds of the session watermarks this engine accepts: regions of its topology, no further ahead than
     * its clock's skew bound. The engine treats a session watermark outside them as absent (and never records one);
     * give them to {@link SessionTokenCodec.Builder#bounds(WatermarkBounds)} and {@link Session#of(SessionToken,
     * WatermarkBounds)} so such watermarks do not travel either. Their counters count what was dropped.
     *
     * @return the bounds, one instance per engine
     */
    WatermarkBounds watermarkBounds();

    /** Returns the data policies. */
    DataPolicies dataPolicies();

    /**
     * Returns the scheduler the engine's timers run on (the one given to {@link Builder#scheduler(Scheduler)}, else
     * the engine's own), so that an adapter's background work, such as polling replicas' replication positions, shares
     * the engine's timer thread and a test's manual clock. Its tasks must be cheap and never block: hand blocking work
     * to an executor.
     *
     * @return the scheduler
     */
    Scheduler scheduler();

    /**
     * Moves the writer role to {@code regionId} for calls planned from now on, after the database behind the regions
     * promoted a replica there (a single-writer failover the adapter found out about): writes of single-writer data
     * classes go there, and for SESSION reads it is the region that holds all their writes. Data policies that name a
     * writer region of their own keep it; residency is still checked per data class. The topology's own writer roles
     * are what {@link #topology()} keeps reporting.
     *
     * @param regionId a region of the topology
     * @throws LatitudeConfigException if it is not one
     * @throws UnsupportedOperationException if this engine cannot move its writer
     */
    default void moveWriter(String regionId) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot move its writer");
    }

    /**
     * Returns the regions the engine would try for {@code operation} right now, in order.
     *
     * @param operation the operation
     * @return the plan
     */
    Plan plan(Operation operation);

    /** Returns the topology. */
    Topology topology();

    /** Returns the routing policy in use. */
    RoutingPolicy routingPolicy();

    /**
     * Replaces the routing policy for calls planned from now on (a weight shift, a failover drill) without a restart.
     *
     * @param policy the new policy
     * @throws LatitudeConfigException if the policy does not fit the topology
     */
    void routingPolicy(RoutingPolicy policy);

    /** Returns what the engine knows about each region, in topology order. */
    List<RegionStatus> status();

    /**
     * Warms every region up before traffic: sends the health probe's cheap request to all regions in parallel and
     * waits for their answers, at most {@code timeout}. A fresh process's first calls are slow (class loading, JIT,
     * connection and TLS setup, a server's own first request); paying that here keeps it out of real calls. Never
     * throws for a region that fails or does not answer in time: the report says which did. Warm-up answers do not
     * feed latency estimates or circuit breakers (they measure the cold path).
     *
     * <pre>{@code WarmUpReport r = latitude.warmUp(Duration.ofSeconds(2)); log.info("{}", r);}</pre>
     *
     * @param timeout how long to wait for all regions, positive
     * @return which regions answered, in how long, and which did not
     * @throws LatitudeConfigException if the engine has no health probe (the cheap request to send), or the timeout is
     *     not positive
     */
    WarmUpReport warmUp(Duration timeout);

    /** Stops health probes and the engine's own threads; calls in flight complete or time out. */
    @Override
    void close();

    /**
     * Builds a {@link Latitude} engine. Only {@link #topology(Topology)} is required; every setter validates its value
     * and may be called once.
     *
     * <p>Defaults: latency routing; {@link ErrorClassifier#defaults()}; attempt timeout 1 s; deadline 5 s;
     * {@link BreakerConfig#defaults()}; {@link HedgingConfig#defaults()}; no probe; {@link GlobalOpenTelemetry}; the
     * system ticker; an engine-owned scheduler thread and attempt pool; {@code ThreadLocalRandom}; EWMA α 0.2;
     * hedging percentile over the last 60 s; {@link DataPolicies#defaults()}; no replication watermarks; the system UTC
     * clock with a 500 ms skew bound for the hybrid logical clock; at most 256 attempts per region at a time;
     * fallbacks beside slow attempts limited to 20 % of calls in flight (at least 10); no warm-up.
     */
    final class Builder {
        private static final Duration DEFAULT_ATTEMPT_TIMEOUT = Duration.ofSeconds(1);
        private static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(5);
        private Topology topology;
        private RoutingPolicy policy;
        private ErrorClassifier classifier;
        private Duration attemptTimeout;
        private Duration deadline;
        private BreakerConfig breaker;
        private HedgingConfig hedging;
        private HealthProbe probe;
        private ProbeConfig probeConfig;
        private HealthListener listener;
        private OpenTelemetry openTelemetry;
        private Ticker ticker;
        private Scheduler scheduler;
        private Executor attemptExecutor;
        private RandomGenerator random;
        private Double latencyAlpha;
        private Duration latencyWindow;
        private DataPolicies dataPolicies;
        private ReplicationWatermarks replicationWatermarks;
        private Clock clock;
        private Duration maxClockSkew;
        private Boolean callerRunsFirstAttempt;
        private Integer maxConcurrentAttempts;
        private Double slowFallbackShare;
        private int slowFallbackMinimum;
        private Duration warmUp;

        private Builder() {
        }

        private static void once(Object current, String setting) {
            if (current != null) {
                throw new LatitudeConfigException(setting, "set twice; set it once");
            }
        }

        /**
         * Sets the regions. Required.
         *
         * @param topology the topology
         * @return this builder
         */
        public Builder topology(Topology topology) {
            once(this.topology, "topology");
            this.topology = Objects.requireNonNull(topology, "topology");
            return this;
        }

        /**
         * Sets the routing policy; default {@code RoutingPolicy.latency().build()}.
         *
         * @param policy the policy
         * @return this builder
         */
        public Builder routingPolicy(RoutingPolicy policy) {
            once(this.policy, "routingPolicy");
            this.policy = Objects.requireNonNull(policy, "routingPolicy");
            return this;
        }

        /**
         * Sets how failures are classified; adapters supply one for their client.
         *
         * @param classifier the classifier
         * @return this builder
         */
        public Builder errorClassifier(ErrorClassifier classifier) {
            once(this.classifier, "errorClassifier");
            this.classifier = Objects.requireNonNull(classifier, "errorClassifier");
            return this;
        }

        /**
         * Sets how long one attempt in one region may take before the engine gives up on it and moves on.
         *
         * @param timeout 1 ms to 10 min; default 1 s
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder attemptTimeout(Duration timeout) {
            once(this.attemptTimeout, "attemptTimeout");
            this.attemptTimeout = range("attemptTimeout", timeout);
            return this;
        }

        /**
         * Sets the default overall deadline of a call, over all attempts; operations may set their own.
         *
         * @param deadline 1 ms to 10 min; default 5 s
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder deadline(Duration deadline) {
            once(this.deadline, "deadline");
            this.deadline = range("deadline", deadline);
            return this;
        }

        /**
         * Returns the attempt timeout {@link #build()} will use: the one set, else the default 1 s. Adapters that wrap
         * this builder read it to give their own clients a matching request timeout.
         *
         * @return the attempt timeout
         */
        public Duration attemptTimeout() {
            return attemptTimeout != null ? attemptTimeout : DEFAULT_ATTEMPT_TIMEOUT;
        }

        /**
         * Returns the scheduler given with {@link #scheduler(Scheduler)}, if any. Adapters that wrap this builder read
         * it to share their own timer with the engine when none was given.
         *
         * @return the scheduler given, or empty: the engine will start its own
         */
        public java.util.Optional<Scheduler> scheduler() {
            return java.util.Optional.ofNullable(scheduler);
        }

        /**
         * Returns the default deadline {@link #build()} will use: the one set, else the default 5 s.
         *
         * @return the deadline
         */
        public Duration deadline() {
            return deadline != null ? deadline : DEFAULT_DEADLINE;
        }

        private static Duration range(String setting, Duration d) {
            if (d == null || d.compareTo(Duration.ofMillis(1)) < 0 || d.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new LatitudeConfigException(setting, LatitudeConfigException.format(d) + " is outside [1 ms, 10 min]; give something like Duration.ofMillis(500)");
            }
            return d;
        }

        /**
         * Sets the circuit-breaker settings.
         *
         * @param breaker the settings
         * @return this builder
         */
        public Builder breaker(BreakerConfig breaker) {
            once(this.breaker, "breaker");
            this.breaker = Objects.requireNonNull(breaker, "breaker");
            return this;
        }

        /**
         * Sets the hedging settings (see {@link HedgingConfig} for when a hedge starts and how the budget bounds it).
         *
         * @param hedging the settings
         * @return this builder
         */
        public Builder hedging(HedgingConfig hedging) {
            once(this.hedging, "hedging");
            this.hedging = Objects.requireNonNull(hedging, "hedging");
            return this;
        }

        /**
         * Turns on active health checks.
         *
         * @param probe the adapter's probe
         * @param config how often and how strictly to probe
         * @return this builder
         */
        public Builder healthProbe(HealthProbe probe, ProbeConfig config) {
            once(this.probe, "healthProbe");
            this.probe = Objects.requireNonNull(probe, "healthProbe");
            this.probeConfig = Objects.requireNonNull(config, "probeConfig");
            return this;
        }

        /**
         * Sets the listener for health changes.
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder healthListener(HealthListener listener) {
            once(this.listener, "healthListener");
            this.listener = Objects.requireNonNull(listener, "healthListener");
            return this;
        }

        /**
         * Sets where spans and metrics go; default {@link GlobalOpenTelemetry#get()} (a no-op until an SDK is
         * installed).
         *
         * @param openTelemetry the OpenTelemetry instance
         * @return this builder
         */
        public Builder openTelemetry(OpenTelemetry openTelemetry) {
            once(this.openTelemetry, "openTelemetry");
            this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
            return this;
        }

        /**
         * Sets the time source; tests pass a manual one.
         *
         * @param ticker the ticker
         * @return this builder
         */
        public Builder ticker(Ticker ticker) {
            once(this.ticker, "ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Sets the timer for timeouts, deadlines, hedges and probes; tests pass one driven by their ticker. The
         * engine does not close a scheduler it was given.
         *
         * @param scheduler the scheduler
         * @return this builder
         */
        public Builder scheduler(Scheduler scheduler) {
            once(this.scheduler, "scheduler");
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * Sets where blocking attempts of {@link Latitude#execute} run. It needs a thread per concurrent attempt
         * (an attempt abandoned at its timeout keeps its thread until the underlying client returns). The engine
         * does not shut down an executor it was given. Default: an engine-owned cached pool of daemon threads.
         *
         * @param executor the executor
         * @return this builder
         */
        public Builder attemptExecutor(Executor executor) {
            once(this.attemptExecutor, "attemptExecutor");
            this.attemptExecutor = Objects.requireNonNull(executor, "attemptExecutor");
            return this;
        }

        /**
         * Sets the random source of the latency and weighted policies; pass a seeded {@link java.util.Random} for
         * repeatable tests. It must be thread-safe if calls are concurrent ({@code java.util.Random} is).
         *
         * @param random the random source
         * @return this builder
         */
        public Builder random(RandomGenerator random) {
            once(this.random, "random");
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /**
         * Sets the EWMA weight of a new latency sample in the routing estimate. Each sample counts for at most 3 times
         * the current estimate (the distance-based estimate for the first, and never less than 1 ms), so an outlier
         * moves the estimate by at most {@code alpha * 2} times itself while a region whose answers are all slow
         * still climbs by a factor of up to {@code 1 + 2 * alpha} per sample.
         *
         * @param alpha in (0, 1]; default 0.2
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder latencyAlpha(double alpha) {
            once(this.latencyAlpha, "latencyAlpha");
            if (!(alpha > 0 && alpha <= 1)) {
                throw new LatitudeConfigException("latencyAlpha", alpha
                        + " is outside (0, 1]; higher reacts faster, lower smooths more; 0.2 is usual");
            }
            this.latencyAlpha = alpha;
            return this;
        }

        /**
         * Sets how far back the hedging percentile looks.
         *
         * @param window 1 s to 1 h; default 60 s
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder latencyWindow(Duration window) {
            once(this.latencyWindow, "latencyWindow");
            if (window == null || window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(Duration.ofHours(1)) > 0) {
                throw new LatitudeConfigException("latencyWindow", LatitudeConfigException.format(window) + " is outside [1 s, 1 h]");
            }
            this.latencyWindow = window;
            return this;
        }

        /**
         * Sets each data class's consistency level, residency and write mode; default {@link DataPolicies#defaults()}.
         *
         * @param policies the policies
         * @return this builder
         */
        public Builder dataPolicies(DataPolicies policies) {
            once(this.dataPolicies, "dataPolicies");
            this.dataPolicies = Objects.requireNonNull(policies, "dataPolicies");
            return this;
        }

        /**
         * Sets where replica progress comes from (the adapter's heartbeats or replay positions); default
         * {@link ReplicationWatermarks#NONE}, so SESSION reads away from the writer are verified by result watermark.
         *
         * @param watermarks the source
         * @return this builder
         */
        public Builder replicationWatermarks(ReplicationWatermarks watermarks) {
            once(this.replicationWatermarks, "replicationWatermarks");
            this.replicationWatermarks = Objects.requireNonNull(watermarks, "replicationWatermarks");
            return this;
        }

        /**
         * Sets the wall clock of the hybrid logical clock; tests pass a fixed or manual one. Default
         * {@link Clock#systemUTC()}.
         *
         * @param clock the wall clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            once(this.clock, "clock");
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Sets the largest clock difference between hosts that the hybrid logical clock tolerates; default 500 ms.
         *
         * @param skew 1 ms to 1 h
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder maxClockSkew(Duration skew) {
            once(this.maxClockSkew, "maxClockSkew");
            HybridLogicalClock.create(Clock.systemUTC(), skew); // validates
            this.maxClockSkew = skew;
            return this;
        }

        /**
         * Lets a blocking call ({@link Latitude#execute}) run its first attempt on the calling thread instead of
         * handing it to the attempt executor and waiting: that saves two thread wake-ups per call, tens of
         * microseconds on a busy machine. Fallbacks and hedges still run on the attempt executor. A call that may be
         * hedged (an idempotent read with hedging on) runs there only while its region is calm: circuit closed,
         * for the last 10 s no attempt there outlived its timeout or failed for a reason of the region's, and hedges
         * to other regions beat fewer than 1 in 100 of its attempts in that window. Otherwise hedges are winning
         * there, and the first attempt goes to the attempt executor so that the caller takes a winning hedge's
         * answer at once. When a region turns bad suddenly, the calls already running there on their callers wait
         * for their attempt to end (or to take an interrupt) even if a hedge answered; every call after the first
         * attempt cut at its timeout is hedged as usual. Default: off.
         *
         * <p>Turn it on only if every region call ends by itself within the attempt timeout (its client has a timeout
         * no longer than {@link #attemptTimeout(Duration)}): at the timeout the engine starts the next region (when the
         * call may go there) and interrupts the calling thread once that region has answered, but it cannot return
         * that answer before the first attempt's call comes back, and a blocked socket read ignores interrupts. An interrupt of the calling thread that arrives while
         * the first attempt runs is taken as cancelling that attempt and cleared when it ends.
         *
         * @param enabled whether to run first attempts on the calling thread
         * @return this builder
         */
        public Builder callerRunsFirstAttempt(boolean enabled) {
            once(this.callerRunsFirstAttempt, "callerRunsFirstAttempt");
            this.callerRunsFirstAttempt = enabled;
            return this;
        }

        /**
         * Sets the per-region bulkhead: at most this many attempts per region whose work has not ended (a blocking
         * attempt's thread has not returned, an asynchronous attempt's future has not completed), abandoned ones
         * included. A region that hangs holds at most this share of threads and connections; once it is full, calls
         * skip it ({@link FailureKind#BULKHEAD_FULL}) and go to the next region of their plan.
         *
         * @param max 1 to 100,000 (default 256)
         * @return this builder
         * @throws LatitudeConfigException if out of range or set twice
         */
        public Builder maxConcurrentAttempts(int max) {
            once(this.maxConcurrentAttempts, "maxConcurrentAttempts");
            if (max < 1 || max > 100_000) {
                throw new LatitudeConfigException("maxConcurrentAttempts", max + " is outside [1, 100000]; use a few"
                        + " hundred, about the concurrency one region should be able to absorb");
            }
            this.maxConcurrentAttempts = max;
            return this;
        }

        /**
         * Limits the attempts that run beside a slow one. When an attempt passes its timeout and the call may go
         * elsewhere, the next region's attempt starts beside it (slow is not dead: the slow one keeps running). Each
         * such fallback adds load, so at most {@code max(minimum, share × calls in flight)} run at a time,
         * engine-wide; a call refused by the limit keeps waiting for its slow attempt and asks again one attempt
         * timeout later (its deadline still holds). A region outage needs few at a time, since each lasts one round
         * trip to a healthy region, while a slowdown of everything at once (a cold JVM, a saturated host, every region
         * overloaded) would otherwise multiply the load by the number of regions and feed itself. Fallbacks after a
         * failure are not limited: the failed attempt holds nothing. Hedges have their own budget
         * ({@link HedgingConfig}). Envoy's retry budget (20 % of active requests, at least 3) is the model.
         *
         * @param share a share of the calls in flight, in (0, 10] (default 0.2)
         * @param minimum fallbacks always allowed at a time, 0 to 100,000 (default 10)
         * @return this builder
         * @throws LatitudeConfigException if out of range or set twice
         */
        public Builder slowFallbackLimit(double share, int minimum) {
            once(this.slowFallbackShare, "slowFallbackLimit");
            if (!(share > 0 && share <= 10)) {
                throw new LatitudeConfigException("slowFallbackLimit", "share " + share + " is outside (0, 10]; use"
                        + " 0.2 for at most one fallback per five calls in flight");
            }
            if (minimum < 0 || minimum > 100_000) {
                throw new LatitudeConfigException("slowFallbackLimit", "minimum " + minimum + " is outside"
                        + " [0, 100000]; use about 10");
            }
            this.slowFallbackShare = share;
            this.slowFallbackMinimum = minimum;
            return this;
        }

        /**
         * Warms every region up when the engine is built: {@link #build()} sends the health probe's cheap request to
         * all regions in parallel and returns when they answered or {@code timeout} passed, whichever is first (see
         * {@link Latitude#warmUp(Duration)}). Probes start after it. Never fails the build.
         *
         * @param timeout the longest {@code build()} waits, 1 ms to 1 minute
         * @return this builder
         * @throws LatitudeConfigException if out of range or set twice
         */
        public Builder warmUp(Duration timeout) {
            once(this.warmUp, "warmUp");
            if (timeout == null || timeout.isNegative() || timeout.isZero()
                    || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new LatitudeConfigException("warmUp", LatitudeConfigException.format(timeout) + " is outside (0, 1 min]; use a second or two,"
                        + " such as Duration.ofSeconds(2)");
            }
            this.warmUp = timeout;
            return this;
        }

        /**
         * Returns the engine, warmed up if {@link #warmUp(Duration)} was set, with probes started if a probe was given.
         *
         * @return the engine
         * @throws LatitudeConfigException if no topology was set, the policy does not fit it, the attempt timeout
         *     is longer than the deadline, or warm-up was asked for without a health probe
         */
        public Latitude build() {
            if (topology == null) {
                throw new LatitudeConfigException("topology", "not set; call topology(Topology.builder()...build())");
            }
            RoutingPolicy p = policy != null ? policy : RoutingPolicy.latency().build();
            p.validate(topology);
            Duration at = attemptTimeout();
            Duration dl = deadline();
            if (at.compareTo(dl) > 0) {
                throw new LatitudeConfigException("attemptTimeout", LatitudeConfigException.format(at) + " is longer than the deadline " + LatitudeConfigException.format(dl)
                        + "; no second region could ever be tried: shorten the attempt timeout or lengthen the deadline");
            }
            if (warmUp != null && probe == null) {
                throw new LatitudeConfigException("warmUp", "needs a cheap request to send to each region: set"
                        + " healthProbe(probe, config) too");
            }
            DataPolicies dp = dataPolicies != null ? dataPolicies : DataPolicies.defaults();
            dp.validate(topology);
            HybridLogicalClock hlc = HybridLogicalClock.create(clock != null ? clock : Clock.systemUTC(),
                    maxClockSkew != null ? maxClockSkew : Duration.ofMillis(500));
            Engine engine = new Engine(new EngineConfig(topology, p,
                    classifier != null ? classifier : ErrorClassifier.defaults(), at.toNanos(), dl.toNanos(),
                    breaker != null ? breaker : BreakerConfig.defaults(),
                    hedging != null ? hedging : HedgingConfig.defaults(), probe,
                    probeConfig, listener != null ? listener : HealthListener.NONE,
                    openTelemetry != null ? openTelemetry : GlobalOpenTelemetry.get(),
                    ticker != null ? ticker : Ticker.system(), scheduler, attemptExecutor, random,
                    latencyAlpha != null ? latencyAlpha : 0.2,
                    (latencyWindow != null ? latencyWindow : Duration.ofSeconds(60)).toNanos(), dp,
                    replicationWatermarks != null ? replicationWatermarks : ReplicationWatermarks.NONE, hlc,
                    callerRunsFirstAttempt != null && callerRunsFirstAttempt,
                    maxConcurrentAttempts != null ? maxConcurrentAttempts : 256,
                    slowFallbackShare != null ? slowFallbackShare : 0.2,
                    slowFallbackShare != null ? slowFallbackMinimum : 10));
            if (warmUp != null) {
                engine.warmUp(warmUp);
            }
            engine.startProbes();
            return engine;
        }
    }
}
