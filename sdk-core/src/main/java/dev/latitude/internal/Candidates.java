package dev.latitude.internal;

import dev.latitude.GeoPoint;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingCandidates;
import dev.latitude.Topology;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * The planner's per-thread scratch space: the regions of one plan, a snapshot of their latency and load taken when
 * they were added, and their ranks. Not thread-safe.
 */
final class Candidates implements RoutingCandidates {
    private final Topology topology;
    private final RegionState[] regions;
    private final RandomGenerator random;
    final int[] items;
    final double[] ranks;
    private final long[] latency;
    private final int[] inFlight;
    int size;
    private Operation operation;

    Candidates(Topology topology, RegionState[] regions, RandomGenerator random) {
        this.topology = topology;
        this.regions = regions;
        this.random = random;
        this.items = new int[regions.length];
        this.ranks = new double[regions.length];
        this.latency = new long[regions.length];
        this.inFlight = new int[regions.length];
    }

    void reset(Operation op) {
        this.operation = op;
        this.size = 0;
    }

    /** Adds a region, snapshotting its latency and load so that a policy sees one consistent view. */
    void add(RegionState region) {
        items[size] = region.index;
        ranks[size] = 0;
        latency[size] = region.latencyNanos();
        inFlight[size] = region.inFlight();
        size++;
    }

    @Override
    public Operation operation() {
        return operation;
    }

    @Override
    public Topology topology() {
        return topology;
    }

    @Override
    public GeoPoint callerLocation() {
        GeoPoint p = operation.callerLocation();
        return p != null ? p : topology.localRegion().location();
    }

    @Override
    public String callerJurisdiction() {
        String j = operation.callerJurisdiction();
        return j != null ? j : topology.localRegion().jurisdiction();
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public RegionSpec region(int i) {
        return regions[items[check(i)]].spec;
    }

    @Override
    public long latencyNanos(int i) {
        return latency[check(i)];
    }

    @Override
    public int inFlight(int i) {
        return inFlight[check(i)];
    }

    @Override
    public double random() {
        return random != null ? random.nextDouble() : ThreadLocalRandom.current().nextDouble();
    }

    @Override
    public void rank(int i, double rank) {
        ranks[check(i)] = Double.isNaN(rank) ? Double.MAX_VALUE : rank;
    }

    private int check(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("candidate " + i + " of " + size);
        }
        return i;
    }
}
