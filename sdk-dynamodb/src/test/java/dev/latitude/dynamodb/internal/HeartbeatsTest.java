package dev.latitude.dynamodb.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.HybridLogicalClock;
import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.dynamodb.HeartbeatConfig;
import dev.latitude.spi.ReplicationWatermarks;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;

/**
 * Heartbeats over an in-memory "replication" the test controls: watermarks appear only for heartbeats a region has
 * received, never go back, staleness is measured against the clock, unknown stays unknown, and failures are counted,
 * never thrown.
 */
class HeartbeatsTest {
    private static final String WRITER = "us-east-1";
    private static final String EU = "eu-west-1";
    private static final String AP = "ap-southeast-2";
    private static final String TS = "_lat_ts";

    /** A wall clock the test moves. */
    private static final class MovableClock extends Clock {
        volatile long millis = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    /** Per region, the heartbeat items it holds; puts land in the writer's region only, the test copies them on. */
    private final Map<String, Map<String, Map<String, AttributeValue>>> tables = new ConcurrentHashMap<>();
    private final List<String> down = new ArrayList<>();
    private final MovableClock wall = new MovableClock();
    private final HybridLogicalClock clock = HybridLogicalClock.create(wall, Duration.ofMillis(500));
    private final Topology topology = Topology.builder()
            .region(RegionSpec.builder(WRITER).writer().build())
            .region(RegionSpec.builder(EU).build())
            .region(RegionSpec.builder(AP).build())
            .localRegion(EU).build();
    private final Heartbeats.Io io = new Heartbeats.Io() {
        @Override
        public void put(String region, PutItemRequest request) {
            fail(region);
            table(region).put(request.item().get(HeartbeatConfig.PARTITION_KEY).s(), request.item());
        }

        @Override
        public BatchGetItemResponse batchGet(String region, BatchGetItemRequest request) {
            fail(region);
            List<Map<String, AttributeValue>> found = new ArrayList<>();
            request.requestItems().values().forEach(k -> k.keys().forEach(key -> {
                Map<String, AttributeValue> item = table(region).get(key.get(HeartbeatConfig.PARTITION_KEY).s());
                if (item != null) {
                    found.add(item);
                }
            }));
            return BatchGetItemResponse.builder().responses(Map.of(HeartbeatConfig.DEFAULT_TABLE, found)).build();
        }

        private void fail(String region) {
            if (down.contains(region)) {
                throw new IllegalStateException(region + " is down");
            }
        }
    };

    private Map<String, Map<String, AttributeValue>> table(String region) {
        return tables.computeIfAbsent(region, r -> new ConcurrentHashMap<>());
    }

    private void replicate(String from, String to) {
        table(from).forEach((k, v) -> table(to).put(k, new HashMap<>(v)));
    }

    private Heartbeats heartbeats() {
        Heartbeats h = new Heartbeats(HeartbeatConfig.builder().interval(Duration.ofSeconds(1))
                .reorderMargin(Duration.ZERO).build(), topology, io, TS);
        h.start(clock);
        h.close(); // the test drives rounds itself with beat(region)
        return h;
    }

    @Test
    void watermarksFollowTheHeartbeatsEachRegionHasReceived() {
        Heartbeats h = heartbeats();
        assertThat(h.applied(EU, WRITER, "orders")).isEqualTo(ReplicationWatermarks.UNKNOWN);
        assertThat(h.stalenessMillis(EU, "orders")).isEqualTo(ReplicationWatermarks.UNKNOWN);

        h.beat(WRITER);
        long first = Long.parseLong(table(WRITER).get(Heartbeats.itemKey(WRITER)).get(TS).n());
        h.beat(EU);
        assertThat(h.applied(EU, WRITER, "orders")).as("not replicated yet").isEqualTo(ReplicationWatermarks.UNKNOWN);

        replicate(WRITER, EU);
        h.beat(EU);
        assertThat(h.applied(EU, WRITER, "orders")).isEqualTo(first);
        assertThat(h.applied(AP, WRITER, "orders")).isEqualTo(ReplicationWatermarks.UNKNOWN);

        wall.millis += 700;
        assertThat(h.stalenessMillis(EU, "orders")).isEqualTo(700);

        wall.millis += 300;
        h.beat(WRITER);
        replicate(WRITER, EU);
        h.beat(EU);
        assertThat(h.applied(EU, WRITER, "orders")).isGreaterThan(first);
        assertThat(h.stalenessMillis(EU, "orders")).isZero();
    }

    @Test
    void theReorderMarginIsTakenOffWhatAHeartbeatVouchesFor() {
        Heartbeats h = new Heartbeats(HeartbeatConfig.builder().reorderMargin(Duration.ofMillis(300)).build(),
                topology, io, TS);
        h.start(clock);
        h.close();
        h.beat(WRITER);
        replicate(WRITER, EU);
        h.beat(EU);
        long stamp = Long.parseLong(table(EU).get(Heartbeats.itemKey(WRITER)).get(TS).n());
        assertThat(h.applied(EU, WRITER, "orders"))
                .isEqualTo(HybridLogicalClock.timestamp(HybridLogicalClock.millis(stamp) - 300,
                        HybridLogicalClock.logical(stamp)));
        wall.millis += 200;
        assertThat(h.stalenessMillis(EU, "orders")).isEqualTo(500);
    }

    @Test
    void watermarksNeverGoBack() {
        Heartbeats h = heartbeats();
        h.beat(WRITER);
        replicate(WRITER, EU);
        Map<String, AttributeValue> older = new HashMap<>(table(EU).get(Heartbeats.itemKey(WRITER)));
        wall.millis += 1000;
        h.beat(WRITER);
        replicate(WRITER, EU);
        h.beat(EU);
        long newer = h.applied(EU, WRITER, "orders");
        table(EU).put(Heartbeats.itemKey(WRITER), older); // a replica answering with an older copy
        h.beat(EU);
        assertThat(h.applied(EU, WRITER, "orders")).isEqualTo(newer);
    }

    @Test
    void failuresAreCountedNotThrown_andMalformedItemsIgnored() {
        Heartbeats h = heartbeats();
        down.add(WRITER);
        h.beat(WRITER);
        assertThat(h.failures()).isEqualTo(1);
        down.clear();
        table(EU).put(Heartbeats.itemKey(WRITER), Map.of(HeartbeatConfig.PARTITION_KEY,
                AttributeValue.fromS(Heartbeats.itemKey(WRITER)), "origin", AttributeValue.fromS(WRITER),
                TS, AttributeValue.fromN("not-a-number")));
        h.beat(EU);
        assertThat(h.applied(EU, WRITER, "orders")).isEqualTo(ReplicationWatermarks.UNKNOWN);
        assertThat(h.failures()).isEqualTo(1);
    }

    @Test
    void readOnlyProcessesWriteNothing() {
        Heartbeats h = new Heartbeats(HeartbeatConfig.builder().writer(false).build(), topology, io, TS);
        h.start(clock);
        h.close();
        h.beat(WRITER);
        assertThat(table(WRITER)).isEmpty();
    }

    @Test
    void startedHeartbeatsRunOnTheirOwnThreadsUntilClosed() {
        Heartbeats h = new Heartbeats(HeartbeatConfig.builder().interval(Duration.ofMillis(10)).build(), topology, io,
                TS);
        h.start(clock);
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (table(WRITER).isEmpty() && System.nanoTime() < deadline) {
                LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
            }
            assertThat(table(WRITER)).containsKey(Heartbeats.itemKey(WRITER));
        } finally {
            h.close();
        }
        assertThat(h.applied(WRITER, WRITER, "orders")).as("the writer's own heartbeat was recorded")
                .isNotEqualTo(ReplicationWatermarks.UNKNOWN);
    }
}
