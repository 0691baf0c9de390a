package dev.latitude.internal;

import dev.latitude.AsyncRegionCall;
import dev.latitude.CircuitState;
import dev.latitude.GeoPoint;
import dev.latitude.Latitude;
import dev.latitude.LatitudeException;
import dev.latitude.Operation;
import dev.latitude.Plan;
import dev.latitude.ProbeState;
import dev.latitude.RegionCall;
import dev.latitude.RegionSpec;
import dev.latitude.RegionStatus;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.spi.Scheduler;
import dev.latitude.spi.Ticker;
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
    private static final long PERCENTILE_REFRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    final EngineConfig config;
    final Topology topology;
    final RegionState[] regions;
    final Ticker ticker;
    final Scheduler scheduler;
    final Telemetry telemetry;
    final HedgeBudget hedgeBudget;
    final long hedgeMinDelayNanos;
    private final Executor attemptExecutor;
    private final SystemScheduler ownScheduler;
    private final ExecutorService ownExecutor;
    private final ThreadLocal<Candidates> scratch;
    private final ProbeRunner probes;
    private volatile RoutingPolicy policy;
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
        this.policy = config.policy();
        long now = ticker.read();
        List<RegionSpec> specs = topology.regions();
        this.regions = new RegionState[specs.size()];
        GeoPoint here = topology.localRegion().location();
        for (int i = 0; i < regions.length; i++) {
            RegionSpec r = specs.get(i);
            long estimate = here == null || r.location() == null ? 0
                    : (long) (here.distanceKm(r.location()) * ESTIMATED_RTT_NANOS_PER_KM);
            LatencyTracker tracker = new LatencyTracker(config.latencyAlpha(), config.hedging().percentile(),
                    config.hedging().minSamples(), PERCENTILE_REFRESH_NANOS, config.latencyWindowNanos(), now);
            regions[i] = new RegionState(r, i, tracker, estimate, config.breaker(), ticker, this);
        }
        this.telemetry = new Telemetry(config.openTelemetry(), List.of(regions));
        this.hedgeBudget = new HedgeBudget(config.hedging().budgetRatio(), config.hedging().maxBurst());
        this.hedgeMinDelayNanos = config.hedging().minDelay().toNanos();
        if (config.scheduler() != null) {
            this.scheduler = config.scheduler();
            this.ownScheduler = null;
        } else {
            this.ownScheduler = new SystemScheduler();
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
        if (probes != null) {
            probes.start();
        }
    }

    @Override
    public <T, E extends Exception> T execute(Operation operation, RegionCall<T, E> call) throws E {
        Objects.requireNonNull(call, "call");
        CompletableFuture<T> result = executeAsync(operation,
                region -> AttemptTask.submit(attemptExecutor, () -> call.call(region)));
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
        CallExecution<T> execution = new CallExecution<>(this, operation, call, route(operation));
        execution.start();
        return execution.result;
    }

    /**
     * Plans a call: role filter, health filter, routing policy; unhealthy regions follow, least bad first.
     *
     * @param op the operation
     * @return the plan
     */
    RoutePlan route(Operation op) {
        long now = ticker.read();
        Candidates c = scratch.get();
        c.reset(op);
        int[] unavailable = null;
        int unavailableCount = 0;
        boolean write = op.kind() == Operation.Kind.WRITE;
        for (RegionState r : regions) {
            if (write ? !r.spec.isWriter() : !r.spec.isReader()) {
                continue;
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
            try {
                policy.rank(c);
                Ranking.sort(c.items, c.ranks, 0, c.size);
            } catch (RuntimeException e) {
                LOG.warn("Routing policy {} failed for {}; using topology order", policy, op, e);
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
        return new RoutePlan(order, healthy);
    }

    @Override
    public Plan plan(Operation operation) {
        RoutePlan p = route(Objects.requireNonNull(operation, "operation"));
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
        return policy;
    }

    @Override
    public void routingPolicy(RoutingPolicy policy) {
        Objects.requireNonNull(policy, "policy").validate(topology);
        LOG.info("Routing policy changed from {} to {}", this.policy, policy);
        this.policy = policy;
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

    boolean closed() {
        return closed;
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

    /** An ordered plan: region indexes, the first {@code healthy} of which passed the health filter. */
    static final class RoutePlan {
        final int[] order;
        final int healthy;

        RoutePlan(int[] order, int healthy) {
            this.order = order;
            this.healthy = healthy;
        }
    }
}
