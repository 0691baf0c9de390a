package dev.latitude.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.HedgingConfig;
import dev.latitude.LatitudeConfigException;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** Validation of {@link MultiRegionDataSource.Builder}; no database is needed. */
class MultiRegionDataSourceBuilderTest {
    /** A data source that is never asked for a connection in these tests. */
    private static final DataSource UNUSED = new DataSource() {
        @Override
        public Connection getConnection() throws SQLException {
            throw new SQLException("not used", "08001");
        }

        @Override
        public Connection getConnection(String u, String p) throws SQLException {
            return getConnection();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    };

    private static MultiRegionDataSource.Builder complete() {
        return MultiRegionDataSource.builder().topology(PgRegions.topology()).regionDataSources(r -> UNUSED);
    }

    private static void refused(Runnable build, String setting, String hint) {
        assertThatThrownBy(build::run).isInstanceOf(LatitudeConfigException.class)
                .satisfies(e -> assertThat(((LatitudeConfigException) e).setting()).isEqualTo(setting))
                .hasMessageContaining(hint);
    }

    @Test
    void build_withoutTopology_namesIt() {
        refused(() -> MultiRegionDataSource.builder().regionDataSources(r -> UNUSED).build(), "topology", "not set");
    }

    @Test
    void build_withTwoWriterRegions_isRefused() {
        Topology two = Topology.builder().region(RegionSpec.builder("us-east-1").writer().build())
                .region(RegionSpec.builder("eu-west-1").writer().build()).localRegion("eu-west-1").build();
        refused(() -> MultiRegionDataSource.builder().topology(two).regionDataSources(r -> UNUSED).build(),
                "topology", "both writers");
    }

    @Test
    void build_withARegionMissingItsDataSource_namesTheRegion() {
        refused(() -> MultiRegionDataSource.builder().topology(PgRegions.topology())
                .region(PgRegions.WRITER, UNUSED).region(PgRegions.NEAR, UNUSED).build(), "region", PgRegions.FAR);
        refused(() -> MultiRegionDataSource.builder().topology(PgRegions.topology())
                .regionDataSources(r -> r.id().equals(PgRegions.FAR) ? null : UNUSED).build(),
                "regionDataSources", PgRegions.FAR);
    }

    @Test
    void build_withADataSourceForAnUnknownRegion_isRefused() {
        refused(() -> MultiRegionDataSource.builder().topology(PgRegions.topology())
                .region(PgRegions.WRITER, UNUSED).region(PgRegions.NEAR, UNUSED).region(PgRegions.FAR, UNUSED)
                .region("mars-1", UNUSED).build(), "region", "mars-1");
    }

    @Test
    void dataSources_givenBothWays_areRefused() {
        refused(() -> MultiRegionDataSource.builder().region(PgRegions.WRITER, UNUSED)
                .regionDataSources(r -> UNUSED), "regionDataSources", "not both");
        refused(() -> MultiRegionDataSource.builder().regionDataSources(r -> UNUSED)
                .region(PgRegions.WRITER, UNUSED), "region", "not both");
        refused(() -> MultiRegionDataSource.builder().region(PgRegions.WRITER, UNUSED)
                .region(PgRegions.WRITER, UNUSED), "region", "twice");
    }

    @Test
    void settings_setTwice_orOutOfRange_areRefused() {
        refused(() -> complete().topology(PgRegions.topology()), "topology", "set twice");
        refused(() -> MultiRegionDataSource.builder().statementDeadline(Duration.ZERO), "statementDeadline",
                "outside");
        refused(() -> MultiRegionDataSource.builder().replayPollInterval(Duration.ofHours(1)), "replayPollInterval",
                "outside");
        refused(() -> MultiRegionDataSource.builder().replayWait(Duration.ofMillis(-1)), "replayWait", "outside");
        refused(() -> MultiRegionDataSource.builder().defaultSchema(" "), "defaultSchema", "empty");
        refused(() -> MultiRegionDataSource.builder().hedging(HedgingConfig.disabled())
                .hedging(HedgingConfig.defaults()), "hedging", "set twice");
        refused(() -> MultiRegionDataSource.builder().callerRunsFirstAttempt(true).callerRunsFirstAttempt(false),
                "callerRunsFirstAttempt", "set twice");
    }

    @Test
    void hedgingOrCallerRuns_setInRouter_explainsWhereItBelongs() {
        refused(() -> complete().router(b -> b.hedging(HedgingConfig.defaults())).build(), "router",
                "hedging and callerRunsFirstAttempt are set by MultiRegionDataSource's builder");
        refused(() -> complete().router(b -> b.callerRunsFirstAttempt(false)).build(), "router",
                "hedging and callerRunsFirstAttempt are set by MultiRegionDataSource's builder");
    }

    @Test
    void engineSetting_refusedInRouter_explainsWhereItBelongs() {
        refused(() -> complete().router(b -> b.topology(PgRegions.topology())).build(), "router",
                "set by MultiRegionDataSource's builder");
    }

    @Test
    void built_dataSource_refusesCredentials_andCodecUseWithoutACodec() throws SQLException {
        try (MultiRegionDataSource ds = complete()
                .router(b -> b.routingPolicy(RoutingPolicy.failover().priority(PgRegions.NEAR, PgRegions.FAR,
                        PgRegions.WRITER).build()))
                .build()) {
            assertThatThrownBy(() -> ds.getConnection("u", "p")).isInstanceOf(SQLFeatureNotSupportedException.class);
            refused(() -> ds.encodeSession(ds.session()), "sessionTokenCodec", "not set");
            assertThat(ds.getConnection().isValid(1)).isTrue();
            assertThat(ds.getParentLogger().getName()).isEqualTo("dev.latitude.jdbc");
        }
    }
}
