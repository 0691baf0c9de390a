package dev.latitude.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.SessionTokenCodec;
import dev.latitude.Topology;
import dev.latitude.testkit.PostgresCluster;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The code shown in docs/JDBC.md and the README, run against the shared cluster so that it stays correct. Each block
 * between {@code // snippet: NAME} and {@code // end snippet} is copied into the docs as it is.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JdbcDocSnippetsTest {
    private PgRegions regions;
    private Map<String, String> urls;

    @BeforeAll
    void start() {
        regions = PgRegions.shared();
        urls = Map.of("us-east-1", regions.cluster.primary().jdbcUrl(),
                "eu-west-1", regions.cluster.replica(1).jdbcUrl(),
                "ap-south-1", regions.cluster.replica(2).jdbcUrl());
        try (MultiRegionDataSource dataSource = regions.dataSource().build()) {
            new JdbcTemplate(dataSource).execute("CREATE TABLE IF NOT EXISTS public.doc_order (id int PRIMARY KEY)");
        }
    }

    private String jdbcUrlOf(String region) {
        return urls.get(region);
    }

    private MultiRegionDataSource build() {
        // snippet: jdbc-build
        Topology topology = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").build()) // the primary
                .region(RegionSpec.builder("eu-west-1").jurisdiction("EU").build())          // replicas
                .region(RegionSpec.builder("ap-south-1").jurisdiction("IN").build())
                .localRegion("eu-west-1")
                .build();
        MultiRegionDataSource dataSource = MultiRegionDataSource.builder()
                .topology(topology)
                .regionDataSources(region -> {            // one pool per region; Latitude pools nothing itself
                    HikariConfig config = new HikariConfig();
                    config.setPoolName(region.id());
                    config.setJdbcUrl(jdbcUrlOf(region.id()));
                    config.setUsername("postgres");
                    config.addDataSourceProperty("socketTimeout", "10");
                    return new HikariDataSource(config);
                })
                .dataPolicies(DataPolicies.builder()      // a schema is a data class
                        .exact("billing", DataPolicy.builder().consistency(ConsistencyLevel.STRONG).build())
                        .build())
                .router(engine -> engine.routingPolicy(RoutingPolicy.latency().build())
                        .attemptTimeout(Duration.ofMillis(500)))
                .build();
        // end snippet
        return dataSource;
    }

    @Test
    void buildAndUseWithSpring() throws SQLException {
        MultiRegionDataSource dataSource = build();
        try (dataSource) {
            // snippet: jdbc-spring
            JdbcTemplate jdbc = new JdbcTemplate(dataSource);
            TransactionTemplate readOnly = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
            readOnly.setReadOnly(true);                   // read-only transactions go to the best reader
            Integer one = readOnly.execute(status -> jdbc.queryForObject("SELECT 1", Integer.class));
            // end snippet
            assertThat(one).isEqualTo(1);
        } finally {
            // The pools belong to the application, which closes them after the data source.
            for (String region : urls.keySet()) {
                ((HikariDataSource) dataSource.regionDataSource(region)).close();
            }
        }
    }

    @Test
    void sessionAcrossServices() throws SQLException {
        SessionTokenCodec codec = SessionTokenCodec.builder()
                .signingKey("k1", "a test secret of thirty-two bytes".getBytes(StandardCharsets.UTF_8))
                .audience("orders")
                .build();
        AtomicReference<String> header = new AtomicReference<>();
        try (MultiRegionDataSource dataSource = regions.dataSource().sessionTokenCodec(codec).build()) {
            JdbcTemplate jdbc = new JdbcTemplate(dataSource);
            String incoming = dataSource.encodeSession(Session.create());
            // snippet: jdbc-session
            Session session = dataSource.decodeSession(incoming);  // from the request's X-Session-Token header
            try (Scope ignored = session.storeIn(Context.current()).makeCurrent()) {
                jdbc.update("INSERT INTO public.doc_order VALUES (42) ON CONFLICT DO NOTHING"); // records its position
                // ... read-only work of this session now runs only where position was replayed
            }
            header.set(dataSource.encodeSession(session));          // the response's X-Session-Token header
            // end snippet
        }
        assertThat(header.get()).startsWith("v2.");
    }

    @Test
    void failoverErrors() throws SQLException {
        try (MultiRegionDataSource dataSource = regions.dataSource().build()) {
            JdbcTemplate jdbc = new JdbcTemplate(dataSource);
            // snippet: jdbc-errors
            try {
                jdbc.update("UPDATE public.doc_order SET id = id WHERE id = 42");
            } catch (org.springframework.dao.DataAccessException e) {
                Throwable cause = e.getMostSpecificCause();
                if (cause instanceof FailedOverException) {
                    // 08S02: the writer moved while no transaction was open; nothing was lost: run it again
                } else if (cause instanceof CommitOutcomeUnknownException) {
                    // 08007: the writer was lost while committing and its successor could not tell: check first
                } else if (cause instanceof SplitBrainException) {
                    // 08004: two regions claim to be the writer; writes are refused until one is fenced
                }
                throw e;
            }
            // end snippet
        }
    }
}
