package dev.latitude.dynamodb.internal;

import dev.latitude.HybridLogicalClock;
import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.dynamodb.HeartbeatConfig;
import dev.latitude.spi.ReplicationWatermarks;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;

/**
 * Writes and reads replication heartbeats (see {@link HeartbeatConfig}) and serves them to the planner as
 * {@link ReplicationWatermarks}. Each region has its own task and thread, so a region that hangs delays only its
 * own heartbeats. Watermarks only grow; reads of them never block.
 */
public final class Heartbeats implements ReplicationWatermarks, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Heartbeats.class);
    private static final String ORIGIN = "origin";
    private final HeartbeatConfig config;
    private final Topology topology;
    private final Io io;
    private final String stampAttribute;
    private final long marginMillis;
    private volatile HybridLogicalClock clock;
    private final int n;
    /** [region * n + source]: the highest heartbeat stamp from source seen in region; 0 when none. */
    private final AtomicLongArray applied;
    private final boolean[] writers;
    private final Map<String, AttributeValue>[] sourceKeys;
    private final AtomicInteger failures = new AtomicInteger();
    private ScheduledExecutorService executor;
    private volatile boolean closed;

    /**
     * Creates the heartbeats; {@link #start(HybridLogicalClock)} begins them.
     *
     * @param config the settings
     * @param topology the regions
     * @param io sends heartbeat requests to a given region
     * @param stampAttribute the write stamp attribute (heartbeats carry it, so replication resolves them like items)
     */
    @SuppressWarnings("unchecked")
    public Heartbeats(HeartbeatConfig config, Topology topology, Io io, String stampAttribute) {
        this.config = config;
        this.topology = topology;
        this.io = io;
        this.stampAttribute = stampAttribute;
        this.marginMillis = config.reorderMargin().toMillis();
        this.n = topology.size();
        this.applied = new AtomicLongArray(n * n);
        this.writers = new boolean[n];
        this.sourceKeys = new Map[n];
        for (RegionSpec r : topology.regions()) {
            int i = topology.indexOf(r.id());
            writers[i] = r.isWriter();
            sourceKeys[i] = Map.of(HeartbeatConfig.PARTITION_KEY, AttributeValue.fromS(itemKey(r.id())));
        }
    }

    /** Sends heartbeat requests to one region, blocking (heartbeats run on their own threads). */
    public interface Io {
        /**
         * Puts a heartbeat item.
         *
         * @param region the region id
         * @param request the request
         */
        void put(String region, PutItemRequest request);

        /**
         * Reads heartbeat items.
         *
         * @param region the region id
         * @param request the request
         * @return the response
         */
        BatchGetItemResponse batchGet(String region, BatchGetItemRequest request);

        /**
         * Returns an {@link Io} made of two functions.
         *
         * @param put puts a heartbeat item in a region
         * @param batchGet reads heartbeat items in a region
         * @return the io
         */
        static Io of(BiConsumer<String, PutItemRequest> put,
                BiFunction<String, BatchGetItemRequest, BatchGetItemResponse> batchGet) {
            return new Io() {
                @Override
                public void put(String region, PutItemRequest request) {
                    put.accept(region, request);
                }

                @Override
                public BatchGetItemResponse batchGet(String region, BatchGetItemRequest request) {
                    return batchGet.apply(region, request);
                }
            };
        }
    }

    /** Returns the partition key value of {@code region}'s heartbeat item. */
    public static String itemKey(String region) {
        return "hb#" + region;
    }

    /**
     * Starts one periodic task per region.
     *
     * @param clock the clock heartbeats are stamped with (the engine's)
     */
    public synchronized void start(HybridLogicalClock clock) {
        if (executor != null) {
            return;
        }
        this.clock = clock;
        AtomicInteger threads = new AtomicInteger();
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(n, r -> {
            Thread t = new Thread(r, "latitude-heartbeats-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        ex.setRemoveOnCancelPolicy(true);
        executor = ex;
        long period = config.interval().toNanos();
        for (RegionSpec r : topology.regions()) {
            executor.scheduleWithFixedDelay(() -> beat(r.id()), 0, period, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Runs one round for {@code region}: writes its heartbeat (if it is a writer and this process writes them) and
     * reads the heartbeats it has received from the other writer regions. Never throws.
     *
     * @param region the region id
     */
    public void beat(String region) {
        int i = topology.indexOf(region);
        HybridLogicalClock clock = this.clock;
        if (clock == null) {
            return;
        }
        try {
            if (config.writer() && writers[i]) {
                long stamp = clock.now();
                io.put(region, PutItemRequest.builder().tableName(config.table())
                        .item(Map.of(HeartbeatConfig.PARTITION_KEY, AttributeValue.fromS(itemKey(region)),
                                stampAttribute, AttributeValue.fromN(Long.toString(stamp)),
                                ORIGIN, AttributeValue.fromS(region)))
                        .overrideConfiguration(o -> o.apiCallTimeout(config.timeout()))
                        .build());
                raise(i, i, stamp);
            }
            List<Map<String, AttributeValue>> keys = new ArrayList<>(n);
            for (int s = 0; s < n; s++) {
                if (s != i && writers[s]) {
                    keys.add(sourceKeys[s]);
                }
            }
            if (keys.isEmpty()) {
                return;
            }
            BatchGetItemResponse response = io.batchGet(region, BatchGetItemRequest.builder()
                    .requestItems(Map.of(config.table(), KeysAndAttributes.builder().keys(keys).build()))
                    .overrideConfiguration(o -> o.apiCallTimeout(config.timeout()))
                    .build());
            List<Map<String, AttributeValue>> items = response.responses().get(config.table());
            if (items == null) {
                return;
            }
            for (Map<String, AttributeValue> item : items) {
                AttributeValue origin = item.get(ORIGIN);
                AttributeValue stamp = item.get(stampAttribute);
                if (origin == null || origin.s() == null || stamp == null || stamp.n() == null
                        || !topology.contains(origin.s())) {
                    continue;
                }
                try {
                    raise(i, topology.indexOf(origin.s()), Long.parseLong(stamp.n()));
                } catch (NumberFormatException e) {
                    LOG.debug("Heartbeat item in {} has a malformed stamp {}", region, stamp.n());
                }
            }
        } catch (RuntimeException e) {
            int count = failures.incrementAndGet();
            if (!closed && (count == 1 || count % 100 == 0)) { // a round interrupted by close() is not news
                LOG.warn("Heartbeat round in {} failed ({} failures so far); watermarks there stay where they were:"
                        + " {}", region, count, e.toString());
            }
        }
    }

    private void raise(int region, int source, long stamp) {
        int slot = region * n + source;
        long prev;
        while ((prev = applied.get(slot)) < stamp) {
            if (applied.compareAndSet(slot, prev, stamp)) {
                return;
            }
        }
    }

    /** Returns how many heartbeat rounds have failed. */
    public int failures() {
        return failures.get();
    }

    @Override
    public long applied(String region, String sourceRegion, String dataClass) {
        if (!topology.contains(region) || !topology.contains(sourceRegion)) {
            return UNKNOWN;
        }
        long v = applied.get(topology.indexOf(region) * n + topology.indexOf(sourceRegion));
        if (v <= 0) {
            return UNKNOWN;
        }
        long vouched = v - HybridLogicalClock.timestamp(marginMillis, 0); // the same logical counter, margin earlier
        return vouched > 0 ? vouched : UNKNOWN;
    }

    @Override
    public long stalenessMillis(String region, String dataClass) {
        HybridLogicalClock clock = this.clock;
        if (clock == null || !topology.contains(region)) {
            return UNKNOWN;
        }
        int i = topology.indexOf(region);
        long now = HybridLogicalClock.millis(clock.now());
        long worst = 0;
        for (int s = 0; s < n; s++) {
            if (s == i || !writers[s]) {
                continue;
            }
            long v = applied.get(i * n + s);
            if (v <= 0) {
                return UNKNOWN;
            }
            worst = Math.max(worst, now - HybridLogicalClock.millis(v) + marginMillis);
        }
        return Math.max(0, worst);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (executor != null) {
            executor.shutdownNow();
            try {
                executor.awaitTermination(config.timeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            executor = null;
        }
    }
}
