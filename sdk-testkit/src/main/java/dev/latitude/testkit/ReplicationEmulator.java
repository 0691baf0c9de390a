package dev.latitude.testkit;

import dev.latitude.testkit.ReplicatedChange.Kind;
import dev.latitude.testkit.ReplicatedChange.Outcome;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DescribeStreamResponse;
import software.amazon.awssdk.services.dynamodb.model.ExpiredIteratorException;
import software.amazon.awssdk.services.dynamodb.model.GetRecordsResponse;
import software.amazon.awssdk.services.dynamodb.model.OperationType;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.Shard;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.StreamRecord;
import software.amazon.awssdk.services.dynamodb.model.StreamViewType;
import software.amazon.awssdk.services.dynamodb.model.TableDescription;
import software.amazon.awssdk.services.dynamodb.model.TrimmedDataAccessException;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;

/**
 * Makes separate DynamoDB Local servers behave like the replicas of a DynamoDB global table, for the tables it
 * {@linkplain #follow(String) follows}: what is written in one region appears in the others after a configurable lag.
 *
 * <h2>How</h2>
 * One reader thread per region follows the DynamoDB Stream ({@code NEW_AND_OLD_IMAGES}) of each followed table there:
 * {@code DescribeStream} to find shards (again every half second and whenever a shard closes, so new shards are picked
 * up; a child shard is read only after its parent is drained), {@code GetShardIterator} ({@code TRIM_HORIZON}, or
 * {@code AFTER_SEQUENCE_NUMBER} after an expired iterator), then {@code GetRecords} in a loop, pausing
 * {@link ReplicationSettings#pollInterval()} after a pass that read nothing. Each change made in that region is queued
 * once per other region, due {@link ReplicationLag lag} after it was read; one worker thread per directed region pair
 * applies its queue in order (a change is never applied before an earlier one of the same pair), so a change reaches
 * each region at most once and in order.
 *
 * <h2>Last writer wins</h2>
 * A write's timestamp is its numeric {@link ReplicationSettings#timestampAttribute()}; without it, the time the reader
 * read the write (DynamoDB Local rounds a stream record's {@code ApproximateCreationDateTime} down to the minute, too
 * coarse to order writes), through {@link ReplicationSettings#clockToTimestamp()}, which is then added to the
 * replicated copies. A replicated write is a {@code PutItem} of the whole new image plus
 * {@link ReplicationSettings#originAttribute()} = source region, with the condition
 * {@code attribute_not_exists(ts) OR ts < :ts OR (ts = :ts AND origin < :origin)}: an older change never overwrites a
 * newer item. Equal timestamps go to the region whose id sorts last (an item without an origin attribute counts as
 * written in the region holding it). A change that loses is {@link Outcome#SUPERSEDED}.
 *
 * <h2>Deletes</h2>
 * A delete replicates as a conditional {@code DeleteItem} ({@code ts <= :ts}) whose timestamp is the later of the time
 * it was read and the deleted item's timestamp; a delete wins a tie. Because a deleted item cannot carry a timestamp,
 * each region keeps an in-memory tombstone (the newest version of every key the emulator has seen there, deletes
 * included, for the emulator's lifetime): a replicated write no newer than a tombstone is superseded rather than
 * bringing the item back. Applies into one region are serialized so that the check and the write are not interleaved.
 *
 * <h2>Loop prevention</h2>
 * Replicated writes show up in the destination's stream too and must not be replicated again. Before each replicated
 * write the emulator records the echo it expects in the destination (table, key, kind, origin and timestamp); the
 * destination's reader drops the first record matching a recorded echo and treats every other record as a local write
 * (a failed or superseded write withdraws its echo). So a user's {@code UpdateItem} of a replicated item, which keeps
 * the origin attribute, still replicates; only the emulator's own writes are skipped. The origin attribute is kept on
 * replicated items for users and for tie-breaking. {@link #suppressedEchoCount()} counts the echoes dropped.
 *
 * <h2>Stalls</h2>
 * {@link #stall(String)} holds every change out of a region (reading goes on, so they queue up: see
 * {@link #queuedCount(String)}); {@link #resume(String)} releases them in order, at once if their lag has passed.
 *
 * <h2>Limits</h2>
 * Writes without the timestamp attribute converge only if they are not concurrent: the writing region's own copy has
 * no timestamp, so a replicated write arriving before the reader saw the local one overwrites it. A write that failed
 * at the destination (an I/O error, a deleted table) is logged, counted in {@link #failedCount()} and not retried.
 * Transactions replicate item by item.
 */
public final class ReplicationEmulator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationEmulator.class);
    private static final long DESCRIBE_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final ReplicationSettings settings;
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final Map<String, PairQueue> pairs = new LinkedHashMap<>();
    private final Set<String> tables = ConcurrentHashMap.newKeySet();
    private final List<Consumer<ReplicatedChange>> listeners = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong activity = new AtomicLong();
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong superseded = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong suppressedEchoes = new AtomicLong();
    private volatile ReplicationLag lag;
    private volatile boolean closed;

    private ReplicationEmulator(Collection<DynamoDbLocalRegion> regions, ReplicationSettings settings) {
        this.settings = settings;
        this.lag = settings.lag();
        for (DynamoDbLocalRegion r : regions) {
            if (nodes.containsKey(r.id())) {
                nodes.values().forEach(Node::close);
                throw new IllegalArgumentException("region " + r.id() + " is given twice; each region needs its own id");
            }
            nodes.put(r.id(), new Node(r));
        }
        for (Node from : nodes.values()) {
            for (Node to : nodes.values()) {
                if (from != to) {
                    pairs.put(pairKey(from.id, to.id), new PairQueue(from, to));
                }
            }
        }
    }

    /**
     * Starts replicating between {@code regions}; no table is followed until {@link #follow(String)}.
     *
     * @param regions two or more running regions with distinct ids
     * @param settings the settings
     * @return the running emulator
     * @throws IllegalArgumentException if fewer than two regions are given or two share an id
     */
    public static ReplicationEmulator start(Collection<DynamoDbLocalRegion> regions, ReplicationSettings settings) {
        Objects.requireNonNull(settings, "settings");
        if (regions == null || regions.size() < 2) {
            throw new IllegalArgumentException("replication needs at least two regions, got "
                    + (regions == null ? "none" : regions.size()));
        }
        ReplicationEmulator emulator = new ReplicationEmulator(regions, settings);
        emulator.startThreads();
        return emulator;
    }

    private void startThreads() {
        for (Node n : nodes.values()) {
            Thread t = new Thread(() -> readLoop(n), "latitude-replication-read-" + n.id);
            t.setDaemon(true);
            threads.add(t);
        }
        for (PairQueue q : pairs.values()) {
            Thread t = new Thread(() -> applyLoop(q), "latitude-replication-" + q.from.id + "-to-" + q.to.id);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    /**
     * Starts replicating {@code table}, which must exist in every region with a {@code NEW_AND_OLD_IMAGES} stream
     * ({@link DynamoDbLocalRegions#createGlobalTable} makes such tables). Replication starts at the oldest record of
     * each stream, so writes made before this call replicate too.
     *
     * @param table the table name
     * @throws IllegalStateException if a region lacks the table or its stream, naming which and how to fix it
     */
    public void follow(String table) {
        Objects.requireNonNull(table, "table");
        ensureOpen();
        Map<Node, String> arns = new LinkedHashMap<>();
        for (Node n : nodes.values()) {
            TableDescription d;
            try {
                d = n.ddb.describeTable(b -> b.tableName(table)).table();
            } catch (ResourceNotFoundException e) {
                throw new IllegalStateException("table " + table + " does not exist in region " + n.id
                        + "; create it in every region first, e.g. with DynamoDbLocalRegions.createGlobalTable", e);
            }
            boolean streaming = d.streamSpecification() != null
                    && Boolean.TRUE.equals(d.streamSpecification().streamEnabled())
                    && d.streamSpecification().streamViewType() == StreamViewType.NEW_AND_OLD_IMAGES
                    && d.latestStreamArn() != null;
            if (!streaming) {
                throw new IllegalStateException("table " + table + " in region " + n.id + " has no NEW_AND_OLD_IMAGES "
                        + "stream (stream specification: " + d.streamSpecification() + "); enable one with "
                        + "StreamSpecification(streamEnabled=true, streamViewType=NEW_AND_OLD_IMAGES)");
            }
            arns.put(n, d.latestStreamArn());
        }
        if (!tables.add(table)) {
            return;
        }
        arns.forEach((n, arn) -> n.streams.add(new TableStream(table, arn)));
        LOG.debug("replicating table {} between {}", table, nodes.keySet());
    }

    /**
     * Stops replicating {@code table}: its streams are no longer read, and its changes still queued or expected are
     * dropped. The tables themselves are left as they are.
     *
     * @param table the table name
     */
    public void unfollow(String table) {
        if (!tables.remove(table)) {
            return;
        }
        for (Node n : nodes.values()) {
            n.streams.removeIf(s -> s.table.equals(table));
            n.echoes.keySet().removeIf(e -> e.item.table.equals(table));
        }
        for (PairQueue q : pairs.values()) {
            q.lock.lock();
            try {
                q.deque.removeIf(d -> d.item.table.equals(table) && d != q.inFlight);
                q.changed.signalAll();
            } finally {
                q.lock.unlock();
            }
        }
        activity.incrementAndGet();
    }

    /** Returns the tables being replicated. */
    public Set<String> tables() {
        return Set.copyOf(tables);
    }

    /** Returns the region ids, in the order given. */
    public List<String> regionIds() {
        return List.copyOf(nodes.keySet());
    }

    /**
     * Holds back every change out of {@code region} until {@link #resume(String)}; they queue up meanwhile. Changes
     * into the region still arrive.
     *
     * @param region a region id
     * @throws IllegalArgumentException if the region is unknown
     */
    public void stall(String region) {
        node(region).stalled = true;
        activity.incrementAndGet();
    }

    /**
     * Releases the changes held by {@link #stall(String)}, in order; those whose lag has passed are applied at once.
     *
     * @param region a region id
     * @throws IllegalArgumentException if the region is unknown
     */
    public void resume(String region) {
        Node n = node(region);
        n.stalled = false;
        activity.incrementAndGet();
        for (PairQueue q : pairs.values()) {
            if (q.from == n) {
                q.signal();
            }
        }
    }

    /**
     * Says whether changes out of {@code region} are held back.
     *
     * @param region a region id
     * @return true while stalled
     */
    public boolean isStalled(String region) {
        return node(region).stalled;
    }

    /**
     * Replaces the lag model; it applies to changes read from now on (changes already queued keep their due time).
     *
     * @param lag the new model
     */
    public void lag(ReplicationLag lag) {
        this.lag = Objects.requireNonNull(lag, "lag");
    }

    /** Returns the current lag model. */
    public ReplicationLag lag() {
        return lag;
    }

    /** Returns the settings. */
    public ReplicationSettings settings() {
        return settings;
    }

    /**
     * Registers a listener told of every delivery, on the worker thread that made it (keep it quick; exceptions are
     * logged and ignored).
     *
     * @param listener the listener
     */
    public void addListener(Consumer<ReplicatedChange> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Removes a listener added with {@link #addListener(Consumer)}.
     *
     * @param listener the listener
     */
    public void removeListener(Consumer<ReplicatedChange> listener) {
        listeners.remove(listener);
    }

    /** Returns how many deliveries every destination took, in total. */
    public long appliedCount() {
        return applied.get();
    }

    /**
     * Returns how many deliveries from {@code from} that {@code to} took.
     *
     * @param from the source region id
     * @param to the destination region id
     * @return the count
     */
    public long appliedCount(String from, String to) {
        return pair(from, to).applied.get();
    }

    /** Returns how many deliveries lost to a newer version at their destination (last writer wins). */
    public long supersededCount() {
        return superseded.get();
    }

    /** Returns how many deliveries failed at their destination. */
    public long failedCount() {
        return failed.get();
    }

    /** Returns how many of the emulator's own writes were read back from a stream and not replicated again. */
    public long suppressedEchoCount() {
        return suppressedEchoes.get();
    }

    /**
     * Returns how many changes out of {@code region} wait to be applied, summed over destinations (the one being
     * applied included).
     *
     * @param region a region id
     * @return the count
     */
    public int queuedCount(String region) {
        Node n = node(region);
        int total = 0;
        for (PairQueue q : pairs.values()) {
            if (q.from == n) {
                total += q.size();
            }
        }
        return total;
    }

    /** Returns how many changes wait to be applied, over all regions. */
    public int queuedCount() {
        int total = 0;
        for (PairQueue q : pairs.values()) {
            total += q.size();
        }
        return total;
    }

    /**
     * Waits until replication has caught up: every region's reader has read its streams to the end with nothing new,
     * no change out of a region that is not stalled waits or is being applied, and every replicated write has been
     * read back. Changes held by a stall are left queued.
     *
     * @param timeout the longest wait
     * @throws IllegalStateException if that does not happen in time, saying what is still pending
     * @throws IllegalStateException if the emulator is closed
     */
    public void awaitQuiescent(Duration timeout) {
        ensureOpen();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long before = activity.get();
            if (idle()) {
                Map<Node, Long> passes = new HashMap<>();
                nodes.values().forEach(n -> passes.put(n, n.quietPasses.get()));
                boolean caughtUp = true;
                for (Node n : nodes.values()) {
                    // Two more quiet passes: at least one whole pass began after this point and read nothing.
                    while (n.quietPasses.get() < passes.get(n) + 2) {
                        if (System.nanoTime() > deadline || closed) {
                            caughtUp = false;
                            break;
                        }
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                    }
                }
                if (caughtUp && activity.get() == before && idle()) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("replication did not quiesce within " + timeout.toMillis() + " ms: "
                        + pendingSummary());
            }
            ensureOpen();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    private boolean idle() {
        for (PairQueue q : pairs.values()) {
            if (!q.from.stalled && q.size() > 0) {
                return false;
            }
        }
        for (Node n : nodes.values()) {
            if (!n.echoes.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    private String pendingSummary() {
        StringBuilder sb = new StringBuilder();
        for (PairQueue q : pairs.values()) {
            int size = q.size();
            if (size > 0) {
                sb.append(q.from.id).append("→").append(q.to.id).append(": ").append(size).append(" queued")
                        .append(q.from.stalled ? " (stalled)" : "").append("; ");
            }
        }
        for (Node n : nodes.values()) {
            int echoes = n.echoes.values().stream().mapToInt(Integer::intValue).sum();
            if (echoes > 0) {
                sb.append(n.id).append(": ").append(echoes).append(" replicated writes not yet read back; ");
            }
            String err = n.lastReadError;
            if (err != null) {
                sb.append(n.id).append(" last stream read error: ").append(err).append("; ");
            }
        }
        sb.append("tables ").append(tables).append(", lag ").append(lag);
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------- reading

    private void readLoop(Node n) {
        long pauseNanos = settings.pollInterval().toNanos();
        while (!closed) {
            boolean read = false;
            boolean failedPass = false;
            for (TableStream s : n.streams) {
                if (closed) {
                    return;
                }
                if (!tables.contains(s.table)) {
                    continue; // unfollowed while this pass was under way
                }
                try {
                    read |= poll(n, s);
                } catch (ResourceNotFoundException e) {
                    LOG.warn("table {} or its stream is gone from region {}; no longer reading it ({})", s.table, n.id,
                            e.getMessage());
                    n.streams.remove(s);
                } catch (RuntimeException e) {
                    if (closed) {
                        return;
                    }
                    failedPass = true;
                    String error = e.toString();
                    if (!error.equals(n.lastReadError)) {
                        LOG.warn("reading the stream of table {} in region {} failed; retrying every {} ms", s.table,
                                n.id, settings.pollInterval().toMillis(), e);
                    }
                    n.lastReadError = error;
                }
            }
            if (!read && !failedPass) {
                n.lastReadError = null;
                n.quietPasses.incrementAndGet();
            }
            if (!read) {
                LockSupport.parkNanos(pauseNanos);
            }
        }
    }

    /** Reads what is new in one table's stream; returns whether any record was read. */
    private boolean poll(Node n, TableStream s) {
        long now = System.nanoTime();
        if (s.describeNeeded || now - s.lastDescribeNanos >= DESCRIBE_EVERY_NANOS) {
            describe(n, s);
            s.lastDescribeNanos = now;
            s.describeNeeded = false;
        }
        boolean read = false;
        for (ShardState shard : s.shards.values()) {
            if (shard.finished) {
                continue;
            }
            ShardState parent = shard.parentId == null ? null : s.shards.get(shard.parentId);
            if (parent != null && !parent.finished) {
                continue; // a child's records follow its parent's
            }
            if (shard.iterator == null) {
                shard.iterator = iterator(n, s, shard);
            }
            GetRecordsResponse response;
            try {
                String it = shard.iterator;
                response = n.streams().getRecords(b -> b.shardIterator(it).limit(1000));
            } catch (ExpiredIteratorException e) {
                shard.iterator = null; // a fresh one after the last sequence number read
                continue;
            } catch (TrimmedDataAccessException e) {
                LOG.warn("records of shard {} of table {} in region {} were trimmed before they were read; "
                        + "resuming at the oldest record left", shard.id, s.table, n.id);
                shard.iterator = null;
                shard.lastSequence = null;
                continue;
            }
            for (Record r : response.records()) {
                process(n, s.table, r);
                shard.lastSequence = r.dynamodb().sequenceNumber();
                read = true;
            }
            shard.iterator = response.nextShardIterator();
            if (shard.iterator == null) {
                shard.finished = true;
                s.describeNeeded = true; // look for its children
            }
        }
        return read;
    }

    private static String iterator(Node n, TableStream s, ShardState shard) {
        if (shard.lastSequence == null) {
            return n.streams().getShardIterator(b -> b.streamArn(s.streamArn).shardId(shard.id)
                    .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        }
        return n.streams().getShardIterator(b -> b.streamArn(s.streamArn).shardId(shard.id)
                .shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).sequenceNumber(shard.lastSequence))
                .shardIterator();
    }

    private static void describe(Node n, TableStream s) {
        String start = null;
        do {
            String exclusiveStart = start;
            DescribeStreamResponse response = n.streams().describeStream(b -> b.streamArn(s.streamArn)
                    .exclusiveStartShardId(exclusiveStart));
            for (Shard shard : response.streamDescription().shards()) {
                s.shards.computeIfAbsent(shard.shardId(), id -> new ShardState(id, shard.parentShardId()));
            }
            start = response.streamDescription().lastEvaluatedShardId();
        } while (start != null);
    }

    /** Turns one stream record of region {@code n} into queued deliveries, unless it is an echo of our own write. */
    private void process(Node n, String table, Record r) {
        activity.incrementAndGet();
        StreamRecord sr = r.dynamodb();
        ItemKey item = new ItemKey(table, sr.keys());
        long observedNanos = System.nanoTime();
        long wallMillis = System.currentTimeMillis();
        if (sr.approximateCreationDateTime() != null) {
            wallMillis = Math.max(wallMillis, sr.approximateCreationDateTime().toEpochMilli());
        }
        BigDecimal clock = BigDecimal.valueOf(settings.clockToTimestamp().applyAsLong(wallMillis));
        Delivery change;
        if (r.eventName() == OperationType.REMOVE) {
            if (n.consumeEcho(new Echo(item, Kind.DELETE, null, null))) {
                suppressedEchoes.incrementAndGet();
                return;
            }
            BigDecimal ts = clock;
            BigDecimal old = sr.hasOldImage() ? timestampOf(sr.oldImage()) : null;
            if (old != null && old.compareTo(ts) > 0) {
                ts = old;
            }
            n.versions.merge(item, new Version(ts, n.id, true), Version::newer);
            change = new Delivery(item, Kind.DELETE, null, ts, n.id, observedNanos);
        } else {
            Map<String, AttributeValue> image = sr.newImage();
            BigDecimal own = timestampOf(image);
            AttributeValue origin = image.get(settings.originAttribute());
            if (origin != null && origin.s() != null && own != null
                    && n.consumeEcho(new Echo(item, Kind.PUT, origin.s(), normalized(own)))) {
                suppressedEchoes.incrementAndGet();
                return;
            }
            BigDecimal ts = own != null ? own : clock;
            Map<String, AttributeValue> replica = new HashMap<>(image);
            replica.put(settings.originAttribute(), AttributeValue.fromS(n.id));
            if (own == null) {
                replica.put(settings.timestampAttribute(), AttributeValue.fromN(ts.toPlainString()));
            }
            n.versions.merge(item, new Version(ts, n.id, false), Version::newer);
            change = new Delivery(item, Kind.PUT, Map.copyOf(replica), ts, n.id, observedNanos);
        }
        // Every lag first, so that a lag model that throws leaves no destination with a copy (the record is read again).
        ReplicationLag model = lag;
        Map<PairQueue, Duration> lags = new LinkedHashMap<>();
        for (PairQueue q : pairs.values()) {
            if (q.from == n) {
                lags.put(q, q.lagOf(model));
            }
        }
        lags.forEach((q, l) -> q.enqueue(change, l));
    }

    private BigDecimal timestampOf(Map<String, AttributeValue> image) {
        AttributeValue v = image.get(settings.timestampAttribute());
        if (v == null || v.n() == null) {
            return null;
        }
        try {
            return new BigDecimal(v.n());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String normalized(BigDecimal ts) {
        return ts.stripTrailingZeros().toPlainString();
    }

    // ---------------------------------------------------------------------------------------------- applying

    private void applyLoop(PairQueue q) {
        while (!closed) {
            Delivery next;
            q.lock.lock();
            try {
                next = q.deque.peekFirst();
                if (next == null || q.from.stalled) {
                    q.changed.awaitNanos(IDLE_WAIT_NANOS);
                    continue;
                }
                long wait = next.dueNanos - System.nanoTime();
                if (wait > 0) {
                    q.changed.awaitNanos(wait);
                    continue;
                }
                q.inFlight = next;
            } catch (InterruptedException e) {
                return;
            } finally {
                q.lock.unlock();
            }
            ReplicatedChange result;
            try {
                result = apply(q, next);
            } catch (RuntimeException e) {
                LOG.warn("replicating {} from {} to {} failed; not retried", next.item, next.origin, q.to.id, e);
                failed.incrementAndGet();
                result = new ReplicatedChange(next.item.table, next.item.key, next.kind, next.origin, q.to.id,
                        next.timestamp, Outcome.FAILED, Duration.ofNanos(System.nanoTime() - next.observedNanos));
            }
            q.lock.lock();
            try {
                q.deque.remove(next);
                q.inFlight = null;
            } finally {
                q.lock.unlock();
            }
            activity.incrementAndGet();
            if (result != null) {
                for (Consumer<ReplicatedChange> l : listeners) {
                    try {
                        l.accept(result);
                    } catch (RuntimeException e) {
                        LOG.warn("a replication listener failed on {}", result, e);
                    }
                }
            }
        }
    }

    private ReplicatedChange apply(PairQueue q, Delivery d) {
        Node to = q.to;
        Outcome outcome;
        to.applyLock.lock();
        try {
            if (closed) {
                return null;
            }
            outcome = d.kind == Kind.PUT ? applyPut(to, d) : applyDelete(to, d);
        } finally {
            to.applyLock.unlock();
        }
        switch (outcome) {
            case APPLIED -> {
                q.applied.incrementAndGet();
                applied.incrementAndGet();
            }
            case SUPERSEDED -> superseded.incrementAndGet();
            default -> failed.incrementAndGet();
        }
        return new ReplicatedChange(d.item.table, d.item.key, d.kind, d.origin, to.id, d.timestamp, outcome,
                Duration.ofNanos(System.nanoTime() - d.observedNanos));
    }

    private Outcome applyPut(Node to, Delivery d) {
        Version known = to.versions.get(d.item);
        Version incoming = new Version(d.timestamp, d.origin, false);
        if (known != null && Version.newer(known, incoming) == known) {
            return Outcome.SUPERSEDED;
        }
        String condition = "attribute_not_exists(#ts) OR #ts < :ts OR (#ts = :ts AND #o < :o)";
        if (to.id.compareTo(d.origin) < 0) {
            // An item without an origin attribute was written in this region, whose id sorts before the origin's.
            condition += " OR (#ts = :ts AND attribute_not_exists(#o))";
        }
        Echo echo = new Echo(d.item, Kind.PUT, d.origin, normalized(d.timestamp));
        to.expectEcho(echo);
        String finalCondition = condition;
        try {
            to.ddb.putItem(b -> b.tableName(d.item.table).item(d.image)
                    .conditionExpression(finalCondition)
                    .expressionAttributeNames(Map.of("#ts", settings.timestampAttribute(),
                            "#o", settings.originAttribute()))
                    .expressionAttributeValues(Map.of(":ts", AttributeValue.fromN(d.timestamp.toPlainString()),
                            ":o", AttributeValue.fromS(d.origin))));
            to.versions.merge(d.item, incoming, Version::newer);
            return Outcome.APPLIED;
        } catch (ConditionalCheckFailedException e) {
            to.withdrawEcho(echo);
            return Outcome.SUPERSEDED;
        } catch (SdkException e) {
            to.withdrawEcho(echo);
            if (!closed) {
                LOG.warn("replicating a write of {} from {} to {} failed; not retried", d.item, d.origin, to.id, e);
            }
            return Outcome.FAILED;
        }
    }

    private Outcome applyDelete(Node to, Delivery d) {
        to.versions.merge(d.item, new Version(d.timestamp, d.origin, true), Version::newer);
        Map<String, String> names = new HashMap<>();
        names.put("#ts", settings.timestampAttribute());
        StringBuilder exists = new StringBuilder();
        int i = 0;
        for (String keyName : d.item.key.keySet()) {
            names.put("#k" + i, keyName);
            exists.append(i == 0 ? "" : " AND ").append("attribute_exists(#k").append(i).append(')');
            i++;
        }
        String condition = exists + " AND (attribute_not_exists(#ts) OR #ts <= :ts)";
        Echo echo = new Echo(d.item, Kind.DELETE, null, null);
        to.expectEcho(echo);
        try {
            to.ddb.deleteItem(b -> b.tableName(d.item.table).key(d.item.key)
                    .conditionExpression(condition)
                    .expressionAttributeNames(names)
                    .expressionAttributeValues(Map.of(":ts", AttributeValue.fromN(d.timestamp.toPlainString()))));
            return Outcome.APPLIED;
        } catch (ConditionalCheckFailedException e) {
            to.withdrawEcho(echo); // already gone, or newer than the delete: nothing was removed
            return Outcome.SUPERSEDED;
        } catch (SdkException e) {
            to.withdrawEcho(echo);
            if (!closed) {
                LOG.warn("replicating a delete of {} from {} to {} failed; not retried", d.item, d.origin, to.id, e);
            }
            return Outcome.FAILED;
        }
    }

    // ---------------------------------------------------------------------------------------------- lifecycle

    private Node node(String region) {
        Node n = nodes.get(Objects.requireNonNull(region, "region"));
        if (n == null) {
            throw new IllegalArgumentException("unknown region " + region + "; the emulator replicates "
                    + nodes.keySet());
        }
        return n;
    }

    private PairQueue pair(String from, String to) {
        node(from);
        node(to);
        PairQueue q = pairs.get(pairKey(from, to));
        if (q == null) {
            throw new IllegalArgumentException("no replication from a region to itself (" + from + ")");
        }
        return q;
    }

    private static String pairKey(String from, String to) {
        return from + "\u0000" + to;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the replication emulator is closed");
        }
    }

    /**
     * Stops the reader and worker threads (dropping changes not yet applied) and closes the emulator's clients.
     * Idempotent. The regions are left running.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        int dropped = queuedCount();
        for (PairQueue q : pairs.values()) {
            q.signal();
        }
        threads.forEach(Thread::interrupt);
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (t.isAlive()) {
                LOG.warn("replication thread {} did not stop within 5 s", t.getName());
            }
        }
        nodes.values().forEach(Node::close);
        if (dropped > 0) {
            LOG.debug("replication closed with {} changes not applied", dropped);
        }
    }

    @Override
    public String toString() {
        return "ReplicationEmulator[regions " + nodes.keySet() + ", tables " + tables + ", lag " + lag + "]";
    }

    // ---------------------------------------------------------------------------------------------- state

    /** One region: its clients, reader state, expected echoes and known versions. */
    private final class Node {
        final String id;
        final DynamoDbClient ddb;
        private final DynamoDbStreamsClient streamsClient;
        final List<TableStream> streams = new CopyOnWriteArrayList<>();
        final Map<Echo, Integer> echoes = new ConcurrentHashMap<>();
        final Map<ItemKey, Version> versions = new ConcurrentHashMap<>();
        final ReentrantLock applyLock = new ReentrantLock();
        final AtomicLong quietPasses = new AtomicLong();
        volatile boolean stalled;
        volatile String lastReadError;

        Node(DynamoDbLocalRegion region) {
            this.id = region.id();
            Duration timeout = Duration.ofSeconds(10);
            this.ddb = region.newClient(b -> b.overrideConfiguration(c -> c.apiCallTimeout(timeout)));
            this.streamsClient = region.newStreamsClient(b -> b.overrideConfiguration(c -> c.apiCallTimeout(timeout)));
        }

        DynamoDbStreamsClient streams() {
            return streamsClient;
        }

        void expectEcho(Echo e) {
            echoes.merge(e, 1, Integer::sum);
        }

        void withdrawEcho(Echo e) {
            echoes.computeIfPresent(e, (k, v) -> v <= 1 ? null : v - 1);
        }

        boolean consumeEcho(Echo e) {
            boolean[] found = {false};
            echoes.computeIfPresent(e, (k, v) -> {
                found[0] = true;
                return v <= 1 ? null : v - 1;
            });
            return found[0];
        }

        void close() {
            try {
                ddb.close();
            } finally {
                streamsClient.close();
            }
        }
    }

    /** The changes waiting to go from one region to another, in order. */
    private static final class PairQueue {
        final Node from;
        final Node to;
        final ReentrantLock lock = new ReentrantLock();
        final Condition changed = lock.newCondition();
        final ArrayDeque<Delivery> deque = new ArrayDeque<>();
        final AtomicLong applied = new AtomicLong();
        Delivery inFlight;
        long lastDueNanos = Long.MIN_VALUE;

        PairQueue(Node from, Node to) {
            this.from = from;
            this.to = to;
        }

        Duration lagOf(ReplicationLag lag) {
            Duration l = lag.lag(from.id, to.id);
            if (l == null || l.isNegative()) {
                throw new IllegalStateException("replication lag " + lag + " returned " + l + " for " + from.id
                        + " → " + to.id + "; a lag must be zero or more");
            }
            return l;
        }

        void enqueue(Delivery change, Duration l) {
            lock.lock();
            try {
                long due = change.observedNanos + l.toNanos();
                if (lastDueNanos != Long.MIN_VALUE && due - lastDueNanos < 0) {
                    due = lastDueNanos; // never before an earlier change of this pair
                }
                lastDueNanos = due;
                deque.addLast(change.due(due));
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        int size() {
            lock.lock();
            try {
                return deque.size();
            } finally {
                lock.unlock();
            }
        }

        void signal() {
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** One followed table's stream in one region. */
    private static final class TableStream {
        final String table;
        final String streamArn;
        final Map<String, ShardState> shards = new LinkedHashMap<>();
        long lastDescribeNanos;
        boolean describeNeeded = true;

        TableStream(String table, String streamArn) {
            this.table = table;
            this.streamArn = streamArn;
        }
    }

    /** Where the reader is in one shard. */
    private static final class ShardState {
        final String id;
        final String parentId;
        String iterator;
        String lastSequence;
        boolean finished;

        ShardState(String id, String parentId) {
            this.id = id;
            this.parentId = parentId;
        }
    }

    /** A table and an item key. */
    private record ItemKey(String table, Map<String, AttributeValue> key) {
        ItemKey {
            key = Map.copyOf(key);
        }
    }

    /** A replicated write the destination's stream is expected to show once. */
    private record Echo(ItemKey item, Kind kind, String origin, String timestamp) {
    }

    /** The newest version of a key seen in a region: what last-writer-wins compares against, tombstones included. */
    private record Version(BigDecimal timestamp, String origin, boolean deleted) {
        /** Returns whichever of the two wins: higher timestamp; on a tie a delete, then the origin sorting last. */
        static Version newer(Version a, Version b) {
            int c = a.timestamp.compareTo(b.timestamp);
            if (c != 0) {
                return c > 0 ? a : b;
            }
            if (a.deleted != b.deleted) {
                return a.deleted ? a : b;
            }
            return a.origin.compareTo(b.origin) >= 0 ? a : b;
        }
    }

    /** One change on its way to one destination. */
    private record Delivery(ItemKey item, Kind kind, Map<String, AttributeValue> image, BigDecimal timestamp,
                            String origin, long observedNanos, long dueNanos) {
        Delivery(ItemKey item, Kind kind, Map<String, AttributeValue> image, BigDecimal timestamp, String origin,
                 long observedNanos) {
            this(item, kind, image, timestamp, origin, observedNanos, observedNanos);
        }

        Delivery due(long dueNanos) {
            return new Delivery(item, kind, image, timestamp, origin, observedNanos, dueNanos);
        }
    }
}
