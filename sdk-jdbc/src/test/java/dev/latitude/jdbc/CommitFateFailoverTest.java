package dev.latitude.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.PostgresCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransactionRollbackException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fate of a transaction whose COMMIT was cut off by the loss of the primary, then a replica promoted, on a cluster
 * of its own per test (a primary and one replica). The COMMIT is held in a deferred trigger that waits for an advisory
 * lock the test holds, so each step happens in a known order: the primary's proxy swallows the answer to COMMIT, the
 * test lets the commit finish on the primary, decides what the replica receives, kills the primary, promotes the
 * replica, then ends the blackhole, which breaks the client's connection: only then does {@code commit()} fail and
 * Latitude ask the new writer.
 */
class CommitFateFailoverTest {
    private static final String WRITER = "us-east-1";
    private static final String READER = "eu-west-1";
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int LOCK = 4242;

    private PostgresCluster cluster;
    private PostgresCluster.Node primary;
    private PostgresCluster.Node replica;
    private HikariDataSource writerPool;
    private HikariDataSource readerPool;
    private MultiRegionDataSource dataSource;

    @BeforeEach
    void start() throws SQLException {
        cluster = PostgresCluster.builder().replicas(1).build().start();
        primary = cluster.primary();
        replica = cluster.replica(1);
        cluster.awaitStreaming(replica, WAIT);
        writerPool = pool(WRITER, primary);
        readerPool = pool(READER, replica);
        dataSource = MultiRegionDataSource.builder()
                .topology(Topology.builder()
                        .region(RegionSpec.builder(WRITER).writer().build())
                        .region(RegionSpec.builder(READER).build())
                        .localRegion(READER)
                        .build())
                .region(WRITER, writerPool)
                .region(READER, readerPool)
                .statementDeadline(Duration.ofSeconds(20))
                .writerSearchTimeout(Duration.ofSeconds(5))
                .build();
        cluster.query(primary,
                "CREATE TABLE ledger (id int PRIMARY KEY)",
                "CREATE FUNCTION hold_commit() RETURNS trigger LANGUAGE plpgsql AS"
                        + " $$ BEGIN PERFORM pg_advisory_xact_lock_shared(" + LOCK + "); RETURN NULL; END $$",
                "CREATE CONSTRAINT TRIGGER hold AFTER INSERT ON ledger DEFERRABLE INITIALLY DEFERRED"
                        + " FOR EACH ROW EXECUTE FUNCTION hold_commit()");
        cluster.awaitReplayed(replica, cluster.currentLsn(), WAIT);
    }

    @AfterEach
    void stop() {
        if (dataSource != null) {
            dataSource.close();
        }
        if (writerPool != null) {
            writerPool.close();
        }
        if (readerPool != null) {
            readerPool.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void commitReplicatedBeforeTheKill_commitReturns_andTheRowIsOnTheNewWriter() throws Exception {
        CompletableFuture<Void> commit = commitHeld(11, Replica.GETS_THE_COMMIT);

        assertThat(commit.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isNull();
        assertThat(count(replica, 11)).isEqualTo(1);
        assertThat(dataSource.writerRegion()).isEqualTo(READER);
    }

    @Test
    void commitMadeOnTheOldPrimaryOnly_itsChangesReachedTheReplica_isNotOnTheNewWriter() throws Exception {
        CompletableFuture<Void> commit = commitHeld(12, Replica.GETS_THE_CHANGES_ONLY);

        Throwable failure = failureOf(commit);
        assertThat(failure).isInstanceOf(SQLTransactionRollbackException.class)
                .hasMessageContaining("is not on the writer in region " + READER);
        assertThat(((SQLException) failure).getSQLState()).isEqualTo("40000");
        assertThat(count(replica, 12)).isZero();
    }

    @Test
    void commitMadeOnTheOldPrimaryOnly_itsIdReusedByTheNewWriter_isNotOnTheNewWriter() throws Exception {
        CompletableFuture<Void> commit = commitHeld(13, Replica.GETS_NOTHING);

        Throwable failure = failureOf(commit);
        assertThat(failure).isInstanceOf(SQLTransactionRollbackException.class);
        assertThat(((SQLException) failure).getSQLState()).isEqualTo("40000");
        assertThat(count(replica, 13)).isZero();
    }

    /** What of the transaction the replica receives before the primary is killed. */
    private enum Replica {
        /** Everything, its commit included. */
        GETS_THE_COMMIT,
        /** Its row (WAL records carrying its id), not its commit. */
        GETS_THE_CHANGES_ONLY,
        /** Nothing, so that once promoted it hands the transaction's id out again. */
        GETS_NOTHING
    }

    /**
     * Inserts {@code id} through Latitude and commits it while the test holds the commit in the trigger; swallows the
     * answer to COMMIT, lets the commit finish on the primary with the replica receiving {@code what}, kills the
     * primary, promotes the replica, then breaks the client's connection.
     */
    private CompletableFuture<Void> commitHeld(int id, Replica what) throws Exception {
        if (what == Replica.GETS_NOTHING) {
            stopReceiving();
        }
        try (Connection lock = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + primary.port()
                + "/postgres", PostgresCluster.USER, ""); Statement ls = lock.createStatement()) {
            ls.execute("SELECT pg_advisory_lock(" + LOCK + ")");
            Connection c = dataSource.getConnection();
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO ledger VALUES (" + id + ")");
            }
            CompletableFuture<Void> commit = CompletableFuture.runAsync(() -> {
                try (c) {
                    c.commit();
                } catch (SQLException e) {
                    throw new CompletionException(e);
                }
            });
            await(() -> "1".equals(cluster.query(primary, "SELECT count(*) FROM pg_stat_activity"
                    + " WHERE query = 'COMMIT' AND wait_event = 'advisory'")), "COMMIT waiting in the trigger");
            long xid = Long.parseLong(cluster.query(primary, "SELECT backend_xid FROM pg_stat_activity"
                    + " WHERE query = 'COMMIT' AND wait_event = 'advisory'"));
            primary.proxy().apply(Fault.blackhole());
            if (what == Replica.GETS_THE_CHANGES_ONLY) {
                cluster.awaitReplayed(replica, cluster.currentLsn(), WAIT);
                stopReceiving();
            }
            ls.execute("SELECT pg_advisory_unlock(" + LOCK + ")");
            await(() -> count(primary, id) == 1, "the commit done on the primary");
            if (what == Replica.GETS_THE_COMMIT) {
                cluster.awaitReplayed(replica, cluster.currentLsn(), WAIT);
            }
            cluster.kill(primary);
            cluster.promote(replica);
            if (what == Replica.GETS_NOTHING) {
                reuse(xid);
            }
            primary.proxy().apply(Fault.none()); // breaks the connection the COMMIT was sent on
            return commit;
        }
    }

    /**
     * Commits transactions on the promoted replica until one has id {@code xid}, so that {@code txid_status} there
     * says "committed" for it: about another transaction than the lost one.
     */
    private void reuse(long xid) {
        for (int i = 0; i < 10_000; i++) {
            if (Long.parseLong(cluster.query(replica, "SELECT txid_current()")) >= xid) {
                break;
            }
        }
        assertThat(cluster.query(replica, "SELECT txid_status(" + xid + ")")).isEqualTo("committed");
    }

    /** Stops the replica's WAL receiver: it keeps what it has and receives nothing more. */
    private void stopReceiving() throws InterruptedException {
        cluster.query(replica, "ALTER SYSTEM SET primary_conninfo = ''", "SELECT pg_reload_conf()");
        await(() -> "0".equals(cluster.query(replica, "SELECT count(*) FROM pg_stat_wal_receiver")),
                "the replica's WAL receiver stopped");
    }

    private int count(PostgresCluster.Node node, int id) {
        return Integer.parseInt(cluster.query(node, "SELECT count(*) FROM ledger WHERE id = " + id));
    }

    private static Throwable failureOf(CompletableFuture<Void> commit) throws Exception {
        try {
            commit.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("commit() returned, but its work is not on the new writer");
    }

    /** Polls {@code condition} (each poll is a query on a new connection) until it holds, for at most WAIT. */
    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    private static HikariDataSource pool(String region, PostgresCluster.Node node) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(region);
        config.setJdbcUrl(node.jdbcUrl());
        config.setUsername(PostgresCluster.USER);
        config.setMaximumPoolSize(4);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(1_000);
        config.setValidationTimeout(500);
        config.setInitializationFailTimeout(-1);
        config.addDataSourceProperty("connectTimeout", "1");
        config.addDataSourceProperty("socketTimeout", "30");
        return new HikariDataSource(config);
    }
}
