package dev.latitude.testkit;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * A set of {@link FakeRegion}s started together and closed together; closing stops every server even if one fails.
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
