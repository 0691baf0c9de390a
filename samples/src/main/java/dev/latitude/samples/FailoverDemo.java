package dev.latitude.samples;

import dev.latitude.CircuitState;
import dev.latitude.HealthListener;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.ProbeConfig;
import dev.latitude.ProbeState;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.testkit.FakeRegion;
import dev.latitude.testkit.FakeRegionClient;
import dev.latitude.testkit.FakeRegions;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The README's demo: three fake regions on 127.0.0.1 with different latencies, a client reading through the
 * Latitude engine at a steady rate, the nearest region blackholed mid-run and healed later. Prints a per-second
 * timeline (which region served, p50/p99, failures) and every health transition, then a summary.
 *
 * <p>Arguments (all optional): {@code --seconds N} (default 12), {@code --rate N} calls per second (default 200).
 * The fault starts at one third of the run and is healed at two thirds.
 */
public final class FailoverDemo {
    private static final List<String> REGIONS = List.of("us-east-1", "us-west-2", "eu-west-1");

    private record Call(long startNanos, long latencyNanos, String region) {
    }

    private FailoverDemo() {
    }

    /**
     * Runs the demo.
     *
     * @param args {@code --seconds N}, {@code --rate N}
     * @throws Exception if the fake regions cannot start
     */
    public static void main(String[] args) throws Exception {
        run(args, System.out);
    }

    /**
     * Runs the demo, printing to {@code out}.
     *
     * @param args {@code --seconds N}, {@code --rate N}
     * @param out where the timeline goes
     * @throws Exception if the fake regions cannot start
     */
    static void run(String[] args, PrintStream out) throws Exception {
        int seconds = intArg(args, "--seconds", 12);
        int rate = intArg(args, "--rate", 200);
        Map<String, Duration> latencies = new LinkedHashMap<>();
        latencies.put("us-east-1", Duration.ofMillis(5));
        latencies.put("us-west-2", Duration.ofMillis(30));
        latencies.put("eu-west-1", Duration.ofMillis(75));

        Topology topology = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder("us-west-2").writer().jurisdiction("US").location(45.8, -119.7).build())
                .region(RegionSpec.builder("eu-west-1").writer().jurisdiction("EU").location(53.35, -6.26).build())
                .localRegion("us-east-1")
                .build();

        // The timeline starts with the load, once the engine is built and warmed up; earlier events show before 0.
        AtomicLong start = new AtomicLong(System.nanoTime());
        ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Long> victimOpened = new ConcurrentLinkedQueue<>();
        HealthListener listener = new HealthListener() {
            @Override
            public void onCircuitStateChange(RegionSpec region, CircuitState from, CircuitState to) {
                events.add(String.format("%+8.3fs  %s circuit %s -> %s", secondsSince(start.get()), region.id(), from, to));
                if (to == CircuitState.OPEN && region.id().equals("us-east-1")) {
                    victimOpened.add(System.nanoTime() - start.get());
                }
            }

            @Override
            public void onProbeStateChange(RegionSpec region, ProbeState from, ProbeState to) {
                events.add(String.format("%+8.3fs  %s probe %s -> %s", secondsSince(start.get()), region.id(), from,
                        to));
            }
        };

        try (FakeRegions lab = FakeRegions.start(latencies)) {
            HttpClient probeHttp = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(300)).build();
            Map<String, URI> endpoints = lab.endpoints();
            try (Latitude latitude = Latitude.builder()
                    .topology(topology)
                    .routingPolicy(RoutingPolicy.latency().build())
                    .errorClassifier(FakeRegionClient.errorClassifier())
                    .attemptTimeout(Duration.ofMillis(200))
                    .deadline(Duration.ofSeconds(2))
                    .healthListener(listener)
                    .healthProbe(region -> probeHttp.sendAsync(
                                    HttpRequest.newBuilder(endpoints.get(region.id()).resolve("/health"))
                                            .timeout(Duration.ofMillis(250)).build(),
                                    HttpResponse.BodyHandlers.discarding())
                                    .thenAccept(r -> {
                                        if (r.statusCode() != 200) {
                                            throw new IllegalStateException("probe got HTTP " + r.statusCode());
                                        }
                                    }),
                            ProbeConfig.builder().interval(Duration.ofMillis(250)).timeout(Duration.ofMillis(200))
                                    .failureThreshold(2).successThreshold(2).build())
                    .warmUp(Duration.ofSeconds(2)) // the first HTTP calls of a fresh JVM are paid here, not by reads
                    .build()) {
                start.set(System.nanoTime());
                run(out, lab, latitude, seconds, rate, start.get(), events, victimOpened);
            }
        }
    }

    private static void run(PrintStream out, FakeRegions lab, Latitude latitude, int seconds, int rate, long t0,
            ConcurrentLinkedQueue<String> events, ConcurrentLinkedQueue<Long> victimOpened) throws InterruptedException {
        FakeRegionClient client = new FakeRegionClient(latitude, lab.endpoints());
        Operation read = Operation.read("GetProfile").dataClass("profiles").build();
        ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
        int total = seconds * rate;
        long periodNanos = TimeUnit.SECONDS.toNanos(1) / rate;
        long faultAt = TimeUnit.SECONDS.toNanos(seconds) / 3;
        long healAt = 2 * faultAt;
        FakeRegion victim = lab.region("us-east-1");

        out.println("Latitude failover demo: 3 fake regions on 127.0.0.1 (us-east-1 5 ms, us-west-2 30 ms,"
                + " eu-west-1 75 ms), " + rate + " reads/s for " + seconds + " s");
        out.printf("us-east-1 is blackholed at +%.1fs and healed at +%.1fs%n%n", faultAt / 1e9, healAt / 1e9);

        ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
        try {
            int[] issued = {0};
            load.scheduleAtFixedRate(() -> {
                if (issued[0]++ >= total) {
                    return;
                }
                long start = System.nanoTime();
                CompletableFuture<String> f = client.get(read, "/profile/42");
                f.whenComplete((region, e) -> calls.add(new Call(start - t0, System.nanoTime() - start,
                        e == null ? region : null)));
            }, 0, periodNanos, TimeUnit.NANOSECONDS);

            sleepUntil(t0 + faultAt);
            victim.blackhole();
            events.add(String.format("%+8.3fs  us-east-1 BLACKHOLED (accepts, never answers)", secondsSince(t0)));
            sleepUntil(t0 + healAt);
            victim.heal();
            events.add(String.format("%+8.3fs  us-east-1 HEALED", secondsSince(t0)));
            sleepUntil(t0 + TimeUnit.SECONDS.toNanos(seconds) + TimeUnit.SECONDS.toNanos(3));
        } finally {
            load.shutdownNow();
            load.awaitTermination(5, TimeUnit.SECONDS);
        }
        printTimeline(out, calls, seconds);
        out.println();
        out.println("Health events:");
        events.forEach(out::println);
        printSummary(out, calls, faultAt, healAt, victimOpened);
    }

    private static void printTimeline(PrintStream out, ConcurrentLinkedQueue<Call> calls, int seconds) {
        out.printf("%4s | %9s | %9s | %9s | %6s | %7s | %7s%n", "sec", REGIONS.get(0), REGIONS.get(1), REGIONS.get(2),
                "failed", "p50 ms", "p99 ms");
        out.println("-----+-----------+-----------+-----------+--------+---------+--------");
        for (int s = 0; s < seconds; s++) {
            Map<String, Integer> served = new LinkedHashMap<>();
            REGIONS.forEach(r -> served.put(r, 0));
            int failed = 0;
            Histogram h = new Histogram(3);
            for (Call c : calls) {
                if (c.startNanos() / 1_000_000_000L != s) {
                    continue;
                }
                if (c.region() == null) {
                    failed++;
                } else {
                    served.merge(c.region(), 1, Integer::sum);
                }
                h.recordValue(Math.max(1, c.latencyNanos() / 1000));
            }
            out.printf("%4d | %9d | %9d | %9d | %6d | %7.1f | %7.1f%n", s, served.get(REGIONS.get(0)),
                    served.get(REGIONS.get(1)), served.get(REGIONS.get(2)), failed,
                    h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0);
        }
    }

    private static void printSummary(PrintStream out, ConcurrentLinkedQueue<Call> calls, long faultAt, long healAt,
            ConcurrentLinkedQueue<Long> victimOpened) {
        long failed = calls.stream().filter(c -> c.region() == null).count();
        long opened = victimOpened.stream().filter(t -> t >= faultAt && t < healAt).findFirst().orElse(-1L);
        long movedAfter = calls.stream()
                .filter(c -> c.startNanos() >= faultAt && c.startNanos() < healAt && c.region() != null)
                .filter(c -> !"us-east-1".equals(c.region()))
                .mapToLong(c -> c.startNanos() + c.latencyNanos()).min().orElse(faultAt) - faultAt;
        long backAfter = calls.stream()
                .filter(c -> c.startNanos() >= healAt && "us-east-1".equals(c.region()))
                .mapToLong(Call::startNanos).min().orElse(Long.MAX_VALUE);
        Histogram fault = new Histogram(3);
        calls.stream().filter(c -> c.startNanos() >= faultAt && c.startNanos() < faultAt + 1_000_000_000L)
                .forEach(c -> fault.recordValue(Math.max(1, c.latencyNanos() / 1000)));
        out.println();
        out.printf("Summary: %d calls, %d failed%n", calls.size(), failed);
        out.printf("  first answer from another region %.0f ms after the blackhole%n", movedAfter / 1e6);
        out.println(opened < 0 ? "  us-east-1's circuit did not open during the fault"
                : String.format("  us-east-1's circuit opened %.0f ms after the blackhole: no new call was sent there"
                        + " from then on", (opened - faultAt) / 1e6));
        out.printf("  calls started in the first second of the fault: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                fault.getValueAtPercentile(50) / 1000.0, fault.getValueAtPercentile(99) / 1000.0,
                fault.getMaxValue() / 1000.0);
        out.println(backAfter == Long.MAX_VALUE ? "  traffic did not return to us-east-1 before the end"
                : String.format("  traffic back on us-east-1 %.0f ms after the heal", (backAfter - healAt) / 1e6));
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    private static int intArg(String[] args, String name, int dflt) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                try {
                    int v = Integer.parseInt(args[i + 1]);
                    if (v > 0 && v <= 10_000) {
                        return v;
                    }
                } catch (NumberFormatException ignored) {
                    // fall through to the error below
                }
                throw new IllegalArgumentException(name + " must be a whole number from 1 to 10000, got " + args[i + 1]);
            }
        }
        return dflt;
    }
}
