package dev.latitude.jdbc;

import static dev.latitude.jdbc.PgRegions.FAR;
import static dev.latitude.jdbc.PgRegions.NEAR;
import static dev.latitude.jdbc.PgRegions.WRITER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.AttemptRecord;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.LatitudeCallException;
import dev.latitude.RegionSpec;
import dev.latitude.ResidencyException;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.testkit.Fault;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Faults on readers through the nodes' proxies: read-only work moves to another region without failing, and a schema
 * pinned to a jurisdiction never leaves it, even when every region allowed is down.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReaderFaultsTest {
    private PgRegions regions;
    private MultiRegionDataSource dataSource;
    private Scope sessionScope;

    @BeforeAll
    void start() {
        regions = PgRegions.shared();
        dataSource = regions.dataSource()
                .router(b -> b.routingPolicy(PgRegions.nearFirst()).attemptTimeout(Duration.ofMillis(500)))
                .statementDeadline(Duration.ofSeconds(20))
                .build();
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
    void heal() {
        sessionScope.close();
        regions.cluster.nodes().forEach(n -> n.proxy().heal());
    }

    private String readOnlyRegion(MultiRegionDataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(true);
            return regions.regionOf(c);
        }
    }

    @Test
    void blackholedReader_readOnlyWorkMovesWithoutFailures() throws SQLException {
        regions.cluster.replica(1).proxy().apply(Fault.blackhole());
        Map<String, Integer> served = new HashMap<>();
        for (int i = 0; i < 20; i++) {
            served.merge(readOnlyRegion(dataSource), 1, Integer::sum);
        }
        assertThat(served).doesNotContainKey(NEAR);
        assertThat(served.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(20);
    }

    @Test
    void resetReader_readOnlyWorkMovesWithoutFailures() throws SQLException {
        regions.cluster.replica(1).proxy().apply(Fault.resetConnections());
        for (int i = 0; i < 20; i++) {
            assertThat(readOnlyRegion(dataSource)).isIn(FAR, WRITER);
        }
    }

    @Test
    void schemaPinnedToAJurisdiction_neverLeavesIt_evenWhenEveryAllowedRegionIsDown() throws SQLException {
        Topology jurisdictions = Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().jurisdiction("EU").build())
                .region(RegionSpec.builder(NEAR).jurisdiction("EU").build())
                .region(RegionSpec.builder(FAR).jurisdiction("US").build())
                .localRegion(NEAR)
                .build();
        DataPolicies policies = DataPolicies.builder()
                .exact("eu_data", DataPolicy.builder().residency("EU").build())
                .build();
        try (MultiRegionDataSource pinned = MultiRegionDataSource.builder()
                .topology(jurisdictions)
                .dataPolicies(policies)
                .regionDataSources(r -> regions.pools.get(r.id()))
                .router(b -> b.routingPolicy(PgRegions.nearFirst()).attemptTimeout(Duration.ofMillis(500)))
                .statementDeadline(Duration.ofSeconds(10))
                .build();
                Connection c = pinned.getConnection()) {
            c.setSchema("eu_data");
            c.setReadOnly(true);
            // Near first; the writer when the near pool still holds connections an earlier test's fault broke.
            assertThat(regions.regionOf(c)).isIn(NEAR, WRITER);
            c.setReadOnly(false);
            assertThat(regions.regionOf(c)).isEqualTo(WRITER);

            // Every EU region down: the US replica has the data and is healthy, and is never asked.
            regions.cluster.primary().proxy().apply(Fault.resetConnections());
            regions.cluster.replica(1).proxy().apply(Fault.resetConnections());
            c.setReadOnly(true);
            assertThatThrownBy(() -> regions.regionOf(c))
                    .isInstanceOf(ResidencyException.class)
                    .satisfies(e -> {
                        LatitudeCallException call = (LatitudeCallException) e;
                        assertThat(call.attempts()).isNotEmpty();
                        assertThat(call.attempts()).extracting(AttemptRecord::region).doesNotContain(FAR);
                    });
        }
    }

    @Test
    void readerThatRecovers_takesReadsBackOnceHealthy() throws SQLException {
        regions.cluster.replica(1).proxy().apply(Fault.resetConnections());
        assertThat(readOnlyRegion(dataSource)).isIn(FAR, WRITER);
        regions.cluster.replica(1).proxy().heal();
        // Whether the engine tries the region again at once depends on its breaker; the read never fails either way.
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            c.setReadOnly(true);
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }
}
