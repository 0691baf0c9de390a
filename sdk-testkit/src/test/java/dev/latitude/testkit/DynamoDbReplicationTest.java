package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;

/**
 * Three DynamoDB Local regions replicated by {@link ReplicationEmulator}: lag, per-pair lag, stalls, last writer wins,
 * deletes and loop prevention. One lab serves the class; each test has its own table and lag, and leaves replication
 * quiescent.
 */
class DynamoDbReplicationTest {
    private static final String A = "us-east-1";
    private static final String B = "eu-west-1";
    private static final String C = "ap-south-1";
    private static final String TS = ReplicationSettings.DEFAULT_TIMESTAMP_ATTRIBUTE;
    private static final String ORIGIN = ReplicationSettings.DEFAULT_ORIGIN_ATTRIBUTE;
    /** How early a change may show up relative to its lag: none is expected; this only absorbs clock granularity. */
    private static final Duration EARLY = Duration.ofMillis(20);
    /** How late a change may show up: generous, for a loaded 2-core machine. */
    private static final Duration LATE = Duration.ofMillis(1500);
    private static final Duration QUIESCE = Duration.ofSeconds(10);
    private static final AtomicInteger TABLES = new AtomicInteger();

    private static DynamoDbLocalRegions lab;
    private static ReplicationEmulator replication;

    private String table;
    private final List<Consumer<ReplicatedChange>> listeners = new ArrayList<>();

    @BeforeAll
    static void startLab() {
        long start = System.nanoTime();
        lab = DynamoDbLocalRegions.start(List.of(A, B, C), ReplicationSettings.defaults());
        replication = lab.replication();
        System.out.printf("lab of 3 regions started in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        for (DynamoDbLocalRegion r : lab.regions()) {
            System.out.printf("  %s started in %d ms at %s%n", r.id(), r.startupTime().toMillis(), r.endpoint());
        }
    }

    @AfterAll
    static void stopLab() {
        if (lab != null) {
            lab.close();
        }
    }

    @BeforeEach
    void newTable() {
        table = "global-" + TABLES.incrementAndGet();
        lab.createGlobalTable(CreateTableRequest.builder().tableName(table)
                .keySchema(k -> k.attributeName("pk").keyType(KeyType.HASH))
                .attributeDefinitions(a -> a.attributeName("pk").attributeType(ScalarAttributeType.S))
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .build());
    }

    @AfterEach
    void settle() {
        try {
            for (String id : lab.ids()) {
                replication.resume(id);
            }
            replication.awaitQuiescent(QUIESCE);
        } finally {
            listeners.forEach(replication::removeListener);
            listeners.clear();
            replication.lag(ReplicationLag.none());
            lab.deleteGlobalTable(table);
        }
    }

    // ------------------------------------------------------------------------------------------------- tests

    @Test
    void threeRegionsStartOnLoopbackAndTheGlobalTableExistsInEach() {
        assertThat(lab.ids()).containsExactly(A, B, C);
        assertThat(lab.endpoints().values()).allSatisfy(uri -> assertThat(uri.getHost()).isEqualTo("127.0.0.1"))
                .doesNotHaveDuplicates();
        for (DynamoDbLocalRegion r : lab.regions()) {
            var d = r.client().describeTable(b -> b.tableName(table)).table();
            assertThat(d.streamSpecification().streamViewType()).isEqualTo(StreamViewType.NEW_AND_OLD_IMAGES);
        }
        assertThat(replication.tables()).contains(table);
        assertThatThrownBy(() -> lab.createGlobalTable(CreateTableRequest.builder().tableName("keysOnly")
                .keySchema(k -> k.attributeName("pk").keyType(KeyType.HASH))
                .attributeDefinitions(a -> a.attributeName("pk").attributeType(ScalarAttributeType.S))
                .streamSpecification(s -> s.streamEnabled(true).streamViewType(StreamViewType.KEYS_ONLY))
                .build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NEW_AND_OLD_IMAGES");
        assertThatThrownBy(() -> replication.follow("missing")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("does not exist in region");
        assertThatThrownBy(() -> replication.stall("mars-1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown region");
    }

    @Test
    void aPutInOneRegionAppearsInTheOthersAfterTheLag() {
        Duration lag = Duration.ofMillis(200);
        replication.lag(ReplicationLag.fixed(lag));
        List<ReplicatedChange> changes = record();

        long start = System.nanoTime();
        put(A, "k", "v1", null);
        Map<String, Duration> seen = awaitSeen(start, "k", "v1", B, C);
        System.out.printf("fixed lag %d ms: seen in %s (read to applied: %s)%n", lag.toMillis(), millis(seen),
                changes.stream().map(c -> c.destination() + "=" + c.delay().toMillis()).toList());

        assertThat(seen.values()).allSatisfy(d -> assertThat(d).isBetween(lag.minus(EARLY), lag.plus(LATE)));
        assertThat(get(B, "k")).containsEntry(ORIGIN, AttributeValue.fromS(A)).containsKey(TS);
        assertThat(get(C, "k")).containsEntry(ORIGIN, AttributeValue.fromS(A));
    }

    @Test
    void eachPairHasItsOwnLag() {
        Duration toB = Duration.ofMillis(100);
        Duration toC = Duration.ofMillis(500);
        replication.lag(ReplicationLag.perPair(ReplicationLag.fixed(Duration.ofMillis(300)))
                .with(A, B, toB)
                .with(A, C, toC));
        List<ReplicatedChange> changes = record();

        long start = System.nanoTime();
        put(A, "k", "v1", null);
        Map<String, Duration> seen = awaitSeen(start, "k", "v1", B, C);
        System.out.printf("per-pair lag A→B %d ms, A→C %d ms: seen in %s%n", toB.toMillis(), toC.toMillis(),
                millis(seen));

        assertThat(seen.get(B)).isBetween(toB.minus(EARLY), toC.minus(EARLY));
        assertThat(seen.get(C)).isBetween(toC.minus(EARLY), toC.plus(LATE));
        replication.awaitQuiescent(QUIESCE);
        assertThat(changes).hasSize(2).allSatisfy(c -> assertThat(c.outcome()).isEqualTo(ReplicatedChange.Outcome.APPLIED));
        assertThat(delayTo(changes, B)).isGreaterThanOrEqualTo(toB).isLessThan(toC);
        assertThat(delayTo(changes, C)).isGreaterThanOrEqualTo(toC);
    }

    @Test
    void aStallHoldsChangesBackAndResumeDeliversThemInOrder() {
        Duration lag = Duration.ofMillis(100);
        replication.lag(ReplicationLag.fixed(lag));
        List<ReplicatedChange> changes = record();
        replication.stall(A);
        assertThat(replication.isStalled(A)).isTrue();

        long base = System.currentTimeMillis();
        int writes = 5;
        for (int i = 1; i <= writes; i++) {
            put(A, "k", "v" + i, base + i);
        }
        put(A, "other", "x", base);
        int expected = (writes + 1) * 2;
        awaitTrue(Duration.ofSeconds(5), () -> replication.queuedCount(A) == expected,
                () -> "queued out of " + A + ": " + replication.queuedCount(A) + ", expected " + expected);
        // Changes into A and out of B still flow while A is stalled.
        put(B, "fromB", "b", base);
        awaitTrue(Duration.ofSeconds(5), () -> get(A, "fromB") != null && get(C, "fromB") != null,
                () -> "a write in " + B + " reached " + A + " and " + C + " during A's stall");

        // Well past the lag, nothing from A has arrived.
        Polling.throughout(lag.multipliedBy(3), Duration.ofMillis(2), () -> {
            assertThat(get(B, "k")).as("held back by the stall").isNull();
            assertThat(get(C, "k")).as("held back by the stall").isNull();
        });
        assertThat(replication.queuedCount(A)).isEqualTo(expected);

        long resumed = System.nanoTime();
        replication.resume(A);
        Map<String, Duration> seen = awaitSeen(resumed, "k", "v" + writes, B, C);
        System.out.printf("after resume: last of %d held writes seen in %s%n", writes, millis(seen));
        replication.awaitQuiescent(QUIESCE);

        assertThat(replication.queuedCount(A)).isZero();
        for (String to : List.of(B, C)) {
            List<ReplicatedChange> fromA = changes.stream()
                    .filter(c -> c.source().equals(A) && c.destination().equals(to) && c.key().get("pk").s().equals("k"))
                    .toList();
            // In order: each applied (none superseded by a later one arriving first), timestamps ascending.
            assertThat(fromA).extracting(c -> c.timestamp().longValue())
                    .containsExactly(base + 1, base + 2, base + 3, base + 4, base + 5);
            assertThat(fromA).allSatisfy(c -> assertThat(c.outcome()).isEqualTo(ReplicatedChange.Outcome.APPLIED));
            assertThat(get(to, "k")).containsEntry("v", AttributeValue.fromS("v" + writes));
            assertThat(get(to, "other")).isNotNull();
        }
    }

    @Test
    void concurrentWritesConvergeToTheHigherTimestamp() {
        replication.lag(ReplicationLag.fixed(Duration.ofMillis(150)));
        long superseded = replication.supersededCount();
        long now = System.currentTimeMillis();

        // Same key in A and B before either write can replicate; B's is newer.
        put(A, "k1", "from-A", now + 1_000);
        put(B, "k1", "from-B", now + 2_000);
        // And the other way round on another key.
        put(A, "k2", "from-A", now + 3_000);
        put(B, "k2", "from-B", now + 2_500);
        // Equal timestamps: the region whose id sorts last wins (us-east-1 > eu-west-1).
        put(B, "k3", "from-B", now + 4_000);
        put(A, "k3", "from-A", now + 4_000);
        replication.awaitQuiescent(QUIESCE);

        for (String region : lab.ids()) {
            assertThat(get(region, "k1")).as("k1 in %s", region).containsEntry("v", AttributeValue.fromS("from-B"))
                    .containsEntry(TS, AttributeValue.fromN(Long.toString(now + 2_000)));
            assertThat(get(region, "k2")).as("k2 in %s", region).containsEntry("v", AttributeValue.fromS("from-A"));
            assertThat(get(region, "k3")).as("k3 in %s", region).containsEntry("v", AttributeValue.fromS("from-A"));
        }
        // At least the older write of each key lost where the newer one already was.
        assertThat(replication.supersededCount() - superseded).isGreaterThanOrEqualTo(3);
    }

    @Test
    void deletesReplicateAndAnOlderWriteDoesNotBringTheItemBack() {
        replication.lag(ReplicationLag.fixed(Duration.ofMillis(100)));
        long now = System.currentTimeMillis();
        put(A, "k", "v1", now - 10_000);
        replication.awaitQuiescent(QUIESCE);
        assertThat(lab.ids()).allSatisfy(r -> assertThat(get(r, "k")).isNotNull());

        // Delete the replicated copy in B: the delete replicates to A and C.
        long start = System.nanoTime();
        delete(B, "k");
        awaitTrue(Duration.ofSeconds(5), () -> get(A, "k") == null && get(C, "k") == null,
                () -> "the delete in " + B + " reached " + A + " and " + C);
        System.out.printf("delete replicated in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        replication.awaitQuiescent(QUIESCE);

        // A write older than the delete, held in a stalled region and released after the delete, stays deleted.
        put(A, "k2", "v1", now - 10_000);
        replication.awaitQuiescent(QUIESCE);
        replication.stall(A);
        put(A, "k2", "older", now - 5_000);
        delete(B, "k2");
        awaitTrue(Duration.ofSeconds(5), () -> get(A, "k2") == null && get(C, "k2") == null,
                () -> "the delete of k2 reached " + A + " and " + C);
        replication.resume(A);
        replication.awaitQuiescent(QUIESCE);
        assertThat(lab.ids()).allSatisfy(r -> assertThat(get(r, "k2")).as("k2 in %s", r).isNull());

        // A newer write after a delete does bring the key back everywhere.
        put(C, "k2", "newer", System.currentTimeMillis() + 1_000);
        replication.awaitQuiescent(QUIESCE);
        assertThat(lab.ids()).allSatisfy(r -> assertThat(get(r, "k2")).as("k2 in %s", r)
                .containsEntry("v", AttributeValue.fromS("newer")));
    }

    @Test
    void replicatedWritesAreNotEchoedBack() {
        replication.lag(ReplicationLag.fixed(Duration.ofMillis(50)));
        Map<String, Long> before = pairCounts();
        long applied = replication.appliedCount();
        long echoes = replication.suppressedEchoCount();

        put(A, "k", "v1", System.currentTimeMillis());
        replication.awaitQuiescent(QUIESCE);

        assertThat(replication.appliedCount() - applied).isEqualTo(2);
        assertThat(replication.suppressedEchoCount() - echoes).isEqualTo(2);
        Map<String, Long> delta = delta(before, pairCounts());
        assertThat(delta).containsEntry(A + "→" + B, 1L).containsEntry(A + "→" + C, 1L);
        assertThat(delta).as("nothing flows back out of B or C").allSatisfy((pair, n) -> {
            if (!pair.startsWith(A)) {
                assertThat(n).as(pair).isZero();
            }
        });
        assertThat(get(A, "k")).as("A's own item is not overwritten by an echo").doesNotContainKey(ORIGIN);

        // An update of the replicated copy in B is a local write of B's and replicates, origin attribute and all.
        lab.region(B).client().updateItem(b -> b.tableName(table).key(key("k"))
                .updateExpression("SET v = :v, #ts = :ts")
                .expressionAttributeNames(Map.of("#ts", TS))
                .expressionAttributeValues(Map.of(":v", AttributeValue.fromS("v2"),
                        ":ts", AttributeValue.fromN(Long.toString(System.currentTimeMillis() + 1_000)))));
        replication.awaitQuiescent(QUIESCE);
        assertThat(replication.appliedCount() - applied).isEqualTo(4);
        assertThat(replication.suppressedEchoCount() - echoes).isEqualTo(4);
        assertThat(get(A, "k")).containsEntry("v", AttributeValue.fromS("v2")).containsEntry(ORIGIN, AttributeValue.fromS(B));
        assertThat(get(C, "k")).containsEntry("v", AttributeValue.fromS("v2")).containsEntry(ORIGIN, AttributeValue.fromS(B));
    }

    @Test
    void jitteredLagStaysWithinItsBoundsAndKeepsOrder() {
        Duration base = Duration.ofMillis(50);
        Duration jitter = Duration.ofMillis(100);
        replication.lag(ReplicationLag.jittered(base, jitter, 7));
        List<ReplicatedChange> changes = record();
        long now = System.currentTimeMillis();
        for (int i = 1; i <= 5; i++) {
            put(A, "k", "v" + i, now + i);
        }
        replication.awaitQuiescent(QUIESCE);
        List<ReplicatedChange> toB = changes.stream().filter(c -> c.destination().equals(B)).toList();
        assertThat(toB).extracting(c -> c.timestamp().longValue())
                .containsExactly(now + 1, now + 2, now + 3, now + 4, now + 5);
        assertThat(toB).allSatisfy(c -> assertThat(c.delay()).isBetween(base, base.plus(jitter).plus(LATE)));
        assertThat(get(B, "k")).containsEntry("v", AttributeValue.fromS("v5"));
    }

    // ------------------------------------------------------------------------------------------------- helpers

    private static Map<String, AttributeValue> key(String pk) {
        return Map.of("pk", AttributeValue.fromS(pk));
    }

    private void put(String region, String pk, String value, Long ts) {
        Map<String, AttributeValue> item = new HashMap<>(key(pk));
        item.put("v", AttributeValue.fromS(value));
        if (ts != null) {
            item.put(TS, AttributeValue.fromN(Long.toString(ts)));
        }
        lab.region(region).client().putItem(b -> b.tableName(table).item(item));
    }

    private void delete(String region, String pk) {
        lab.region(region).client().deleteItem(b -> b.tableName(table).key(key(pk)));
    }

    private Map<String, AttributeValue> get(String region, String pk) {
        DynamoDbClient ddb = lab.region(region).client();
        var response = ddb.getItem(b -> b.tableName(table).key(key(pk)).consistentRead(true));
        return response.hasItem() ? response.item() : null;
    }

    private List<ReplicatedChange> record() {
        List<ReplicatedChange> changes = new CopyOnWriteArrayList<>();
        Consumer<ReplicatedChange> listener = c -> {
            if (c.table().equals(table)) {
                changes.add(c);
            }
        };
        listeners.add(listener);
        replication.addListener(listener);
        return changes;
    }

    /** Polls the regions until each holds {@code pk} with {@code value}; returns how long after {@code start} each did. */
    private Map<String, Duration> awaitSeen(long start, String pk, String value, String... regions) {
        Map<String, Duration> seen = new LinkedHashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (seen.size() < regions.length) {
            for (String r : regions) {
                if (!seen.containsKey(r)) {
                    Map<String, AttributeValue> item = get(r, pk);
                    if (item != null && AttributeValue.fromS(value).equals(item.get("v"))) {
                        seen.put(r, Duration.ofNanos(System.nanoTime() - start));
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(pk + "=" + value + " reached only " + seen.keySet() + " of "
                        + List.of(regions) + " within 5 s; replication: " + replication);
            }
            pause();
        }
        return seen;
    }

    /** Bounded polling: waits until {@code condition} holds, failing with {@code what} after {@code timeout}. */
    private static void awaitTrue(Duration timeout, BooleanSupplier condition, Supplier<String> what) {
        if (!Polling.eventually(timeout, Duration.ofMillis(2), condition)) {
            throw new AssertionError("not within " + timeout.toMillis() + " ms: " + what.get());
        }
    }

    private static void pause() {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }

    private static Duration delayTo(List<ReplicatedChange> changes, String destination) {
        return changes.stream().filter(c -> c.destination().equals(destination)).findFirst()
                .map(ReplicatedChange::delay).orElseThrow();
    }

    private static Map<String, Long> pairCounts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String from : lab.ids()) {
            for (String to : lab.ids()) {
                if (!Objects.equals(from, to)) {
                    counts.put(from + "→" + to, replication.appliedCount(from, to));
                }
            }
        }
        return counts;
    }

    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new LinkedHashMap<>();
        after.forEach((k, v) -> d.put(k, v - before.get(k)));
        return d;
    }

    private static Map<String, Long> millis(Map<String, Duration> seen) {
        Map<String, Long> m = new LinkedHashMap<>();
        seen.forEach((k, v) -> m.put(k, v.toMillis()));
        return m;
    }

    @Test
    void faultFront_appliesFaultsToClientsButNotToReplication() throws Exception {
        FakeRegion front = lab.front(A);
        assertThat(front.uri().getHost()).isEqualTo("127.0.0.1");
        try (var client = lab.frontClient(A, b -> b.overrideConfiguration(o -> o
                .retryStrategy(software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry())
                // Long enough for a first request on a busy machine; the blackholed read below waits it out.
                .apiCallAttemptTimeout(Duration.ofSeconds(3))))) {
            java.util.Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue> item = java.util.Map.of(
                    "pk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("through-front"));
            client.putItem(b -> b.tableName(table).item(item));
            assertThat(front.requestCount()).isPositive();

            front.apply(Fault.errorRate(1.0, 400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                    + "ProvisionedThroughputExceededException\",\"message\":\"throttled by the fault front\"}"));
            assertThatThrownBy(() -> client.getItem(b -> b.tableName(table).key(item)))
                    .isInstanceOf(software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughputExceededException.class)
                    .hasMessageContaining("throttled by the fault front");

            front.blackhole();
            assertThatThrownBy(() -> client.getItem(b -> b.tableName(table).key(item)))
                    .isInstanceOf(software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException.class);
            front.heal();
            assertThat(client.getItem(b -> b.tableName(table).key(item)).item()).containsKey("pk");
        }
        // The put replicated from A's server directly, whatever the front was doing.
        replication.awaitQuiescent(QUIESCE);
        assertThat(lab.region(B).client().getItem(b -> b.tableName(table)
                .key(java.util.Map.of("pk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("through-front"))))
                .item()).containsKey("pk");
    }
}
