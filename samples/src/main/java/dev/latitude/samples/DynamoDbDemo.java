package dev.latitude.samples;

import dev.latitude.HybridLogicalClock;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.dynamodb.MultiRegionDynamoDbClient;
import dev.latitude.testkit.DynamoDbLocalRegions;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.ReplicationLag;
import dev.latitude.testkit.ReplicationSettings;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * The DynamoDB demo: three DynamoDB Local regions on 127.0.0.1 replicating a global table with a 1 s lag, and a
 * {@link MultiRegionDynamoDbClient} in eu-west-1 (a reader; us-east-1 takes the writes). It shows a session reading
 * its own write at once although the local replica does not have it yet, the same read without a session getting
 * the stale local answer, and reads carrying on while the local region is blackholed.
 *
 * <p>Run it with {@code mvn -q -pl samples -am package -DskipTests exec:java
 * -Ddemo.mainClass=dev.latitude.samples.DynamoDbDemo}. Arguments (optional): {@code --reads N} during the blackhole
 * (default 50).
 */
public final class DynamoDbDemo {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final String FAR = "ap-southeast-2";
    private static final List<String> REGIONS = List.of(WRITER, LOCAL, FAR);
    private static final String TABLE = "orders";

    private DynamoDbDemo() {
    }

    /**
     * Runs the demo.
     *
     * @param args {@code --reads N}
     * @throws Exception if the regions cannot start
     */
    public static void main(String[] args) throws Exception {
        run(args, System.out);
    }

    /**
     * Runs the demo, printing to {@code out}.
     *
     * @param args {@code --reads N}
     * @param out where to print
     * @throws Exception if the regions cannot start
     * @throws IllegalArgumentException if an argument is not understood
     */
    public static void run(String[] args, PrintStream out) throws Exception {
        int reads = parseReads(args);
        out.printf("Starting DynamoDB Local in %s (writer), %s (this process's region) and %s; replication lag 1 s%n",
                WRITER, LOCAL, FAR);
        ReplicationSettings replication = ReplicationSettings.builder().lag(ReplicationLag.fixed(Duration.ofSeconds(1)))
                .clockToTimestamp(ms -> HybridLogicalClock.timestamp(ms, 0)).build();
        try (DynamoDbLocalRegions lab = DynamoDbLocalRegions.start(REGIONS, replication)) {
            lab.createGlobalTable(CreateTableRequest.builder().tableName(TABLE)
                    .keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build())
                    .attributeDefinitions(AttributeDefinition.builder().attributeName("pk")
                            .attributeType(ScalarAttributeType.S).build())
                    .billingMode(BillingMode.PAY_PER_REQUEST).build());
            Topology topology = Topology.builder()
                    .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").location(38.9, -77.4).build())
                    .region(RegionSpec.builder(LOCAL).jurisdiction("EU").location(53.3, -6.3).build())
                    .region(RegionSpec.builder(FAR).jurisdiction("AU").location(-33.9, 151.2).build())
                    .localRegion(LOCAL).build();
            // Every region's client goes through a fault front, so the demo can blackhole one and count requests.
            MultiRegionDynamoDbClient.Builder builder = MultiRegionDynamoDbClient.builder().topology(topology)
                    .keySchema(TABLE, "pk")
                    // On one machine every region is as close as the others: prefer the local one explicitly.
                    .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER, FAR).build())
                            .attemptTimeout(Duration.ofMillis(300)));
            List<DynamoDbClient> regionClients = new ArrayList<>();
            for (String id : REGIONS) {
                DynamoDbClient c = lab.frontClient(id, b -> b.overrideConfiguration(o -> o.retryStrategy(
                        MultiRegionDynamoDbClient.failoverRetryStrategy())));
                regionClients.add(c);
                builder.regionClient(id, c);
            }
            try (MultiRegionDynamoDbClient dynamo = builder.build()) {
                DynamoDbClient localReplica = lab.region(LOCAL).client();
                readYourWrites(lab, dynamo, localReplica, out);
                failover(lab, dynamo, reads, out);
            } finally {
                regionClients.forEach(DynamoDbClient::close); // given clients stay ours to close
            }
        }
    }

    private static void readYourWrites(DynamoDbLocalRegions lab, MultiRegionDynamoDbClient dynamo,
            DynamoDbClient localReplica, PrintStream out) {
        Map<String, AttributeValue> key = Map.of("pk", AttributeValue.fromS("order-1"));
        Session session = Session.create();
        out.println();
        out.println("1. Read-your-writes");
        try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
            Map<String, Integer> before = requestCounts(lab);
            dynamo.putItem(p -> p.tableName(TABLE).item(Map.of("pk", AttributeValue.fromS("order-1"),
                    "status", AttributeValue.fromS("PLACED"))));
            out.printf("   PutItem order-1 status=PLACED -> taken by %s%n", served(before, requestCounts(lab)));
            GetItemResponse raw = localReplica.getItem(g -> g.tableName(TABLE).key(key));
            out.printf("   %s's replica right now: %s%n", LOCAL, describe(raw));
            before = requestCounts(lab);
            GetItemResponse read = dynamo.getItem(g -> g.tableName(TABLE).key(key));
            out.printf("   GetItem in the session: %s; requests %s (the local answer was older than the session's"
                    + " write, so the read went on to the region that took it)%n", describe(read),
                    delta(before, requestCounts(lab)));
        }
        GetItemResponse eventual = dynamo.getItem(g -> g.tableName(TABLE).key(key));
        out.printf("   GetItem without the session: %s (no promise asked, the local replica answered)%n",
                describe(eventual));
        out.printf("   session token: %d key(s) tracked, write stamp attribute '%s'%n", session.token().keyCount(),
                dynamo.stampAttribute());
    }

    private static void failover(DynamoDbLocalRegions lab, MultiRegionDynamoDbClient dynamo, int reads,
            PrintStream out) throws InterruptedException {
        lab.replication().awaitQuiescent(Duration.ofSeconds(10));
        Map<String, AttributeValue> key = Map.of("pk", AttributeValue.fromS("order-1"));
        out.println();
        out.printf("2. Failover: %s blackholed (accepts connections, never answers); %d reads%n", LOCAL, reads);
        lab.front(LOCAL).apply(Fault.blackhole());
        Map<String, Integer> before = requestCounts(lab);
        int failed = 0;
        long worst = 0;
        long start = System.nanoTime();
        for (int i = 0; i < reads; i++) {
            long t = System.nanoTime();
            try {
                dynamo.getItem(g -> g.tableName(TABLE).key(key));
            } catch (RuntimeException e) {
                failed++;
                out.println("   failed: " + e);
            }
            worst = Math.max(worst, System.nanoTime() - t);
        }
        long totalMs = (System.nanoTime() - start) / 1_000_000;
        Map<String, Integer> after = requestCounts(lab);
        lab.front(LOCAL).heal();
        out.printf("   %d reads in %d ms, %d failed, slowest %d ms; requests per region: %s%n", reads, totalMs, failed,
                worst / 1_000_000, delta(before, after));
        out.printf("   %s circuit: %s%n", LOCAL, dynamo.latitude().status().stream()
                .filter(st -> st.region().id().equals(LOCAL)).findFirst().map(st -> st.circuit().toString())
                .orElse("?"));
        out.println();
        out.printf("Summary: read-your-writes kept across a 1 s replication lag; %d of %d reads failed with %s"
                + " blackholed%n", failed, reads, LOCAL);
    }

    private static String describe(GetItemResponse r) {
        return r.hasItem() && !r.item().isEmpty() ? "status=" + r.item().get("status").s() : "no item";
    }

    private static Map<String, Integer> requestCounts(DynamoDbLocalRegions lab) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String id : REGIONS) {
            counts.put(id, lab.front(id).requestCount());
        }
        return counts;
    }

    private static Map<String, Integer> delta(Map<String, Integer> before, Map<String, Integer> after) {
        Map<String, Integer> d = new LinkedHashMap<>();
        after.forEach((id, n) -> d.put(id, n - before.getOrDefault(id, 0)));
        return d;
    }

    private static String served(Map<String, Integer> before, Map<String, Integer> after) {
        StringBuilder sb = new StringBuilder();
        delta(before, after).forEach((id, n) -> {
            if (n > 0) {
                sb.append(sb.length() == 0 ? "" : " then ").append(id);
            }
        });
        return sb.length() == 0 ? "no region" : sb.toString();
    }

    private static int parseReads(String[] args) {
        int reads = 50;
        for (int i = 0; i < args.length; i++) {
            if (!"--reads".equals(args[i]) || i + 1 >= args.length) {
                throw new IllegalArgumentException("unknown argument '" + args[i] + "'; use --reads N (1 to 10000)");
            }
            try {
                reads = Integer.parseInt(args[++i]);
            } catch (NumberFormatException e) {
                reads = -1;
            }
            if (reads < 1 || reads > 10_000) {
                throw new IllegalArgumentException("--reads '" + args[i] + "' is not a number from 1 to 10000");
            }
        }
        return reads;
    }
}
