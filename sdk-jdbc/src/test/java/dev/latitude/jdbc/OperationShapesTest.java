package dev.latitude.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.Session;
import dev.latitude.Topology;
import io.opentelemetry.api.common.AttributeKey;
import java.lang.reflect.Proxy;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The descriptions of units of work the data source hands the engine, which it reuses for its own session's work;
 * no database is needed.
 */
class OperationShapesTest {
    private static final AttributeKey<String> DB_NAMESPACE = AttributeKey.stringKey("db.namespace");
    private static final AttributeKey<String> DB_OPERATION_NAME = AttributeKey.stringKey("db.operation.name");

    /** A data source that refuses every connection (only the replay poller asks, and it shrugs). */
    private static final DataSource REFUSING = (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                throw new SQLException("no database in this test", "08001");
            });

    private final MultiRegionDataSource dataSource = MultiRegionDataSource.builder()
            .topology(Topology.builder()
                    .region(RegionSpec.builder("us-east-1").writer().build())
                    .region(RegionSpec.builder("eu-west-1").build())
                    .localRegion("eu-west-1")
                    .build())
            .region("us-east-1", REFUSING)
            .region("eu-west-1", REFUSING)
            .statementDeadline(Duration.ofSeconds(30))
            .build();

    @AfterEach
    void close() {
        dataSource.close();
    }

    @Test
    void operation_ofOwnSessionWithTheStatementDeadline_isBuiltOncePerDataClassVerbAndKind() {
        Session own = dataSource.session();
        Operation read = dataSource.operation(false, "SELECT", "billing", own, 0);

        assertThat(dataSource.operation(false, "SELECT", "billing", own, 0)).isSameAs(read);
        assertThat(read.isRead()).isTrue();
        assertThat(read.name()).isEqualTo("SELECT");
        assertThat(read.dataClass()).isEqualTo("billing");
        assertThat(read.session()).isSameAs(own);
        assertThat(read.deadline()).isEqualTo(Duration.ofSeconds(30));
        assertThat(read.attributes().get(DB_NAMESPACE)).isEqualTo("billing");
        assertThat(read.attributes().get(DB_OPERATION_NAME)).isEqualTo("SELECT");

        Operation write = dataSource.operation(true, "SELECT", "billing", own, 0);
        assertThat(write.isRead()).isFalse();
        assertThat(dataSource.operation(true, "SELECT", "billing", own, 0)).isSameAs(write);
        assertThat(dataSource.operation(false, "SELECT", "public", own, 0)).isNotSameAs(read);
        assertThat(dataSource.operation(false, "SHOW", "billing", own, 0)).isNotSameAs(read);
    }

    @Test
    void operation_ofAnotherSessionOrItsOwnQueryTimeout_isBuiltForIt() {
        Session other = Session.create(dataSource.latitude().watermarkBounds());
        Operation op = dataSource.operation(false, "SELECT", "public", other, 0);
        assertThat(op.session()).isSameAs(other);
        assertThat(dataSource.operation(false, "SELECT", "public", other, 0)).isNotSameAs(op);

        Operation timed = dataSource.operation(false, "SELECT", "public", dataSource.session(), 5);
        assertThat(timed.deadline()).isEqualTo(Duration.ofSeconds(5));
        assertThat(timed.session()).isSameAs(dataSource.session());
        assertThat(dataSource.operation(false, "SELECT", "public", dataSource.session(), 0).deadline())
                .isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void regionDataSource_findsARegionByAnEqualIdToo() {
        String copy = new String("eu-west-1"); // not the topology's own instance
        assertThat(dataSource.regionDataSource(copy)).isSameAs(REFUSING);
        assertThat(dataSource.regionDataSource("nowhere")).isNull();
    }

    /**
     * Threads describing the same work at once may each build a description; every one they get must be right, and
     * once they are done the same one is handed out.
     */
    @Test
    void operation_describedFromManyThreadsAtOnce_isAlwaysTheWorkAsked() throws Exception {
        List<String> classes = List.of("public", "billing", "audit", "eu");
        List<String> verbs = List.of("SELECT", "UPDATE", "WITH");
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        Map<String, Operation> last = new ConcurrentHashMap<>();
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    start.await();
                    int wrong = 0;
                    for (int i = 0; i < 20_000; i++) {
                        String dataClass = classes.get((i + seed) % classes.size());
                        String verb = verbs.get((i / 7 + seed) % verbs.size());
                        boolean write = (i / 12 + seed) % 2 == 0;
                        Operation op = dataSource.operation(write, verb, dataClass, dataSource.session(), 0);
                        if (op.isRead() == write || !op.name().equals(verb) || !op.dataClass().equals(dataClass)
                                || !dataClass.equals(op.attributes().get(DB_NAMESPACE))
                                || !verb.equals(op.attributes().get(DB_OPERATION_NAME))) {
                            wrong++;
                        }
                        last.put(write + verb + dataClass, op);
                    }
                    return wrong;
                }));
            }
            start.countDown();
            for (Future<Integer> f : done) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(last).hasSize(classes.size() * verbs.size() * 2);
        last.forEach((key, op) -> assertThat(dataSource.operation(!op.isRead(), op.name(), op.dataClass(),
                dataSource.session(), 0)).isSameAs(op));
    }
}
