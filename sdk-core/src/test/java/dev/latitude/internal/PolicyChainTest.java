package dev.latitude.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.GeoPoint;
import dev.latitude.LatitudeConfigException;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingCandidates;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyChainTest {

    /** Candidates r0..r(n-1) with fixed latencies; records the ranks the chain gives. */
    private static final class FakeCandidates implements RoutingCandidates {
        final List<RegionSpec> regions = new ArrayList<>();
        final long[] latencies;
        final double[] ranks;

        FakeCandidates(long... latencies) {
            this.latencies = latencies;
            this.ranks = new double[latencies.length];
            for (int i = 0; i < latencies.length; i++) {
                regions.add(RegionSpec.builder("r" + i).writer().build());
            }
        }

        @Override
        public Operation operation() {
            return Operation.read("X").build();
        }

        @Override
        public Topology topology() {
            return null;
        }

        @Override
        public GeoPoint callerLocation() {
            return null;
        }

        @Override
        public String callerJurisdiction() {
            return null;
        }

        @Override
        public int size() {
            return regions.size();
        }

        @Override
        public RegionSpec region(int i) {
            return regions.get(i);
        }

        @Override
        public long latencyNanos(int i) {
            return latencies[i];
        }

        @Override
        public int inFlight(int i) {
            return 0;
        }

        @Override
        public double random() {
            return 0.5;
        }

        @Override
        public void rank(int i, double rank) {
            ranks[i] = rank;
        }

        /** Returns the region ids ordered by the ranks given (ties by position). */
        List<String> order() {
            int[] items = new int[ranks.length];
            for (int i = 0; i < items.length; i++) {
                items[i] = i;
            }
            double[] r = ranks.clone();
            Ranking.sort(items, r, 0, items.length);
            List<String> ids = new ArrayList<>();
            for (int i : items) {
                ids.add("r" + i);
            }
            return ids;
        }
    }

    /** Ranks each candidate by a value looked up from its id; records the size of every view it saw. */
    private static final class ByTable implements RoutingPolicy {
        final Map<String, Double> table;
        final List<List<String>> seen = new ArrayList<>();

        ByTable(Map<String, Double> table) {
            this.table = table;
        }

        @Override
        public void rank(RoutingCandidates c) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < c.size(); i++) {
                String id = c.region(i).id();
                ids.add(id);
                c.rank(i, table.getOrDefault(id, 0.0));
            }
            seen.add(ids);
        }

        @Override
        public String toString() {
            return "table";
        }
    }

    @Test
    void rank_twoLevels_secondBreaksOnlyTiesAndRanksArePositions() {
        ByTable group = new ByTable(Map.of("r0", 1.0, "r1", 0.0, "r2", 1.0, "r3", 0.0, "r4", 2.0));
        ByTable reverse = new ByTable(Map.of("r0", 4.0, "r1", 3.0, "r2", 2.0, "r3", 1.0, "r4", 0.0));
        FakeCandidates c = new FakeCandidates(0, 0, 0, 0, 0);

        PolicyChain.of(group, reverse).rank(c);

        assertThat(c.order()).containsExactly("r3", "r1", "r2", "r0", "r4");
        assertThat(c.ranks).containsExactly(3, 1, 2, 0, 4);
        assertThat(group.seen).containsExactly(List.of("r0", "r1", "r2", "r3", "r4"));
        assertThat(reverse.seen).containsExactly(List.of("r1", "r3"), List.of("r0", "r2"));
    }

    @Test
    void rank_threeLevels_thirdSeesOnlyTiesOfBothEarlierLevels() {
        ByTable first = new ByTable(Map.of("r4", 1.0, "r5", 1.0));
        ByTable second = new ByTable(Map.of("r0", 1.0, "r3", 1.0));
        ByTable third = new ByTable(Map.of("r1", 5.0, "r2", 4.0, "r4", 1.0, "r5", 0.0));
        FakeCandidates c = new FakeCandidates(0, 0, 0, 0, 0, 0);

        PolicyChain.of(first, second).then(third).rank(c);

        assertThat(c.order()).containsExactly("r2", "r1", "r0", "r3", "r5", "r4");
        assertThat(second.seen).containsExactly(List.of("r0", "r1", "r2", "r3"), List.of("r4", "r5"));
        assertThat(third.seen).containsExactly(List.of("r1", "r2"), List.of("r0", "r3"), List.of("r4", "r5"));
    }

    @Test
    void rank_noTies_secondLevelNeverCalled() {
        ByTable first = new ByTable(Map.of("r0", 3.0, "r1", 1.0, "r2", 2.0));
        ByTable second = new ByTable(Map.of());
        FakeCandidates c = new FakeCandidates(0, 0, 0);

        PolicyChain.of(first, second).rank(c);

        assertThat(c.order()).containsExactly("r1", "r2", "r0");
        assertThat(second.seen).isEmpty();
    }

    @Test
    void rank_latencyAsTieBreaker_seesLatenciesOfTheRunThroughTheView() {
        ByTable first = new ByTable(Map.of("r0", 1.0));
        RoutingPolicy latency = RoutingPolicy.latency().window(java.time.Duration.ZERO).build();
        FakeCandidates c = new FakeCandidates(1, 30, 10, 20);

        PolicyChain.of(first, latency).rank(c);

        assertThat(c.order()).containsExactly("r2", "r3", "r1", "r0");
    }

    @Test
    void of_nestedChains_flattenedInOrder() {
        RoutingPolicy a = named("a");
        RoutingPolicy b = named("b");
        RoutingPolicy cc = named("c");
        RoutingPolicy d = named("d");

        PolicyChain chain = PolicyChain.of(PolicyChain.of(a, b), PolicyChain.of(cc, d));

        assertThat(chain).hasToString("a then b then c then d");
    }

    @Test
    void of_nullPolicy_throwsNullPointerException() {
        assertThatThrownBy(() -> PolicyChain.of(null, named("a"))).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> PolicyChain.of(named("a"), null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void toString_builtInPolicies_joinedWithThen() {
        RoutingPolicy chain = RoutingPolicy.failover().priority("a", "b").build()
                .then(RoutingPolicy.latency().build());

        assertThat(chain).hasToString("failover[a, b] then latency(window=15ms)");
    }

    @Test
    void validate_everyLevelValidatedInOrderAndFirstErrorPropagates() {
        Topology t = Topology.builder().region(RegionSpec.builder("a").writer().build()).localRegion("a").build();
        List<String> validated = new ArrayList<>();
        RoutingPolicy ok = validating("ok", validated);
        RoutingPolicy bad = RoutingPolicy.geoproximity().bias("zz", 10).build();

        assertThatThrownBy(() -> ok.then(bad).then(validating("after", validated)).validate(t))
                .isInstanceOf(LatitudeConfigException.class)
                .satisfies(e -> assertThat(((LatitudeConfigException) e).setting()).isEqualTo("geoproximity.bias"));
        assertThat(validated).containsExactly("ok");

        validated.clear();
        ok.then(validating("second", validated)).then(validating("third", validated)).validate(t);
        assertThat(validated).containsExactly("ok", "second", "third");
    }

    private static RoutingPolicy named(String name) {
        return new RoutingPolicy() {
            @Override
            public void rank(RoutingCandidates candidates) {
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    private static RoutingPolicy validating(String name, List<String> log) {
        return new RoutingPolicy() {
            @Override
            public void rank(RoutingCandidates candidates) {
            }

            @Override
            public void validate(Topology topology) {
                log.add(name);
            }
        };
    }
}
