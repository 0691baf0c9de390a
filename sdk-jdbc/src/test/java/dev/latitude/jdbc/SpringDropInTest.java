package dev.latitude.jdbc;

import static dev.latitude.jdbc.PgRegions.NEAR;
import static dev.latitude.jdbc.PgRegions.WRITER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.Session;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@link MultiRegionDataSource} under Spring's {@link DataSourceTransactionManager}, {@link TransactionTemplate} and
 * {@link JdbcTemplate}, with no {@code LazyConnectionDataSourceProxy}: read-only transactions run on the nearest
 * reader, read-write ones on the writer, and a session reads its own writes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SpringDropInTest {
    private PgRegions regions;
    private MultiRegionDataSource dataSource;
    private JdbcTemplate jdbc;
    private TransactionTemplate readWrite;
    private TransactionTemplate readOnly;
    private Scope sessionScope;

    @BeforeAll
    void start() {
        regions = PgRegions.shared();
        dataSource = regions.dataSource().router(b -> b.routingPolicy(PgRegions.nearFirst())).build();
        jdbc = new JdbcTemplate(dataSource);
        DataSourceTransactionManager tm = new DataSourceTransactionManager(dataSource);
        readWrite = new TransactionTemplate(tm);
        readOnly = new TransactionTemplate(tm);
        readOnly.setReadOnly(true);
        jdbc.execute("CREATE TABLE IF NOT EXISTS public.spring_note (id int PRIMARY KEY, body text)");
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

    private String servingRegion() {
        return regions.regionByPort.get(jdbc.queryForObject("SELECT inet_server_port()", Integer.class));
    }

    @Test
    void readOnlyTransaction_runsOnTheNearestReader() {
        String region = readOnly.execute(status -> servingRegion());
        assertThat(region).isEqualTo(NEAR);
    }

    @Test
    void readWriteTransaction_runsOnTheWriter_andCommits() {
        String region = readWrite.execute(status -> {
            jdbc.update("INSERT INTO public.spring_note VALUES (1, 'hello')"
                    + " ON CONFLICT (id) DO UPDATE SET body = 'hello'");
            return servingRegion();
        });
        assertThat(region).isEqualTo(WRITER);
        String body = readOnly.execute(status -> jdbc.queryForObject(
                "SELECT body FROM public.spring_note WHERE id = 1", String.class));
        assertThat(body).isEqualTo("hello");
    }

    @Test
    void rolledBackTransaction_leavesNothing() {
        readWrite.executeWithoutResult(status -> {
            jdbc.update("INSERT INTO public.spring_note VALUES (2, 'never')");
            status.setRollbackOnly();
        });
        assertThat(jdbc.queryForObject("SELECT count(*) FROM public.spring_note WHERE id = 2", Integer.class))
                .isZero();
    }

    @Test
    void jdbcTemplateWithoutTransaction_isReadWriteWork() throws SQLException {
        assertThat(servingRegion()).isEqualTo(WRITER);
    }

    @Test
    void sessionReadsItsWriteInTheNextReadOnlyTransaction_whileReplayIsPaused() {
        regions.cluster.replicas().forEach(regions.cluster::pauseReplay);
        try {
            readWrite.executeWithoutResult(status -> jdbc.update(
                    "INSERT INTO public.spring_note VALUES (3, 'mine') ON CONFLICT (id) DO UPDATE SET body = 'mine'"));
            String body = readOnly.execute(status -> jdbc.queryForObject(
                    "SELECT body FROM public.spring_note WHERE id = 3", String.class));
            assertThat(body).isEqualTo("mine");
        } finally {
            regions.cluster.replicas().forEach(regions.cluster::resumeReplay);
            regions.awaitReplicas();
        }
    }
}
