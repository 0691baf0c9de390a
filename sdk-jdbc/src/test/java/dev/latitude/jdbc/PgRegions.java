package dev.latitude.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.testkit.PostgresCluster;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A PostgreSQL primary and two streaming replicas standing for three regions, with a HikariCP pool per region through
 * each node's proxy: {@value #WRITER} (the primary), {@value #NEAR} (replica 1, the local region) and {@value #FAR}
 * (replica 2). Routing is by priority, so the reader a test expects is deterministic: near, far, then the writer.
 */
final class PgRegions implements AutoCloseable {
    static final String WRITER = "us-east-1";
    static final String NEAR = "eu-west-1";
    static final String FAR = "ap-south-1";

    final PostgresCluster cluster;
    final Map<String, HikariDataSource> pools = new LinkedHashMap<>();
    final Map<Integer, String> regionByPort = new LinkedHashMap<>();

    private PgRegions(PostgresCluster cluster) {
        this.cluster = cluster;
        add(WRITER, cluster.primary());
        add(NEAR, cluster.replica(1));
        add(FAR, cluster.replica(2));
    }

    private static PgRegions shared;

    /**
     * Returns the cluster the test classes that leave it as they found it share (replay resumed, no proxy fault),
     * started at the first call and closed when the JVM exits.
     */
    static synchronized PgRegions shared() {
        if (shared == null) {
            shared = start();
            PgRegions s = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(s::close, "pg-regions-close"));
        }
        return shared;
    }

    /** Starts a cluster with two replicas and one pool per node. */
    static PgRegions start() {
        PostgresCluster cluster = PostgresCluster.builder().replicas(2).build().start();
        PgRegions regions = new PgRegions(cluster);
        cluster.replicas().forEach(r -> cluster.awaitStreaming(r, Duration.ofSeconds(30)));
        return regions;
    }

    private void add(String region, PostgresCluster.Node node) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(region);
        config.setJdbcUrl(node.jdbcUrl());
        config.setUsername(PostgresCluster.USER);
        config.setMaximumPoolSize(4);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(5_000);
        config.setValidationTimeout(1_000);
        config.addDataSourceProperty("socketTimeout", "10");
        config.addDataSourceProperty("connectTimeout", "5");
        pools.put(region, new HikariDataSource(config));
        regionByPort.put(node.port(), region);
    }

    static Topology topology() {
        return Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().build())
                .region(RegionSpec.builder(NEAR).build())
                .region(RegionSpec.builder(FAR).build())
                .localRegion(NEAR)
                .build();
    }

    static RoutingPolicy nearFirst() {
        return RoutingPolicy.failover().priority(NEAR, FAR, WRITER).build();
    }

    /** A data source over these regions, near-first routing. */
    MultiRegionDataSource.Builder dataSource() {
        return MultiRegionDataSource.builder()
                .topology(topology())
                .regionDataSources(r -> pools.get(r.id()));
    }

    /** The region whose server answered on {@code c}. */
    String regionOf(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return regionByPort.get(rs.getInt(1));
        }
    }

    /** Waits until every replica has replayed everything the primary wrote so far. */
    void awaitReplicas() {
        long lsn = cluster.currentLsn();
        cluster.replicas().forEach(r -> cluster.awaitReplayed(r, lsn, Duration.ofSeconds(30)));
    }

    @Override
    public void close() {
        pools.values().forEach(HikariDataSource::close);
        cluster.close();
    }
}
