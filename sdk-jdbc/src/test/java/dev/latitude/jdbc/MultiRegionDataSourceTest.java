package dev.latitude.jdbc;

import static dev.latitude.jdbc.PgRegions.FAR;
import static dev.latitude.jdbc.PgRegions.NEAR;
import static dev.latitude.jdbc.PgRegions.WRITER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.Session;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Routing and JDBC semantics of {@link MultiRegionDataSource} on a real primary and two replicas. Each test runs in a
 * session of its own, so that one test's writes do not send another's reads to the writer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultiRegionDataSourceTest {
    private PgRegions regions;
    private MultiRegionDataSource dataSource;
    private Scope sessionScope;

    @BeforeAll
    void start() throws SQLException {
        regions = PgRegions.shared();
        dataSource = regions.dataSource().router(b -> b.routingPolicy(PgRegions.nearFirst())).build();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS app");
            s.execute("CREATE TABLE IF NOT EXISTS app.profile (id int PRIMARY KEY, name text)");
            s.execute("CREATE TABLE IF NOT EXISTS public.counter (id int PRIMARY KEY, n int)");
        }
        regions.awaitReplicas();
    }

    @AfterAll
    void stop() {
        if (dataSource != null) {
            dataSource.close();
        }
    }

    @BeforeEach
    void freshSession() {
        sessionScope = Session.create().storeIn(Context.current()).makeCurrent();
    }

    @AfterEach
    void endSession() {
        sessionScope.close();
    }

    @Test
    void readWriteWork_runsOnTheWriter() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            assertThat(regions.regionOf(c)).isEqualTo(WRITER);
        }
    }

    @Test
    void readOnlyWork_runsOnThePlannedReader() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setReadOnly(true);
            assertThat(regions.regionOf(c)).isEqualTo(NEAR);
        }
    }

    @Test
    void getConnection_takesNoPhysicalConnectionUntilTheFirstStatement() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            LogicalConnection logical = (LogicalConnection) c;
            c.setAutoCommit(false);
            c.setReadOnly(true);
            Statement s = c.createStatement();
            s.setFetchSize(10);
            assertThat(logical.region()).isNull();
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
            assertThat(logical.region()).isEqualTo(NEAR);
            assertThat(s.getFetchSize()).isEqualTo(10);
            s.close();
            c.commit();
            assertThat(logical.region()).isNull();
        }
    }

    @Test
    void transaction_staysOnOnePhysicalConnection_andTheNextOneMoves() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            int pid = backendPid(c);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO public.counter VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = 1");
            }
            assertThat(backendPid(c)).isEqualTo(pid);
            assertThat(regions.regionOf(c)).isEqualTo(WRITER);
            c.commit();

            c.setReadOnly(true);
            try (Scope ignored = Session.create().storeIn(Context.current()).makeCurrent()) {
                assertThat(regions.regionOf(c)).isEqualTo(NEAR);
                c.commit();
            }
        }
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void settings_areCarriedToTheNextPhysicalConnection() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setSchema("app");
            c.setClientInfo("ApplicationName", "latitude-test");
            assertThat(regions.regionOf(c)).isEqualTo(WRITER);
            c.commit();
            c.setReadOnly(true);
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT inet_server_port(), current_setting('transaction_isolation'),"
                            + " current_schema(), current_setting('application_name'),"
                            + " current_setting('transaction_read_only')")) {
                rs.next();
                assertThat(regions.regionByPort.get(rs.getInt(1))).isEqualTo(NEAR);
                assertThat(rs.getString(2)).isEqualTo("repeatable read");
                assertThat(rs.getString(3)).isEqualTo("app");
                assertThat(rs.getString(4)).isEqualTo("latitude-test");
                assertThat(rs.getString(5)).isEqualTo("on");
            }
            c.commit();
            assertThat(c.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_REPEATABLE_READ);
            assertThat(c.getSchema()).isEqualTo("app");
            assertThat(c.getClientInfo("ApplicationName")).isEqualTo("latitude-test");
        }
    }

    @Test
    void autoCommitConnection_movesWhenReadOnlyChanges() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            assertThat(regions.regionOf(c)).isEqualTo(WRITER);
            c.setReadOnly(true);
            assertThat(regions.regionOf(c)).isEqualTo(NEAR);
            c.setReadOnly(false);
            assertThat(regions.regionOf(c)).isEqualTo(WRITER);
        }
    }

    @Test
    void preparedStatement_parametersSetBeforeTheFirstRun_areReplayed() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement p = c.prepareStatement("INSERT INTO app.profile VALUES (?, ?)"
                        + " ON CONFLICT (id) DO UPDATE SET name = excluded.name")) {
            p.setInt(1, 7);
            p.setString(2, "first");
            p.clearParameters();
            p.setInt(1, 7);
            p.setString(2, "seven");
            assertThat(p.executeUpdate()).isEqualTo(1);
            p.setString(2, "seven again");
            assertThat(p.executeUpdate()).isEqualTo(1);
            assertThat(p.getConnection()).isSameAs(c);
            try (PreparedStatement q = c.prepareStatement("SELECT name FROM app.profile WHERE id = ?")) {
                q.setInt(1, 7);
                try (ResultSet rs = q.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("seven again");
                }
            }
        }
    }

    @Test
    void closedConnection_refusesWork_andCloseIsIdempotent() throws SQLException {
        Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        c.close();
        c.close();
        assertThat(c.isClosed()).isTrue();
        assertThat(s.isClosed()).isTrue();
        assertThat(c.isValid(1)).isFalse();
        assertThatThrownBy(c::createStatement).isInstanceOf(SQLException.class)
                .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("08003");
        assertThatThrownBy(() -> s.executeQuery("SELECT 1")).isInstanceOf(SQLException.class);
        assertThatThrownBy(() -> c.setAutoCommit(false)).isInstanceOf(SQLException.class);
    }

    @Test
    void closedStatement_refusesWork_andKeepsItsConnection() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            Statement s = c.createStatement();
            s.close();
            s.close();
            assertThat(s.isClosed()).isTrue();
            assertThatThrownBy(() -> s.executeQuery("SELECT 1")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("closed");
            assertThat(regions.regionOf(c)).isEqualTo(WRITER);
        }
    }

    @Test
    void commitAndRollback_withoutStatements_doNothing_andNeedATransaction() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            assertThatThrownBy(c::commit).isInstanceOf(SQLException.class);
            c.setAutoCommit(false);
            c.commit();
            c.rollback();
            assertThat(((LogicalConnection) c).region()).isNull();
        }
    }

    @Test
    void rollback_discardsTheTransaction() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO app.profile VALUES (99, 'never')");
            }
            c.rollback();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT count(*) FROM app.profile WHERE id = 99")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
            c.commit();
        }
    }

    @Test
    void unwrapAndIsWrapperFor_reachTheLogicalThenThePhysicalConnection() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            assertThat(c.isWrapperFor(Connection.class)).isTrue();
            assertThat(c.unwrap(Connection.class)).isSameAs(c);
            assertThat(c.isWrapperFor(org.postgresql.PGConnection.class)).isTrue();
            assertThat(c.unwrap(org.postgresql.PGConnection.class)).isNotNull();
            Statement s = c.createStatement();
            assertThat(s.unwrap(Statement.class)).isSameAs(s);
            assertThat(s.isWrapperFor(org.postgresql.PGStatement.class)).isTrue();
        }
        assertThat(dataSource.isWrapperFor(MultiRegionDataSource.class)).isTrue();
        assertThat(dataSource.unwrap(dev.latitude.Latitude.class)).isSameAs(dataSource.latitude());
    }

    @Test
    void warnings_areNullBeforeTheFirstStatement_thenThePhysicalConnections() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            assertThat((Object) c.getWarnings()).isNull();
            c.clearWarnings();
            try (Statement s = c.createStatement()) {
                assertThat((Object) s.getWarnings()).isNull();
                s.execute("DO $$ BEGIN RAISE WARNING 'careful'; END $$");
                assertThat((Object) s.getWarnings()).isNotNull();
                assertThat(s.getWarnings().getMessage()).contains("careful");
            }
        }
    }

    @Test
    void abort_closesTheConnection() throws Exception {
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            Connection c = dataSource.getConnection();
            regions.regionOf(c);
            c.abort(executor);
            assertThat(c.isClosed()).isTrue();
            assertThatThrownBy(() -> c.abort(null)).isInstanceOf(SQLException.class);
        } finally {
            executor.shutdown();
        }
    }

    @Test
    void metadata_takesAPhysicalConnectionWithoutAStatement() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            assertThat(c.getMetaData().getDatabaseProductName()).isEqualTo("PostgreSQL");
        }
    }

    @Test
    void commit_recordsTheWritersWalPositionInTheSession() throws SQLException {
        Session session = Session.current();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            c.setSchema("app");
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO app.profile VALUES (1, 'ada') ON CONFLICT (id) DO NOTHING");
            }
            assertThat(session.token().classWatermark("app")).isNull();
            c.commit();
        }
        assertThat(session.token().classWatermark("app").region()).isEqualTo(WRITER);
        assertThat(session.token().classWatermark("app").value()).isPositive()
                .isLessThanOrEqualTo(regions.cluster.currentLsn());
    }

    @Test
    void sessionThatWrote_readsFromTheWriterWhileNoReaderIsKnownToHaveReplayed() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE public.counter SET n = n + 1 WHERE id = 1");
            }
            c.setReadOnly(true);
            assertThat(regions.regionOf(c)).isIn(WRITER, NEAR, FAR);
        }
    }
}
