package dev.latitude.testkit;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.UnaryOperator;

/**
 * A set of {@link FakeRegion}s started together and closed together; closing stops every server even if one fails.
 * {@link #fromMatrix(RttMatrix, String, Collection, double)} starts regions whose latencies follow an {@link RttMatrix}
 * as seen from one client region.
 *
 * <pre>{@code
 * try (FakeRegions lab = FakeRegions.start(Map.of("us-east-1", Duration.ofMillis(5), "eu-west-1", Duration.ofMillis(40)))) {
 *     FakeRegionClient client = new FakeRegionClient(latitude, lab.endpoints());
 * }
 * }</pre>
 */
public final class FakeRegions implements AutoCloseable {
    private final Map<String, FakeRegion> regions;

    private FakeRegions(Map<String, FakeRegion> regions) {
        this.regions = Collections.unmodifiableMap(regions);
    }

    /**
     * Starts one fake region per entry, in iteration order.
     *
     * @param latencies each region id's base latency
     * @return the running regions
     */
    public static FakeRegions start(Map<String, Duration> latencies) {
        Map<String, FakeRegion> started = new LinkedHashMap<>();
        try {
            latencies.forEach((id, latency) -> started.put(id, FakeRegion.start(id, latency)));
        } catch (RuntimeException e) {
            started.values().forEach(FakeRegion::close);
            throw e;
        }
        return new FakeRegions(started);
    }

    /**
     * Starts one fake region per id whose latency is what a client in {@code clientRegion} would see: the round-trip
     * time from {@code clientRegion} to that region in {@code matrix}, multiplied by {@code scale}, with no jitter.
     *
     * @param matrix the round-trip times, such as {@link RttMatrix#aws()}
     * @param clientRegion where the simulated client runs; must be in the matrix
     * @param regionIds the regions to start, in order; each must be in the matrix
     * @param scale positive, such as 0.1 for tests at a tenth of real latency
     * @return the running regions
     */
    public static FakeRegions fromMatrix(RttMatrix matrix, String clientRegion, Collection<String> regionIds,
            double scale) {
        return fromMatrix(matrix, clientRegion, regionIds, scale, UnaryOperator.identity());
    }

    /**
     * Starts one fake region per id whose latency follows the matrix as seen from {@code clientRegion}, shaped per
     * request by {@code shape}: each region's model is {@code shape.apply(matrix.scaled(scale).model(clientRegion,
     * id))}, so {@code m -> m.withJitter(0.1).withSpikes(0.01, 10).withSeed(7)} adds jitter and a tail to every
     * region. If the shaped model has a seed, the region at index {@code i} of {@code regionIds} is seeded with
     * {@code seed + i}, so regions are reproducible but not in lockstep.
     *
     * @param matrix the round-trip times
     * @param clientRegion where the simulated client runs; must be in the matrix
     * @param regionIds the regions to start, in order; each must be in the matrix, no repeats
     * @param scale positive, such as 0.1 for tests at a tenth of real latency
     * @param shape adds jitter, a tail and a seed to each region's fixed model
     * @return the running regions
     */
    public static FakeRegions fromMatrix(RttMatrix matrix, String clientRegion, Collection<String> regionIds,
            double scale, UnaryOperator<LatencyModel> shape) {
        if (matrix == null) {
            throw new IllegalArgumentException("matrix must not be null; use RttMatrix.aws() or RttMatrix.builder()");
        }
        if (regionIds == null || regionIds.isEmpty()) {
            throw new IllegalArgumentException("regionIds must name at least one region of " + matrix.regions());
        }
        if (shape == null) {
            throw new IllegalArgumentException("shape must not be null; use UnaryOperator.identity() for fixed latency");
        }
        if (new LinkedHashSet<>(regionIds).size() != regionIds.size()) {
            throw new IllegalArgumentException("regionIds must not repeat a region, got " + regionIds);
        }
        RttMatrix scaled = matrix.scaled(scale);
        Map<String, LatencyModel> models = new LinkedHashMap<>();
        int i = 0;
        for (String id : regionIds) {
            LatencyModel model = shape.apply(scaled.model(clientRegion, id));
            if (model == null) {
                throw new IllegalArgumentException("shape returned null for region " + id + "; return a LatencyModel");
            }
            if (model.seed().isPresent()) {
                model = model.withSeed(model.seed().getAsLong() + i);
            }
            models.put(id, model);
            i++;
        }
        Map<String, FakeRegion> started = new LinkedHashMap<>();
        try {
            models.forEach((id, model) -> started.put(id, FakeRegion.start(id, model)));
        } catch (RuntimeException e) {
            started.values().forEach(FakeRegion::close);
            throw e;
        }
        return new FakeRegions(started);
    }

    /**
     * Returns the region with {@code id}.
     *
     * @param id a region id
     * @return the region
     * @throws NoSuchElementException if there is none
     */
    public FakeRegion region(String id) {
        FakeRegion r = regions.get(id);
        if (r == null) {
            throw new NoSuchElementException("no fake region " + id + "; started: " + regions.keySet());
        }
        return r;
    }

    /** Returns the regions in start order. */
    public List<FakeRegion> regions() {
        return List.copyOf(regions.values());
    }

    /** Returns each region id's base URI. */
    public Map<String, URI> endpoints() {
        Map<String, URI> map = new LinkedHashMap<>();
        regions.forEach((id, r) -> map.put(id, r.uri()));
        return map;
    }

    /** Heals every region. */
    public void healAll() {
        regions.values().forEach(FakeRegion::heal);
    }

    @Override
    public void close() {
        List<RuntimeException> failures = new ArrayList<>();
        for (FakeRegion r : regions.values()) {
            try {
                r.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }
}
