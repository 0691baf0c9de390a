package dev.latitude.jdbc;

import static dev.latitude.jdbc.PgRegions.FAR;
import static dev.latitude.jdbc.PgRegions.NEAR;
import static dev.latitude.jdbc.PgRegions.WRITER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.latitude.Session;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransactionRollbackException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Writer failover on a cluster of its own, in order: the primary is killed and a replica promoted (outside a
 * transaction: typed "failed over", then the new writer is used); the new writer is lost before a transaction commits
 * (rolled back, and the next writer is used); two writers at once (refused, never guessed). Commit fates across a
 * promotion are in {@link CommitFateFailoverTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WriterFailoverTest {
    private PgRegions regions;
    private MultiRegionDataSource dataSource;

    @BeforeAll
    void start() throws SQLException {
        regions = PgRegions.start();
        dataSource = regions.dataSource()
                .router(b -> b.routingPolicy(PgRegions.nearFirst()))
                .statementDeadline(Duration.ofSeconds(20))
                .writerSearchTimeout(Duration.ofSeconds(5))
                .build();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE public.ledger (id int PRIMARY KEY, note text)");
        }
        regions.awaitReplicas();
    }

    @AfterAll
    void stop() {
        if (dataSource != null) {
            dataSource.close();
        }
        if (regions != null) {
            regions.close();
        }
    }

    private String insert(int id) throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO public.ledger VALUES (" + id + ", 'x')");
            return regions.regionOf(c);
        }
    }

    @Test
    @Order(1)
    void writerKilledAndReplicaPromoted_outsideATransaction_failsOverThenUsesTheNewWriter() throws Exception {
        try (Scope ignored = Session.create().storeIn(Context.current()).makeCurrent()) {
            assertThat(insert(1)).isEqualTo(WRITER);
            regions.awaitReplicas();
            regions.cluster.kill(regions.cluster.primary());
            regions.cluster.promote(regions.cluster.replica(1));

            Throwable failure = catchThrowable(() -> insert(2));
            assertThat(failure).isInstanceOf(FailedOverException.class);
            assertThat(((SQLException) failure).getSQLState()).isEqualTo("08S02");
            assertThat(((FailedOverException) failure).fromRegion()).isEqualTo(WRITER);
            assertThat(((FailedOverException) failure).toRegion()).isEqualTo(NEAR);

            assertThat(insert(2)).isEqualTo(NEAR);
            try (Connection c = dataSource.getConnection()) {
                c.setReadOnly(true);
                try (Statement s = c.createStatement();
                        ResultSet rs = s.executeQuery("SELECT count(*) FROM public.ledger WHERE id IN (1, 2)")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(2);
                }
            }
        }
    }

    @Test
    @Order(2)
    void writerLostBeforeATransactionCommits_rolledBack_thenTheNextWriterIsUsed() throws Exception {
        try (Scope ignored = Session.create().storeIn(Context.current()).makeCurrent();
                Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO public.ledger VALUES (3, 'in flight')");
            }
            regions.cluster.kill(regions.cluster.replica(1));
            regions.cluster.promote(regions.cluster.replica(2));

            Throwable failure = catchThrowable(c::commit);
            // The connection died with its writer, so COMMIT was never sent (the question Latitude asks just before
            // it fails first): the transaction was rolled back, and the next writer is looked for.
            assertThat(failure).isInstanceOf(SQLTransactionRollbackException.class);
            assertThat(((SQLException) failure).getSQLState()).isEqualTo("40000");
            c.rollback();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT count(*) FROM public.ledger WHERE id = 3")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
            assertThat(regions.regionOf(c)).isEqualTo(FAR);
        }
        assertThat(insert(4)).isEqualTo(FAR);
    }

    /** Waits until the region's pool hands out a working connection again (it backs off while its node is down). */
    private void awaitPoolServes(String region) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try (Connection c = regions.pools.get(region).getConnection()) {
                if (c.isValid(2)) {
                    return;
                }
            } catch (SQLException e) {
                assertThat(System.nanoTime()).as("pool of " + region + " serving again").isLessThan(deadline);
            }
            Thread.sleep(50);
        }
    }

    @Test
    @Order(3)
    void twoWriters_areRefused_notGuessed() throws Exception {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            int pid;
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO public.ledger VALUES (5, 'x')");
                try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                    rs.next();
                    pid = rs.getInt(1);
                }
            }
            // The first primary comes back: it never learnt of the promotions, so it is a writer too.
            regions.cluster.restart(regions.cluster.primary());
            awaitPoolServes(WRITER);
            // The transaction's connection to the current writer is cut, so the writer is looked for.
            regions.cluster.query(regions.cluster.replica(2), "SELECT pg_terminate_backend(" + pid + ")");
            Throwable failure = catchThrowable(() -> {
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("INSERT INTO public.ledger VALUES (6, 'x')");
                }
            });
            assertThat(failure).isInstanceOf(SplitBrainException.class);
            assertThat(((SplitBrainException) failure).writerRegions()).containsExactlyInAnyOrder(WRITER, FAR);
            assertThat(((SQLException) failure).getSQLState()).isEqualTo(SplitBrainException.SQL_STATE);
        }
        assertThatThrownBy(() -> dataSource.findWriter(FAR)).isInstanceOf(SplitBrainException.class);
    }
}
