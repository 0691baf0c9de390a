package dev.latitude;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Spans and metrics of the engine, read back from the OpenTelemetry SDK's in-memory exporters. */
class TelemetryTest {
    private final ManualClock clock = new ManualClock();
    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final InMemoryMetricReader metrics = InMemoryMetricReader.create();
    private OpenTelemetrySdk otel;
    private Latitude latitude;

    @BeforeEach
    void setUp() {
        otel = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
                .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
                .build();
        latitude = Latitude.builder()
                .topology(CallExecutionTest.topology())
                .routingPolicy(RoutingPolicy.failover().priority("us-east-1", "us-west-2", "eu-west-1").build())
                .ticker(clock).scheduler(clock)
                .openTelemetry(otel)
                .hedging(HedgingConfig.builder().minSamples(5).build())
                .breaker(BreakerConfig.builder().failureThreshold(2, 2).build())
                .build();
    }

    @AfterEach
    void tearDown() {
        latitude.close();
        otel.close();
    }

    private static final Operation READ = Operation.read("GetItem").dataClass("orders").build();

    private SpanData onlySpan() {
        List<SpanData> finished = spans.getFinishedSpanItems();
        assertThat(finished).hasSize(1);
        return finished.get(0);
    }

    private MetricData metric(String name) {
        return metrics.collectAllMetrics().stream().filter(m -> m.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no metric " + name));
    }

    @Test
    void span_fallback_recordsAnsweringRegionAttemptsAndFallbackEvent() {
        CompletableFuture<String> r = latitude.executeAsync(READ, region -> region.id().equals("us-east-1")
                ? CompletableFuture.failedFuture(new ConnectException("refused"))
                : CompletableFuture.completedFuture(region.id()));
        assertThat(r).isCompletedWithValue("us-west-2");
        SpanData span = onlySpan();
        assertThat(span.getName()).isEqualTo("GetItem");
        assertThat(span.getKind()).as("a call to a remote database, as the semantic conventions expect")
                .isEqualTo(SpanKind.CLIENT);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isEqualTo("us-west-2");
        assertThat(span.getAttributes().get(AttributeKey.longKey("latitude.attempts"))).isEqualTo(2);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("latitude.data_class"))).isEqualTo("orders");
        assertThat(span.getAttributes().get(AttributeKey.booleanKey("latitude.panic"))).isFalse();
        assertThat(span.getEvents()).extracting(EventData::getName)
                .containsExactly("latitude.attempt.failed", "latitude.fallback");
        EventData fallback = span.getEvents().get(1);
        assertThat(fallback.getAttributes().get(AttributeKey.stringKey("latitude.from_region"))).isEqualTo("us-east-1");
        assertThat(fallback.getAttributes().get(AttributeKey.stringKey("latitude.to_region"))).isEqualTo("us-west-2");
        assertThat(fallback.getAttributes().get(AttributeKey.stringKey("latitude.reason"))).isEqualTo("region_unavailable");
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    }

    @Test
    void span_failure_hasErrorStatusAndException() {
        CompletableFuture<String> r = latitude.executeAsync(READ,
                region -> CompletableFuture.failedFuture(new ConnectException(region.id() + " refused")));
        assertThat(r).isCompletedExceptionally();
        SpanData span = onlySpan();
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(span.getEvents()).extracting(EventData::getName).contains("exception");
        assertThat(span.getAttributes().get(AttributeKey.longKey("latitude.attempts"))).isEqualTo(3);
    }

    @Test
    void span_hedge_recordsHedgeEventAndFlag() {
        for (int i = 0; i < 10; i++) {
            CompletableFuture<String> f = new CompletableFuture<>();
            clock.schedule(() -> f.complete("warm"), Duration.ofMillis(10).toNanos());
            latitude.executeAsync(READ, region -> f);
            clock.advanceMillis(10);
        }
        clock.advanceMillis(200);
        spans.reset();
        // 10 warm-up calls deposited 0.5 tokens; 10 more instant calls make it a whole token.
        for (int i = 0; i < 10; i++) {
            latitude.executeAsync(READ, region -> CompletableFuture.completedFuture("x"));
        }
        clock.advanceMillis(200);
        spans.reset();
        CompletableFuture<String> slow = new CompletableFuture<>();
        CompletableFuture<String> r = latitude.executeAsync(READ, region -> region.id().equals("us-east-1")
                ? slow : CompletableFuture.completedFuture(region.id()));
        clock.advanceMillis(50);
        assertThat(r).isCompletedWithValue("us-west-2");
        SpanData span = onlySpan();
        assertThat(span.getAttributes().get(AttributeKey.booleanKey("latitude.hedged"))).isTrue();
        assertThat(span.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isEqualTo("us-west-2");
        assertThat(span.getEvents()).extracting(EventData::getName).contains("latitude.hedge");
        assertThat(slow).isCancelled();
        assertThat(metric("latitude.hedges").getLongSumData().getPoints()).singleElement()
                .satisfies(p -> assertThat(p.getValue()).isEqualTo(1));
    }

    @Test
    void span_isChildOfCallersSpanAndCurrentDuringAttempt() {
        Span parent = otel.getTracer("test").spanBuilder("request").startSpan();
        String[] seenTrace = new String[1];
        try (var ignored = parent.makeCurrent()) {
            latitude.executeAsync(READ, region -> {
                seenTrace[0] = Span.current().getSpanContext().getTraceId();
                return CompletableFuture.completedFuture("x");
            });
        }
        parent.end();
        SpanData call = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("GetItem")).findFirst()
                .orElseThrow();
        assertThat(call.getParentSpanId()).isEqualTo(parent.getSpanContext().getSpanId());
        assertThat(seenTrace[0]).isEqualTo(parent.getSpanContext().getTraceId());
    }

    @Test
    void metrics_attemptsFallbacksAndCircuitState() {
        for (int i = 0; i < 2; i++) {
            latitude.executeAsync(READ, region -> region.id().equals("us-east-1")
                    ? CompletableFuture.failedFuture(new ConnectException("refused"))
                    : CompletableFuture.completedFuture(region.id()));
        }
        List<MetricData> all = List.copyOf(metrics.collectAllMetrics());
        MetricData attempts = all.stream().filter(m -> m.getName().equals("latitude.attempts")).findFirst().orElseThrow();
        assertThat(attempts.getLongSumData().getPoints()).anySatisfy(p -> {
            assertThat(p.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isEqualTo("us-east-1");
            assertThat(p.getAttributes().get(AttributeKey.stringKey("latitude.outcome"))).isEqualTo("region_unavailable");
            assertThat(p.getValue()).isEqualTo(2);
        });
        MetricData fallbacks = all.stream().filter(m -> m.getName().equals("latitude.fallbacks")).findFirst().orElseThrow();
        assertThat(fallbacks.getLongSumData().getPoints()).singleElement().satisfies(p -> assertThat(p.getValue()).isEqualTo(2));
        MetricData state = all.stream().filter(m -> m.getName().equals("latitude.circuit.state")).findFirst().orElseThrow();
        assertThat(state.getLongGaugeData().getPoints()).anySatisfy(p -> {
            assertThat(p.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isEqualTo("us-east-1");
            assertThat(((LongPointData) p).getValue()).isEqualTo(2);
        });
        MetricData transitions = all.stream().filter(m -> m.getName().equals("latitude.circuit.transitions"))
                .findFirst().orElseThrow();
        assertThat(transitions.getLongSumData().getPoints()).singleElement().satisfies(p ->
                assertThat(p.getAttributes().get(AttributeKey.stringKey("latitude.circuit.state"))).isEqualTo("open"));
        MetricData duration = all.stream().filter(m -> m.getName().equals("latitude.attempt.duration")).findFirst().orElseThrow();
        assertThat(duration.getUnit()).isEqualTo("s");
    }

    @Test
    void consistency_staleAnswerCaught_recordsEventAndMetrics() {
        Session session = Session.create();
        session.recordWrite("orders", "o1", 1000, "us-east-1");
        Latitude l = Latitude.builder()
                .topology(CallExecutionTest.topology())
                .routingPolicy(RoutingPolicy.failover().priority("eu-west-1", "us-west-2", "us-east-1").build())
                .ticker(clock).scheduler(clock).openTelemetry(otel).hedging(HedgingConfig.disabled())
                .dataPolicies(DataPolicies.builder().exact("orders",
                        DataPolicy.builder().writerRegion("us-east-1").build()).build())
                .build();
        try {
            Operation op = Operation.read("GetOrder").dataClass("orders").key("o1").session(session).build();
            CompletableFuture<Long> r = l.executeAsync(op, region -> CompletableFuture.completedFuture(
                    region.id().equals("us-east-1") ? 1000L : 900L), v -> v);
            assertThat(r).isCompletedWithValue(1000L);
        } finally {
            l.close();
        }
        SpanData span = onlySpan();
        assertThat(span.getAttributes().get(AttributeKey.stringKey("latitude.consistency"))).isEqualTo("SESSION");
        assertThat(span.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isEqualTo("us-east-1");
        assertThat(span.getEvents()).extracting(EventData::getName).contains("latitude.stale_read_avoided");
        EventData failed = span.getEvents().stream().filter(e -> e.getName().equals("latitude.attempt.failed"))
                .findFirst().orElseThrow();
        assertThat(failed.getAttributes().get(AttributeKey.stringKey("latitude.reason"))).isEqualTo("stale_read");
        assertThat(failed.getAttributes().get(AttributeKey.stringKey("error.type")))
                .as("the replica answered in time: its answer was stale, it did not time out").isEqualTo("stale_read");
        assertThat(metric("latitude.stale_reads.avoided").getLongSumData().getPoints()).singleElement()
                .satisfies(p -> {
                    assertThat(p.getAttributes().get(AttributeKey.stringKey("latitude.check"))).isEqualTo("verified");
                    assertThat(p.getValue()).isEqualTo(1);
                });
        assertThat(metric("latitude.watermark.checks").getLongSumData().getPoints()).singleElement()
                .satisfies(p -> assertThat(p.getAttributes().get(AttributeKey.stringKey("latitude.outcome"))).isEqualTo("stale"));
    }

    @Test
    void attemptFailed_errorTypeIsTheExceptionsClass_aSlowAttemptIsReportedAsSlow() {
        CompletableFuture<String> r = latitude.executeAsync(READ, region -> region.id().equals("us-east-1")
                ? new CompletableFuture<>()
                : region.id().equals("us-west-2") ? CompletableFuture.failedFuture(new ConnectException("refused"))
                : CompletableFuture.completedFuture(region.id()));
        clock.advance(Duration.ofSeconds(1));
        assertThat(r).isCompletedWithValue("eu-west-1");
        assertThat(onlySpan().getEvents()).filteredOn(e -> e.getName().equals("latitude.attempt.failed"))
                .extracting(e -> e.getAttributes().get(AttributeKey.stringKey("error.type")))
                .containsExactly(ConnectException.class.getName());
        assertThat(onlySpan().getEvents()).extracting(EventData::getName).contains("latitude.attempt.slow");
    }

    @Test
    void writeSpan_carriesTheConsistencyItsDataClassIsReadAt() {
        Latitude l = Latitude.builder()
                .topology(CallExecutionTest.topology())
                .ticker(clock).scheduler(clock).openTelemetry(otel)
                .dataPolicies(DataPolicies.builder().exact("orders", DataPolicy.builder().writerRegion("us-east-1")
                        .consistency(ConsistencyLevel.EVENTUAL).build()).build())
                .build();
        try {
            Operation write = Operation.write("PutItem").dataClass("orders").build();
            assertThat(l.executeAsync(write, region -> CompletableFuture.completedFuture(region.id())))
                    .isCompletedWithValue("us-east-1");
        } finally {
            l.close();
        }
        SpanData span = onlySpan();
        assertThat(span.getKind()).isEqualTo(SpanKind.CLIENT);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("latitude.consistency"))).isEqualTo("EVENTUAL");
    }

    @Test
    void fallbackPutOffByTheLimit_countedAndRecordedOnTheCallsSpan() {
        List<CompletableFuture<String>> pending = new java.util.ArrayList<>();
        AsyncRegionCall<String> hang = region -> {
            CompletableFuture<String> f = new CompletableFuture<>();
            synchronized (pending) {
                pending.add(f);
            }
            return f;
        };
        List<CompletableFuture<String>> calls = new java.util.ArrayList<>();
        for (int i = 0; i < 11; i++) {
            calls.add(latitude.executeAsync(READ, hang));
        }

        clock.advance(Duration.ofSeconds(1)); // every first attempt passes its timeout: 10 may fall back (the minimum)

        assertThat(pending).as("11 first attempts and 10 fallbacks beside them").hasSize(21);
        LongPointData putOff = (LongPointData) metric("latitude.fallbacks.put_off").getData().getPoints().iterator()
                .next();
        assertThat(putOff.getValue()).isEqualTo(1);
        assertThat(putOff.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isEqualTo("us-east-1");
        assertThat(putOff.getAttributes().get(AttributeKey.stringKey("latitude.reason"))).isEqualTo("limit");
        synchronized (pending) {
            pending.forEach(f -> f.complete("answer"));
        }
        assertThat(calls).allSatisfy(c -> assertThat(c).isCompletedWithValue("answer"));
        assertThat(spans.getFinishedSpanItems()).hasSize(11)
                .filteredOn(sp -> sp.getEvents().stream().anyMatch(e -> e.getName().equals("latitude.fallback.put_off")))
                .hasSize(1);
    }
}
