package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.ReplicationLag;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ScanResponse;

/**
 * Proves that the AWS SDK's Query and Scan paginators, built on the multi-region client, iterate every page of a
 * small-Limit read to the end, each page being a call routed by the client (answered by the local region).
 */
class PaginatorIntegrationTest {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final String TABLE = "pages";
    private static final int ITEMS = 23;

    static DynamoDbLocalRegions lab;
    static LabSupport.Spans spans;
    static MultiRegionDynamoDbClient client;

    @BeforeAll
    static void start() {
        lab = LabSupport.startLab(List.of(WRITER, LOCAL), ReplicationLag.none());
        LabSupport.createTable(lab, TABLE, "sk");
        spans = new LabSupport.Spans();
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder(LOCAL).jurisdiction("EU").location(53.3, -6.3).build())
                .localRegion(LOCAL).build();
        MultiRegionDynamoDbClient.Builder b = MultiRegionDynamoDbClient.builder().topology(topology)
                .keySchema(TABLE, "pk", "sk")
                .router(r -> r.openTelemetry(spans.sdk).attemptTimeout(Duration.ofSeconds(5)).deadline(Duration.ofSeconds(10))
                        .routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build())
                        .hedging(HedgingConfig.disabled()));
        lab.regions().forEach(r -> b.regionClient(r.id(), r.client()));
        client = b.build();
        for (int i = 0; i < ITEMS; i++) {
            String sk = String.format("%03d", i);
            String pk = i % 2 == 0 ? "even" : "odd";
            client.putItem(p -> p.tableName(TABLE).item(Map.of("pk", AttributeValue.fromS(pk),
                    "sk", AttributeValue.fromS(sk))));
        }
        lab.replication().awaitQuiescent(Duration.ofSeconds(10));
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        LabSupport.close(lab, spans);
    }

    private static List<SpanData> spansNamed(String name) {
        return spans.exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).toList();
    }

    @Test
    void queryPaginatorReadsEveryPage() {
        spans.exporter.reset();
        List<String> keys = new ArrayList<>();
        int pages = 0;
        for (QueryResponse page : client.queryPaginator(q -> q.tableName(TABLE).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("even"))).limit(3))) {
            pages++;
            page.items().forEach(item -> keys.add(item.get("sk").s()));
        }
        assertThat(keys).hasSize(12).doesNotHaveDuplicates().isSorted();
        assertThat(pages).isGreaterThanOrEqualTo(4);
        List<SpanData> calls = spansNamed("Query");
        assertThat(calls).hasSize(pages);
        assertThat(calls).allMatch(s -> LOCAL.equals(s.getAttributes().get(LabSupport.CLOUD_REGION)));
        assertThat(client.queryPaginator(q -> q.tableName(TABLE).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("odd"))).limit(4)).items().stream()
                .count()).isEqualTo(11);
    }

    @Test
    void scanPaginatorReadsEveryPage() {
        spans.exporter.reset();
        TreeSet<String> seen = new TreeSet<>();
        int pages = 0;
        int items = 0;
        for (ScanResponse page : client.scanPaginator(s -> s.tableName(TABLE).limit(4))) {
            pages++;
            items += page.count();
            page.items().forEach(item -> seen.add(item.get("pk").s() + "/" + item.get("sk").s()));
        }
        assertThat(items).isEqualTo(ITEMS);
        assertThat(seen).hasSize(ITEMS);
        assertThat(pages).isGreaterThanOrEqualTo(6);
        assertThat(spansNamed("Scan")).hasSize(pages)
                .allMatch(s -> LOCAL.equals(s.getAttributes().get(LabSupport.CLOUD_REGION)));
    }
}
