package dev.latitude.testkit;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.fail;

import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.RegionStatus;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Helpers shared by the functional tests that drive an engine against fake regions. */
final class FunctionalSupport {
    private FunctionalSupport() {
    }

    /** Runs {@code op} on {@code path} through {@code client}, waiting at most 5 s; rethrows the call's failure. */
    static String call(FakeRegionClient client, Operation op, String path) throws Exception {
        try {
            return client.get(op, path).get(5, SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception) {
                throw (Exception) e.getCause();
            }
            throw e;
        }
    }

    /** Returns the engine's status of region {@code id}. */
    static RegionStatus status(Latitude latitude, String id) {
        return latitude.status().stream().filter(s -> s.region().id().equals(id)).findFirst().orElseThrow();
    }

    /** Polls {@code condition} until it holds, failing the test after {@code max}. */
    static void awaitUntil(Duration max, BooleanSupplier condition) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("condition not met within " + max);
            }
            LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
        }
    }

    /** An OpenTelemetry SDK whose spans and metrics stay in memory for assertions. */
    record InMemoryTelemetry(io.opentelemetry.sdk.OpenTelemetrySdk sdk,
            io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter spans,
            io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader metrics) implements AutoCloseable {

        static InMemoryTelemetry create() {
            var spans = io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create();
            var metrics = io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader.create();
            var sdk = io.opentelemetry.sdk.OpenTelemetrySdk.builder()
                    .setTracerProvider(io.opentelemetry.sdk.trace.SdkTracerProvider.builder()
                            .addSpanProcessor(io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(spans)).build())
                    .setMeterProvider(io.opentelemetry.sdk.metrics.SdkMeterProvider.builder()
                            .registerMetricReader(metrics).build())
                    .build();
            return new InMemoryTelemetry(sdk, spans, metrics);
        }

        @Override
        public void close() {
            sdk.close();
        }
    }

    /** Returns the milliseconds since {@code startNanos} (a {@link System#nanoTime()} reading). */
    static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
