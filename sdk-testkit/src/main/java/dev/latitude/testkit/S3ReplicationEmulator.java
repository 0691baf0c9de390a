package dev.latitude.testkit;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ReplicationStatus;

/**
 * Makes the buckets of an {@link S3Regions} lab replicate like S3 Cross-Region Replication, along the
 * {@linkplain #replicate(Rule) rules} given: what is written to a source bucket appears in its destination buckets
 * after a configurable {@link ReplicationLag lag}. Obtained from {@link S3Regions#replication()}; closed with the lab.
 *
 * <pre>{@code
 * try (S3Regions lab = S3Regions.builder().regions("us-east-1", "eu-west-1")
 *         .replicationLag(ReplicationLag.fixed(Duration.ofSeconds(1))).build()) {
 *     lab.region("us-east-1").createBucket("data-us");
 *     lab.region("eu-west-1").createBucket("data-eu");
 *     lab.replication().bidirectional(Map.of("us-east-1", "data-us", "eu-west-1", "data-eu"));
 *     lab.region("us-east-1").client().putObject(b -> b.bucket("data-us").key("k"), RequestBody.fromString("v"));
 *     // about a second later, eu-west-1's data-eu has k
 *     lab.replication().awaitQuiescent(Duration.ofSeconds(10));
 * }
 * }</pre>
 *
 * <h2>What replicates</h2>
 * Every write a source bucket's server takes after the rule was added (a put, a copy into it, a completed multipart
 * upload, as a whole) and every delete without a version id (in a versioned bucket: the delete marker it adds), unless
 * the rule leaves delete markers out. As in S3: objects already there when a rule is added are not copied; deleting
 * one version for good is not replicated; replicas are not replicated further (so two rules in opposite directions make
 * a bidirectional pair without loops); a replica keeps its source's version id, metadata and content type.
 *
 * <p>The server reports each write to the emulator as it takes it. In a versioned bucket the emulator reads that very
 * version when it delivers the change, so every version arrives, in order, even after later overwrites; in a bucket
 * without versioning it copies the object at once (held in memory until delivered), so a later overwrite cannot reach
 * the destination early. Changes from one region to another are delivered in order (a jittered lag delays but never
 * reorders), one worker thread per directed region pair, going around the regions' fault fronts.
 *
 * <h2>Last writer wins</h2>
 * Each change gets a sequence number when its server takes it (one sequence for the whole lab, so it is the real
 * order of writes). A delivery to an object that has since been written, deleted or replicated with a later number in
 * the destination is {@link ReplicatedChange.Outcome#SUPERSEDED}: an older change never overwrites a newer one, so
 * bidirectional pairs converge. (S3 would still add a superseded version as a noncurrent one; the emulator skips it.)
 *
 * <h2>Replication status</h2>
 * {@link #status(String, String, String, String)} reports what S3 returns as {@code x-amz-replication-status}: a source
 * version is {@code PENDING} until every destination took it, then {@code COMPLETED}, or {@code FAILED} if one
 * refused it; a replica is {@code REPLICA}. The lab's clients get it as that header on {@code GetObject} and
 * {@code HeadObject} responses (S3Proxy does not send it; the clients' builders add it from the emulator).
 *
 * <h2>Faults</h2>
 * {@link #stall(String)} holds every change out of a region (they queue up: {@link #queuedCount(String)});
 * {@link #resume(String)} releases them in order. {@link #failDeliveriesTo(String)} makes every delivery to a region
 * fail ({@code FAILED}, not retried, as S3 leaves failed replication to batch jobs) until
 * {@link #restoreDeliveriesTo(String)}.
 */
public final class S3ReplicationEmulator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(S3ReplicationEmulator.class);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    /**
     * One replication rule: changes to {@code sourceBucket} in {@code sourceRegion} go to {@code destinationBucket} in
     * {@code destinationRegion}.
     *
     * @param sourceRegion the source region name
     * @param sourceBucket the source bucket
     * @param destinationRegion the destination region name, another region
     * @param destinationBucket the destination bucket
     * @param replicateDeleteMarkers whether deletes (delete markers) replicate too
     */
    public record Rule(String sourceRegion, String sourceBucket, String destinationRegion, String destinationBucket,
            boolean replicateDeleteMarkers) {

        /**
         * Checks the rule.
         *
         * @throws IllegalArgumentException if source and destination region are the same
         */
        public Rule {
            Objects.requireNonNull(sourceRegion, "sourceRegion");
            Objects.requireNonNull(sourceBucket, "sourceBucket");
            Objects.requireNonNull(destinationRegion, "destinationRegion");
            Objects.requireNonNull(destinationBucket, "destinationBucket");
            if (sourceRegion.equals(destinationRegion)) {
                throw new IllegalArgumentException("a replication rule goes from one region to another, got "
                        + sourceRegion + " → " + destinationRegion);
            }
        }
    }

    private final Map<String, S3BlobStoreTap> taps;
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private volatile Set<String> followed = Set.of();
    private volatile ReplicationLag lag;
    private final AtomicLong sequence = new AtomicLong();
    /** The sequence number of the newest change of each object (region, bucket, key) its region holds. */
    private final Map<String, Long> newest = new ConcurrentHashMap<>();
    private final Map<String, Status> statuses = new ConcurrentHashMap<>();
    private final Map<String, Pair> pairs = new ConcurrentHashMap<>();
    private final Set<String> stalled = ConcurrentHashMap.newKeySet();
    private final Set<String> failing = ConcurrentHashMap.newKeySet();
    private final List<Consumer<S3ReplicatedChange>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong superseded = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile boolean closed;

    S3ReplicationEmulator(Map<String, S3BlobStoreTap> taps, ReplicationLag lag) {
        this.taps = Collections.unmodifiableMap(new LinkedHashMap<>(taps));
        this.lag = Objects.requireNonNull(lag, "lag");
        S3BlobStoreTap.Listener listener = new S3BlobStoreTap.Listener() {
            @Override
            public boolean follows(String region, String bucket) {
                return !closed && followed.contains(key(region, bucket));
            }

            @Override
            public void written(String region, String bucket, String key, boolean delete, String versionId) {
                onWrite(region, bucket, key, delete, versionId);
            }
        };
        taps.values().forEach(t -> t.listener(listener));
    }

    /**
     * Adds a rule; writes taken from now on follow it.
     *
     * @param rule the rule, between two regions of the lab
     * @return this emulator
     * @throws IllegalArgumentException if a region is not in the lab, or the same rule was added before
     * @throws IllegalStateException if the emulator is closed
     */
    public synchronized S3ReplicationEmulator replicate(Rule rule) {
        Objects.requireNonNull(rule, "rule");
        if (closed) {
            throw new IllegalStateException("the S3 replication emulator is closed");
        }
        for (String region : List.of(rule.sourceRegion(), rule.destinationRegion())) {
            if (!taps.containsKey(region)) {
                throw new IllegalArgumentException("no S3 region " + region + " in the lab; regions: " + taps.keySet());
            }
        }
        if (rules.contains(rule)) {
            throw new IllegalArgumentException("rule " + rule + " was already added");
        }
        pairs.computeIfAbsent(key(rule.sourceRegion(), rule.destinationRegion()),
                k -> new Pair(rule.sourceRegion(), rule.destinationRegion()));
        rules.add(rule);
        Set<String> now = ConcurrentHashMap.newKeySet();
        for (Rule r : rules) {
            now.add(key(r.sourceRegion(), r.sourceBucket()));
            now.add(key(r.destinationRegion(), r.destinationBucket()));
        }
        followed = Set.copyOf(now);
        return this;
    }

    /**
     * Adds a rule that replicates delete markers too.
     *
     * @param sourceRegion the source region name
     * @param sourceBucket the source bucket
     * @param destinationRegion the destination region name
     * @param destinationBucket the destination bucket
     * @return this emulator
     */
    public S3ReplicationEmulator replicate(String sourceRegion, String sourceBucket, String destinationRegion,
            String destinationBucket) {
        return replicate(new Rule(sourceRegion, sourceBucket, destinationRegion, destinationBucket, true));
    }

    /**
     * Replicates one region's bucket to every other region's bucket (delete markers too): a single writer.
     *
     * @param sourceRegion the region written to
     * @param bucketPerRegion each region's bucket, the source's included
     * @return this emulator
     * @throws IllegalArgumentException if {@code sourceRegion} has no bucket in the map
     */
    public S3ReplicationEmulator oneWay(String sourceRegion, Map<String, String> bucketPerRegion) {
        String source = bucketPerRegion.get(sourceRegion);
        if (source == null) {
            throw new IllegalArgumentException("the source region " + sourceRegion + " has no bucket in "
                    + bucketPerRegion);
        }
        bucketPerRegion.forEach((region, bucket) -> {
            if (!region.equals(sourceRegion)) {
                replicate(sourceRegion, source, region, bucket);
            }
        });
        return this;
    }

    /**
     * Replicates every region's bucket to every other's (delete markers too): writers everywhere, last writer wins.
     *
     * @param bucketPerRegion each region's bucket
     * @return this emulator
     */
    public S3ReplicationEmulator bidirectional(Map<String, String> bucketPerRegion) {
        bucketPerRegion.keySet().forEach(source -> oneWay(source, bucketPerRegion));
        return this;
    }

    /** Returns the rules, in the order added. */
    public List<Rule> rules() {
        return List.copyOf(rules);
    }

    /**
     * Sets the lag of changes taken from now on.
     *
     * @param lag the lag model
     */
    public void lag(ReplicationLag lag) {
        this.lag = Objects.requireNonNull(lag, "lag");
    }

    /** Returns the current lag model. */
    public ReplicationLag lag() {
        return lag;
    }

    /**
     * Holds every change out of {@code region} until {@link #resume(String)}; changes go on queueing.
     *
     * @param region a region name
     */
    public void stall(String region) {
        stalled.add(checkedRegion(region));
    }

    /**
     * Releases the changes held by {@link #stall(String)}, in order; those whose lag has passed go at once.
     *
     * @param region a region name
     */
    public void resume(String region) {
        stalled.remove(checkedRegion(region));
        pairs.values().forEach(Pair::wake);
    }

    /**
     * Returns whether changes out of {@code region} are held.
     *
     * @param region a region name
     * @return whether stalled
     */
    public boolean isStalled(String region) {
        return stalled.contains(region);
    }

    /**
     * Makes every delivery to {@code region} fail from now on: the change is {@code FAILED} and not retried.
     *
     * @param region a region name
     */
    public void failDeliveriesTo(String region) {
        failing.add(checkedRegion(region));
    }

    /**
     * Ends {@link #failDeliveriesTo(String)}.
     *
     * @param region a region name
     */
    public void restoreDeliveriesTo(String region) {
        failing.remove(checkedRegion(region));
    }

    /**
     * Returns the replication status S3 would report for an object version: {@code PENDING}, {@code COMPLETED} or
     * {@code FAILED} for a replicated source version, {@code REPLICA} for a replica, none for an object no rule
     * concerns (or that was overwritten locally since).
     *
     * @param region a region name
     * @param bucket the bucket
     * @param key the object key
     * @param versionId the version id, or null for the current object of a bucket without versioning
     * @return the status, if any
     */
    public Optional<ReplicationStatus> status(String region, String bucket, String key, String versionId) {
        Status s = statuses.get(statusKey(region, bucket, key, versionId));
        return s == null ? Optional.empty() : Optional.of(s.status);
    }

    /**
     * Adds a listener told of every delivery, on the delivering thread; it must be quick and not throw (a throw is
     * logged and ignored).
     *
     * @param listener the listener
     */
    public void addListener(Consumer<S3ReplicatedChange> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Removes a listener added before.
     *
     * @param listener the listener
     */
    public void removeListener(Consumer<S3ReplicatedChange> listener) {
        listeners.remove(listener);
    }

    /** Returns how many deliveries their destination took. */
    public long appliedCount() {
        return applied.get();
    }

    /** Returns how many deliveries lost to a newer change at their destination. */
    public long supersededCount() {
        return superseded.get();
    }

    /** Returns how many deliveries failed. */
    public long failedCount() {
        return failed.get();
    }

    /**
     * Returns how many changes out of {@code region} wait to be delivered, or are being delivered (one per
     * destination).
     *
     * @param region a region name
     * @return the count
     */
    public int queuedCount(String region) {
        return pairs.values().stream().filter(p -> p.from.equals(region)).mapToInt(Pair::pending).sum();
    }

    /** Returns how many changes wait to be delivered, over all regions. */
    public int queuedCount() {
        return pairs.values().stream().mapToInt(Pair::pending).sum();
    }

    /**
     * Waits until no change waits to be delivered.
     *
     * @param timeout the longest wait
     * @throws IllegalStateException if changes still wait after {@code timeout} (stalled regions are named)
     */
    public void awaitQuiescent(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (queuedCount() > 0) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("S3 replication still has " + queuedCount() + " changes to deliver after "
                        + timeout.toMillis() + " ms; stalled regions: " + stalled);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    /** Stops the delivery threads; changes still queued are dropped. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        pairs.values().forEach(Pair::wake);
        long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
        for (Pair p : pairs.values()) {
            try {
                p.worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (p.worker.isAlive()) {
                p.worker.interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "S3ReplicationEmulator[rules=" + rules.size() + ", lag=" + lag + ", queued=" + queuedCount()
                + ", applied=" + applied + ", superseded=" + superseded + ", failed=" + failed + "]";
    }

    // ---- taking changes ------------------------------------------------------------------------------------------

    /** Called by a region's store, under the key's lock, for each write it took in a followed bucket. */
    private void onWrite(String region, String bucket, String key, boolean delete, String versionId) {
        long seq = sequence.incrementAndGet();
        newest.put(objectKey(region, bucket, key), seq);
        if (versionId == null) {
            // The object that had a status (a replica, or an earlier source write) is gone.
            statuses.remove(statusKey(region, bucket, key, null));
        }
        List<Rule> out = rules.stream()
                .filter(r -> r.sourceRegion().equals(region) && r.sourceBucket().equals(bucket)
                        && (!delete || r.replicateDeleteMarkers()))
                .toList();
        if (out.isEmpty()) {
            return;
        }
        byte[] body = null;
        GetObjectResponse metadata = null;
        if (!delete && versionId == null) {
            // No version to read later: copy the object now, while the key's lock keeps it as this write left it.
            ResponseInputStream<GetObjectResponse> in = taps.get(region).read(bucket, key, null);
            if (in == null) {
                return;
            }
            metadata = in.response();
            body = S3BlobStoreTap.readAll(in);
        }
        Change change = new Change(region, bucket, key, delete, versionId, body, metadata, seq, System.nanoTime(),
                out.size());
        if (!delete) {
            statuses.put(statusKey(region, bucket, key, versionId), new Status(ReplicationStatus.PENDING, seq));
        }
        ReplicationLag model = lag;
        for (Rule r : out) {
            pairs.get(key(region, r.destinationRegion())).add(change, r, model.lag(region, r.destinationRegion()));
        }
    }

    // ---- delivering changes --------------------------------------------------------------------------------------

    private void deliver(Delivery d) {
        Change c = d.change;
        Rule rule = d.rule;
        ReplicatedChange.Outcome outcome;
        try {
            outcome = failing.contains(rule.destinationRegion()) ? ReplicatedChange.Outcome.FAILED : apply(c, rule);
        } catch (RuntimeException e) {
            LOG.warn("replicating {}/{} from {} to {}/{} failed", c.bucket, c.key, c.region, rule.destinationRegion(),
                    rule.destinationBucket(), e);
            outcome = ReplicatedChange.Outcome.FAILED;
        }
        switch (outcome) {
            case APPLIED -> applied.incrementAndGet();
            case SUPERSEDED -> superseded.incrementAndGet();
            case FAILED -> {
                failed.incrementAndGet();
                c.failed = true;
            }
        }
        if (c.remaining.decrementAndGet() == 0 && !c.delete) {
            ReplicationStatus done = c.failed ? ReplicationStatus.FAILED : ReplicationStatus.COMPLETED;
            statuses.computeIfPresent(statusKey(c.region, c.bucket, c.key, c.versionId),
                    (k, s) -> s.sequence == c.sequence ? new Status(done, c.sequence) : s);
        }
        S3ReplicatedChange event = new S3ReplicatedChange(c.region, c.bucket, rule.destinationRegion(),
                rule.destinationBucket(), c.key, c.versionId,
                c.delete ? ReplicatedChange.Kind.DELETE : ReplicatedChange.Kind.PUT, outcome,
                Duration.ofNanos(System.nanoTime() - c.takenNanos));
        for (Consumer<S3ReplicatedChange> l : listeners) {
            try {
                l.accept(event);
            } catch (RuntimeException e) {
                LOG.warn("an S3 replication listener threw; ignored", e);
            }
        }
    }

    private ReplicatedChange.Outcome apply(Change c, Rule rule) {
        S3BlobStoreTap destination = taps.get(rule.destinationRegion());
        String bucket = rule.destinationBucket();
        ResponseInputStream<GetObjectResponse> versioned = null;
        if (!c.delete && c.versionId != null) {
            versioned = taps.get(c.region).read(c.bucket, c.key, c.versionId);
            if (versioned == null) {
                LOG.warn("version {} of {}/{} in {} is gone before it replicated to {}", c.versionId, c.bucket, c.key,
                        c.region, rule.destinationRegion());
                return ReplicatedChange.Outcome.FAILED;
            }
        }
        try (ResponseInputStream<GetObjectResponse> source = versioned) {
            String objectKey = objectKey(rule.destinationRegion(), bucket, c.key);
            synchronized (destination.lock(bucket, c.key)) {
                Long there = newest.get(objectKey);
                if (there != null && there >= c.sequence) {
                    return ReplicatedChange.Outcome.SUPERSEDED;
                }
                if (c.delete) {
                    destination.applyDelete(bucket, c.key, c.versionId);
                    statuses.remove(statusKey(rule.destinationRegion(), bucket, c.key, null));
                } else if (source != null) {
                    destination.applyWrite(bucket, c.key, source.response(), source, c.versionId);
                } else {
                    destination.applyWrite(bucket, c.key, c.metadata, new ByteArrayInputStream(c.body), null);
                }
                newest.put(objectKey, c.sequence);
                if (!c.delete) {
                    statuses.put(statusKey(rule.destinationRegion(), bucket, c.key, c.versionId),
                            new Status(ReplicationStatus.REPLICA, c.sequence));
                }
                return ReplicatedChange.Outcome.APPLIED;
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String checkedRegion(String region) {
        if (!taps.containsKey(region)) {
            throw new IllegalArgumentException("no S3 region " + region + " in the lab; regions: " + taps.keySet());
        }
        return region;
    }

    private static String key(String a, String b) {
        return a + '\u0000' + b;
    }

    private static String objectKey(String region, String bucket, String key) {
        return region + '\u0000' + bucket + '\u0000' + key;
    }

    private static String statusKey(String region, String bucket, String key, String versionId) {
        return objectKey(region, bucket, key) + '\u0000' + (versionId == null ? "" : versionId);
    }

    /** A status and the change it belongs to, so a late delivery does not relabel a newer write. */
    private record Status(ReplicationStatus status, long sequence) {
    }

    /** One change taken by a source bucket, shared by its deliveries. */
    private static final class Change {
        final String region;
        final String bucket;
        final String key;
        final boolean delete;
        final String versionId;
        final byte[] body;
        final GetObjectResponse metadata;
        final long sequence;
        final long takenNanos;
        final AtomicInteger remaining;
        volatile boolean failed;

        Change(String region, String bucket, String key, boolean delete, String versionId, byte[] body,
                GetObjectResponse metadata, long sequence, long takenNanos, int destinations) {
            this.region = region;
            this.bucket = bucket;
            this.key = key;
            this.delete = delete;
            this.versionId = versionId;
            this.body = body;
            this.metadata = metadata;
            this.sequence = sequence;
            this.takenNanos = takenNanos;
            this.remaining = new AtomicInteger(destinations);
        }
    }

    /** One change on its way along one rule, due at {@code dueNanos} ({@link System#nanoTime()}). */
    private record Delivery(Change change, Rule rule, long dueNanos) {
    }

    /** The deliveries from one region to another, in order, and the thread that makes them. */
    private final class Pair {
        final String from;
        final String to;
        final ReentrantLock lock = new ReentrantLock();
        final Condition changed = lock.newCondition();
        final ArrayDeque<Delivery> queue = new ArrayDeque<>();
        final AtomicInteger pending = new AtomicInteger();
        final Thread worker;
        long lastDue;

        Pair(String from, String to) {
            this.from = from;
            this.to = to;
            this.worker = new Thread(this::run, "s3-replication-" + from + "-to-" + to);
            worker.setDaemon(true);
            worker.start();
        }

        void add(Change change, Rule rule, Duration lag) {
            lock.lock();
            try {
                // Never before an earlier change of this pair: a longer lag drawn earlier holds later changes back.
                long due = Math.max(System.nanoTime() + lag.toNanos(), lastDue);
                lastDue = due;
                queue.add(new Delivery(change, rule, due));
                pending.incrementAndGet();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        int pending() {
            return pending.get();
        }

        void wake() {
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        private void run() {
            while (true) {
                Delivery next;
                lock.lock();
                try {
                    while (true) {
                        if (closed) {
                            return;
                        }
                        if (queue.isEmpty() || stalled.contains(from)) {
                            changed.await();
                            continue;
                        }
                        long wait = queue.peek().dueNanos() - System.nanoTime();
                        if (wait > 0) {
                            changed.awaitNanos(wait);
                            continue;
                        }
                        next = queue.poll();
                        break;
                    }
                } catch (InterruptedException e) {
                    return;
                } finally {
                    lock.unlock();
                }
                try {
                    deliver(next);
                } finally {
                    pending.decrementAndGet();
                }
            }
        }
    }
}
