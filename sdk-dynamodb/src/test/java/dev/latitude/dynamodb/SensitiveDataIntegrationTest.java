package dev.latitude.dynamodb;

import static dev.latitude.dynamodb.LabSupport.key;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RegionsUnavailableException;
import dev.latitude.RoutingPolicy;
import dev.latitude.SensitiveData;
import dev.latitude.Topology;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.ReplicationLag;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Runs representative calls through {@link MultiRegionDynamoDbClient} against DynamoDB Local, with the SDK's loggers at
 * DEBUG ({@link LogCapture}) and spans kept in memory, failure paths included (an unreadable PartiQL statement, an
 * update expression the adapter cannot parse, a region failing over to another, every region failing, a key number
 * out of DynamoDB's range), and proves that by default a personal key value, a literal of a PartiQL statement and the
 * refused number appear in no log line, span attribute, span event or exception message, while
 * {@link SensitiveData#PROPERTY} brings them back for debugging.
 */
class SensitiveDataIntegrationTest {
    private static final String HOME = "eu-west-1";
    private static final String OTHER = "eu-central-1";
    private static final String TABLE = "people";
    private static final String KEY = "alice@example.com";
    private static final String LITERAL = "carol@example.net";
    private static final String BAD_NUMBER = "1E+999999999";

    static DynamoDbLocalRegions lab;
    static LabSupport.Spans spans;
    final List<DynamoDbClient> regionClients = new ArrayList<>();
    MultiRegionDynamoDbClient client;

    @BeforeAll
    static void start() {
        lab = LabSupport.startLab(List.of(HOME, OTHER), ReplicationLag.fixed(Duration.ofMillis(20)));
        LabSupport.createTable(lab, TABLE, null);
        lab.ids().forEach(lab::front);
        LabSupport.warmUp(lab, true, TABLE);
        spans = new LabSupport.Spans();
    }

    @AfterAll
    static void stop() {
        LabSupport.close(lab, spans);
    }

    @AfterEach
    void healAndClose() {
        System.clearProperty(SensitiveData.PROPERTY);
        lab.ids().forEach(id -> lab.front(id).heal());
        if (client != null) {
            client.close();
        }
        regionClients.forEach(DynamoDbClient::close);
        regionClients.clear();
    }

    private MultiRegionDynamoDbClient newClient() {
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(HOME).writer().jurisdiction("EU").location(53.3, -6.3).build())
                .region(RegionSpec.builder(OTHER).jurisdiction("EU").location(50.1, 8.7).build())
                .localRegion(HOME).build();
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology)
                .keySchema(TABLE, "pk")
                .router(r -> r.openTelemetry(spans.sdk)
                        .attemptTimeout(Duration.ofMillis(500))
                        .deadline(Duration.ofSeconds(5))
                        .routingPolicy(RoutingPolicy.failover().priority(HOME, OTHER).build())
                        .hedging(HedgingConfig.disabled()));
        for (String id : lab.ids()) {
            DynamoDbClient c = lab.frontClient(id, cb -> cb.overrideConfiguration(o -> o
                    .retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy())
                    .apiCallTimeout(Duration.ofSeconds(3))));
            regionClients.add(c);
            b.regionClient(id, c);
        }
        client = b.build();
        return client;
    }

    /** Everything the SDK let out while running the scenario: log lines, span contents and exception messages. */
    private record Exposure(List<String> logs, List<String> spanTexts, List<String> errors) {
        String all() {
            return String.join("\n", logs) + "\n" + String.join("\n", spanTexts) + "\n" + String.join("\n", errors);
        }
    }

    /** Runs the scenario with a fresh client, recording what was logged, traced and thrown. */
    private Exposure runScenario() {
        assertThat(LogCapture.installed()).as("SLF4J must use LogCapture (META-INF/services in the test resources)")
                .isTrue();
        spans.exporter.reset();
        List<String> errors = new ArrayList<>();
        List<String> logs;
        LogCapture.start();
        try {
            MultiRegionDynamoDbClient c = newClient();
            Map<String, AttributeValue> k = key(KEY);
            c.putItem(p -> p.tableName(TABLE).item(Map.of("pk", AttributeValue.fromS(KEY),
                    "name", AttributeValue.fromS("Alice"))));
            assertThat(c.getItem(g -> g.tableName(TABLE).key(k)).item()).containsKey("name");
            c.updateItem(u -> u.tableName(TABLE).key(k).updateExpression("SET #n = :v")
                    .expressionAttributeNames(Map.of("#n", "name"))
                    .expressionAttributeValues(Map.of(":v", AttributeValue.fromS("Alice A."))));
            assertThat(c.query(q -> q.tableName(TABLE).keyConditionExpression("pk = :pk")
                    .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(KEY)))).count()).isEqualTo(1);
            c.executeStatement(s -> s.statement("DELETE FROM \"" + TABLE + "\" WHERE pk = '" + LITERAL + "'"));
            c.executeStatement(s -> s.statement("INSERT INTO \"" + TABLE + "\" VALUE {'pk': '" + LITERAL + "'}"));
            c.executeStatement(s -> s.statement("SELECT * FROM \"" + TABLE + "\" WHERE pk = '" + LITERAL + "'"));

            // An update expression the adapter cannot parse (a list index past an int) is sent as it is.
            record(errors, () -> c.updateItem(u -> u.tableName(TABLE).key(k)
                    .updateExpression("SET tags[99999999999] = :v")
                    .expressionAttributeValues(Map.of(":v", AttributeValue.fromS(KEY)))));
            // An unreadable statement is refused before anything is sent.
            Throwable unroutable = record(errors, () -> c.executeStatement(s -> s.statement(
                    "SELEKT * FROM " + TABLE + " WHERE pk = '" + LITERAL + "'")));
            assertThat(unroutable).isInstanceOf(UnroutableRequestException.class);
            // A key number out of DynamoDB's range is refused without being computed.
            Throwable badNumber = record(errors, () -> c.getItem(g -> g.tableName(TABLE).key(Map.of(
                    "pk", AttributeValue.fromS(KEY), "sk", AttributeValue.fromN(BAD_NUMBER)))));
            assertThat(badNumber).isInstanceOf(UnroutableRequestException.class).hasMessageContaining("'sk'");

            // The home region fails: the read falls back to the other region.
            lab.front(HOME).failWith(500);
            assertThat(c.getItem(g -> g.tableName(TABLE).key(k)).sdkHttpResponse().isSuccessful()).isTrue();
            // Every region fails.
            lab.front(OTHER).failWith(500);
            assertThat(record(errors, () -> c.getItem(g -> g.tableName(TABLE).key(k))))
                    .isInstanceOf(RegionsUnavailableException.class);
        } finally {
            logs = LogCapture.stop();
        }
        return new Exposure(logs, spanTexts(), List.copyOf(errors));
    }

    private static Throwable record(List<String> errors, Supplier<?> call) {
        Throwable t = catchThrowable(call::get);
        for (Throwable e = t; e != null; e = e.getCause()) {
            errors.add(e.toString());
            for (Throwable s : e.getSuppressed()) {
                errors.add(s.toString());
            }
        }
        return t;
    }

    private static List<String> spanTexts() {
        List<String> texts = new ArrayList<>();
        for (SpanData s : spans.exporter.getFinishedSpanItems()) {
            texts.add(s.getName() + " " + s.getAttributes() + " " + s.getStatus());
            for (EventData e : s.getEvents()) {
                texts.add(e.getName() + " " + e.getAttributes());
            }
        }
        return texts;
    }

    @Test
    void byDefaultNoKeyValueLiteralOrNumberLeavesInLogsSpansOrMessages() {
        Exposure seen = runScenario();
        // The scenario did log at DEBUG and trace: the fallback, with the operation and its key's fingerprint.
        assertThat(seen.logs()).anyMatch(l -> l.startsWith("DEBUG") && l.contains("falling back")
                && l.contains("GetItem(READ, idempotent, people, key #"));
        assertThat(seen.spanTexts()).anyMatch(t -> t.startsWith("ExecuteStatement"));
        assertThat(seen.errors()).anyMatch(e -> e.contains("not one of DynamoDB's PartiQL statements"));
        String all = seen.all();
        assertThat(all).doesNotContain(KEY).doesNotContain(LITERAL).doesNotContain(BAD_NUMBER);
    }

    @Test
    void theOptInShowsThemForDebugging() {
        System.setProperty(SensitiveData.PROPERTY, "true");
        Exposure seen = runScenario();
        assertThat(seen.logs()).anyMatch(l -> l.contains("falling back") && l.contains(KEY));
        assertThat(seen.spanTexts()).anyMatch(t -> t.contains("latitude.key") && t.contains(KEY));
        assertThat(seen.errors()).anyMatch(e -> e.contains(LITERAL));
        assertThat(seen.errors()).anyMatch(e -> e.contains(BAD_NUMBER));
    }
}
