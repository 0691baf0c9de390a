package dev.latitude;

import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.OpenTelemetry;
import java.net.ConnectException;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/** Builds engines on a {@link ManualClock} with a seeded random source, and reads plans as region ids. */
final class Engines {
    static final Operation READ = Operation.read("X").build();
    static final Operation WRITE = Operation.write("W").build();

    private Engines() {
    }

    /** Returns a builder with the deterministic plumbing set; the caller adds a policy or breaker if it wants. */
    static Latitude.Builder builder(Topology topology, ManualClock clock, long seed) {
        return Latitude.builder()
                .topology(topology)
                .ticker(clock)
                .scheduler(clock)
                .random(new Random(seed))
                .openTelemetry(OpenTelemetry.noop());
    }

    static Latitude engine(Topology topology, RoutingPolicy policy, ManualClock clock, long seed) {
        return builder(topology, clock, seed).routingPolicy(policy).build();
    }

    /** Returns the region ids of {@code latitude.plan(op)}, in order. */
    static List<String> planIds(Latitude latitude, Operation op) {
        return ids(latitude.plan(op));
    }

    static List<String> ids(Plan plan) {
        return plan.regions().stream().map(RegionSpec::id).collect(Collectors.toList());
    }

    /** Runs one read whose attempt fails with a ConnectException in the regions {@code down} accepts. */
    static CompletableFuture<String> readFailingIn(Latitude latitude, Predicate<String> down) {
        return latitude.executeAsync(READ, region -> down.test(region.id())
                ? CompletableFuture.failedFuture(new ConnectException("down"))
                : CompletableFuture.completedFuture("x"));
    }

    /** A reader region at the given location. */
    static RegionSpec reader(String id, double lat, double lon) {
        return RegionSpec.builder(id).location(lat, lon).build();
    }

    /** A writer-and-reader region at the given location. */
    static RegionSpec writer(String id, double lat, double lon) {
        return RegionSpec.builder(id).writer().location(lat, lon).build();
    }

    /** A writer-only region (serves no reads) at the given location. */
    static RegionSpec writerOnly(String id, double lat, double lon) {
        return RegionSpec.builder(id).roles(RegionRole.WRITER).location(lat, lon).build();
    }
}
