package dev.latitude.samples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.jdbc.FailedOverException;
import dev.latitude.jdbc.MultiRegionDataSource;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.PostgresCluster;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The PostgreSQL demo: a real primary (us-east-1) and two streaming replicas (eu-west-1, the local region, and
 * ap-south-1) from the testkit's {@link PostgresCluster}, each behind a HikariCP pool, and a
 * {@link MultiRegionDataSource} over them. It shows a session reading its own write while the local replica's replay
 * is paused (the read goes to a region that has replayed it) and the same read without the session getting the stale
 * local answer; read-only work carrying on with the local replica blackholed; and the primary killed and the local replica
 * promoted: a typed "failed over" error, then writes on the new writer.
 *
 * <p>Run it with {@code mvn -q -pl samples -am package -DskipTests exec:java
 * -Ddemo.mainClass=dev.latitude.samples.JdbcDemo}. Arguments (optional): {@code --reads N} during the blackhole
 * (default 50).
 */
public final class JdbcDemo {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final String FAR = "ap-south-1";

    private JdbcDemo() {
    }

    /**
     * Runs the demo.
     *
     * @param args {@code --reads N}
     * @throws Exception if the cluster cannot start
     */
    public static void main(String[] args) throws Exception {
        run(args, System.out);
    }

    /**
     * Runs the demo, printing to {@code out}.
     *
     * @param args {@code --reads N}
     * @param out where the timeline goes
     * @throws IllegalArgumentException if an argument is not understood
     * @throws Exception if the cluster cannot start
     */
    public static void run(String[] args, PrintStream out) throws Exception {
        int reads = reads(args);
        try (PostgresCluster pg = PostgresCluster.builder().replicas(2).build().start()) {
            Map<String, PostgresCluster.Node> nodes = new LinkedHashMap<>();
            nodes.put(WRITER, pg.primary());
            nodes.put(LOCAL, pg.replica(1));
            nodes.put(FAR, pg.replica(2));
            Map<Integer, String> regionByPort = new LinkedHashMap<>();
            nodes.forEach((region, node) -> regionByPort.put(node.port(), region));
            Map<String, HikariDataSource> pools = new LinkedHashMap<>();
            nodes.forEach((region, node) -> pools.put(region, pool(region, node)));
            try (MultiRegionDataSource dataSource = MultiRegionDataSource.builder()
                    .topology(Topology.builder()
                            .region(RegionSpec.builder(WRITER).writer().build())
                            .region(RegionSpec.builder(LOCAL).build())
                            .region(RegionSpec.builder(FAR).build())
                            .localRegion(LOCAL)
                            .build())
                    .regionDataSources(region -> pools.get(region.id()))
                    .router(b -> b.routingPolicy(RoutingPolicy.failover().priority(LOCAL, FAR, WRITER).build())
                            .attemptTimeout(Duration.ofMillis(500)))
                    .statementDeadline(Duration.ofSeconds(20))
                    .build()) {
                Demo demo = new Demo(dataSource, regionByPort, out);
                demo.setUp();
                pg.replicas().forEach(r -> pg.awaitReplayed(r, pg.currentLsn(), Duration.ofSeconds(30)));

                out.println("-- read-your-writes while eu-west-1's replay is paused");
                pg.pauseReplay(pg.replica(1));
                Session session = Session.create(dataSource.latitude().watermarkBounds());
                try (Scope ignored = session.storeIn(Context.current()).makeCurrent()) {
                    demo.write(1, "PLACED");
                    demo.read(1, "in the session");
                }
                try (Scope ignored = Session.create().storeIn(Context.current()).makeCurrent()) {
                    demo.read(1, "without the session");
                }
                pg.resumeReplay(pg.replica(1));

                out.println("-- eu-west-1 blackholed");
                pg.replica(1).proxy().apply(Fault.blackhole());
                int failed = 0;
                Map<String, Integer> served = new LinkedHashMap<>();
                for (int i = 0; i < reads; i++) {
                    try (Scope ignored = Session.create().storeIn(Context.current()).makeCurrent()) {
                        served.merge(demo.readOnlyRegion(), 1, Integer::sum);
                    } catch (SQLException e) {
                        failed++;
                    }
                }
                out.println(failed + " of " + reads + " reads failed with eu-west-1 blackholed; served by " + served);
                pg.replica(1).proxy().heal();

                out.println("-- us-east-1 killed, eu-west-1 promoted");
                pg.kill(pg.primary());
                pg.promote(pg.replica(1));
                long promoted = System.nanoTime();
                try {
                    demo.write(2, "PLACED");
                } catch (FailedOverException e) {
                    out.println("FailedOverException (" + e.getSQLState() + "): " + e.fromRegion() + " -> "
                            + e.toRegion() + "; retrying");
                    demo.write(2, "PLACED");
                }
                out.printf("first write after the promotion took %d ms%n",
                        Duration.ofNanos(System.nanoTime() - promoted).toMillis());
            } finally {
                pools.values().forEach(HikariDataSource::close);
            }
        }
    }

    private static int reads(String[] args) {
        if (args.length == 0) {
            return 50;
        }
        if (args.length == 2 && args[0].equals("--reads")) {
            try {
                int n = Integer.parseInt(args[1]);
                if (n >= 1 && n <= 10_000) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException("usage: --reads N, with N from 1 to 10000; got " + String.join(" ", args));
    }

    private static HikariDataSource pool(String region, PostgresCluster.Node node) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(region);
        config.setJdbcUrl(node.jdbcUrl());
        config.setUsername(PostgresCluster.USER);
        config.setMaximumPoolSize(4);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(5_000);
        config.addDataSourceProperty("socketTimeout", "10");
        config.addDataSourceProperty("connectTimeout", "5");
        return new HikariDataSource(config);
    }

    /** The demo's statements, printing which region served each. */
    private record Demo(MultiRegionDataSource dataSource, Map<Integer, String> regionByPort, PrintStream out) {
        void setUp() throws SQLException {
            try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE orders (id int PRIMARY KEY, status text)");
            }
        }

        void write(int id, String status) throws SQLException {
            try (Connection c = dataSource.getConnection(); PreparedStatement p = c.prepareStatement(
                    "INSERT INTO orders VALUES (?, ?) RETURNING inet_server_port()")) {
                p.setInt(1, id);
                p.setString(2, status);
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    out.println("INSERT order-" + id + " status=" + status + " -> taken by "
                            + regionByPort.get(rs.getInt(1)));
                }
            }
        }

        void read(int id, String label) throws SQLException {
            try (Connection c = dataSource.getConnection()) {
                c.setReadOnly(true);
                try (PreparedStatement p = c.prepareStatement(
                        "SELECT (SELECT status FROM orders WHERE id = ?), inet_server_port()")) {
                    p.setInt(1, id);
                    try (ResultSet rs = p.executeQuery()) {
                        rs.next();
                        out.println("SELECT order-" + id + " " + label + ": status=" + rs.getString(1)
                                + ", served by " + regionByPort.get(rs.getInt(2)));
                    }
                }
            }
        }

        String readOnlyRegion() throws SQLException {
            try (Connection c = dataSource.getConnection()) {
                c.setReadOnly(true);
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                    rs.next();
                    return regionByPort.get(rs.getInt(1));
                }
            }
        }
    }
}
