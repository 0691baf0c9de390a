package dev.latitude.internal;

import dev.latitude.GeoPoint;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingCandidates;
import dev.latitude.Topology;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/** The planner's per-thread scratch space: the regions of one plan and their ranks. Not thread-safe. */
final class Candidates implements RoutingCandidates {
    private final Topology topology;
    private final RegionState[] regions;
    private final RandomGenerator random;
    final int[] items;
    final double[] ranks;
    int size;
    private Operation operation;

    Candidates(Topology topology, RegionState[] regions, RandomGenerator random) {
        this.topology = topology;
        this.regions = regions;
        this.random = random;
        this.items = new int[regions.length];
        this.ranks = new double[regions.length];
    }

    void reset(Operation op) {
        this.operation = op;
        this.size = 0;
    }

    void add(int regionIndex, double rank) {
        items[size] = regionIndex;
        ranks[size] = rank;
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
        return regions[items[check(i)]].latencyNanos();
    }

    @Override
    public int inFlight(int i) {
        return regions[items[check(i)]].inFlight();
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
