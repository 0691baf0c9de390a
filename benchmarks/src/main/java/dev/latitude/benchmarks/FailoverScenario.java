package dev.latitude.benchmarks;

import dev.latitude.AsyncRegionCall;
import dev.latitude.DataPolicies;
import dev.latitude.HybridLogicalClock;
import dev.latitude.ResultWatermark;
import dev.latitude.BreakerConfig;
import dev.latitude.CircuitState;
import dev.latitude.HealthListener;
import dev.latitude.HedgingConfig;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.Plan;
import dev.latitude.RegionCall;
import dev.latitude.RegionSpec;
import dev.latitude.RegionStatus;
import dev.latitude.WarmUpReport;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.testkit.FakeRegion;
import dev.latitude.testkit.FakeRegionClient;
import dev.latitude.testkit.FakeRegions;
import io.opentelemetry.api.OpenTelemetry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Failover of idempotent reads when the preferred region goes dark, measured end to end over HTTP on loopback.
 *
 * <p>Three {@link FakeRegion}s: us-east-1 (5 ms), us-west-2 (25 ms), eu-west-1 (70 ms). The engine prefers
 * us-east-1 ({@code RoutingPolicy.failover().priority(us-east-1, us-west-2, eu-west-1)}; {@code -Dfailover.policy=latency}
 * uses the latency policy instead), with a 100 ms attempt timeout, the default 5 s deadline, hedging on
 * ({@link HedgingConfig#defaults()}: p95, 5 % budget) and {@link BreakerConfig#defaults()} (open at 5 failures of the
 * last 10 attempts, stay open 5 s, close after 3 successful trial calls). A {@link FakeRegionClient} sends reads at a
 * fixed rate (200 calls/s from 4 scheduler threads), bounded in count and time.
 *
 * <p>Timeline: the JVM is first pre-warmed through a throwaway engine (see {@link #prewarm}); then warm-up load (5 s),
 * then us-east-1 is {@link FakeRegion#blackhole() blackholed} (accepts, never answers)
 * for the fault window (8 s: longer than the breaker's open delay, so its half-open trials run into the blackhole
 * too), then healed, then a recovery window (5 s). Every call's start, end, outcome, serving region and the regions of
 * its attempts (through a recording decorator of {@link Latitude}) are kept; the figures are computed afterwards:
 *
 * <ul>
 *   <li>{@code baseline_p50_ms}, {@code baseline_p99_ms}: latency of calls started in the 3 s before the blackhole.</li>
 *   <li>{@code moved_ms}: time from the blackhole to the last routing decision that still sent an ordinary call to
 *       us-east-1 first; after that moment every call started in the fault window went first to another region,
 *       except breaker trial calls (a first attempt in us-east-1 while its circuit was not closed, counted in
 *       {@code trial_calls}). Calls completing after the blackhole are all answered by other regions within a few
 *       ms, so "served by another region" alone would measure nothing; what moves is where new calls are sent.
 *       -1 if the circuit never opened (traffic never moved).</li>
 *   <li>{@code p99_ms}, {@code fault_p50_ms}, {@code fault_max_ms}: latency of calls started during the fault window,
 *       including the ones caught by it (attempt timed out or was hedged) and the trial calls.</li>
 *   <li>{@code failed_calls}: calls that completed exceptionally, over the whole run (target 0).</li>
 *   <li>{@code recovered_ms}: time from the heal to the start of the first call after which every call went first to
 *       us-east-1 and was served there; -1 if that never happened before the end.</li>
 * </ul>
 *
 * <p>System properties for exploring (the defaults are what {@code benchmarks/run.sh failover} measures):
 * {@code failover.policy} (failover|latency), {@code failover.hedging} (true|false), {@code failover.hedgeBudget}
 * (ratio), {@code failover.warmupSeconds}, {@code failover.faultSeconds}, {@code failover.recoverySeconds},
 * {@code failover.rate} (calls/s), {@code failover.threads}.
 */
public final class FailoverScenario {
    static final String PREFERRED = "us-east-1";
    private static final long MS = 1_000_000L;

    private final String policyName = System.getProperty("failover.policy", "failover");
    private final int warmupSeconds = Integer.getInteger("failover.warmupSeconds", 5);
    private final int faultSeconds = Integer.getInteger("failover.faultSeconds", 8);
    private final int recoverySeconds = Integer.getInteger("failover.recoverySeconds", 5);
    private final int rate = Integer.getInteger("failover.rate", 200);
    private final int threads = Integer.getInteger("failover.threads", 4);
    /** Exploration knobs, not used by {@code run.sh}: hedging off, or a larger hedge budget. */
    private final boolean hedging = Boolean.parseBoolean(System.getProperty("failover.hedging", "true"));
    private final String hedgeBudget = System.getProperty("failover.hedgeBudget");

    private final List<Transition> transitions = new CopyOnWriteArrayList<>();
    private long origin;

    /** One attempt as the engine dispatched it. */
    record Attempt(String region, long at) {
    }

    /** A circuit transition as reported to the {@link HealthListener}. */
    record Transition(long at, String region, CircuitState from, CircuitState to) {
    }

    /** One logical call. Written by the load and completion threads, read after the run. */
    static final class Call {
        final int id;
        final long start;
        final List<Attempt> attempts = new CopyOnWriteArrayList<>();
        volatile long end;
        volatile String servedBy;
        volatile Throwable error;
        volatile boolean done;

        Call(int id, long start) {
            this.id = id;
            this.start = start;
        }

        Attempt first() {
            return attempts.isEmpty() ? null : attempts.get(0);
        }

        double latencyMs() {
            return (end - start) / (double) MS;
        }
    }

    /** Records the regions of each call's attempts; the call is handed over by the thread that starts it. */
    static final class RecordingLatitude implements Latitude {
        static final ThreadLocal<Call> CURRENT = new ThreadLocal<>();
        private final Latitude delegate;

        RecordingLatitude(Latitude delegate) {
            this.delegate = delegate;
        }

        @Override
        public <T> CompletableFuture<T> executeAsync(Operation operation, AsyncRegionCall<T> call) {
            Call c = CURRENT.get();
            if (c == null) {
                return delegate.executeAsync(operation, call);
            }
            return delegate.executeAsync(operation, region -> {
                c.attempts.add(new Attempt(region.id(), System.nanoTime()));
                return call.call(region);
            });
        }

        @Override
        public <T, E extends Exception> T execute(Operation operation, RegionCall<T, E> call) throws E {
            return delegate.execute(operation, call);
        }

        @Override
        public <T> CompletableFuture<T> executeAsync(Operation operation, AsyncRegionCall<T> call,
                ResultWatermark<? super T> watermark) {
            return delegate.executeAsync(operation, call, watermark);
        }

        @Override
        public <T, E extends Exception> T execute(Operation operation, RegionCall<T, E> call,
                ResultWatermark<? super T> watermark) throws E {
            return delegate.execute(operation, call, watermark);
        }

        @Override
        public HybridLogicalClock hybridClock() {
            return delegate.hybridClock();
        }

        @Override
        public DataPolicies dataPolicies() {
            return delegate.dataPolicies();
        }

        @Override
        public Plan plan(Operation operation) {
            return delegate.plan(operation);
        }

        @Override
        public Topology topology() {
            return delegate.topology();
        }

        @Override
        public RoutingPolicy routingPolicy() {
            return delegate.routingPolicy();
        }

        @Override
        public void routingPolicy(RoutingPolicy policy) {
            delegate.routingPolicy(policy);
        }

        @Override
        public List<RegionStatus> status() {
            return delegate.status();
        }

        @Override
        public WarmUpReport warmUp(Duration timeout) {
            return delegate.warmUp(timeout);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    /**
     * Runs the scenario, printing its progress, and returns the metric lines ({@code failover.name=value unit}).
     *
     * @return the metric lines, to be printed last
     * @throws InterruptedException if interrupted
     */
    public List<String> run() throws InterruptedException {
        Map<String, Duration> latencies = new LinkedHashMap<>();
        latencies.put("us-east-1", Duration.ofMillis(5));
        latencies.put("us-west-2", Duration.ofMillis(25));
        latencies.put("eu-west-1", Duration.ofMillis(70));
        int maxCalls = rate * (warmupSeconds + faultSeconds + recoverySeconds) + rate; // a second of slack
        long periodNanos = TimeUnit.SECONDS.toNanos(1) * threads / rate;

        Topology topology = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder("us-west-2").jurisdiction("US").location(45.8, -119.7).build())
                .region(RegionSpec.builder("eu-west-1").jurisdiction("EU").location(53.35, -6.26).build())
                .localRegion("us-east-1")
                .build();
        RoutingPolicy policy = switch (policyName) {
            case "failover" -> RoutingPolicy.failover().priority("us-east-1", "us-west-2", "eu-west-1").build();
            case "latency" -> RoutingPolicy.latency().build();
            default -> throw new IllegalArgumentException("failover.policy must be failover or latency, got " + policyName);
        };
        Operation read = Operation.read("GetItem").dataClass("items").build();
        AtomicReferenceArray<Call> calls = new AtomicReferenceArray<>(maxCalls);
        AtomicInteger issued = new AtomicInteger();
        long tFault;
        long tHeal;
        long tStop;
        int[] requestsAtFault = new int[3];
        int[] requestsAtHeal = new int[3];
        int[] requestsAtStop = new int[3];

        System.out.printf(Locale.ROOT, "failover: regions %s, policy %s, attempt timeout 100 ms, hedging %s, breaker %s%n",
                latencies, policyName, describe(hedgingConfig()),
                "defaults (5 of 10 fail -> open 5 s, 3 trial successes close)");
        System.out.printf(Locale.ROOT, "failover: load %d calls/s from %d threads, at most %d calls; warm-up %d s,"
                + " blackhole %s %d s, recovery %d s%n", rate, threads, maxCalls, warmupSeconds, PREFERRED, faultSeconds,
                recoverySeconds);

        try (FakeRegions lab = FakeRegions.start(latencies)) {
            long warmStart = System.nanoTime();
            prewarm(lab, topology, read, 200);
            System.out.printf(Locale.ROOT, "failover: pre-warmed the JVM with 200 reads per region through a throwaway"
                    + " engine in %.0f ms%n", (System.nanoTime() - warmStart) / (double) MS);
            try (Latitude engine = Latitude.builder()
                    .topology(topology)
                    .routingPolicy(policy)
                    .errorClassifier(FakeRegionClient.errorClassifier())
                    .attemptTimeout(Duration.ofMillis(100))
                    .hedging(hedgingConfig())
                    .breaker(BreakerConfig.defaults())
                    .openTelemetry(OpenTelemetry.noop())
                    .healthListener(new HealthListener() {
                        @Override
                        public void onCircuitStateChange(RegionSpec region, CircuitState from, CircuitState to) {
                            transitions.add(new Transition(System.nanoTime(), region.id(), from, to));
                        }
                    })
                    .build()) {
                RecordingLatitude recording = new RecordingLatitude(engine);
                FakeRegionClient client = new FakeRegionClient(recording, lab.endpoints());
                FakeRegion preferred = lab.region(PREFERRED);
                List<FakeRegion> all = lab.regions();

                ScheduledExecutorService load = Executors.newScheduledThreadPool(threads, r -> {
                    Thread t = new Thread(r, "failover-load");
                    t.setDaemon(true);
                    return t;
                });
                origin = System.nanoTime();
                Runnable tick = () -> {
                    try {
                        startCall(client, read, calls, issued, maxCalls);
                    } catch (Throwable t) { // a throwing tick would silently cancel its schedule
                        System.out.println("failover: load tick failed: " + t);
                    }
                };
                for (int k = 0; k < threads; k++) {
                    load.scheduleAtFixedRate(tick, k * periodNanos / threads, periodNanos, TimeUnit.NANOSECONDS);
                }

                TimeUnit.SECONDS.sleep(warmupSeconds);
                snapshot(all, requestsAtFault);
                tFault = System.nanoTime();
                preferred.blackhole();
                System.out.printf(Locale.ROOT, "failover: t=%.0f ms blackholed %s (took %.1f ms)%n", rel(tFault),
                        PREFERRED, (System.nanoTime() - tFault) / (double) MS);

                TimeUnit.SECONDS.sleep(faultSeconds);
                snapshot(all, requestsAtHeal);
                tHeal = System.nanoTime();
                preferred.heal();
                System.out.printf(Locale.ROOT, "failover: t=%.0f ms healed %s%n", rel(tHeal), PREFERRED);

                TimeUnit.SECONDS.sleep(recoverySeconds);
                load.shutdownNow();
                load.awaitTermination(5, TimeUnit.SECONDS);
                tStop = System.nanoTime();
                snapshot(all, requestsAtStop);
                int n = Math.min(issued.get(), maxCalls);
                long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); // the deadline is 5 s
                while (System.nanoTime() < drainUntil && !allDone(calls, n)) {
                    TimeUnit.MILLISECONDS.sleep(20);
                }
                System.out.printf(Locale.ROOT, "failover: t=%.0f ms load stopped after %d calls%n", rel(tStop), n);
                for (RegionStatus s : engine.status()) {
                    System.out.printf(Locale.ROOT, "failover: status %s circuit=%s ewma=%s hedge-percentile=%s%n",
                            s.region().id(), s.circuit(), ms(s.latencyEwmaNanos()), ms(s.hedgePercentileNanos()));
                }
            }
        }

        List<Call> list = new ArrayList<>();
        for (int i = 0; i < calls.length(); i++) {
            Call c = calls.get(i);
            if (c != null) {
                list.add(c);
            }
        }
        list.sort(Comparator.comparingLong(c -> c.start));
        return report(list, tFault, tHeal, tStop, requestsAtFault, requestsAtHeal, requestsAtStop);
    }

    /** Starts call number {@code issued++} unless {@code maxCalls} were started; records it in {@code calls}. */
    private static void startCall(FakeRegionClient client, Operation read, AtomicReferenceArray<Call> calls,
            AtomicInteger issued, int maxCalls) {
        int id = issued.getAndIncrement();
        if (id >= maxCalls) {
            return;
        }
        Call c = new Call(id, System.nanoTime());
        calls.set(id, c);
        CompletableFuture<String> f;
        RecordingLatitude.CURRENT.set(c);
        try {
            f = client.get(read, "/items/" + id);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        } finally {
            RecordingLatitude.CURRENT.remove();
        }
        f.whenComplete((v, e) -> {
            c.end = System.nanoTime();
            c.servedBy = v;
            c.error = e;
            c.done = true;
        });
    }

    private static String describe(HedgingConfig h) {
        return !h.enabled() ? "off" : String.format(Locale.ROOT, "on (p%.0f, %.0f%% budget, burst %d, %d samples)",
                h.percentile(), h.budgetRatio() * 100, h.maxBurst(), h.minSamples());
    }

    private HedgingConfig hedgingConfig() {
        if (!hedging) {
            return HedgingConfig.disabled();
        }
        return hedgeBudget == null ? HedgingConfig.defaults()
                : HedgingConfig.builder().budgetRatio(Double.parseDouble(hedgeBudget)).build();
    }

    /**
     * Warms the JVM before anything is measured: a throwaway engine (2 s attempt timeout, no hedging) and client
     * send {@code n} reads to each region. A cold JVM takes well over 100 ms for its first HTTP calls (class loading,
     * JIT), which with the measured engine's 100 ms attempt timeout opened every region's circuit at start-up.
     */
    private static void prewarm(FakeRegions lab, Topology topology, Operation read, int n) throws InterruptedException {
        for (String id : lab.endpoints().keySet()) {
            try (Latitude warm = Latitude.builder()
                    .topology(topology)
                    .routingPolicy(RoutingPolicy.failover().priority(id).build())
                    .errorClassifier(FakeRegionClient.errorClassifier())
                    .attemptTimeout(Duration.ofSeconds(2))
                    .hedging(HedgingConfig.disabled())
                    .openTelemetry(OpenTelemetry.noop())
                    .build()) {
                FakeRegionClient client = new FakeRegionClient(warm, lab.endpoints());
                List<CompletableFuture<String>> batch = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    batch.add(client.get(read, "/warm/" + i));
                    if (batch.size() == 8) {
                        CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
                        batch.clear();
                    }
                }
                CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
            }
        }
        lab.regions().forEach(FakeRegion::resetRequests);
    }

    private static void snapshot(List<FakeRegion> regions, int[] into) {
        for (int i = 0; i < regions.size(); i++) {
            into[i] = regions.get(i).requestCount();
        }
    }

    private static boolean allDone(AtomicReferenceArray<Call> calls, int n) {
        for (int i = 0; i < n; i++) {
            Call c = calls.get(i);
            if (c != null && !c.done) {
                return false;
            }
        }
        return true;
    }

    /** Formats an engine reading in ns, where -1 means unknown. */
    private static String ms(long nanos) {
        return nanos < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f ms", nanos / (double) MS);
    }

    private double rel(long t) {
        return (t - origin) / (double) MS;
    }

    /** The state of {@code region}'s circuit at {@code at}, from the listener's record. */
    private CircuitState circuitAt(String region, long at) {
        CircuitState s = CircuitState.CLOSED;
        for (Transition t : transitions) {
            if (t.region().equals(region) && t.at() <= at) {
                s = t.to();
            }
        }
        return s;
    }

    private List<String> report(List<Call> calls, long tFault, long tHeal, long tStop, int[] atFault, int[] atHeal,
            int[] atStop) {
        for (Transition t : transitions) {
            System.out.printf(Locale.ROOT, "failover: t=%.0f ms (%+.0f ms from blackhole) circuit %s %s -> %s%n",
                    rel(t.at()), (t.at() - tFault) / (double) MS, t.region(), t.from(), t.to());
        }
        List<Call> baseline = new ArrayList<>();
        List<Call> fault = new ArrayList<>();
        List<Call> recovery = new ArrayList<>();
        int failed = 0;
        int unfinished = 0;
        for (Call c : calls) {
            if (!c.done) {
                unfinished++;
                continue;
            }
            if (c.error != null) {
                failed++;
                System.out.printf(Locale.ROOT, "failover: call %d started t=%.0f ms FAILED after %.1f ms: %s%n", c.id,
                        rel(c.start), c.latencyMs(), c.error);
            }
            if (c.start >= tFault - TimeUnit.SECONDS.toNanos(3) && c.start < tFault) {
                baseline.add(c);
            } else if (c.start >= tFault && c.start < tHeal) {
                fault.add(c);
            } else if (c.start >= tHeal) {
                recovery.add(c);
            }
        }
        phase("baseline (3 s before blackhole)", baseline);
        phase("fault window", fault);
        phase("recovery window", recovery);
        System.out.printf(Locale.ROOT, "failover: requests reaching regions [us-east-1, us-west-2, eu-west-1]:"
                + " fault window %s, recovery window %s%n", Arrays.toString(diff(atHeal, atFault)),
                Arrays.toString(diff(atStop, atHeal)));

        // moved: the last ordinary (non-trial) call of the fault window whose first attempt went to the dead region.
        boolean opened = transitions.stream().anyMatch(t -> t.region().equals(PREFERRED) && t.to() == CircuitState.OPEN
                && t.at() >= tFault);
        Call lastToPreferred = null;
        int trials = 0;
        for (Call c : fault) {
            Attempt first = c.first();
            if (first == null || !first.region().equals(PREFERRED)) {
                continue;
            }
            if (circuitAt(PREFERRED, first.at()) != CircuitState.CLOSED) {
                trials++;
                System.out.printf(Locale.ROOT, "failover: trial call %d first attempt at %+.0f ms from blackhole,"
                        + " %.1f ms, served by %s, attempts %s%n", c.id, (first.at() - tFault) / (double) MS,
                        c.latencyMs(), c.servedBy, regions(c));
            } else {
                lastToPreferred = c;
            }
        }
        double movedMs = !opened ? -1 : lastToPreferred == null ? 0
                : (lastToPreferred.first().at() - tFault) / (double) MS;
        if (!opened) {
            System.out.println("failover: the circuit of " + PREFERRED + " never opened: traffic did not move");
        }
        int slow = 0;
        for (Call c : fault) {
            if (c.latencyMs() > 60) {
                slow++;
            }
        }
        System.out.printf(Locale.ROOT, "failover: %d fault-window calls took over 60 ms%n", slow);

        // recovered: the first call after the heal from which every call went first to, and was served by, us-east-1.
        double recoveredMs = -1;
        for (int i = recovery.size() - 1; i >= 0; i--) {
            Call c = recovery.get(i);
            Attempt first = c.first();
            boolean home = c.error == null && PREFERRED.equals(c.servedBy) && first != null
                    && first.region().equals(PREFERRED);
            if (!home) {
                recoveredMs = i + 1 < recovery.size() ? (recovery.get(i + 1).start - tHeal) / (double) MS : -1;
                break;
            }
            if (i == 0) {
                recoveredMs = (c.start - tHeal) / (double) MS;
            }
        }
        if (unfinished > 0) {
            System.out.println("failover: " + unfinished + " calls had not completed 10 s after the load stopped");
        }

        List<String> metrics = new ArrayList<>();
        metrics.add(metric("baseline_p50_ms", percentile(baseline, 50), "ms"));
        metrics.add(metric("baseline_p99_ms", percentile(baseline, 99), "ms"));
        metrics.add(metric("moved_ms", movedMs, "ms"));
        metrics.add(metric("p99_ms", percentile(fault, 99), "ms"));
        metrics.add(metric("fault_p50_ms", percentile(fault, 50), "ms"));
        metrics.add(metric("fault_max_ms", percentile(fault, 100), "ms"));
        metrics.add("failover.trial_calls=" + trials + " calls");
        metrics.add(metric("recovered_ms", recoveredMs, "ms"));
        metrics.add("failover.total_calls=" + calls.size() + " calls");
        metrics.add("failover.failed_calls=" + (failed + unfinished) + " calls");
        return metrics;
    }

    private void phase(String name, List<Call> calls) {
        Map<String, Integer> served = new TreeMap<>();
        int extra = 0;
        for (Call c : calls) {
            served.merge(c.error != null ? "failed" : String.valueOf(c.servedBy), 1, Integer::sum);
            if (c.attempts.size() > 1) {
                extra++;
            }
        }
        System.out.printf(Locale.ROOT, "failover: %s: %d calls, p50 %.1f ms, p99 %.1f ms, max %.1f ms, served by %s,"
                + " %d with more than one attempt%n", name, calls.size(), percentile(calls, 50), percentile(calls, 99),
                percentile(calls, 100), served, extra);
    }

    private static String regions(Call c) {
        List<String> ids = new ArrayList<>();
        for (Attempt a : c.attempts) {
            ids.add(a.region());
        }
        return ids.toString();
    }

    private static int[] diff(int[] a, int[] b) {
        int[] d = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }

    /** Nearest-rank percentile of the calls' latencies in ms; NaN if there are none. */
    static double percentile(List<Call> calls, double p) {
        if (calls.isEmpty()) {
            return Double.NaN;
        }
        double[] v = new double[calls.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = calls.get(i).latencyMs();
        }
        Arrays.sort(v);
        int rank = (int) Math.ceil(p / 100.0 * v.length);
        return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
    }

    private static String metric(String name, double value, String unit) {
        return String.format(Locale.ROOT, "failover.%s=%.1f %s", name, value, unit);
    }
}
