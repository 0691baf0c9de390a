package dev.latitude;

import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LatencyPolicyRaceTest {
    /** Candidates whose latencies change while the policy ranks them, as the engine's live EWMAs do. */
    private static final class ShiftingCandidates implements RoutingCandidates {
        private final Topology topology = Topology.builder()
                .region(RegionSpec.builder("a").writer().build())
                .region(RegionSpec.builder("b").build())
                .region(RegionSpec.builder("c").build())
                .localRegion("a").build();
        private int reads;

        @Override public Operation operation() { return Operation.read("Get").build(); }
        @Override public Topology topology() { return topology; }
        @Override public GeoPoint callerLocation() { return null; }
        @Override public String callerJurisdiction() { return null; }
        @Override public int size() { return 3; }
        @Override public RegionSpec region(int i) { return topology.regions().get(i); }
        @Override public long latencyNanos(int i) {
            // The first 2 passes (6 reads) see three equal regions; afterwards b and c have become slow.
            return reads++ < 6 || i == 0 ? TimeUnit.MILLISECONDS.toNanos(10) : TimeUnit.MILLISECONDS.toNanos(100);
        }
        @Override public int inFlight(int i) { return 0; }
        @Override public double random() { return 0.99; } // picks the last candidates of the window
        @Override public void rank(int i, double rank) { }
    }

    @Test
    void rankNeverThrowsWhileLatenciesChange() {
        LatencyPolicy policy = RoutingPolicy.latency().build();
        assertThatCode(() -> policy.rank(new ShiftingCandidates())).doesNotThrowAnyException();
    }
}
