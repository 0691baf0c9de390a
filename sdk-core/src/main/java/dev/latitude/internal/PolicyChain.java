package dev.latitude.internal;

import dev.latitude.GeoPoint;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingCandidates;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import java.util.ArrayList;
import java.util.List;

/**
 * Policies applied in sequence: the first ranks all candidates, and each later policy re-ranks only the runs of
 * candidates that every earlier policy ranked equally. The chain's own rank for a candidate is its position in the
 * resulting order.
 */
public final class PolicyChain implements RoutingPolicy {
    private final RoutingPolicy[] levels;
    /** Per-thread scratch space, so that ranking allocates nothing; chains are flat, so never re-entered. */
    private final ThreadLocal<View> views = ThreadLocal.withInitial(View::new);

    private PolicyChain(RoutingPolicy[] levels) {
        this.levels = levels;
    }

    /**
     * Returns {@code first} then {@code second}, flattening nested chains.
     *
     * @param first the primary policy
     * @param second the tie-breaker
     * @return the chain
     */
    public static PolicyChain of(RoutingPolicy first, RoutingPolicy second) {
        List<RoutingPolicy> all = new ArrayList<>();
        add(all, first);
        add(all, second);
        return new PolicyChain(all.toArray(new RoutingPolicy[0]));
    }

    private static void add(List<RoutingPolicy> all, RoutingPolicy p) {
        if (p == null) {
            throw new NullPointerException("policy");
        }
        if (p instanceof PolicyChain) {
            all.addAll(List.of(((PolicyChain) p).levels));
        } else {
            all.add(p);
        }
    }

    @Override
    public void rank(RoutingCandidates candidates) {
        View view = views.get();
        int n = candidates.size();
        view.reset(candidates);
        try {
            apply(view, 0, 0, n);
            for (int pos = 0; pos < n; pos++) {
                candidates.rank(view.perm[pos], pos);
            }
        } finally {
            view.base = null;
        }
    }

    private void apply(View view, int level, int from, int to) {
        view.from = from;
        view.to = to;
        levels[level].rank(view);
        Ranking.sort(view.perm, view.ranks, from, to);
        if (level + 1 == levels.length) {
            return;
        }
        int runStart = from;
        while (runStart < to) {
            int runEnd = runStart + 1;
            while (runEnd < to && view.ranks[runEnd] == view.ranks[runStart]) {
                runEnd++;
            }
            if (runEnd - runStart > 1) {
                apply(view, level + 1, runStart, runEnd);
            }
            runStart = runEnd;
        }
    }

    @Override
    public void validate(Topology topology) {
        for (RoutingPolicy p : levels) {
            p.validate(topology);
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (RoutingPolicy p : levels) {
            sb.append(sb.length() == 0 ? "" : " then ").append(p);
        }
        return sb.toString();
    }

    /** A window {@code [from, to)} over a permutation of the underlying candidates; ranks are kept per position. */
    private static final class View implements RoutingCandidates {
        private RoutingCandidates base;
        private int[] perm = new int[8];
        private double[] ranks = new double[8];
        private int from;
        private int to;

        void reset(RoutingCandidates candidates) {
            base = candidates;
            int n = candidates.size();
            if (perm.length < n) {
                perm = new int[n];
                ranks = new double[n];
            }
            for (int i = 0; i < n; i++) {
                perm[i] = i;
                ranks[i] = 0;
            }
        }

        @Override
        public Operation operation() {
            return base.operation();
        }

        @Override
        public Topology topology() {
            return base.topology();
        }

        @Override
        public GeoPoint callerLocation() {
            return base.callerLocation();
        }

        @Override
        public String callerJurisdiction() {
            return base.callerJurisdiction();
        }

        @Override
        public int size() {
            return to - from;
        }

        @Override
        public RegionSpec region(int i) {
            return base.region(perm[from + i]);
        }

        @Override
        public long latencyNanos(int i) {
            return base.latencyNanos(perm[from + i]);
        }

        @Override
        public int inFlight(int i) {
            return base.inFlight(perm[from + i]);
        }

        @Override
        public double random() {
            return base.random();
        }

        @Override
        public void rank(int i, double rank) {
            ranks[from + i] = rank;
        }
    }
}
