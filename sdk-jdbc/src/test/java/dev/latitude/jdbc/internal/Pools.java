package dev.latitude.jdbc.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.latitude.testkit.PostgresCluster;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;

/** One small HikariCP pool per node of a test cluster, each named after its node, through the node's proxy. */
final class Pools implements AutoCloseable {
    private final Map<String, HikariDataSource> pools = new LinkedHashMap<>();

    Pools(PostgresCluster cluster) {
        for (PostgresCluster.Node node : cluster.nodes()) {
            HikariConfig c = new HikariConfig();
            c.setPoolName(node.name());
            c.setJdbcUrl(node.jdbcUrl());
            c.setUsername(PostgresCluster.USER);
            c.setMaximumPoolSize(4);
            c.setMinimumIdle(0);
            // Fail fast: a node that cannot be reached gives its error within half a second instead of HikariCP's 30.
            c.setConnectionTimeout(500);
            c.setValidationTimeout(250);
            c.setInitializationFailTimeout(-1); // a node that is down when the pool starts is a test case, not a bug
            c.addDataSourceProperty("connectTimeout", "1");
            pools.put(node.name(), new HikariDataSource(c));
        }
    }

    /** Returns each node's pool by node name, the primary first. */
    Map<String, DataSource> byRegion() {
        return new LinkedHashMap<>(pools);
    }

    /** Returns a connection to {@code node} from its pool. */
    Connection connect(PostgresCluster.Node node) throws SQLException {
        return pools.get(node.name()).getConnection();
    }

    /** Runs {@code sql} on {@code node} through its pool. */
    void execute(PostgresCluster.Node node, String sql) throws SQLException {
        try (Connection c = connect(node); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Returns what {@code node} says about itself. */
    NodeState inspect(PostgresCluster.Node node) throws SQLException {
        try (Connection c = connect(node)) {
            return NodeInspector.inspect(node.name(), c);
        }
    }

    @Override
    public void close() {
        pools.values().forEach(HikariDataSource::close);
    }
}
