package dev.latitude;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Proves that an operation's key stays out of its description and its span by default, shown as a keyed fingerprint
 * (equal for equal keys, different for different ones, not the value), that a failed call's span names the
 * exception's type but not its message, and that {@link SensitiveData#PROPERTY} brings the values back.
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

    @Test
    void aFailedCallsSpanGivesTheExceptionsTypeButNotItsMessageUnlessAskedTo() {
        RuntimeException failure = new IllegalArgumentException("no item alice@example.com");
        SpanData span = spanOf(get(KEY), failure);
        assertThat(span.getStatus().getDescription()).isEqualTo("IllegalArgumentException");
        EventData exception = span.getEvents().stream().filter(e -> e.getName().equals("exception")).findFirst()
                .orElseThrow();
        assertThat(exception.getAttributes().get(AttributeKey.stringKey("exception.type")))
                .isEqualTo(IllegalArgumentException.class.getName());
        assertThat(exception.getAttributes().asMap().values()).noneMatch(v -> v.toString().contains("alice"));

        System.setProperty(SensitiveData.PROPERTY, "true");
        SpanData shown = spanOf(get(KEY), failure);
        assertThat(shown.getStatus().getDescription()).contains("alice@example.com");
        assertThat(shown.getEvents()).anyMatch(e -> e.getName().equals("exception") && String.valueOf(
                e.getAttributes().get(AttributeKey.stringKey("exception.message"))).contains("alice@example.com"));
    }

    private static SpanData spanOf(Operation op) {
        return spanOf(op, null);
    }

    /** Runs {@code op}, answered by its first region or failed with {@code failure}, and returns its span. */
    private static SpanData spanOf(Operation op, RuntimeException failure) {
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        ManualClock clock = new ManualClock();
        try (OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
                Latitude latitude = Latitude.builder().topology(CallExecutionTest.topology()).ticker(clock)
                        .scheduler(clock).openTelemetry(otel).build()) {
            assertThat(latitude.executeAsync(op, region -> failure == null
                    ? CompletableFuture.completedFuture(region.id()) : CompletableFuture.failedFuture(failure)))
                    .isDone();
            assertThat(spans.getFinishedSpanItems()).hasSize(1);
            SpanData span = spans.getFinishedSpanItems().get(0);
            if (!SensitiveData.shown()) {
                assertThat(span.getAttributes().asMap().values()).noneMatch(v -> v.toString().contains("alice"));
            }
            return span;
        }
    }
}
