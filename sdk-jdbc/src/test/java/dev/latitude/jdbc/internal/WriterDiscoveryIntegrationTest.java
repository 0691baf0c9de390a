package dev.latitude.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.jdbc.NoWriterException;
import dev.latitude.jdbc.SplitBrainException;
import dev.latitude.jdbc.WriterIdentity;
import dev.latitude.jdbc.internal.CommitFate.Outcome;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.PostgresCluster;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Node inspection, the writer search and commit fates on a real primary and two streaming replicas, shared by the
 * tests of this class, which run in order: the healthy cluster, faults on the nodes' proxies, commit fates on the
 * writer, then the primary killed (no writer), a replica promoted (the new writer, a new timeline), and the other
 * replica promoted too (split brain).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WriterDiscoveryIntegrationTest {
    private static final Duration SEARCH_TIMEOUT = Duration.ofSeconds(1);
    /** Far more than a search needs, far less than the 30 s an unbounded search would hang on a blackholed node. */
    private static final Duration SEARCH_BOUND = Duration.ofSeconds(8);

    private PostgresCluster cluster;
    private PostgresCluster.Node primary;
    private PostgresCluster.Node replica1;
    private PostgresCluster.Node replica2;
    private Pools pools;
    private ExecutorService executor;
    private WriterLocator locator;
    private WriterIdentity timeline1;
    private CommitFate.Origin committedBeforeFailover;

    @BeforeAll
    void start() throws SQLException {
        cluster = PostgresCluster.builder().replicas(2).build().start();
        primary = cluster.primary();
        replica1 = cluster.replica(1);
        replica2 = cluster.replica(2);
        pools = new Pools(cluster);
        executor = Executors.newCachedThreadPool();
        locator = new WriterLocator(pools.byRegion(), executor, SEARCH_TIMEOUT);
        pools.execute(primary, "CREATE TABLE fate (id int PRIMARY KEY)");
    }

    @AfterAll
    void stop() {
        if (pools != null) {
            pools.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    @Test
    @Order(1)
    void inspect_healthyCluster_oneWriterAndOneIdentity() throws SQLException {
        NodeState p = pools.inspect(primary);
        NodeState r1 = pools.inspect(replica1);
        NodeState r2 = pools.inspect(replica2);

        assertThat(p.inRecovery()).isFalse();
        assertThat(r1.inRecovery()).isTrue();
        assertThat(r2.inRecovery()).isTrue();
        assertThat(p.identity().timeline()).isEqualTo(1);
        assertThat(r1.identity()).isEqualTo(p.identity());
        assertThat(r2.identity()).isEqualTo(p.identity());
        assertThat(p.replayLagMillis()).isZero();
        timeline1 = p.identity();
    }

    @Test
    @Order(2)
    void inspect_writerPosition_isReachedByReplicasOnceTheyHaveTheWrite() throws SQLException {
        pools.execute(primary, "INSERT INTO fate VALUES (1)");
        long written = pools.inspect(primary).lsn();

        cluster.awaitReplayed(replica1, written, Duration.ofSeconds(30));
        assertThat(pools.inspect(replica1).lsn()).isGreaterThanOrEqualTo(written);
        try (Connection c = pools.connect(replica1); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM fate WHERE id = 1")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }

    @Test
    @Order(3)
    void locate_healthyCluster_findsThePrimary() throws SQLException {
        assertThat(locator.locate()).isEqualTo(primary.name());
        assertThat(locator.locateState().identity()).isEqualTo(timeline1);
    }

    @Test
    @Order(4)
    void locate_blackholedReplica_findsThePrimaryWithoutWaitingForIt() throws SQLException {
        replica1.proxy().apply(Fault.blackhole());
        try {
            long start = System.nanoTime();
            assertThat(locator.locate()).isEqualTo(primary.name());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(SEARCH_BOUND);
        } finally {
            replica1.proxy().apply(Fault.none());
        }
    }

    @Test
    @Order(5)
    void locate_blackholedPrimary_noWriter_withinTheTimeout() {
        primary.proxy().apply(Fault.blackhole());
        try {
            long start = System.nanoTime();
            assertThatThrownBy(locator::locate).isInstanceOfSatisfying(NoWriterException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("08001");
                assertThat(e.answers()).containsEntry(replica1.name(), "replica")
                        .containsEntry(replica2.name(), "replica");
                // Silent: either its pool gave up on it or the search stopped waiting, whichever came first.
                assertThat(e.answers().get(primary.name())).satisfiesAnyOf(
                        a -> assertThat(a).isEqualTo("no answer within 1000 ms"),
                        a -> assertThat(a).startsWith("unreachable: "));
                assertThat(e.getMessage()).contains("region primary: ");
            });
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(SEARCH_BOUND);
        } finally {
            primary.proxy().apply(Fault.none());
        }
    }

    @Test
    @Order(6)
    void locate_nothingReachable_noWriter() {
        cluster.nodes().forEach(n -> n.proxy().apply(Fault.refuseConnections()));
        try {
            assertThatThrownBy(locator::locate).isInstanceOfSatisfying(NoWriterException.class,
                    e -> assertThat(e.answers().values()).hasSize(3).allSatisfy(
                            answer -> assertThat(answer).startsWith("unreachable: ")));
        } finally {
            cluster.nodes().forEach(n -> n.proxy().apply(Fault.none()));
        }
    }

    @Test
    @Order(7)
    void commitFate_onTheSameWriter_tellsCommittedNotThereAndInProgress() throws SQLException {
        CommitFate.Origin committed = transaction(primary, "INSERT INTO fate VALUES (2)", true);
        CommitFate.Origin aborted = transaction(primary, "INSERT INTO fate VALUES (3)", false);
        try (Connection running = pools.connect(primary); Connection asking = pools.connect(primary)) {
            running.setAutoCommit(false);
            try (Statement s = running.createStatement()) {
                s.execute("INSERT INTO fate VALUES (30)");
            }
            CommitFate.Origin inProgress = CommitFate.beforeCommit(running);

            assertThat(committed.writer()).isEqualTo(timeline1);
            assertThat(CommitFate.resolve(asking, committed)).isEqualTo(Outcome.COMMITTED);
            assertThat(CommitFate.resolve(asking, aborted)).isEqualTo(Outcome.NOT_ON_WRITER);
            assertThat(CommitFate.resolve(asking, inProgress)).isEqualTo(Outcome.IN_PROGRESS);
            running.rollback();
        }
    }

    @Test
    @Order(8)
    void commitFate_foreignIdentityOrReplica_isUnknown_anIdNotReachedIsNotThere() throws SQLException {
        CommitFate.Origin committed = transaction(primary, "INSERT INTO fate VALUES (4)", true);
        try (Connection c = pools.connect(primary)) {
            WriterIdentity otherCluster = new WriterIdentity(timeline1.systemIdentifier() + 1, 1);
            assertThat(CommitFate.resolve(c, new CommitFate.Origin(committed.xid(), committed.walEnd(), otherCluster,
                    committed.serverStartMicros()))).isEqualTo(Outcome.UNKNOWN);
            CommitFate.Origin future = new CommitFate.Origin(committed.xid() + 1_000_000, committed.walEnd(),
                    timeline1, committed.serverStartMicros());
            assertThat(CommitFate.resolve(c, future)).isEqualTo(Outcome.NOT_ON_WRITER);
            assertThat(c.getAutoCommit()).isTrue(); // the connection is still usable after the refused question
            assertThat(CommitFate.resolve(c, committed)).isEqualTo(Outcome.COMMITTED);
            // The same timeline but another start of the server: crash recovery may have dropped the commit and
            // handed the id out again, so only an id it has not reached is decided.
            CommitFate.Origin beforeRestart = new CommitFate.Origin(committed.xid(), committed.walEnd(), timeline1,
                    committed.serverStartMicros() - 1);
            assertThat(CommitFate.resolve(c, beforeRestart)).isEqualTo(Outcome.UNKNOWN);
        }
        try (Connection replica = pools.connect(replica1)) {
            assertThat(CommitFate.resolve(replica, committed)).isEqualTo(Outcome.UNKNOWN); // not a writer
        }
    }

    @Test
    @Order(9)
    void locate_primaryKilled_noWriterUntilAReplicaIsPromoted() throws SQLException {
        committedBeforeFailover = transaction(primary, "INSERT INTO fate VALUES (5)", true);
        cluster.awaitReplayed(replica1, pools.inspect(primary).lsn(), Duration.ofSeconds(30));
        cluster.kill(primary);

        assertThatThrownBy(locator::locate).isInstanceOfSatisfying(NoWriterException.class,
                e -> assertThat(e.answers()).containsEntry(replica1.name(), "replica")
                        .containsEntry(replica2.name(), "replica")
                        .hasEntrySatisfying(primary.name(), a -> assertThat(a).startsWith("unreachable: ")));

        cluster.promote(replica1);
        NodeState promoted = locator.locateState();
        assertThat(promoted.region()).isEqualTo(replica1.name());
        assertThat(promoted.identity().sameSystem(timeline1)).isTrue();
        assertThat(promoted.identity().timeline()).isEqualTo(2);
    }

    @Test
    @Order(10)
    void commitFate_afterPromotion_replayedCommitIsCommitted_laterWalIsNotThere() throws SQLException {
        try (Connection c = pools.connect(replica1)) {
            // Replayed before the promotion: the new writer's history holds it.
            assertThat(CommitFate.resolve(c, committedBeforeFailover)).isEqualTo(Outcome.COMMITTED);
        }
        // An id handed out on the new timeline may be the number of one the old writer lost. A transaction of the old
        // timeline whose WAL ended after the switch point is not in the new writer's history, whatever that number's
        // fate is there.
        CommitFate.Origin onNewTimeline = transaction(replica1, "INSERT INTO fate VALUES (6)", true);
        assertThat(onNewTimeline.writer().timeline()).isEqualTo(2);
        try (Connection c = pools.connect(replica1)) {
            assertThat(CommitFate.resolve(c, onNewTimeline)).isEqualTo(Outcome.COMMITTED);
            CommitFate.Origin lostOnTimeline1 = new CommitFate.Origin(onNewTimeline.xid(), onNewTimeline.walEnd(),
                    timeline1, committedBeforeFailover.serverStartMicros());
            assertThat(CommitFate.resolve(c, lostOnTimeline1)).isEqualTo(Outcome.NOT_ON_WRITER);
        }
    }

    @Test
    @Order(11)
    void locate_twoPromotedReplicas_splitBrainNamingBoth() {
        cluster.promote(replica2);
        assertThatThrownBy(locator::locate).isInstanceOfSatisfying(SplitBrainException.class, e -> {
            assertThat(e.writerRegions()).containsExactly(replica1.name(), replica2.name());
            assertThat(e.getSQLState()).isEqualTo("08004");
            assertThat(e.getMessage()).contains("replica-1 and replica-2");
        });
    }

    /** Runs {@code sql} in a transaction on {@code node}, commits or rolls it back, and returns where it ran. */
    private CommitFate.Origin transaction(PostgresCluster.Node node, String sql, boolean commit) throws SQLException {
        try (Connection c = pools.connect(node)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute(sql);
            }
            CommitFate.Origin origin = CommitFate.beforeCommit(c);
            if (commit) {
                c.commit();
            } else {
                c.rollback();
            }
            c.setAutoCommit(true);
            return origin;
        }
    }
}
