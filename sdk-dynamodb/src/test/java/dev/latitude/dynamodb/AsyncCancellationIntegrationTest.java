package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.testkit.DynamoDbLocalRegion;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.ReplicationLag;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;

/**
 * Cancelling a future of the non-blocking client stops its call in the engine: against two DynamoDB Local regions,
 * the preferred one blackholed, 200 reads cancelled before their attempt timeout never reach the other region, while
 * one read left alone falls back there as usual. Each region's client counts the reads it is asked to send.
 */
class AsyncCancellationIntegrationTest {
    private static final String TABLE = "cancel_orders";
    private static final String PREFERRED = "eu-west-1";
    private static final String OTHER = "us-east-1";
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(5);
    private static DynamoDbLocalRegions lab;
    private static final List<DynamoDbAsyncClient> regionClients = new ArrayList<>();
    private static final Map<String, AtomicInteger> sent = new ConcurrentHashMap<>();
    private static MultiRegionDynamoDbAsyncClient client;

    /** Counts the reads of this test's keys a region's client starts, one per attempt the engine sends there. */
    private static ExecutionInterceptor counting(String region) {
        AtomicInteger count = sent.computeIfAbsent(region, r -> new AtomicInteger());
        return new ExecutionInterceptor() {
            @Override
            public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
                if (context.request() instanceof GetItemRequest get && get.key().get("pk").s().startsWith("cancel-")) {
                    count.incrementAndGet();
                }
            }
        };
    }

    @BeforeAll
    static void start() {
        lab = LabSupport.startLab(List.of(OTHER, PREFERRED), ReplicationLag.none());
        LabSupport.createTable(lab, TABLE, null);
        LabSupport.warmUp(lab, true, TABLE);
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(OTHER).writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder(PREFERRED).jurisdiction("EU").location(53.3, -6.3).build())
                .localRegion(PREFERRED).build();
        MultiRegionDynamoDbAsyncClient.Builder b = MultiRegionDynamoDbAsyncClient.builder().topology(topology)
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(PREFERRED, OTHER).build())
                        .attemptTimeout(ATTEMPT_TIMEOUT).deadline(Duration.ofSeconds(20)));
        for (DynamoDbLocalRegion r : lab.regions()) {
            DynamoDbAsyncClient c = DynamoDbAsyncClient.builder().endpointOverride(lab.front(r.id()).uri())
                    .region(Region.US_EAST_1).credentialsProvider(DynamoDbLocalRegion.credentials())
                    .overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy())
                            .addExecutionInterceptor(counting(r.id())))
                    .build();
            regionClients.add(c);
            b.regionClient(r.id(), c);
        }
        client = b.build();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        regionClients.forEach(DynamoDbAsyncClient::close);
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void cancelledBeforeTheAttemptTimeout_noAttemptEverReachesAnotherRegion() throws Exception {
        // A first read through the Latitude client, before the fault, so the control read below is not a cold one.
        client.getItem(g -> g.tableName(TABLE).key(LabSupport.key("warm"))).get(30, TimeUnit.SECONDS);
        lab.front(PREFERRED).apply(Fault.blackhole());
        try {
            List<CompletableFuture<GetItemResponse>> reads = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String pk = "cancel-" + i;
                CompletableFuture<GetItemResponse> read = client.getItem(g -> g.tableName(TABLE)
                        .key(LabSupport.key(pk)));
                // Cancelled at once, each: on a busy machine issuing 200 reads may take longer than a timeout.
                read.cancel(true);
                reads.add(read);
            }
            assertThat(reads).allSatisfy(f -> assertThat(f).isCancelled());
            // A control read, left alone, falls back to the other region at its attempt timeout, which comes after
            // those of the cancelled reads: by the time it has answered, their fallbacks would have been sent too.
            GetItemResponse control = client.getItem(g -> g.tableName(TABLE).key(LabSupport.key("cancel-control")))
                    .get(30, TimeUnit.SECONDS);
            assertThat(control.hasItem()).isFalse();
            LabSupport.awaitUntil(Duration.ofSeconds(10), "no attempt in flight",
                    () -> client.latitude().status().stream().allMatch(s -> s.inFlight() == 0));
            assertThat(sent.get(PREFERRED).get()).as("reads sent to the blackholed region").isEqualTo(201);
            assertThat(sent.get(OTHER).get()).as("reads sent to the other region: the control's only").isEqualTo(1);
        } finally {
            lab.front(PREFERRED).heal();
        }
    }
}
