package dev.latitude.jdbc;

import static dev.latitude.jdbc.PgRegions.NEAR;
import static dev.latitude.jdbc.PgRegions.WRITER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.Session;
import dev.latitude.SessionTokenCodec;
import dev.latitude.testkit.History;
import dev.latitude.testkit.HistoryChecker;
import dev.latitude.testkit.HistoryOp;
import dev.latitude.testkit.HistoryReport;
import dev.latitude.testkit.PostgresCluster;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Read-your-writes by WAL position on a real primary and two replicas whose replay is delayed or paused: a session's
 * read is served by a reader only once that reader has replayed the session's last write.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReadYourWritesTest {
    private static final SessionTokenCodec CODEC = SessionTokenCodec.builder()
            .signingKey("k1", "a test secret of thirty-two bytes".getBytes(StandardCharsets.UTF_8))
            .audience("profile-service.test")
            .build();

    private PgRegions regions;
    private MultiRegionDataSource dataSource;

    @BeforeAll
    void start() throws SQLException {
        regions = PgRegions.shared();
        dataSource = newDataSource();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS public.ryw (id int PRIMARY KEY, n bigint NOT NULL)");
            s.execute("INSERT INTO public.ryw SELECT g, 0 FROM generate_series(1, 3) g ON CONFLICT DO NOTHING");
        }
        regions.awaitReplicas();
    }

    /** A data source over the shared regions; a second one stands for another process of the same service. */
    private MultiRegionDataSource newDataSource() {
        return regions.dataSource()
                .router(b -> b.routingPolicy(PgRegions.nearFirst()))
                .sessionTokenCodec(CODEC)
                .build();
    }

    @AfterEach
    void healReplication() {
        for (PostgresCluster.Node r : regions.cluster.replicas()) {
            regions.cluster.resumeReplay(r);
            regions.cluster.replayDelay(r, Duration.ZERO);
        }
        regions.awaitReplicas();
    }

    @AfterAll
    void stop() {
        if (dataSource != null) {
            dataSource.close();
        }
    }

    /** Adds one to a row on the writer; returns the new value (the row's version). */
    private static long increment(MultiRegionDataSource ds, int id) throws SQLException {
        try (Connection c = ds.getConnection();
                PreparedStatement p = c.prepareStatement("UPDATE public.ryw SET n = n + 1 WHERE id = ? RETURNING n")) {
            p.setInt(1, id);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private record Read(String region, long n) {
    }

    /** Reads a row read-only; returns the region that answered and the value. */
    private Read read(MultiRegionDataSource ds, int id) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(true);
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT inet_server_port(), n FROM public.ryw WHERE id = ?")) {
                p.setInt(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    return new Read(regions.regionByPort.get(rs.getInt(1)), rs.getLong(2));
                }
            }
        }
    }

    @Test
    void pausedReplay_sendsTheSessionThatWroteToTheWriter_andOthersStayNear() throws Exception {
        regions.cluster.replicas().forEach(regions.cluster::pauseReplay);
        Session writer = Session.create(dataSource.latitude().watermarkBounds());
        long written;
        try (Scope ignored = writer.storeIn(Context.current()).makeCurrent()) {
            written = increment(dataSource, 1);
            Read r = read(dataSource, 1);
            assertThat(r.region()).isEqualTo(WRITER);
            assertThat(r.n()).isEqualTo(written);
        }
        try (Scope ignored = Session.create().storeIn(Context.current()).makeCurrent()) {
            Read r = read(dataSource, 1);
            assertThat(r.region()).isEqualTo(NEAR);
            assertThat(r.n()).isLessThan(written);
        }
    }

    @Test
    void delayedReplay_theReadWaitsBrieflyForTheNearestReader_andStaysNear() throws Exception {
        regions.cluster.replayDelay(regions.cluster.replica(1), Duration.ofMillis(30));
        MultiRegionDataSource patient = regions.dataSource()
                .router(b -> b.routingPolicy(PgRegions.nearFirst()))
                .replayWait(Duration.ofSeconds(5))
                .build();
        try (patient; Scope ignored = Session.create().storeIn(Context.current()).makeCurrent()) {
            awaitFirstPolls(patient);
            long written = increment(patient, 2);
            Read r = read(patient, 2);
            assertThat(r.n()).isEqualTo(written);
            assertThat(r.region()).isEqualTo(NEAR);
            assertThat(patient.replayWaits()).isEqualTo(1);
            assertThat(patient.replayWaitsReplayed()).isEqualTo(1);
        }
    }

    /** Waits until a new data source's poller has heard from every region (it polls at once when started). */
    private static void awaitFirstPolls(MultiRegionDataSource ds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (String region : ds.latitude().topology().regions().stream().map(r -> r.id()).toList()) {
            while (ds.poller().state(region) == null) {
                assertThat(System.nanoTime()).as("first poll of " + region).isLessThan(deadline);
                Thread.sleep(5);
            }
        }
    }

    @Test
    void tokenFromAnotherProcess_isHonoured() throws Exception {
        regions.cluster.replicas().forEach(regions.cluster::pauseReplay);
        Session first = Session.create(dataSource.latitude().watermarkBounds());
        long written;
        try (Scope ignored = first.storeIn(Context.current()).makeCurrent()) {
            written = increment(dataSource, 3);
        }
        String header = dataSource.encodeSession(first);
        try (MultiRegionDataSource other = newDataSource()) {
            Session resumed = other.decodeSession(header);
            try (Scope ignored = resumed.storeIn(Context.current()).makeCurrent()) {
                Read r = read(other, 3);
                assertThat(r.n()).isEqualTo(written);
                assertThat(r.region()).isEqualTo(WRITER);
            }
        }
    }

    @Test
    void sessionsUnderReplayDelays_readTheirWrites_andReadsAreMonotonic() throws Exception {
        regions.cluster.replayDelay(regions.cluster.replica(1), Duration.ofMillis(150));
        regions.cluster.replayDelay(regions.cluster.replica(2), Duration.ofMillis(400));
        History history = History.create();
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                String name = "client-" + c;
                long seed = c;
                done.add(clients.submit(() -> {
                    runClient(name, new Random(seed), history);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            clients.shutdownNow();
        }
        HistoryReport report = HistoryChecker.builder().build().check(history);
        assertThat(report.operations()).isEqualTo(4 * 150);
        report.assertClean();
    }

    private void runClient(String name, Random random, History history) throws SQLException {
        Session session = Session.create(dataSource.latitude().watermarkBounds());
        try (Scope ignored = session.storeIn(Context.current()).makeCurrent()) {
            for (int i = 0; i < 150; i++) {
                int id = 1 + random.nextInt(3);
                if (random.nextInt(10) == 0) {
                    History.Pending op = history.invoke(name, HistoryOp.Type.WRITE, "public", "row" + id, null);
                    op.ok(WRITER, increment(dataSource, id), null);
                } else {
                    History.Pending op = history.invoke(name, HistoryOp.Type.READ, "public", "row" + id, null);
                    Read r = read(dataSource, id);
                    op.ok(r.region(), r.n(), null);
                }
            }
        }
    }
}
