package dev.latitude.jdbc;

import static dev.latitude.jdbc.PgRegions.NEAR;
import static dev.latitude.jdbc.PgRegions.WRITER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.Session;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The engine's span per unit of work, with the database attributes, and the data source's own counters. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JdbcTelemetryTest {
    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final InMemoryMetricReader metrics = InMemoryMetricReader.create();
    private PgRegions regions;
    private MultiRegionDataSource dataSource;

    @BeforeAll
    void start() {
        regions = PgRegions.shared();
        OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans))
                        .build())
                .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
                .build();
        dataSource = regions.dataSource()
                .router(b -> b.routingPolicy(PgRegions.nearFirst()))
                .openTelemetry(otel)
                .build();
    }

    @AfterAll
    void stop() {
        if (dataSource != null) {
            dataSource.close();
        }
    }

    @Test
    void unitsOfWork_haveTheEnginesSpanWithDatabaseAttributes() throws SQLException {
        spans.reset();
        try (Scope ignored = Session.create().storeIn(Context.current()).makeCurrent();
                Connection c = dataSource.getConnection()) {
            c.setReadOnly(true);
            c.setSchema("pg_catalog");
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
                rs.next();
            }
            c.setReadOnly(false);
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE scratch (id int)");
            }
        }
        List<SpanData> finished = spans.getFinishedSpanItems();
        assertThat(finished).hasSize(2);
        SpanData read = finished.get(0);
        assertThat(read.getAttributes().get(AttributeKey.stringKey("db.system.name"))).isEqualTo("postgresql");
        assertThat(read.getAttributes().get(AttributeKey.stringKey("db.namespace"))).isEqualTo("pg_catalog");
        assertThat(read.getAttributes().get(AttributeKey.stringKey("db.operation.name"))).isEqualTo("SELECT");
        assertThat(read.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isEqualTo(NEAR);
        SpanData write = finished.get(1);
        assertThat(write.getAttributes().get(AttributeKey.stringKey("db.operation.name"))).isEqualTo("CREATE");
        assertThat(write.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isEqualTo(WRITER);
    }

    @Test
    void sessionReadsKeptFromABehindReplica_areCounted() throws SQLException {
        regions.cluster.replicas().forEach(regions.cluster::pauseReplay);
        try (Scope ignored = Session.create().storeIn(Context.current()).makeCurrent()) {
            try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS public.telemetry_note (id int)");
                s.execute("INSERT INTO public.telemetry_note VALUES (1)");
            }
            try (Connection c = dataSource.getConnection()) {
                c.setReadOnly(true);
                assertThat(regions.regionOf(c)).isEqualTo(WRITER);
            }
        } finally {
            regions.cluster.replicas().forEach(regions.cluster::resumeReplay);
            regions.awaitReplicas();
        }
        List<MetricData> collected = List.copyOf(metrics.collectAllMetrics());
        assertThat(collected).extracting(MetricData::getName)
                .contains("latitude.stale_reads.avoided", "latitude.jdbc.replay_waits");
    }
}
