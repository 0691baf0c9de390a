package dev.latitude.internal;

import dev.latitude.AsyncRegionCall;
import dev.latitude.CircuitState;
import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HybridLogicalClock;
import dev.latitude.GeoPoint;
import dev.latitude.Latitude;
import dev.latitude.LatitudeConfigException;
import dev.latitude.LatitudeException;
import dev.latitude.Operation;
import dev.latitude.Plan;
import dev.latitude.ProbeState;
import dev.latitude.RegionCall;
import dev.latitude.RegionSpec;
import dev.latitude.RegionStatus;
import dev.latitude.ResultWatermark;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.SessionToken;
import dev.latitude.Topology;
import dev.latitude.Watermark;
import dev.latitude.WatermarkBounds;
import dev.latitude.WarmUpReport;
import dev.latitude.WriteMode;
import dev.latitude.spi.ReplicationWatermarks;
import dev.latitude.spi.Scheduler;
import dev.latitude.spi.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The implementation of {@link Latitude}: the planner, the executor of calls, and the health machinery. */
public final class Engine implements Latitude, RegionState.Events {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    /** Round-trip estimate for a region never observed: about 15 µs per km of great-circle distance. */
    static final long ESTIMATED_RTT_NANOS_PER_KM = 15_000;
    /**
     * Round-trip estimate for another region whose distance is unknown (either end has no coordinates): beyond the
     * latency policy's default 15 ms window, so that the local region alone ranks first until measurements come in.
     */
    static final long UNKNOWN_DISTANCE_RTT_NANOS = TimeUnit.MILLISECONDS.toNanos(30);
    private static final long PERCENTILE_REFRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /**
     * How long a region must go without trouble (an attempt past its timeout, a failure of the region's) before a
     * hedgeable blocking read runs its first attempt there on the calling thread again; also the window over which
     * hedges beating its attempts are counted ({@link #BEATEN_PER_MILLE}).
     */
    static final long CALM_NANOS = TimeUnit.SECONDS.toNanos(10);
    /**
     * How many of a region's attempts in a thousand may lose to a hedge in the calm window before its hedgeable
     * blocking reads leave the calling thread: 1 in 100. Noise on a busy host beats about 1 in 1,000 to 10,000; a
     * region with a real tail (say 5 % of its answers 300 ms late) loses about 1 in 20.
     */
    static final int BEATEN_PER_MILLE = 10;

    final EngineConfig config;
    final Topology topology;
    final RegionState[] regions;
    final Ticker ticker;
    final Scheduler scheduler;
    final Telemetry telemetry;
    final HedgeBudget hedgeBudget;
    final SlowFallbackLimit slowFallbacks;
    final long hedgeMinDelayNanos;
    private final Executor attemptExecutor;
    private final WheelTimer ownScheduler;
    private final ExecutorService ownExecutor;
    private final ThreadLocal<Candidates> scratch;
    private final ProbeRunner probes;
    private final DataPolicies dataPolicies;
    private final ReplicationWatermarks watermarks;
    // The region a failover moved the writer role to, or null while the topology's writer holds it.
    private volatile String movedWriter;
    private final WatermarkBounds bounds;
    private volatile RoutingPolicy routing;
    private volatile boolean closed;

    /**
     * Builds the engine from validated settings and starts its probes.
     *
     * @param config the settings
     */
    public Engine(EngineConfig config) {
        this.config = config;
        this.topology = config.topology();
        this.ticker = config.ticker();
        this.routing = config.policy();
        this.dataPolicies = config.dataPolicies();
        this.watermarks = config.watermarks();
        this.bounds = WatermarkBounds.of(topology, config.hybridClock());
        long now = ticker.read();
        List<RegionSpec> specs = topology.regions();
        this.regions = new RegionState[specs.size()];
        for (int i = 0; i < regions.length; i++) {
            RegionSpec r = specs.get(i);
            long estimate = estimatedLatencyNanos(r, topology.localRegion());
            LatencyTracker tracker = new LatencyTracker(config.latencyAlpha(), estimate, config.hedging().percentile(),
                    config.hedging().minSamples(), PERCENTILE_REFRESH_NANOS, config.latencyWindowNanos(), now);
            regions[i] = new RegionState(r, i, tracker, estimate, config.breaker(), config.maxConcurrentAttempts(),
                    CALM_NANOS, BEATEN_PER_MILLE, ticker, this);
        }
        this.telemetry = new Telemetry(config.openTelemetry(), List.of(regions));
        this.hedgeBudget = new HedgeBudget(config.hedging().budgetRatio(), config.hedging().maxBurst());
        this.slowFallbacks = new SlowFallbackLimit(config.slowFallbackShare(), config.slowFallbackMinimum());
        this.hedgeMinDelayNanos = config.hedging().minDelay().toNanos();
        if (config.scheduler() != null) {
            this.scheduler = config.scheduler();
            this.ownScheduler = null;
        } else {
            this.ownScheduler = new WheelTimer();
            this.scheduler = ownScheduler;
        }
        if (config.attemptExecutor() != null) {
            this.attemptExecutor = config.attemptExecutor();
            this.ownExecutor = null;
        } else {
            AtomicInteger ids = new AtomicInteger();
            this.ownExecutor = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "latitude-attempt-" + ids.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            this.attemptExecutor = ownExecutor;
        }
        this.scratch = ThreadLocal.withInitial(() -> new Candidates(topology, regions, config.random()));
        this.probes = config.probe() == null ? null : new ProbeRunner(this, config.probe(), config.probeConfig());
    }

    /**
     * The latency assumed for a region before it is measured: zero for the local region (it is where this process
     * runs, so it ranks first with no configuration), the great-circle distance at about 15 µs per km when both ends
     * have coordinates, and {@link #UNKNOWN_DISTANCE_RTT_NANOS} otherwise, so that regions without coordinates do not
     * all tie with the local region.
     */
    static long estimatedLatencyNanos(RegionSpec region, RegionSpec local) {
        if (region.id().equals(local.id())) {
            return 0;
        }
        GeoPoint here = local.location();
        GeoPoint there = region.location();
        return here == null || there == null ? UNKNOWN_DISTANCE_RTT_NANOS
                : (long) (here.distanceKm(there) * ESTIMATED_RTT_NANOS_PER_KM);
    }

    /**
     * Runs work a timer started that calls user code (a region call, the caller's continuations, a probe) off the
     * engine's own scheduler thread, so one slow callback cannot delay every other call's timeouts and deadline. With
     * a scheduler given to the builder (tests' manual clocks) the work runs where the timer fired.
     */
    void offTimer(Runnable work) {
        if (ownScheduler == null) {
            work.run();
            return;
        }
        try {
            attemptExecutor.execute(work);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            work.run(); // closing, or a bounded executor is full: run it here rather than lose it
        }
    }

    /** Starts the health probes, if there is a probe; once, after any warm-up. */
    public void startProbes() {
        if (probes != null) {
            probes.start();
        }
    }

    @Override
    public WarmUpReport warmUp(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new LatitudeConfigException("warmUp", LatitudeConfigException.format(timeout) + " is outside (0, 1 min]; use a second or two, such"
                    + " as Duration.ofSeconds(2)");
        }
        if (config.probe() == null) {
            throw new LatitudeConfigException("warmUp", "needs a cheap request to send to each region: build the"
                    + " engine with healthProbe(probe, config)");
        }
        return ProbeRunner.warmUp(config.probe(), regions, timeout);
    }

    @Override
    public <T, E extends Exception> T execute(Operation operation, RegionCall<T, E> call) throws E {
        return blocking(operation, call, null);
    }

    /** Waits for a call on the caller's thread; rethrows its failure as it is. */
    private <T, E extends Exception> T await(Operation operation, CompletableFuture<T> result) throws E {
        try {
            return result.get();
        } catch (InterruptedException e) {
            result.cancel(true);
            Thread.currentThread().interrupt();
            throw new LatitudeException(operation.name() + ": interrupted while waiting for the call; its attempts"
                    + " were cancelled", e);
        } catch (ExecutionException e) {
            throw Engine.<E>rethrow(e.getCause());
        }
    }

    /** Throws {@code t} as it is: runtime exceptions and errors unchanged, a checked one as the caller's {@code E}. */
    @SuppressWarnings("unchecked")
    private static <E extends Exception> RuntimeException rethrow(Throwable t) throws E {
        if (t instanceof RuntimeException) {
            throw (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        throw (E) t;
    }

    @Override
    public <T> CompletableFuture<T> executeAsync(Operation operation, AsyncRegionCall<T> call) {
        Objects.requireNonNull(operation, "operation");
        Objects.requireNonNull(call, "call");
        if (closed) {
            throw new LatitudeException("this Latitude engine is closed; build a new one", null);
        }
        CallExecution<T> execution = new CallExecution<>(this, operation, call, null, route(operation, false));
        execution.start();
        return execution.result;
    }

    @Override
    public <T> CompletableFuture<T> executeAsync(Operation operation, AsyncRegionCall<T> call,
            ResultWatermark<? super T> watermark) {
        Objects.requireNonNull(operation, "operation");
        Objects.requireNonNull(call, "call");
        Objects.requireNonNull(watermark, "watermark");
        if (closed) {
            throw new LatitudeException("this Latitude engine is closed; build a new one", null);
        }
        CallExecution<T> execution = new CallExecution<>(this, operation, call, watermark, route(operation, true));
        execution.start();
        return execution.result;
    }

    @Override
    public <T, E extends Exception> T execute(Operation operation, RegionCall<T, E> call,
            ResultWatermark<? super T> watermark) throws E {
        Objects.requireNonNull(watermark, "watermark");
        return blocking(operation, call, watermark);
    }

    /** Runs a blocking call through the non-blocking core and waits for it; {@code watermark} may be null. */
    private <T, E extends Exception> T blocking(Operation operation, RegionCall<T, E> call,
            ResultWatermark<? super T> watermark) throws E {
        Objects.requireNonNull(operation, "operation");
        Objects.requireNonNull(call, "call");
        CallerSlot slot = runsOnCaller(operation) ? new CallerSlot(hedgeable(operation)) : null;
        AsyncRegionCall<T> attempt = slot != null ? region -> slot.attempt(region, () -> call.call(region))
                : region -> AttemptTask.submit(attemptExecutor, () -> call.call(region));
        CompletableFuture<T> result = watermark == null ? executeAsync(operation, attempt)
                : executeAsync(operation, attempt, watermark);
        if (slot != null) {
            slot.runDeferred();
        }
        return await(operation, result);
    }

    /** Whether a blocking call's first attempt may run on the calling thread (see callerRunsFirstAttempt). */
    private boolean runsOnCaller(Operation op) {
        return config.callerRunsFirstAttempt() && !Thread.currentThread().isInterrupted();
    }

    /** Whether a call may be hedged (the topology permitting): an idempotent read with hedging on. */
    boolean hedgeable(Operation op) {
        return config.hedging().enabled() && op.isRead() && op.idempotent();
    }

    /**
     * Holds the first attempt of a blocking call for the calling thread to run after the engine has set it up (its
     * timers armed, its completion wired), outside every lock; any later attempt goes to the attempt executor. The
     * first attempt of a hedgeable call goes there too unless its region is calm ({@link RegionState#calm}): where a
     * hedge is likely, the caller must be free to take the hedge's answer the moment it comes.
     */
    private final class CallerSlot {
        private final Thread caller = Thread.currentThread();
        private final boolean hedgeable;
        private AttemptTask<?> deferred;
        private boolean taken;

        CallerSlot(boolean hedgeable) {
            this.hedgeable = hedgeable;
        }

        <T> CompletableFuture<T> attempt(RegionSpec region, java.util.concurrent.Callable<T> body) {
            if (Thread.currentThread() == caller && !taken) {
                taken = true;
                if (!hedgeable || regions[topology.indexOf(region.id())].calm(ticker.read())) {
                    AttemptTask<T> task = AttemptTask.deferred(body);
                    deferred = task;
                    return task;
                }
            }
            return AttemptTask.submit(attemptExecutor, body);
        }

        void runDeferred() {
            if (deferred != null) {
                deferred.run();
            }
        }
    }

    /**
     * Plans a call. Filters, in order: residency (the data class's jurisdictions; never relaxed), role (writes to the
     * data class's writer regions), consistency (STRONG: writers; SESSION: regions proven to have the session's
     * writes, or regions whose answer can be verified; BOUNDED_STALENESS: regions known to be close enough), health
     * (unhealthy regions go last, least bad first), then the routing policy's order.
     *
     * @param op the operation
     * @param canVerify whether the call supplies a result watermark, so unproven replicas can be checked
     * @return the plan
     */
    RoutePlan route(Operation op, boolean canVerify) {
        long now = ticker.read();
        DataPolicy policy = dataPolicies.policyFor(op.dataClass());
        boolean write = op.kind() == Operation.Kind.WRITE;
        ConsistencyLevel level = write ? null : op.consistency() != null ? op.consistency() : policy.consistency();
        Session session = write || level.kind() == ConsistencyLevel.Kind.SESSION
                ? (op.session() != null ? op.session() : Session.current()) : null;
        Watermark required = null;
        boolean keyLevel = false;
        if (session != null && !write) {
            SessionToken token = session.token();
            required = token.requirement(op.dataClass(), op.key());
            if (required != null && !bounds.admits(required)) {
                // A forged or far-future watermark would make every replica look behind: treat it as absent.
                token = bounds.clamp(token);
                required = token.requirement(op.dataClass(), op.key());
            }
            keyLevel = required != null && token.isKeyLevel(op.dataClass(), op.key());
        }
        Candidates c = scratch.get();
        c.reset(op);
        int[] unavailable = null;
        int unavailableCount = 0;
        long verify = 0; // bit per region index: its answer must be checked against 'required'
        int outsideResidency = 0;
        int behind = 0;
        for (RegionState r : regions) {
            if (!policy.allows(r.spec)) {
                outsideResidency++;
                continue;
            }
            if (write ? !takesWrites(policy, r.spec) : !r.spec.isReader()) {
                continue;
            }
            if (!write) {
                int eligibility = eligibility(policy, level, required, keyLevel && canVerify, op.dataClass(), r.spec);
                if (eligibility == INELIGIBLE) {
                    behind++;
                    continue;
                }
                if (eligibility == NEEDS_VERIFY) {
                    verify |= 1L << r.index;
                }
            }
            if (r.available(now)) {
                c.add(r);
            } else {
                if (unavailable == null) {
                    unavailable = new int[regions.length];
                }
                unavailable[unavailableCount++] = r.index;
            }
        }
        if (c.size > 1) {
            RoutingPolicy routingPolicy = routing;
            try {
                routingPolicy.rank(c);
                Ranking.sort(c.items, c.ranks, 0, c.size);
            } catch (RuntimeException e) {
                LOG.warn("Routing policy {} failed for {}; using topology order", routingPolicy, op, e);
            }
        }
        int healthy = c.size;
        int[] order = Arrays.copyOf(c.items, healthy + unavailableCount);
        if (unavailableCount > 0) {
            double[] openedAt = new double[unavailableCount];
            for (int i = 0; i < unavailableCount; i++) {
                openedAt[i] = regions[unavailable[i]].openedAtNanos();
            }
            Ranking.sort(unavailable, openedAt, 0, unavailableCount);
            System.arraycopy(unavailable, 0, order, healthy, unavailableCount);
        }
        int source = required != null && topology.contains(required.region())
                ? topology.indexOf(required.region()) : -1;
        return new RoutePlan(order, healthy, policy, level, session, required, verify, source, outsideResidency,
                behind);
    }

    private static final int ELIGIBLE = 0;
    private static final int NEEDS_VERIFY = 1;
    private static final int INELIGIBLE = 2;

    /**
     * Returns the one region that takes writes of a single-writer data class, or {@code null} for a multi-writer one
     * (or if several regions could take them).
     */
    @Override
    public void moveWriter(String regionId) {
        if (regionId == null || !topology.contains(regionId)) {
            throw new LatitudeConfigException("writerRegion", "'" + regionId + "' is not a region of the topology;"
                    + " move the writer to one of " + topology.regions().stream().map(RegionSpec::id).toList());
        }
        movedWriter = regionId;
    }

    /** Whether {@code region} holds the writer role: the one it was moved to, else the topology's. */
    private boolean isWriter(RegionSpec region) {
        String moved = movedWriter;
        return moved != null ? moved.equals(region.id()) : region.isWriter();
    }

    String singleWriter(DataPolicy policy) {
        if (policy.writeMode() != WriteMode.SINGLE_WRITER) {
            return null;
        }
        if (policy.writerRegion() != null) {
            return policy.writerRegion();
        }
        String found = null;
        for (RegionState r : regions) {
            if (isWriter(r.spec) && policy.allows(r.spec)) {
                if (found != null) {
                    return null;
                }
                found = r.spec.id();
            }
        }
        return found;
    }

    /** Whether {@code region} takes writes of a data class with {@code policy}. */
    private boolean takesWrites(DataPolicy policy, RegionSpec region) {
        if (policy.writeMode() == WriteMode.MULTI_WRITER) {
            return true;
        }
        return policy.writerRegion() != null ? policy.writerRegion().equals(region.id()) : isWriter(region);
    }

    /** The consistency filter for a read. */
    private int eligibility(DataPolicy policy, ConsistencyLevel level, Watermark required, boolean verifiable,
            String dataClass, RegionSpec region) {
        switch (level.kind()) {
            case STRONG:
                return takesWrites(policy, region) ? ELIGIBLE : INELIGIBLE;
            case SESSION:
                if (required == null || region.id().equals(required.region())
                        || (policy.writeMode() == WriteMode.SINGLE_WRITER && takesWrites(policy, region))) {
                    return ELIGIBLE; // nothing to see, or the region took the write (a single writer has them all)
                }
                long applied = watermarks.applied(region.id(), required.region(), dataClass);
                if (applied >= required.value()) {
                    return ELIGIBLE;
                }
                return applied == ReplicationWatermarks.UNKNOWN && verifiable ? NEEDS_VERIFY : INELIGIBLE;
            case BOUNDED_STALENESS:
                if (takesWrites(policy, region)) {
                    return ELIGIBLE;
                }
                long staleness = watermarks.stalenessMillis(region.id(), dataClass);
                return staleness != ReplicationWatermarks.UNKNOWN && staleness <= level.maxStaleness().toMillis()
                        ? ELIGIBLE : INELIGIBLE;
            default:
                return ELIGIBLE;
        }
    }

    @Override
    public Plan plan(Operation operation) {
        RoutePlan p = route(Objects.requireNonNull(operation, "operation"), false);
        List<RegionSpec> list = new ArrayList<>(p.order.length);
        for (int i : p.order) {
            list.add(regions[i].spec);
        }
        return new Plan(list, p.healthy);
    }

    @Override
    public Topology topology() {
        return topology;
    }

    @Override
    public RoutingPolicy routingPolicy() {
        return routing;
    }

    @Override
    public void routingPolicy(RoutingPolicy policy) {
        Objects.requireNonNull(policy, "policy").validate(topology);
        LOG.info("Routing policy changed from {} to {}", this.routing, policy);
        this.routing = policy;
    }

    @Override
    public HybridLogicalClock hybridClock() {
        return config.hybridClock();
    }

    @Override
    public WatermarkBounds watermarkBounds() {
        return bounds;
    }

    @Override
    public Scheduler scheduler() {
        return scheduler;
    }

    @Override
    public DataPolicies dataPolicies() {
        return dataPolicies;
    }

    @Override
    public List<RegionStatus> status() {
        long now = ticker.read();
        List<RegionStatus> list = new ArrayList<>(regions.length);
        for (RegionState r : regions) {
            list.add(r.status(now));
        }
        return List.copyOf(list);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (probes != null) {
            probes.stop();
        }
        telemetry.close();
        if (ownScheduler != null) {
            ownScheduler.close();
        }
        if (ownExecutor != null) {
            ownExecutor.shutdown();
        }
    }

    @Override
    public void circuitChanged(RegionState region, CircuitState from, CircuitState to) {
        LOG.info("Region {} circuit {} -> {}", region.spec.id(), from, to);
        telemetry.circuitChanged(region, to);
        try {
            config.listener().onCircuitStateChange(region.spec, from, to);
        } catch (RuntimeException e) {
            LOG.warn("HealthListener.onCircuitStateChange threw; ignored", e);
        }
    }

    @Override
    public void probeChanged(RegionState region, ProbeState from, ProbeState to) {
        LOG.info("Region {} probe {} -> {}", region.spec.id(), from, to);
        try {
            config.listener().onProbeStateChange(region.spec, from, to);
        } catch (RuntimeException e) {
            LOG.warn("HealthListener.onProbeStateChange threw; ignored", e);
        }
    }

    /**
     * An ordered plan: region indexes, the first {@code healthy} of which passed the health filter, with what the
     * consistency and residency filters decided.
     */
    static final class RoutePlan {
        final int[] order;
        final int healthy;
        final DataPolicy policy;
        final ConsistencyLevel level;
        final Session session;
        final Watermark required;
        /** Bit per region index: an answer from there must be checked against {@link #required}. */
        final long verify;
        /** The index of the region that took the session's write, or -1. */
        final int source;
        final int outsideResidency;
        final int behind;

        RoutePlan(int[] order, int healthy, DataPolicy policy, ConsistencyLevel level, Session session,
                Watermark required, long verify, int source, int outsideResidency, int behind) {
            this.order = order;
            this.healthy = healthy;
            this.policy = policy;
            this.level = level;
            this.session = session;
            this.required = required;
            this.verify = verify;
            this.source = source;
            this.outsideResidency = outsideResidency;
            this.behind = behind;
        }
    }
}
