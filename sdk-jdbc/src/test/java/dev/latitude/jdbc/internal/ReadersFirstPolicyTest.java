package dev.latitude.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.GeoPoint;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingCandidates;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The writer goes after the readers of a read, whatever the wrapped policy ranked, and only for reads. */
class ReadersFirstPolicyTest {
    private static final Topology TOPOLOGY = Topology.builder()
            .region(RegionSpec.builder("us-east-1").writer().build())
            .region(RegionSpec.builder("eu-west-1").build())
            .region(RegionSpec.builder("ap-south-1").build())
            .localRegion("eu-west-1")
            .build();
    /** Ranks in topology order: the writer first. */
    private static final RoutingPolicy IN_ORDER = c -> {
        for (int i = 0; i < c.size(); i++) {
            c.rank(i, i);
        }
    };

    @Test
    void read_writerGoesAfterEveryReader_readersKeepTheirOrder() {
        Candidates c = new Candidates(Operation.read("SELECT").build(), TOPOLOGY.regions());
        new ReadersFirstPolicy(IN_ORDER, () -> "us-east-1").rank(c);

        assertThat(c.ranks[1]).isLessThan(c.ranks[2]);
        assertThat(c.ranks[0]).isGreaterThan(c.ranks[2]);
    }

    @Test
    void writerMoves_theNewWriterGoesLast() {
        AtomicReference<String> writer = new AtomicReference<>("us-east-1");
        ReadersFirstPolicy policy = new ReadersFirstPolicy(IN_ORDER, writer::get);
        writer.set("eu-west-1");
        Candidates c = new Candidates(Operation.read("SELECT").build(), TOPOLOGY.regions());
        policy.rank(c);

        assertThat(c.ranks[0]).isLessThan(c.ranks[2]);
        assertThat(c.ranks[1]).isGreaterThan(c.ranks[2]);
    }

    @Test
    void writeOrSingleCandidate_rankingUnchanged() {
        ReadersFirstPolicy policy = new ReadersFirstPolicy(IN_ORDER, () -> "us-east-1");
        Candidates write = new Candidates(Operation.write("UPDATE").build(), TOPOLOGY.regions());
        policy.rank(write);
        assertThat(write.ranks).containsExactly(0, 1, 2);

        Candidates alone = new Candidates(Operation.read("SELECT").build(), TOPOLOGY.regions().subList(0, 1));
        policy.rank(alone);
        assertThat(alone.ranks).containsExactly(0);
    }

    /** The candidates of one plan, holding the ranks given. */
    private static final class Candidates implements RoutingCandidates {
        private final Operation operation;
        private final List<RegionSpec> regions;
        final double[] ranks;

        Candidates(Operation operation, List<RegionSpec> regions) {
            this.operation = operation;
            this.regions = regions;
            this.ranks = new double[regions.size()];
        }

        @Override
        public Operation operation() {
            return operation;
        }

        @Override
        public Topology topology() {
            return TOPOLOGY;
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
            return 0;
        }

        @Override
        public int inFlight(int i) {
            return 0;
        }

        @Override
        public double random() {
            return 0;
        }

        @Override
        public void rank(int i, double rank) {
            ranks[i] = rank;
        }
    }
}
