package dev.latitude.testkit;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.StreamSpecification;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.model.TableDescription;
import software.amazon.awssdk.services.dynamodb.model.TableStatus;

/**
 * A lab of emulated DynamoDB regions on one machine: one {@link DynamoDbLocalRegion} per region id, and a
 * {@link ReplicationEmulator} that makes the tables created with {@link #createGlobalTable(CreateTableRequest)}
 * behave like a global table across them. Closing the lab stops replication, then every server, even if one fails.
 *
 * <pre>{@code
 * try (DynamoDbLocalRegions lab = DynamoDbLocalRegions.start(List.of("us-east-1", "eu-west-1"),
 *         ReplicationSettings.builder().lag(ReplicationLag.fixed(Duration.ofMillis(200))).build())) {
 *     lab.createGlobalTable(CreateTableRequest.builder().tableName("orders")...build());
 *     lab.region("us-east-1").client().putItem(...);   // appears in eu-west-1 about 200 ms later
 *     lab.replication().awaitQuiescent(Duration.ofSeconds(5));
 * }
 * }</pre>
 */
public final class DynamoDbLocalRegions implements AutoCloseable {
    private static final Duration ACTIVE_TIMEOUT = Duration.ofSeconds(10);

    private final Map<String, DynamoDbLocalRegion> regions;
    private final ReplicationEmulator replication;
    private final Map<String, FakeRegion> fronts = new LinkedHashMap<>();

    private DynamoDbLocalRegions(Map<String, DynamoDbLocalRegion> regions, ReplicationEmulator replication) {
        this.regions = Collections.unmodifiableMap(regions);
        this.replication = replication;
    }

    /**
     * Starts a lab with the default {@link ReplicationSettings} (no lag).
     *
     * @param ids two or more distinct region ids
     * @return the running lab
     */
    public static DynamoDbLocalRegions start(String... ids) {
        return start(List.of(ids), ReplicationSettings.defaults());
    }

    /**
     * Starts one region per id, in order, and the replication between them.
     *
     * @param ids two or more distinct region ids
     * @param settings how to replicate
     * @return the running lab
     * @throws IllegalArgumentException if fewer than two ids are given, or one repeats
     * @throws IllegalStateException if a server cannot start (the ones started are stopped)
     */
    public static DynamoDbLocalRegions start(List<String> ids, ReplicationSettings settings) {
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(settings, "settings");
        if (ids.size() < 2) {
            throw new IllegalArgumentException("a lab needs at least two regions to replicate between, got " + ids
                    + "; for a single server use DynamoDbLocalRegion.start");
        }
        if (new LinkedHashSet<>(ids).size() != ids.size()) {
            throw new IllegalArgumentException("region ids must be distinct, got " + ids);
        }
        Map<String, DynamoDbLocalRegion> started = new LinkedHashMap<>();
        try {
            for (String id : ids) {
                started.put(id, DynamoDbLocalRegion.start(id));
            }
            ReplicationEmulator emulator = ReplicationEmulator.start(started.values(), settings);
            return new DynamoDbLocalRegions(started, emulator);
        } catch (RuntimeException e) {
            for (DynamoDbLocalRegion r : started.values()) {
                try {
                    r.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * Returns the region with {@code id}.
     *
     * @param id a region id
     * @return the region
     * @throws NoSuchElementException if there is none
     */
    public DynamoDbLocalRegion region(String id) {
        DynamoDbLocalRegion r = regions.get(id);
        if (r == null) {
            throw new NoSuchElementException("no DynamoDB Local region " + id + "; started: " + regions.keySet());
        }
        return r;
    }

    /** Returns the regions in start order. */
    public List<DynamoDbLocalRegion> regions() {
        return List.copyOf(regions.values());
    }

    /** Returns the region ids in start order. */
    public List<String> ids() {
        return List.copyOf(regions.keySet());
    }

    /** Returns each region id's endpoint. */
    public Map<String, URI> endpoints() {
        Map<String, URI> map = new LinkedHashMap<>();
        regions.forEach((id, r) -> map.put(id, r.endpoint()));
        return map;
    }

    /**
     * Returns the fault front of region {@code id}: an HTTP {@link FakeRegion} proxy on 127.0.0.1 in front of its
     * DynamoDB Local server, started on first use. Clients that go through it ({@link #frontEndpoints()},
     * {@link #frontClient(String)}) see the faults applied to it (blackhole, refused connections, latency, throttling
     * or 5xx error rates, resets, flapping); replication between the regions does not go through it.
     *
     * @param id a region id
     * @return the front
     * @throws NoSuchElementException if there is no such region
     */
    public synchronized FakeRegion front(String id) {
        DynamoDbLocalRegion region = region(id);
        return fronts.computeIfAbsent(id, k -> FakeRegion.proxy(k, region.endpoint(), Duration.ZERO));
    }

    /** Returns each region id's fault-front endpoint, starting the fronts not started yet. */
    public Map<String, URI> frontEndpoints() {
        Map<String, URI> map = new LinkedHashMap<>();
        regions.keySet().forEach(id -> map.put(id, front(id).uri()));
        return map;
    }

    /**
     * Returns a new client of region {@code id} that goes through its fault front; the caller closes it.
     *
     * @param id a region id
     * @param customizer adjusts the client builder (retries, timeouts) after the endpoint is set
     * @return the client
     */
    public DynamoDbClient frontClient(String id, java.util.function.Consumer<DynamoDbClientBuilder> customizer) {
        URI endpoint = front(id).uri();
        return region(id).newClient(b -> {
            b.endpointOverride(endpoint);
            customizer.accept(b);
        });
    }

    /** Returns the replication between the regions: lag, stalls, metrics, {@code awaitQuiescent}. */
    public ReplicationEmulator replication() {
        return replication;
    }

    /**
     * Creates the table in every region, with a {@code NEW_AND_OLD_IMAGES} stream, and starts replicating it.
     *
     * @param request the table to create; its stream specification may be absent or must ask for
     *     {@code NEW_AND_OLD_IMAGES}
     * @return each region id's table description
     * @throws IllegalArgumentException if the request asks for another stream, or none
     * @throws IllegalStateException if a region fails to create the table (those created are deleted again)
     */
    public Map<String, TableDescription> createGlobalTable(CreateTableRequest request) {
        Objects.requireNonNull(request, "request");
        StreamSpecification asked = request.streamSpecification();
        if (asked != null && (!Boolean.TRUE.equals(asked.streamEnabled())
                || (asked.streamViewType() != null && asked.streamViewType() != StreamViewType.NEW_AND_OLD_IMAGES))) {
            throw new IllegalArgumentException("global table " + request.tableName() + " needs a NEW_AND_OLD_IMAGES "
                    + "stream for replication, but the request asks for " + asked
                    + "; leave the stream specification out and the lab adds it");
        }
        CreateTableRequest withStream = request.toBuilder()
                .streamSpecification(StreamSpecification.builder().streamEnabled(true)
                        .streamViewType(StreamViewType.NEW_AND_OLD_IMAGES).build())
                .build();
        Map<String, TableDescription> created = new LinkedHashMap<>();
        try {
            for (DynamoDbLocalRegion r : regions.values()) {
                r.client().createTable(withStream);
                created.put(r.id(), awaitActive(r.client(), request.tableName(), r.id()));
            }
        } catch (RuntimeException e) {
            for (String id : created.keySet()) {
                try {
                    regions.get(id).client().deleteTable(b -> b.tableName(request.tableName()));
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw new IllegalStateException("creating global table " + request.tableName() + " failed in region "
                    + regions.keySet().stream().filter(id -> !created.containsKey(id)).findFirst().orElse("?")
                    + ": " + e.getMessage(), e);
        }
        replication.follow(request.tableName());
        return Collections.unmodifiableMap(created);
    }

    private static TableDescription awaitActive(DynamoDbClient client, String table, String region) {
        long deadline = System.nanoTime() + ACTIVE_TIMEOUT.toNanos();
        while (true) {
            TableDescription d = client.describeTable(b -> b.tableName(table)).table();
            if (d.tableStatus() == TableStatus.ACTIVE) {
                return d;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("table " + table + " in region " + region + " is still "
                        + d.tableStatus() + " after " + ACTIVE_TIMEOUT.toSeconds() + " s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    /**
     * Stops replicating the table and deletes it in every region where it exists.
     *
     * @param table the table name
     */
    public void deleteGlobalTable(String table) {
        replication.unfollow(table);
        for (DynamoDbLocalRegion r : regions.values()) {
            try {
                r.client().deleteTable(b -> b.tableName(table));
            } catch (ResourceNotFoundException e) {
                // not there: nothing to delete
            }
        }
    }

    /** Stops replication, the fault fronts, then every region. */
    @Override
    public void close() {
        List<RuntimeException> failures = new ArrayList<>();
        try {
            replication.close();
        } catch (RuntimeException e) {
            failures.add(e);
        }
        synchronized (this) {
            for (FakeRegion front : fronts.values()) {
                try {
                    front.close();
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }
        }
        for (DynamoDbLocalRegion r : regions.values()) {
            try {
                r.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }
}
