package dev.latitude.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.Latitude;
import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.jdbc.WriterIdentity;
import dev.latitude.spi.ReplicationWatermarks;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.PostgresCluster;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The poller on a real primary and two streaming replicas, on the routing engine's own timer: replay delayed or paused
 * on a replica, and a replica cut off by its proxy. Every wait here is bounded; a wait that should succeed gets far
 * more time than it needs, one that should fail gets a short one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplayWatermarkPollerIntegrationTest {
    private static final Duration PLENTY = Duration.ofSeconds(20);

    private PostgresCluster cluster;
    private PostgresCluster.Node primary;
    private PostgresCluster.Node replica1;
    private PostgresCluster.Node replica2;
    private Pools pools;
    private Latitude engine;
    private ReplayWatermarkPoller poller;
    private WriterIdentity identity;

    @BeforeAll
    void start() throws SQLException {
        cluster = PostgresCluster.builder().replicas(2).build().start();
        primary = cluster.primary();
        replica1 = cluster.replica(1);
        replica2 = cluster.replica(2);
        pools = new Pools(cluster);
        Topology.Builder topology = Topology.builder();
        topology.region(RegionSpec.builder(primary.name()).writer().build());
        cluster.replicas().forEach(r -> topology.region(RegionSpec.builder(r.name()).build()));
        engine = Latitude.builder().topology(topology.localRegion(primary.name()).build()).build();
        poller = ReplayWatermarkPoller.builder().regions(pools.byRegion()).build();
        poller.start(engine.scheduler());
        pools.execute(primary, "CREATE TABLE t (id serial PRIMARY KEY, v text)");
        identity = pools.inspect(primary).identity();
    }

    @AfterEach
    void heal() {
        cluster.nodes().forEach(n -> n.proxy().apply(Fault.none()));
        cluster.replicas().forEach(r -> {
            cluster.resumeReplay(r);
            cluster.replayDelay(r, Duration.ZERO);
        });
    }

    @AfterAll
    void stop() {
        if (poller != null) {
            poller.close();
        }
        if (engine != null) {
            engine.close();
        }
        if (pools != null) {
            pools.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void awaitReplay_delayedReplica_trueOnceItHasReplayedTheWrite() throws Exception {
        cluster.replayDelay(replica1, Duration.ofMillis(500));
        long lsn = write();
        assertThat(poller.replayedLsn(replica1.name(), identity)).isLessThan(lsn);

        assertThat(poller.awaitReplay(replica1.name(), identity, lsn, PLENTY).get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(poller.replayedLsn(replica1.name(), identity)).isGreaterThanOrEqualTo(lsn);
        assertThat(cluster.replayLsn(replica1)).isGreaterThanOrEqualTo(lsn);
    }

    @Test
    void awaitReplay_pausedReplica_falseAtMax_thenTrueOnceResumed() throws Exception {
        // Caught up first, so the poller has seen the writer at a position the paused replica has.
        long caughtUp = write();
        assertThat(poller.awaitReplay(replica2.name(), identity, caughtUp, PLENTY).get(30, TimeUnit.SECONDS)).isTrue();
        cluster.pauseReplay(replica2);
        long lsn = write();
        long expiredBefore = poller.waitsExpired();

        assertThat(poller.awaitReplay(replica2.name(), identity, lsn, Duration.ofMillis(300))
                .get(30, TimeUnit.SECONDS)).isFalse();
        assertThat(poller.waitsExpired()).isEqualTo(expiredBefore + 1);
        // It has not got the write, and the writer has moved on since: it is at least the wait behind.
        assertThat(poller.stalenessMillis(replica2.name(), "t")).isGreaterThanOrEqualTo(300);
        assertThat(poller.applied(replica2.name(), primary.name(), "t")).isLessThan(lsn);

        cluster.resumeReplay(replica2);
        assertThat(poller.awaitReplay(replica2.name(), identity, lsn, PLENTY).get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(poller.applied(replica2.name(), primary.name(), "t")).isGreaterThanOrEqualTo(lsn);
    }

    @Test
    void awaitReplay_onTheWriter_trueAtOnce() throws Exception {
        long lsn = write();
        assertThat(poller.awaitReplay(primary.name(), identity, lsn, PLENTY).get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(poller.stalenessMillis(primary.name(), "t")).isZero();
    }

    @Test
    void awaitReplay_blackholedReplica_falseAtMax_keepsItsLastPosition_andRecovers() throws Exception {
        long before = write();
        assertThat(poller.awaitReplay(replica1.name(), identity, before, PLENTY).get(30, TimeUnit.SECONDS)).isTrue();

        replica1.proxy().apply(Fault.blackhole());
        long lsn = write();
        assertThat(poller.awaitReplay(replica1.name(), identity, lsn, Duration.ofMillis(500))
                .get(30, TimeUnit.SECONDS)).isFalse();
        assertThat(poller.replayedLsn(replica1.name(), identity)).isGreaterThanOrEqualTo(before);

        replica1.proxy().apply(Fault.none());
        assertThat(poller.awaitReplay(replica1.name(), identity, lsn, PLENTY).get(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void stalenessMillis_healthyReplica_isKnown() throws Exception {
        long lsn = write();
        assertThat(poller.awaitReplay(replica1.name(), identity, lsn, PLENTY).get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(poller.stalenessMillis(replica1.name(), "t")).isNotEqualTo(ReplicationWatermarks.UNKNOWN)
                .isNotNegative();
        assertThat(poller.state(replica1.name()).replayLagMillis()).isNotNegative();
    }

    /** Writes a row on the primary and returns the primary's WAL position after it. */
    private long write() throws SQLException {
        pools.execute(primary, "INSERT INTO t (v) VALUES ('x')");
        return pools.inspect(primary).lsn();
    }
}
