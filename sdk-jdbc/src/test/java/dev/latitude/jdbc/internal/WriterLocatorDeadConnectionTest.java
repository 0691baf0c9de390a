package dev.latitude.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.jdbc.SplitBrainException;
import dev.latitude.testkit.PostgresCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The writer search on a pool whose next connection is dead while its node is up (the node restarted, a proxy dropped
 * the connection): the region must not count as unreachable on that alone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WriterLocatorDeadConnectionTest {
    private static final Duration SEARCH_TIMEOUT = Duration.ofSeconds(5);

    private PostgresCluster cluster;
    private ExecutorService executor;

    @BeforeAll
    void start() {
        cluster = PostgresCluster.builder().replicas(1).build().start();
        executor = Executors.newCachedThreadPool();
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    @Test
    void locate_writersFirstConnectionDead_stillFindsTheWriter() throws SQLException {
        DeadFirst writer = new DeadFirst(cluster.primary());
        Map<String, DataSource> regions = new LinkedHashMap<>();
        regions.put("writer", writer);
        regions.put("replica", new DeadFirst(cluster.replica(1)).healthy());

        assertThat(new WriterLocator(regions, executor, SEARCH_TIMEOUT).locate()).isEqualTo("writer");
        assertThat(writer.handedOut()).isEqualTo(2);
    }

    @Test
    void locate_liveWriterBehindADeadConnection_isASplitBrainNotTheOtherWriter() {
        // Two regions that both answer as writers (here: the same primary twice), one of them behind a dead pooled
        // connection: the search must see both and refuse, not move to the other one.
        Map<String, DataSource> regions = new LinkedHashMap<>();
        regions.put("old", new DeadFirst(cluster.primary()).healthy());
        regions.put("current", new DeadFirst(cluster.primary()));

        assertThatThrownBy(new WriterLocator(regions, executor, SEARCH_TIMEOUT)::locate)
                .isInstanceOfSatisfying(SplitBrainException.class,
                        e -> assertThat(e.getMessage()).contains("old").contains("current"));
    }

    /** Connects straight to a node; the first connection it gives is already closed, as a dead pooled one is. */
    private static final class DeadFirst extends ConnectionSource {
        private final PostgresCluster.Node node;
        private final AtomicInteger handedOut = new AtomicInteger();
        private boolean deadFirst = true;

        DeadFirst(PostgresCluster.Node node) {
            this.node = node;
        }

        DeadFirst healthy() {
            deadFirst = false;
            return this;
        }

        int handedOut() {
            return handedOut.get();
        }

        @Override
        public Connection getConnection() throws SQLException {
            Connection c = DriverManager.getConnection(node.jdbcUrl(), PostgresCluster.USER, null);
            if (handedOut.getAndIncrement() == 0 && deadFirst) {
                c.close();
            }
            return c;
        }
    }
}
