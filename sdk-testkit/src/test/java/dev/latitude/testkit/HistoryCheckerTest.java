package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.testkit.HistoryOp.Type;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The history checker catches seeded violations of each kind and passes clean histories. */
class HistoryCheckerTest {
    private final AtomicLong now = new AtomicLong();
    private final History history = History.create(() -> now.addAndGet(10));

    private static final Topology TOPOLOGY = Topology.builder()
            .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").build())
            .region(RegionSpec.builder("eu-west-1").writer().jurisdiction("EU").build())
            .localRegion("us-east-1")
            .build();
    private static final DataPolicies POLICIES = DataPolicies.builder()
            .prefix("eu_", DataPolicy.builder().residency("EU").writerRegion("eu-west-1").build())
            .build();
    private final HistoryChecker checker = HistoryChecker.builder().topology(TOPOLOGY).dataPolicies(POLICIES).build();

    private void write(String session, String key, long version, String region) {
        history.invoke(session, Type.WRITE, "t", key, region).ok(region, version, "v" + version);
    }

    private void read(String session, String key, long version, String region) {
        history.invoke(session, Type.READ, "t", key, region).ok(region, version, "v" + version);
    }

    @Test
    void check_cleanHistory_noViolations() {
        write("alice", "k", 1, "us-east-1");
        read("alice", "k", 1, "eu-west-1");
        write("alice", "k", 2, "us-east-1");
        read("alice", "k", 2, "us-east-1");
        read("bob", "k", 1, "eu-west-1"); // another session may lag
        history.finalState("t", "k", "us-east-1", 2);
        history.finalState("t", "k", "eu-west-1", 2);
        HistoryReport report = checker.check(history);
        assertThat(report.clean()).as(report.toString()).isTrue();
        assertThat(report.operations()).isEqualTo(7);
        report.assertClean();
    }

    @Test
    void check_readMissesOwnWrite_readYourWritesViolationNamesBoth() {
        write("alice", "k", 5, "us-east-1");
        read("alice", "k", 4, "eu-west-1");
        HistoryReport report = checker.check(history);
        assertThat(report.count(Violation.Kind.READ_YOUR_WRITES)).isEqualTo(1);
        Violation v = report.violations().get(0);
        assertThat(v.operations()).extracting(HistoryOp::id).containsExactly(1L, 0L);
        assertThat(v.message()).contains("alice", "v4", "eu-west-1", "v5");
        assertThatThrownBy(report::assertClean).isInstanceOf(AssertionError.class).hasMessageContaining("READ_YOUR_WRITES");
    }

    @Test
    void check_concurrentWriteAndRead_isNotAViolation() {
        History.Pending w = history.invoke("alice", Type.WRITE, "t", "k", "us-east-1");
        History.Pending r = history.invoke("alice", Type.READ, "t", "k", "eu-west-1");
        w.ok("us-east-1", 5, null);
        r.ok("eu-west-1", 4, null); // the read started before the write was acknowledged
        assertThat(checker.check(history).clean()).isTrue();
    }

    @Test
    void check_failedOrAmbiguousWrites_needNotBeSeen() {
        history.invoke("alice", Type.WRITE, "t", "k", "us-east-1").failed();
        history.invoke("alice", Type.WRITE, "t", "k", "us-east-1").ambiguous(9);
        read("alice", "k", HistoryOp.NONE, "eu-west-1");
        assertThat(checker.check(history).clean()).isTrue();
    }

    @Test
    void check_readGoesBackInTime_monotonicReadsViolation() {
        read("bob", "k", 7, "us-east-1");
        read("bob", "k", 6, "eu-west-1");
        HistoryReport report = checker.check(history);
        assertThat(report.count(Violation.Kind.MONOTONIC_READS)).isEqualTo(1);
        assertThat(report.violations().get(0).message()).contains("bob", "v6", "v7");
    }

    @Test
    void check_acknowledgedWriteMissingAfterHeal_lostWriteViolation() {
        write("alice", "k", 3, "us-east-1");
        write("bob", "k", 4, "eu-west-1");
        history.finalState("t", "k", "us-east-1", 4);
        history.finalState("t", "k", "eu-west-1", 3);
        HistoryReport report = checker.check(history);
        assertThat(report.count(Violation.Kind.LOST_WRITE)).isEqualTo(1);
        assertThat(report.violations().get(0).message()).contains("eu-west-1", "v3", "v4");
    }

    @Test
    void check_euDataInUsRegion_residencyViolation() {
        history.invoke("alice", Type.READ, "eu_users", "u1", "eu-west-1").ok("eu-west-1", 1, null);
        history.invoke("alice", Type.READ, "eu_users", "u1", "us-east-1").ok("us-east-1", 1, null);
        history.invoke("alice", Type.READ, "orders", "o1", "us-east-1").ok("us-east-1", 1, null);
        HistoryReport report = checker.check(history);
        assertThat(report.count(Violation.Kind.RESIDENCY)).isEqualTo(1);
        assertThat(report.violations().get(0).message()).contains("eu_users", "[EU]", "us-east-1");
    }

    @Test
    void check_withoutTopology_skipsResidency() {
        history.invoke("alice", Type.READ, "eu_users", "u1", "us-east-1").ok("us-east-1", 1, null);
        assertThat(HistoryChecker.builder().build().check(history).clean()).isTrue();
    }

    @Test
    void pending_completedTwice_isRefused() {
        History.Pending p = history.invoke("alice", Type.READ, "t", "k", "us-east-1");
        p.ok("us-east-1", 1, null);
        assertThatThrownBy(() -> p.failed()).isInstanceOf(IllegalStateException.class).hasMessageContaining("twice");
    }

    @Test
    void check_largeRandomCleanHistory_isClean() {
        Random random = new Random(7);
        long[] version = new long[50];
        for (int i = 0; i < 100_000; i++) {
            int k = random.nextInt(version.length);
            String session = "s" + (k % 10);
            if (random.nextInt(4) == 0) {
                write(session, "k" + k, ++version[k], "us-east-1");
            } else {
                read(session, "k" + k, version[k], "eu-west-1");
            }
        }
        HistoryReport report = checker.check(history);
        assertThat(report.clean()).isTrue();
        assertThat(report.operations()).isEqualTo(100_000);
    }
}
