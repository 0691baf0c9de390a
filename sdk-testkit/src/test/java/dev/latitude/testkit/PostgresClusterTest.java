package dev.latitude.testkit;

import static dev.latitude.testkit.TcpFaultProxyTest.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A real primary and two streaming replicas, shared by the tests of this class, which run in order: replication,
 * replay controls, proxy faults, stopping and killing nodes, promotion, and last closing the cluster.
 *
 * <p>Clients use JDBC through each node's proxy, as an application would.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    private PostgresCluster cluster;
    private PostgresCluster.Node primary;
    private PostgresCluster.Node replica1;
    private PostgresCluster.Node replica2;

    @BeforeAll
    void startCluster() {
        cluster = PostgresCluster.builder().replicas(2).build().start();
        primary = cluster.primary();
        replica1 = cluster.replica(1);
        replica2 = cluster.replica(2);
    }

    @AfterAll
    void closeCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Connection connect(PostgresCluster.Node node) throws SQLException {
        return connect(node, 5);
    }

    /** Connects through the node's proxy; login and each read give up after {@code timeoutSeconds}. */
    private static Connection connect(PostgresCluster.Node node, int timeoutSeconds) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", PostgresCluster.USER);
        props.setProperty("connectTimeout", Integer.toString(timeoutSeconds));
        props.setProperty("loginTimeout", Integer.toString(timeoutSeconds));
        props.setProperty("socketTimeout", Integer.toString(timeoutSeconds));
        return DriverManager.getConnection(node.jdbcUrl(), props);
    }

    private static void execute(PostgresCluster.Node node, String sql) throws SQLException {
        try (Connection c = connect(node); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static Optional<String> valueOf(PostgresCluster.Node node, String key) {
        try (Connection c = connect(node); PreparedStatement s = c.prepareStatement("SELECT v FROM kv WHERE k = ?")) {
            s.setString(1, key);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new AssertionError("reading " + key + " from " + node.name() + " failed", e);
        }
    }

    /** Whether {@code key} has {@code value} on the node yet (false while the table itself is not there yet). */
    private static boolean visible(PostgresCluster.Node node, String key, String value) {
        try (Connection c = connect(node); PreparedStatement s = c.prepareStatement("SELECT v FROM kv WHERE k = ?")) {
            s.setString(1, key);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && value.equals(rs.getString(1));
            }
        } catch (SQLException e) {
            return false;
        }
    }

    private static void put(PostgresCluster.Node node, String key, String value) throws SQLException {
        try (Connection c = connect(node);
                PreparedStatement s = c.prepareStatement("INSERT INTO kv VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v")) {
            s.setString(1, key);
            s.setString(2, value);
            s.executeUpdate();
        }
    }

    private static boolean refuses(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    @Test
    @Order(1)
    void startsAPrimaryAndTwoStreamingReplicas() throws Exception {
        System.out.println("testkit.pg_cluster_start_ms=" + cluster.startupTime().toMillis() + " ms (primary + 2"
                + " replicas, binaries in " + cluster.binDir() + ")");
        assertThat(cluster.startupTime()).isLessThan(Duration.ofSeconds(30));
        if (PostgresBinaries.BUNDLED.equals(System.getProperty(PostgresBinaries.BIN_PROPERTY))) {
            assertThat(cluster.binDir()).isEqualTo(PostgresBinaries.bundled());
            assertThat(PostgresBinaries.SYSTEM_BIN_DIRS).doesNotContain(cluster.binDir());
        }

        assertThat(cluster.nodes()).extracting(PostgresCluster.Node::name)
                .containsExactly("primary", "replica-1", "replica-2");
        assertThat(cluster.nodes()).extracting(PostgresCluster.Node::port).doesNotHaveDuplicates();
        for (PostgresCluster.Node node : cluster.nodes()) {
            assertThat(node.isRunning()).isTrue();
            assertThat(node.proxyPort()).isNotEqualTo(node.port());
            assertThat(node.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:" + node.proxyPort() + "/postgres");
            assertThat(node.proxy().target().getPort()).isEqualTo(node.port());
        }
        assertThat(cluster.isInRecovery(primary)).isFalse();
        assertThat(cluster.isInRecovery(replica1)).isTrue();
        assertThat(cluster.isInRecovery(replica2)).isTrue();
        assertThat(cluster.query(primary, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"))
                .isEqualTo("2");
        assertThat(cluster.query(primary, "SELECT application_name FROM pg_stat_replication ORDER BY 1"))
                .isEqualTo("replica-1\nreplica-2");
        // Controls print rows as psql -A -t would: columns joined by |, t/f, NULL as nothing, every statement's rows.
        assertThat(cluster.query(primary, "SELECT 1, NULL, true", "CREATE TEMP TABLE t (x int)",
                "SELECT 'a' UNION ALL SELECT 'b'")).isEqualTo("1||t\na\nb");
        assertThatThrownBy(() -> cluster.query(primary, "SELECT * FROM no_such_table"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no_such_table")
                .hasMessageContaining("primary");

        // Through the proxies, with JDBC.
        try (Connection c = connect(replica1); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery(), current_setting('server_version_num')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).isTrue();
            assertThat(rs.getInt(2)).isBetween(150000, 159999);
        }
    }

    @Test
    @Order(2)
    void aWriteOnThePrimaryBecomesVisibleOnTheReplicas() throws Exception {
        execute(primary, "CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL)");
        put(primary, "a", "1");

        for (PostgresCluster.Node replica : cluster.replicas()) {
            await(WAIT, () -> visible(replica, "a", "1"), "row a on " + replica.name());
        }
        assertThatThrownBy(() -> put(replica1, "x", "read-only"))
                .isInstanceOf(SQLException.class).hasMessageContaining("read-only");
    }

    @Test
    @Order(3)
    void replayLsnStandsStillWhilePausedAndCatchesUpAfterResume() throws Exception {
        cluster.pauseReplay(replica1);
        long target;
        try {
            long pausedAt = cluster.replayLsn(replica1);

            put(primary, "b", "2");
            target = cluster.currentLsn();
            cluster.awaitReplayed(replica2, target, WAIT); // The WAL flows: the other replica has it.

            assertThat(cluster.replayLsn(replica1)).isEqualTo(pausedAt).isLessThan(target);
            assertThat(valueOf(replica1, "b")).isEmpty();
        } finally {
            cluster.resumeReplay(replica1);
        }
        cluster.awaitReplayed(replica1, target, WAIT);
        assertThat(cluster.replayLsn(replica1)).isGreaterThanOrEqualTo(target);
        assertThat(valueOf(replica1, "b")).contains("2");
    }

    @Test
    @Order(4)
    void aReplayDelayMakesAReplicaLag() throws Exception {
        Duration delay = Duration.ofMillis(1_500);
        cluster.replayDelay(replica1, delay);
        try {
            long start = System.nanoTime();
            put(primary, "c", "3");
            long target = cluster.currentLsn();
            cluster.awaitReplayed(replica2, target, WAIT);
            assertThat(valueOf(replica1, "c")).isEmpty();

            await(WAIT, () -> valueOf(replica1, "c").isPresent(), "row c on the delayed replica");
            long lagMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(lagMillis).isGreaterThanOrEqualTo(delay.toMillis() - 100);
        } finally {
            cluster.replayDelay(replica1, Duration.ZERO);
        }
        put(primary, "c2", "3");
        cluster.awaitReplayed(replica1, cluster.currentLsn(), Duration.ofSeconds(5));
    }

    @Test
    @Order(5)
    void aFaultOnANodesProxyReachesClientsButNotReplicationOrControls() throws Exception {
        TcpFaultProxy proxy = replica2.proxy();
        try (Connection before = connect(replica2, 1)) {
            proxy.apply(Fault.blackhole());

            long start = System.nanoTime();
            assertThatThrownBy(() -> connect(replica2, 1)).isInstanceOf(SQLException.class);
            assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(900);
            // An open connection hangs too, until the socket timeout.
            assertThatThrownBy(() -> before.createStatement().executeQuery("SELECT 1"))
                    .isInstanceOf(SQLException.class);

            // The node itself is fine: controls and replication bypass the proxy.
            assertThat(cluster.isInRecovery(replica2)).isTrue();
            put(primary, "d", "4");
            cluster.awaitReplayed(replica2, cluster.currentLsn(), WAIT);
        }

        proxy.apply(Fault.refuseConnections());
        assertThatThrownBy(() -> connect(replica2, 1))
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(causedBy(e, ConnectException.class)).isTrue());

        proxy.apply(Fault.latency(Duration.ofMillis(100)));
        try (Connection c = connect(replica2); Statement s = c.createStatement()) {
            long start = System.nanoTime();
            try (ResultSet rs = s.executeQuery("SELECT v FROM kv WHERE k = 'd'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("4");
            }
            assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(200);
        }

        proxy.heal();
        assertThat(valueOf(replica2, "d")).contains("4");
    }

    @Test
    @Order(6)
    void aStoppedOrKilledNodeRefusesConnectionsUntilRestarted() throws Exception {
        cluster.stop(replica2);
        assertThat(replica2.isRunning()).isFalse();
        assertThat(refuses(replica2.port())).isTrue();
        assertThatThrownBy(() -> connect(replica2, 1)).isInstanceOf(SQLException.class); // The proxy finds no server.
        assertThatThrownBy(() -> cluster.isInRecovery(replica2))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not running");

        List<ProcessHandle> replica1Processes = replica1.pid().flatMap(ProcessHandle::of)
                .map(h -> java.util.stream.Stream.concat(java.util.stream.Stream.of(h), h.descendants()).toList())
                .orElseThrow();
        cluster.kill(replica1);
        assertThat(replica1.isRunning()).isFalse();
        assertThat(replica1Processes).noneMatch(ProcessHandle::isAlive);
        assertThat(refuses(replica1.port())).isTrue();

        put(primary, "e", "5");
        cluster.restart(replica2);
        cluster.restart(replica1); // Crash recovery.
        cluster.awaitStreaming(replica1, WAIT);
        cluster.awaitStreaming(replica2, WAIT);
        for (PostgresCluster.Node replica : cluster.replicas()) {
            await(WAIT, () -> visible(replica, "e", "5"), "row e on " + replica.name());
        }
    }

    @Test
    @Order(7)
    void aPromotedReplicaLeavesRecoveryAndAcceptsWrites() throws Exception {
        cluster.promote(replica1);

        assertThat(cluster.isInRecovery(replica1)).isFalse();
        put(replica1, "f", "6");
        assertThat(valueOf(replica1, "f")).contains("6");
        assertThat(cluster.currentLsn(replica1)).isPositive();
        // A node that never was a replica has no replay position.
        assertThatThrownBy(() -> cluster.replayLsn(primary))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not a replica");
        // The old primary and the other replica carry on.
        assertThat(cluster.isInRecovery(primary)).isFalse();
        assertThat(cluster.isInRecovery(replica2)).isTrue();
        assertThatThrownBy(() -> cluster.promote(replica1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    @Order(8)
    void closeStopsEveryProcessAndDeletesTheTemporaryDirectory() throws Exception {
        List<ProcessHandle> processes = cluster.processes();
        assertThat(processes.size()).isGreaterThanOrEqualTo(3 * 4); // Each postmaster has several children.
        Path base = cluster.baseDir();
        assertThat(base).isDirectory();
        List<Integer> ports = cluster.nodes().stream()
                .flatMap(n -> java.util.stream.Stream.of(n.port(), n.proxyPort())).toList();

        cluster.close();

        assertThat(processes).noneMatch(ProcessHandle::isAlive);
        assertThat(ProcessHandle.allProcesses().filter(h -> h.info().commandLine()
                .map(c -> c.contains(base.toString())).orElse(false))).isEmpty();
        assertThat(Files.exists(base)).isFalse();
        assertThat(ports).allMatch(PostgresClusterTest::refuses);
        assertThat(PostgresCluster.openClusters()).doesNotContain(cluster);
        cluster.close(); // Again: harmless.
    }
}
