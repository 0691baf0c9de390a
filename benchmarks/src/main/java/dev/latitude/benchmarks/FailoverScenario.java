package dev.latitude.benchmarks;

import dev.latitude.AsyncRegionCall;
import dev.latitude.AttemptRecord;
import dev.latitude.DataPolicies;
import dev.latitude.HybridLogicalClock;
import dev.latitude.ResultWatermark;
import dev.latitude.BreakerConfig;
import dev.latitude.CircuitState;
import dev.latitude.HealthListener;
import dev.latitude.HedgingConfig;
import dev.latitude.Latitude;
import dev.latitude.LatitudeCallException;
import dev.latitude.Operation;
import dev.latitude.Plan;
import dev.latitude.ProbeConfig;
import dev.latitude.ProbeState;
import dev.latitude.RegionCall;
import dev.latitude.RegionSpec;
import dev.latitude.RegionStatus;
import dev.latitude.RegionsUnavailableException;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.WarmUpReport;
import dev.latitude.WatermarkBounds;
import dev.latitude.spi.HealthProbe;
import dev.latitude.spi.Scheduler;
import dev.latitude.testkit.FakeRegion;
import dev.latitude.testkit.FakeRegionClient;
import dev.latitude.testkit.FakeRegions;
import io.opentelemetry.api.OpenTelemetry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
import java.util.concurrent.CompletionException;
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
 * ({@link HedgingConfig#defaults()}: p95, 5 % budget), {@link BreakerConfig#defaults()} (open at 5 failures of the
 * last 10 attempts once 10 were judged within 10 s, stay open 5 s, close after 3 successful trial calls) and a health
 * probe, as a user of the engine would supply it: a GET of the region's {@code /health} with
 * {@link #PROBES} (only regions that are not healthy, every 250 ms, 250 ms timeout: the DynamoDB client's default). A
 * {@link FakeRegionClient} sends reads at a fixed rate (200 calls/s from 4 scheduler threads), bounded in count and
 * time.
 *
 * <p>The scenario runs in one of three {@linkplain Pass passes}; {@code benchmarks/run.sh failover} runs the cold one,
 * then the warm one:
 * <ul>
 *   <li>{@link Pass#COLD}: the client (engine, {@link FakeRegionClient}, probe) runs in a fresh JVM that has run
 *       nothing else ({@link #inFreshJvm(Pass)}): the engine is built and the load starts at once, as when a service
 *       boots. The fake regions run in the parent process, warmed up there with plain HTTP requests first: a booting
 *       service meets servers that have been up for a while, and their own cold start (WireMock, Jetty) would
 *       otherwise compete with the client's for the same two cores.</li>
 *   <li>{@link Pass#COLD_WARM_UP}: the same, with {@code Latitude.Builder.warmUp(2 s)} (the probe's request sent to
 *       every region before {@code build()} returns). Not part of {@code run.sh}; for exploring.</li>
 *   <li>{@link Pass#WARM}: fake regions and client in one JVM, pre-warmed through a throwaway engine first (see
 *       {@link #prewarm}), so that what is measured is the failover itself.</li>
 * </ul>
 *
 * <p>Timeline: load (5 s), then us-east-1 is {@link FakeRegion#blackhole() blackholed} (accepts, never answers) for
 * the fault window (8 s: longer than the breaker's open delay, so half-open trials can run into the blackhole too),
 * then healed, then a recovery window (5 s). Every call's start, end, outcome, serving region and the regions of its
 * attempts (through a recording decorator of {@link Latitude}) are kept; the figures are computed afterwards:
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
 *   <li>{@code failed_calls}: calls that completed exceptionally or not at all, over the whole run (target 0).</li>
 *   <li>{@code recovered_ms} (cold pass; {@code warm_recovered_ms} for the warm one): time from the heal to the start
 *       of the first call served by us-east-1; -1 if none was before the end. The log also gives the time from which
 *       every call went first to us-east-1 and was served there.</li>
 *   <li>Cold pass only: {@code cold_failed_calls} (as {@code failed_calls}), {@code cold_circuits_opened_before_fault}
 *       (CLOSED to OPEN transitions of any region before the blackhole; target 0), {@code cold_start_p99_ms} and
 *       {@code cold_start_max_ms} (calls started in the first second of load), {@code cold_total_calls}.</li>
 * </ul>
 *
 * <p>System properties for exploring (the defaults are what {@code benchmarks/run.sh failover} measures):
 * {@code failover.policy} (failover|latency), {@code failover.hedging} (true|false), {@code failover.hedgeBudget}
 * (ratio), {@code failover.warmupSeconds} (load before the blackhole), {@code failover.faultSeconds},
 * {@code failover.recoverySeconds}, {@code failover.rate} (calls/s), {@code failover.threads},
 * {@code failover.attemptTimeoutMs}. A cold pass passes them on to its client JVM.
 */
public final class FailoverScenario {
    static final String PREFERRED = "us-east-1";
    private static final long MS = 1_000_000L;
    /**
     * The engine's probe settings in every pass: only regions that are not healthy are probed, every 250 ms, each
     * probe judged after 250 ms (the DynamoDB client's default).
     */
    static final ProbeConfig PROBES = ProbeConfig.builder().interval(Duration.ofMillis(250))
            .timeout(Duration.ofMillis(250)).unhealthyOnly(true).build();
    /**
     * How long a probe's HTTP request may run before the HTTP client cuts it: longer than the probe timeout, as in the
     * DynamoDB client (at least 1 s), since an answer past the timeout still counts as a success.
     */
    private static final Duration PROBE_REQUEST_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration WARM_UP = Duration.ofSeconds(2);

    /** Which JVM state the scenario starts from. */
    public enum Pass {
        /** Pre-warmed through a throwaway engine before the measured engine is built. */
        WARM("failover", ""),
        /** Nothing before the load: the first calls of a fresh client JVM are the measured engine's. */
        COLD("failover-cold", "cold_"),
        /** As {@link #COLD}, with {@code Latitude.Builder.warmUp(2 s)}. */
        COLD_WARM_UP("failover-cold-warmup", "cold_warmup_");

        private final String tag;
        private final String prefix;

        Pass(String tag, String prefix) {
            this.tag = tag;
            this.prefix = prefix;
        }

        /** Returns the benchmark name that runs this pass, also the prefix of its log lines. */
        public String tag() {
            return tag;
        }
    }

    private final Pass pass;
    private final String policyName = System.getProperty("failover.policy", "failover");
    private final int warmupSeconds = Integer.getInteger("failover.warmupSeconds", 5);
    private final int faultSeconds = Integer.getInteger("failover.faultSeconds", 8);
    private final int recoverySeconds = Integer.getInteger("failover.recoverySeconds", 5);
    private final int rate = Integer.getInteger("failover.rate", 200);
    private final int threads = Integer.getInteger("failover.threads", 4);
    /** Exploration knobs, not used by {@code run.sh}: another attempt timeout, hedging off, a larger hedge budget. */
    private final int attemptTimeoutMs = Integer.getInteger("failover.attemptTimeoutMs", 100);
    private final boolean hedging = Boolean.parseBoolean(System.getProperty("failover.hedging", "true"));
    private final String hedgeBudget = System.getProperty("failover.hedgeBudget");

    private final List<Transition> transitions = new CopyOnWriteArrayList<>();
    private final List<ProbeTransition> probeTransitions = new CopyOnWriteArrayList<>();
    private long origin;

    /**
     * Creates the scenario.
     *
     * @param pass whether the JVM is pre-warmed first; a cold pass is run in a fresh JVM by {@link #inFreshJvm(Pass)},
     *     which also provides its fake regions
     */
    public FailoverScenario(Pass pass) {
        this.pass = pass;
    }

    /** One attempt as the engine dispatched it. */
    record Attempt(String region, long at) {
    }

    /** A circuit transition as reported to the {@link HealthListener}. */
    record Transition(long at, String region, CircuitState from, CircuitState to) {
    }

    /** A probe verdict change as reported to the {@link HealthListener}. */
    record ProbeTransition(long at, String region, ProbeState from, ProbeState to) {
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
        public WatermarkBounds watermarkBounds() {
            return delegate.watermarkBounds();
        }

        @Override
        public Scheduler scheduler() {
            return delegate.scheduler();
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

    /** The fake regions and their latencies, in the order of the request counts printed. */
    static Map<String, Duration> latencies() {
        Map<String, Duration> latencies = new LinkedHashMap<>();
        latencies.put("us-east-1", Duration.ofMillis(5));
        latencies.put("us-west-2", Duration.ofMillis(25));
        latencies.put("eu-west-1", Duration.ofMillis(70));
        return latencies;
    }

    /**
     * Runs the scenario, printing its progress, and returns the metric lines ({@code failover.name=value unit}). The
     * warm pass starts its own fake regions in this JVM; a cold pass uses those of the process that started this one
     * (see {@link #inFreshJvm(Pass)}).
     *
     * @return the metric lines, to be printed last
     * @throws InterruptedException if interrupted
     * @throws IOException if a cold pass loses its parent process
     */
    public List<String> run() throws InterruptedException, IOException {
        Map<String, Duration> latencies = latencies();
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
        int[] requestsAtFault;
        int[] requestsAtHeal;
        int[] requestsAtStop;

        log("pass %s (%s); regions %s, policy %s, attempt timeout %d ms, hedging %s, breaker %s, probe GET /health"
                + " of regions that are not healthy every %d ms (timeout %d ms, HTTP request cut after %d ms)%s",
                pass, pass == Pass.WARM ? "JVM pre-warmed first" : "fresh JVM, no pre-warm", latencies, policyName,
                attemptTimeoutMs, describe(hedgingConfig()), "defaults (5 of 10 fail, at least 10 judged in 10 s"
                        + " -> open 5 s, 3 trial successes close)", PROBES.interval().toMillis(),
                PROBES.timeout().toMillis(),
                PROBE_REQUEST_TIMEOUT.toMillis(), pass == Pass.COLD_WARM_UP ? ", warmUp " + WARM_UP.toMillis()
                        + " ms" : "");
        log("load %d calls/s from %d threads, at most %d calls; load %d s, blackhole %s %d s, recovery %d s", rate,
                threads, maxCalls, warmupSeconds, PREFERRED, faultSeconds, recoverySeconds);
        log("machine: %d CPUs, load average (1 min) %.2f at the start", Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());

        long labStart = System.nanoTime();
        try (Lab lab = pass == Pass.WARM ? new LocalLab(latencies, pass.tag()) : RemoteLab.fromParent()) {
            if (lab instanceof LocalLab local) {
                log("fake regions started in this JVM in %.0f ms", (System.nanoTime() - labStart) / (double) MS);
                long warmStart = System.nanoTime();
                prewarm(local.regions, topology, read, 200);
                log("pre-warmed the JVM with 200 reads per region through a throwaway engine in %.0f ms",
                        (System.nanoTime() - warmStart) / (double) MS);
            } else {
                log("fake regions: those of the parent process, already warm; this JVM has been up %d ms",
                        ManagementFactory.getRuntimeMXBean().getUptime());
            }
            Map<String, URI> endpoints = lab.endpoints();
            HttpClient probeHttp = HttpClient.newBuilder().connectTimeout(PROBE_REQUEST_TIMEOUT)
                    .version(HttpClient.Version.HTTP_1_1).build();
            HealthProbe probe = region -> probeHttp.sendAsync(
                            HttpRequest.newBuilder(endpoints.get(region.id()).resolve("/health"))
                                    .timeout(PROBE_REQUEST_TIMEOUT).build(),
                            HttpResponse.BodyHandlers.discarding())
                    .thenAccept(r -> {
                        if (r.statusCode() != 200) {
                            throw new IllegalStateException("probe of " + region.id() + " got HTTP " + r.statusCode());
                        }
                    });
            Latitude.Builder builder = Latitude.builder()
                    .topology(topology)
                    .routingPolicy(policy)
                    .errorClassifier(FakeRegionClient.errorClassifier())
                    .attemptTimeout(Duration.ofMillis(attemptTimeoutMs))
                    .hedging(hedgingConfig())
                    .breaker(BreakerConfig.defaults())
                    .healthProbe(probe, PROBES)
                    .openTelemetry(OpenTelemetry.noop())
                    .healthListener(new HealthListener() {
                        @Override
                        public void onCircuitStateChange(RegionSpec region, CircuitState from, CircuitState to) {
                            transitions.add(new Transition(System.nanoTime(), region.id(), from, to));
                        }

                        @Override
                        public void onProbeStateChange(RegionSpec region, ProbeState from, ProbeState to) {
                            probeTransitions.add(new ProbeTransition(System.nanoTime(), region.id(), from, to));
                        }
                    });
            if (pass == Pass.COLD_WARM_UP) {
                builder.warmUp(WARM_UP);
            }
            long buildStart = System.nanoTime();
            try (Latitude engine = builder.build()) {
                log("engine built in %.0f ms", (System.nanoTime() - buildStart) / (double) MS);
                RecordingLatitude recording = new RecordingLatitude(engine);
                FakeRegionClient client = new FakeRegionClient(recording, endpoints);

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
                        log("load tick failed: %s", t);
                    }
                };
                for (int k = 0; k < threads; k++) {
                    load.scheduleAtFixedRate(tick, k * periodNanos / threads, periodNanos, TimeUnit.NANOSECONDS);
                }

                TimeUnit.SECONDS.sleep(warmupSeconds);
                tFault = System.nanoTime();
                requestsAtFault = lab.blackhole(PREFERRED);
                log("t=%.0f ms blackholed %s (took %.1f ms)", rel(tFault), PREFERRED,
                        (System.nanoTime() - tFault) / (double) MS);

                TimeUnit.SECONDS.sleep(faultSeconds);
                tHeal = System.nanoTime();
                requestsAtHeal = lab.heal(PREFERRED);
                log("t=%.0f ms healed %s (took %.1f ms)", rel(tHeal), PREFERRED,
                        (System.nanoTime() - tHeal) / (double) MS);

                TimeUnit.SECONDS.sleep(recoverySeconds);
                load.shutdownNow();
                load.awaitTermination(5, TimeUnit.SECONDS);
                tStop = System.nanoTime();
                requestsAtStop = lab.requestCounts();
                int n = Math.min(issued.get(), maxCalls);
                long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); // the deadline is 5 s
                while (System.nanoTime() < drainUntil && !allDone(calls, n)) {
                    TimeUnit.MILLISECONDS.sleep(20);
                }
                log("t=%.0f ms load stopped after %d calls; machine load average (1 min) %.2f", rel(tStop), n,
                        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
                for (RegionStatus st : engine.status()) {
                    log("status %s circuit=%s probe=%s ewma=%s hedge-percentile=%s", st.region().id(), st.circuit(),
                            st.probe(), ms(st.latencyEwmaNanos()), ms(st.hedgePercentileNanos()));
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

    /** The fake regions as the scenario sees them: their endpoints, the faults it applies and the requests they got. */
    interface Lab extends AutoCloseable {
        Map<String, URI> endpoints();

        /** Returns each region's request count (in {@link #latencies()} order) just before blackholing {@code id}. */
        int[] blackhole(String id) throws IOException;

        /** Returns each region's request count just before healing {@code id}. */
        int[] heal(String id) throws IOException;

        int[] requestCounts() throws IOException;

        @Override
        void close();
    }

    /** Fake regions started in this JVM. */
    static final class LocalLab implements Lab {
        final FakeRegions regions;
        private final String tag;

        LocalLab(Map<String, Duration> latencies, String tag) {
            this.regions = FakeRegions.start(latencies);
            this.tag = tag;
        }

        @Override
        public Map<String, URI> endpoints() {
            return regions.endpoints();
        }

        @Override
        public int[] blackhole(String id) {
            int[] counts = requestCounts();
            regions.region(id).blackhole();
            return counts;
        }

        @Override
        public int[] heal(String id) {
            int[] counts = requestCounts();
            regions.region(id).heal();
            checkAnswers(regions.region(id), tag);
            return counts;
        }

        @Override
        public int[] requestCounts() {
            List<FakeRegion> all = regions.regions();
            int[] counts = new int[all.size()];
            for (int i = 0; i < counts.length; i++) {
                counts[i] = all.get(i).requestCount();
            }
            return counts;
        }

        @Override
        public void close() {
            regions.close();
        }
    }

    /**
     * The fake regions of the parent process ({@link #inFreshJvm(Pass)}): endpoints from {@code failover.endpoints},
     * faults asked for with a {@link #CONTROL} line on standard output, answered on standard input.
     */
    static final class RemoteLab implements Lab {
        private final Map<String, URI> endpoints;
        private final BufferedReader answers = new BufferedReader(new InputStreamReader(System.in,
                StandardCharsets.UTF_8));

        private RemoteLab(Map<String, URI> endpoints) {
            this.endpoints = endpoints;
        }

        static RemoteLab fromParent() {
            String spec = System.getProperty("failover.endpoints");
            if (spec == null) {
                throw new IllegalStateException("a cold pass needs the fake regions of the process that started it:"
                        + " run it with benchmarks/run.sh failover or java -jar benchmarks.jar failover-cold");
            }
            Map<String, URI> endpoints = new LinkedHashMap<>();
            for (String entry : spec.split(",")) {
                int eq = entry.indexOf('=');
                endpoints.put(entry.substring(0, eq), URI.create(entry.substring(eq + 1)));
            }
            return new RemoteLab(endpoints);
        }

        @Override
        public Map<String, URI> endpoints() {
            return endpoints;
        }

        @Override
        public int[] blackhole(String id) throws IOException {
            return ask("blackhole " + id);
        }

        @Override
        public int[] heal(String id) throws IOException {
            return ask("heal " + id);
        }

        @Override
        public int[] requestCounts() throws IOException {
            return ask("counts");
        }

        private int[] ask(String command) throws IOException {
            synchronized (System.out) {
                System.out.println(CONTROL + command);
                System.out.flush();
            }
            String answer = answers.readLine();
            if (answer == null || !answer.startsWith("ok")) {
                throw new IOException("the parent process answered '" + answer + "' to '" + command + "'");
            }
            String[] parts = answer.trim().split(" ");
            int[] counts = new int[parts.length - 1];
            for (int i = 0; i < counts.length; i++) {
                counts[i] = Integer.parseInt(parts[i + 1]);
            }
            return counts;
        }

        @Override
        public void close() {
            // The parent owns the regions.
        }
    }

    /** What a cold pass prints to ask the parent process for a fault; the rest of the line is the command. */
    static final String CONTROL = "failover-control: ";

    /**
     * Runs a cold pass with its client in a fresh JVM: starts the fake regions here, warms them up with plain HTTP
     * requests (a service that boots meets servers that have been up for a while, and this keeps the regions' own JIT
     * and class loading out of the client JVM), then runs {@code java ... Main failover-client} with this JVM's
     * options, applies the faults it asks for, echoes its output and returns its figure lines instead of echoing them,
     * so that the caller prints every figure last.
     *
     * @param pass {@link Pass#COLD} or {@link Pass#COLD_WARM_UP}
     * @return its figure lines
     * @throws IllegalStateException if the child process fails
     */
    static List<String> inFreshJvm(Pass pass) throws IOException, InterruptedException {
        String tag = pass.tag();
        try (FakeRegions lab = FakeRegions.start(latencies())) {
            long warmStart = System.nanoTime();
            warmRegions(lab, 200);
            System.out.printf(Locale.ROOT, "%s: regions: started the fake regions in this (parent) JVM and warmed them"
                    + " with 200 plain GETs each in %.0f ms; the client runs in a fresh JVM%n", tag,
                    (System.nanoTime() - warmStart) / (double) MS);
            StringBuilder endpoints = new StringBuilder();
            lab.endpoints().forEach((id, uri) -> endpoints.append(endpoints.length() == 0 ? "" : ",").append(id)
                    .append('=').append(uri));
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
            command.add("-Dfailover.pass=" + pass.name());
            command.add("-Dfailover.endpoints=" + endpoints);
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(Main.class.getName());
            command.add(Main.FAILOVER_CLIENT);
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            List<String> metrics = new ArrayList<>();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
                    PrintStream in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8)) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith(CONTROL)) {
                        in.println(control(lab, line.substring(CONTROL.length()), tag));
                    } else if (line.matches("^failover\\.[a-z0-9_]+=.*")) {
                        metrics.add(line);
                    } else if (!line.isEmpty()) {
                        System.out.println(line);
                    }
                }
            }
            int status = process.waitFor();
            if (status != 0) {
                throw new IllegalStateException("the " + tag + " pass in a fresh JVM exited with status " + status
                        + "; its output is above");
            }
            return metrics;
        }
    }

    /** Applies a control command of the child process and returns its answer: "ok" and the request counts before. */
    private static String control(FakeRegions lab, String command, String tag) {
        StringBuilder answer = new StringBuilder("ok");
        for (FakeRegion r : lab.regions()) {
            answer.append(' ').append(r.requestCount());
        }
        String[] parts = command.split(" ");
        switch (parts[0]) {
            case "blackhole" -> lab.region(parts[1]).blackhole();
            case "heal" -> {
                lab.region(parts[1]).heal();
                checkAnswers(lab.region(parts[1]), tag);
            }
            case "counts" -> {
            }
            default -> throw new IllegalStateException("unknown control command '" + command + "'");
        }
        return answer.toString();
    }

    /**
     * Sends one plain GET (outside any engine) to a region just healed and logs, in the background, whether and when
     * it answers: tells a region that does not serve after a heal from an engine that does not go back to it.
     */
    private static void checkAnswers(FakeRegion region, String tag) {
        long sent = System.nanoTime();
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build()
                .sendAsync(HttpRequest.newBuilder(region.uri().resolve("/after-heal")).timeout(Duration.ofSeconds(5))
                        .build(), HttpResponse.BodyHandlers.discarding())
                .whenComplete((r, e) -> System.out.printf(Locale.ROOT, "%s: regions: a plain GET sent to %s right after"
                        + " the heal %s%n", tag, region.id(), e == null ? String.format(Locale.ROOT, "answered HTTP %d"
                                + " in %.1f ms", r.statusCode(), (System.nanoTime() - sent) / (double) MS)
                                : "got no answer (" + e.getClass().getSimpleName() + " after " + String.format(
                                        Locale.ROOT, "%.0f ms", (System.nanoTime() - sent) / (double) MS) + ")"));
    }

    /** Warms the fake regions' servers with {@code n} plain GETs each, 8 at a time, then clears their journals. */
    private static void warmRegions(FakeRegions lab, int n) {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (FakeRegion region : lab.regions()) {
            List<CompletableFuture<?>> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                batch.add(http.sendAsync(HttpRequest.newBuilder(region.uri().resolve("/warm/" + i)).build(),
                        HttpResponse.BodyHandlers.discarding()));
                if (batch.size() == 8 || i == n - 1) {
                    CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).exceptionally(e -> null)
                            .join();
                    batch.clear();
                }
            }
        }
        lab.regions().forEach(FakeRegion::resetRequests);
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
    private static void prewarm(FakeRegions lab, Topology topology, Operation read, int n) {
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
        events(tFault, tHeal);
        List<Call> start = new ArrayList<>();
        List<Call> baseline = new ArrayList<>();
        List<Call> fault = new ArrayList<>();
        List<Call> recovery = new ArrayList<>();
        int failed = 0;
        int unfinished = 0;
        Map<String, Integer> failures = new TreeMap<>();
        for (Call c : calls) {
            if (!c.done) {
                unfinished++;
                continue;
            }
            if (c.error != null) {
                failed++;
                String phase = c.start < tFault ? "before the blackhole"
                        : c.start < tHeal ? "blackhole" : "after the heal";
                failures.merge(phase + ": " + failureKey(c.error), 1, Integer::sum);
                if (failed <= 20) {
                    log("call %d started t=%.0f ms FAILED after %.1f ms, attempts %s: %s", c.id, rel(c.start),
                            c.latencyMs(), regions(c), c.error);
                }
            }
            if (c.start < origin + TimeUnit.SECONDS.toNanos(1)) {
                start.add(c);
            }
            if (c.start >= tFault - TimeUnit.SECONDS.toNanos(3) && c.start < tFault) {
                baseline.add(c);
            } else if (c.start >= tFault && c.start < tHeal) {
                fault.add(c);
            } else if (c.start >= tHeal) {
                recovery.add(c);
            }
        }
        if (failed > 0) {
            log("%d calls failed; by when they started and how each attempt ended:", failed);
            failures.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(12)
                    .forEach(e -> log("  %4d %s", e.getValue(), e.getKey()));
        }
        if (pass != Pass.WARM) {
            for (int i = 0; i < Math.min(10, calls.size()); i++) {
                Call c = calls.get(i);
                log("first calls: call %d started t=%.0f ms, %s, attempts %s", c.id, rel(c.start),
                        !c.done ? "not completed" : c.error != null ? "FAILED after " + fmt(c.latencyMs()) + " ms"
                                : fmt(c.latencyMs()) + " ms, served by " + c.servedBy, regions(c));
            }
        }
        for (int sec = 0; sec < warmupSeconds; sec++) {
            long from = origin + TimeUnit.SECONDS.toNanos(sec);
            long to = Math.min(tFault, from + TimeUnit.SECONDS.toNanos(1));
            List<Call> second = new ArrayList<>();
            for (Call c : calls) {
                if (c.done && c.start >= from && c.start < to) {
                    second.add(c);
                }
            }
            phase("second " + sec + " of load", second);
        }
        phase("baseline (3 s before blackhole)", baseline);
        phase("fault window", fault);
        phase("recovery window", recovery);
        log("requests reaching regions [us-east-1, us-west-2, eu-west-1]: fault window %s, recovery window %s",
                Arrays.toString(diff(atHeal, atFault)), Arrays.toString(diff(atStop, atHeal)));

        int openedBeforeFault = 0;
        for (Transition t : transitions) {
            if (t.at() < tFault && t.from() == CircuitState.CLOSED && t.to() == CircuitState.OPEN) {
                openedBeforeFault++;
            }
        }
        log("%d circuits opened (CLOSED -> OPEN) before the blackhole", openedBeforeFault);

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
                log("trial call %d first attempt at %+.0f ms from blackhole, %.1f ms, served by %s, attempts %s", c.id,
                        (first.at() - tFault) / (double) MS, c.latencyMs(), c.servedBy, regions(c));
            } else {
                lastToPreferred = c;
            }
        }
        double movedMs = !opened ? -1 : lastToPreferred == null ? 0
                : (lastToPreferred.first().at() - tFault) / (double) MS;
        if (!opened) {
            log("the circuit of %s never opened during the blackhole: traffic did not move", PREFERRED);
        }
        int slow = 0;
        for (Call c : fault) {
            if (c.latencyMs() > 60) {
                slow++;
            }
        }
        log("%d fault-window calls took over 60 ms", slow);

        // recovered: the first call after the heal served by us-east-1; settled: the first call after which every
        // call went first to, and was served by, us-east-1.
        double recoveredMs = -1;
        for (Call c : recovery) {
            if (c.error == null && PREFERRED.equals(c.servedBy)) {
                recoveredMs = (c.start - tHeal) / (double) MS;
                break;
            }
        }
        double settledMs = -1;
        for (int i = recovery.size() - 1; i >= 0; i--) {
            Call c = recovery.get(i);
            Attempt first = c.first();
            boolean home = c.error == null && PREFERRED.equals(c.servedBy) && first != null
                    && first.region().equals(PREFERRED);
            if (!home) {
                settledMs = i + 1 < recovery.size() ? (recovery.get(i + 1).start - tHeal) / (double) MS : -1;
                break;
            }
            if (i == 0) {
                settledMs = (c.start - tHeal) / (double) MS;
            }
        }
        log("traffic back on %s: first call served there started %s after the heal; every call went there first and"
                + " was served there from %s", PREFERRED, recoveredMs < 0 ? "never" : fmt(recoveredMs) + " ms",
                settledMs < 0 ? "never" : fmt(settledMs) + " ms");
        if (unfinished > 0) {
            log("%d calls had not completed 10 s after the load stopped", unfinished);
        }

        List<String> metrics = new ArrayList<>();
        if (pass == Pass.WARM) {
            metrics.add(metric("baseline_p50_ms", percentile(baseline, 50), "ms"));
            metrics.add(metric("baseline_p99_ms", percentile(baseline, 99), "ms"));
            metrics.add(metric("moved_ms", movedMs, "ms"));
            metrics.add(metric("p99_ms", percentile(fault, 99), "ms"));
            metrics.add(metric("fault_p50_ms", percentile(fault, 50), "ms"));
            metrics.add(metric("fault_max_ms", percentile(fault, 100), "ms"));
            metrics.add("failover.trial_calls=" + trials + " calls");
            metrics.add(metric("warm_recovered_ms", recoveredMs, "ms"));
            metrics.add("failover.total_calls=" + calls.size() + " calls");
            metrics.add("failover.failed_calls=" + (failed + unfinished) + " calls");
        } else {
            String p = pass.prefix;
            metrics.add("failover." + p + "failed_calls=" + (failed + unfinished) + " calls");
            metrics.add("failover." + p + "circuits_opened_before_fault=" + openedBeforeFault);
            metrics.add(metric(p + "start_p99_ms", percentile(start, 99), "ms"));
            metrics.add(metric(p + "start_max_ms", percentile(start, 100), "ms"));
            metrics.add(metric(pass == Pass.COLD ? "recovered_ms" : p + "recovered_ms", recoveredMs, "ms"));
            metrics.add("failover." + p + "total_calls=" + calls.size() + " calls");
        }
        return metrics;
    }

    /** Logs the circuit and probe transitions in the order they happened. */
    private void events(long tFault, long tHeal) {
        List<long[]> order = new ArrayList<>(); // {at, kind (0 circuit, 1 probe), index}
        for (int i = 0; i < transitions.size(); i++) {
            order.add(new long[] {transitions.get(i).at(), 0, i});
        }
        for (int i = 0; i < probeTransitions.size(); i++) {
            order.add(new long[] {probeTransitions.get(i).at(), 1, i});
        }
        order.sort(Comparator.comparingLong(e -> e[0]));
        for (long[] e : order) {
            long at = e[0];
            String when = at >= tHeal ? String.format(Locale.ROOT, "%+.0f ms from heal", (at - tHeal) / (double) MS)
                    : String.format(Locale.ROOT, "%+.0f ms from blackhole", (at - tFault) / (double) MS);
            if (e[1] == 0) {
                Transition t = transitions.get((int) e[2]);
                log("t=%.0f ms (%s) circuit %s %s -> %s", rel(at), when, t.region(), t.from(), t.to());
            } else {
                ProbeTransition t = probeTransitions.get((int) e[2]);
                log("t=%.0f ms (%s) probe %s %s -> %s", rel(at), when, t.region(), t.from(), t.to());
            }
        }
    }

    /** What a failed call's error says, without its timings: the exception and each attempt's outcome. */
    private static String failureKey(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (!(t instanceof LatitudeCallException)) {
            return t.getClass().getSimpleName();
        }
        StringBuilder b = new StringBuilder(t.getClass().getSimpleName());
        if (t instanceof RegionsUnavailableException && ((RegionsUnavailableException) t).deadlineExceeded()) {
            b.append(" (deadline)");
        }
        List<String> attempts = new ArrayList<>();
        for (AttemptRecord a : ((LatitudeCallException) t).attempts()) {
            attempts.add(a.region() + " " + (a.failure() == null ? "ok" : a.failure())
                    + (a.cause() != null ? " " + a.cause().getClass().getSimpleName() : ""));
        }
        return b.append(' ').append(attempts).toString();
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
        log("%s: %d calls, p50 %.1f ms, p99 %.1f ms, max %.1f ms, served by %s, %d with more than one attempt", name,
                calls.size(), percentile(calls, 50), percentile(calls, 99), percentile(calls, 100), served, extra);
    }

    /** Prints one log line, prefixed with the pass's tag so that the passes of one run can be told apart. */
    private void log(String format, Object... args) {
        System.out.println(pass.tag() + ": " + String.format(Locale.ROOT, format, args));
    }

    private static String fmt(double ms) {
        return String.format(Locale.ROOT, "%.1f", ms);
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
