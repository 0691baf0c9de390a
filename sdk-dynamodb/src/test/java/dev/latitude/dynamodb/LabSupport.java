package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.fail;

import dev.latitude.HybridLogicalClock;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.ReplicationLag;
import dev.latitude.testkit.ReplicationSettings;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/** Helpers shared by the integration tests that run the multi-region client against a lab of DynamoDB Local regions. */
final class LabSupport {
    static final AttributeKey<String> CLOUD_REGION = AttributeKey.stringKey("cloud.region");

    private LabSupport() {
    }

    /** Starts a lab whose emulator orders deletes in the client's hybrid-logical-clock domain. */
    static DynamoDbLocalRegions startLab(List<String> ids, ReplicationLag lag) {
        return DynamoDbLocalRegions.start(ids, ReplicationSettings.builder().lag(lag)
                .clockToTimestamp(ms -> HybridLogicalClock.timestamp(ms, 0)).build());
    }

    /** Creates a global table with a string partition key {@code pk} and, if given, a string sort key. */
    static void createTable(DynamoDbLocalRegions lab, String table, String sortKey) {
        CreateTableRequest.Builder b = CreateTableRequest.builder().tableName(table)
                .billingMode(BillingMode.PAY_PER_REQUEST);
        if (sortKey == null) {
            b.keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build())
                    .attributeDefinitions(attr("pk"));
        } else {
            b.keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build(),
                    KeySchemaElement.builder().attributeName(sortKey).keyType(KeyType.RANGE).build())
                    .attributeDefinitions(attr("pk"), attr(sortKey));
        }
        lab.createGlobalTable(b.build());
    }

    /**
     * Sends a few reads and a write to each table in each region, through its fault front if {@code fronts}, so the
     * first calls of a test do not pay the servers' warm-up against a short attempt timeout.
     */
    static void warmUp(DynamoDbLocalRegions lab, boolean fronts, String... tables) {
        for (String id : lab.ids()) {
            DynamoDbClient c = fronts ? lab.frontClient(id, b -> { }) : lab.region(id).newClient();
            try {
                for (String t : tables) {
                    Map<String, AttributeValue> k = key("__warmup");
                    for (int i = 0; i < 5; i++) {
                        c.getItem(g -> g.tableName(t).key(k));
                    }
                    c.putItem(p -> p.tableName(t).item(k));
                    c.deleteItem(d -> d.tableName(t).key(k));
                }
            } finally {
                c.close();
            }
        }
        lab.replication().awaitQuiescent(Duration.ofSeconds(10));
    }

    private static AttributeDefinition attr(String name) {
        return AttributeDefinition.builder().attributeName(name).attributeType(ScalarAttributeType.S).build();
    }

    /** Closes a test class's span recorder and lab, either of which may be missing if start-up failed. */
    static void close(DynamoDbLocalRegions lab, Spans spans) {
        if (spans != null) {
            spans.close();
        }
        if (lab != null) {
            lab.close();
        }
    }

    static Map<String, AttributeValue> key(String pk) {
        return Map.of("pk", AttributeValue.fromS(pk));
    }

    /** Reads an item straight from one region's server (no routing), strongly consistent; null if absent. */
    static Map<String, AttributeValue> raw(DynamoDbClient regionClient, String table, String pk) {
        GetItemResponse r = regionClient.getItem(g -> g.tableName(table).key(key(pk)).consistentRead(true));
        return r.hasItem() && !r.item().isEmpty() ? r.item() : null;
    }

    /** Polls {@code condition} every 5 ms until it holds; fails the test after {@code max}. */
    static void awaitUntil(Duration max, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + max + ": " + what);
            }
            LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
        }
    }

    /** An OpenTelemetry SDK keeping spans in memory; tells which region answered each call. */
    static final class Spans implements AutoCloseable {
        final InMemorySpanExporter exporter = InMemorySpanExporter.create();
        final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder()
                        .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
                .build();
        private final Tracer tracer = sdk.getTracer("latitude-integration-test");

        /** Runs {@code call} under a fresh parent span and returns its result with the call's span. */
        <T> Traced<T> traced(Supplier<T> call) {
            Span parent = tracer.spanBuilder("test-op").startSpan();
            T value;
            try (Scope ignored = parent.makeCurrent()) {
                value = call.get();
            } finally {
                parent.end();
            }
            return new Traced<>(value, callSpan(parent.getSpanContext().getSpanId()));
        }

        /** The engine's span of the call made under the parent span {@code parentId}, or null. */
        SpanData callSpan(String parentId) {
            for (SpanData s : exporter.getFinishedSpanItems()) {
                if (s.getParentSpanId().equals(parentId)) {
                    return s;
                }
            }
            return null;
        }

        @Override
        public void close() {
            sdk.close();
        }
    }

    /** A result and the engine span of the call that produced it. */
    record Traced<T>(T value, SpanData span) {
        String region() {
            return span == null ? null : span.getAttributes().get(CLOUD_REGION);
        }

        boolean hasEvent(String name) {
            return span != null && span.getEvents().stream().anyMatch(e -> e.getName().equals(name));
        }
    }
}
