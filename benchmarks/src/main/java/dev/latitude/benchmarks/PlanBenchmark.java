package dev.latitude.benchmarks;

import dev.latitude.AsyncRegionCall;
import dev.latitude.HedgingConfig;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.Plan;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import io.opentelemetry.api.OpenTelemetry;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one routing decision, single-threaded, with every region healthy and OpenTelemetry a no-op.
 *
 * <ul>
 *   <li>{@link #plan()}: the public {@code Latitude.plan(op)}: the engine's decision plus the {@code List<RegionSpec>}
 *       and {@link Plan} it is wrapped in for callers.</li>
 *   <li>{@link #call()}: a whole {@code Latitude.executeAsync} whose region call answers at once: planning, the
 *       attempt-timeout and deadline timers (scheduled and cancelled on the engine's scheduler), the execution state
 *       and the no-op span: the engine's own overhead on every call.</li>
 * </ul>
 *
 * <p>Parameters: 3 or 8 regions; {@code latency} is {@code RoutingPolicy.latency()} (15 ms window) and
 * {@code geo_latency} is {@code RoutingPolicy.geolocation()...build().then(RoutingPolicy.latency().build())}. The
 * local region is us-east-1 and us-east-2 lies within the latency window of it (distance-based estimate, no
 * observations), so the latency policy's power-of-two-choices draw runs on every call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PlanBenchmark {

    /** Region id, jurisdiction, latitude, longitude; the first {@code regions} of them are used. */
    private static final Object[][] REGIONS = {
        {"us-east-1", "US", 38.9, -77.4},
        {"us-east-2", "US", 40.0, -83.0},
        {"eu-west-1", "EU", 53.35, -6.26},
        {"us-west-2", "US", 45.8, -119.7},
        {"eu-central-1", "EU", 50.1, 8.7},
        {"ap-northeast-1", "JP", 35.7, 139.7},
        {"ap-southeast-2", "AU", -33.9, 151.2},
        {"sa-east-1", "BR", -23.5, -46.6},
    };

    @Param({"3", "8"})
    public int regions;

    @Param({"latency", "geo_latency"})
    public String policy;

    private Latitude latitude;
    private Operation op;

    @Setup(Level.Trial)
    public void setUp() {
        Topology topology = topology(regions);
        latitude = Latitude.builder()
                .topology(topology)
                .routingPolicy(policy(policy, topology))
                .hedging(HedgingConfig.defaults())
                .openTelemetry(OpenTelemetry.noop())
                .build();
        op = Operation.read("GetItem").dataClass("items").build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        latitude.close();
    }

    @Benchmark
    public Plan plan() {
        return latitude.plan(op);
    }

    @Benchmark
    public Object call() {
        return latitude.executeAsync(op, ANSWER).join();
    }

    private static final CompletableFuture<String> DONE = CompletableFuture.completedFuture("ok");
    private static final AsyncRegionCall<String> ANSWER = region -> DONE;

    static Topology topology(int n) {
        if (n < 1 || n > REGIONS.length) {
            throw new IllegalArgumentException("regions must be 1.." + REGIONS.length + ", got " + n);
        }
        Topology.Builder b = Topology.builder();
        for (int i = 0; i < n; i++) {
            Object[] r = REGIONS[i];
            RegionSpec.Builder spec = RegionSpec.builder((String) r[0]).jurisdiction((String) r[1])
                    .location((Double) r[2], (Double) r[3]);
            b.region((i == 0 ? spec.writer() : spec).build());
        }
        return b.localRegion((String) REGIONS[0][0]).build();
    }

    static RoutingPolicy policy(String name, Topology topology) {
        RoutingPolicy latency = RoutingPolicy.latency().build();
        switch (name) {
            case "latency":
                return latency;
            case "geo_latency": {
                List<String> us = topology.regions().stream().filter(r -> "US".equals(r.jurisdiction()))
                        .map(RegionSpec::id).toList();
                List<String> eu = topology.regions().stream().filter(r -> "EU".equals(r.jurisdiction()))
                        .map(RegionSpec::id).toList();
                return RoutingPolicy.geolocation()
                        .jurisdiction("US", us.toArray(String[]::new))
                        .jurisdiction("EU", eu.toArray(String[]::new))
                        .defaultRegion("us-east-1")
                        .build()
                        .then(latency);
            }
            default:
                throw new IllegalArgumentException("unknown policy " + name + "; use latency or geo_latency");
        }
    }
}
