package dev.latitude;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Proves that an operation's key stays out of its description and its span by default, shown as a keyed fingerprint
 * (equal for equal keys, different for different ones, not the value), and that {@link SensitiveData#PROPERTY} brings
 * the value back in both.
 */
class SensitiveDataTest {
    private static final String KEY = "2:pkS17:alice@example.com";
    private static final AttributeKey<String> KEY_ATTRIBUTE = AttributeKey.stringKey("latitude.key");

    @AfterEach
    void clear() {
        System.clearProperty(SensitiveData.PROPERTY);
    }

    private static Operation get(String key) {
        return Operation.read("GetItem").dataClass("people").key(key).build();
    }

    @Test
    void anOperationIsDescribedWithAFingerprintOfItsKey() {
        String described = get(KEY).toString();
        assertThat(described).doesNotContain("alice").matches("GetItem\\(READ, idempotent, people, key #[0-9a-f]{12}\\)");
        assertThat(get(KEY).toString()).isEqualTo(described);
        assertThat(get(KEY + "x").toString()).isNotEqualTo(described);
        assertThat(Operation.read("Query").dataClass("people").build()).hasToString("Query(READ, idempotent, people)");
        assertThat(SensitiveData.fingerprint(null)).isEqualTo("null");
    }

    @Test
    void theOptInDescribesTheKeyItself() {
        System.setProperty(SensitiveData.PROPERTY, "true");
        assertThat(SensitiveData.shown()).isTrue();
        assertThat(get(KEY)).hasToString("GetItem(READ, idempotent, people/" + KEY + ")");
    }

    @Test
    void theKeyIsOnTheSpanOnlyWithTheOptIn() {
        assertThat(spanOf(get(KEY)).getAttributes().get(KEY_ATTRIBUTE)).isNull();
        System.setProperty(SensitiveData.PROPERTY, "true");
        assertThat(spanOf(get(KEY)).getAttributes().get(KEY_ATTRIBUTE)).isEqualTo(KEY);
    }

    private static SpanData spanOf(Operation op) {
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        ManualClock clock = new ManualClock();
        try (OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
                Latitude latitude = Latitude.builder().topology(CallExecutionTest.topology()).ticker(clock)
                        .scheduler(clock).openTelemetry(otel).build()) {
            assertThat(latitude.executeAsync(op, region -> CompletableFuture.completedFuture(region.id())))
                    .isCompleted();
            assertThat(spans.getFinishedSpanItems()).hasSize(1);
            SpanData span = spans.getFinishedSpanItems().get(0);
            assertThat(span.getAttributes().asMap().values()).noneMatch(v -> v.toString().contains("alice")
                    && !SensitiveData.shown());
            return span;
        }
    }
}
