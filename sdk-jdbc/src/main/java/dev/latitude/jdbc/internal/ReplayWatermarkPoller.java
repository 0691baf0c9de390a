package dev.latitude.jdbc.internal;

import dev.latitude.LatitudeConfigException;
import dev.latitude.jdbc.WriterIdentity;
import dev.latitude.spi.ReplicationWatermarks;
import dev.latitude.spi.Scheduler;
import dev.latitude.spi.Ticker;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Knows how far each region's PostgreSQL node has replayed the writer's WAL, from a background poll of every region
 * ({@link NodeInspector}, one round trip each), so that the planner can tell without a round trip on the hot path
 * whether a replica has a session's writes ({@link ReplicationWatermarks}), and a read can wait briefly for a replica
 * to catch up ({@link #awaitReplay}).
 *
 * <p>Each region is polled every {@link Builder#interval(Duration) interval} (100 ms by default), and every
 * {@link Builder#waitInterval(Duration) wait interval} (10 ms) while a caller waits for that region. At most one poll
 * per region runs at a time, on the poller's executor; the timer is a {@link Scheduler} given to {@link #start}, such as
 * the routing engine's. A region that cannot be polled keeps its last known position: replay positions only grow, so
 * an old one still proves what it proved.
 *
 * <p>Positions are only compared within one {@link WriterIdentity}: a replica on another timeline than the writer whose
 * position is asked about reports {@link #UNKNOWN}, so a position taken before a promotion is never taken as proof
 * after it. Staleness is worked out from the writer's own positions as polled: a replica that has replayed up to the
 * position the writer had at time {@code t} has everything committed before {@code t}, so it is at most {@code now - t}
 * behind; the resolution is therefore the poll interval.
 *
 * <p>Thread-safe. The {@link ReplicationWatermarks} methods and {@link #replayedLsn} read cached values and never
 * block; {@link #awaitReplay} never blocks either, and its futures complete on the poller's executor, so slow work
 * chained on them should use the {@code *Async} stages.
 */
public final class ReplayWatermarkPoller implements ReplicationWatermarks, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplayWatermarkPoller.class);
    /** How many distinct writer positions are kept to work out staleness; older ones are dropped. */
    private static final int HISTORY_SIZE = 256;

    /** Asks one region's node for its state; the seam that lets tests stand in for PostgreSQL. */
    @FunctionalInterface
    interface NodeSource {
        NodeState inspect() throws SQLException;
    }

    private final Map<String, RegionPoll> regions;
    /** The same polls in an array: every read asks for a few regions' states, and a scan of a handful is cheapest. */
    private final RegionPoll[] polls;
    private final long intervalNanos;
    private final long waitIntervalNanos;
    private final Ticker ticker;
    private final Executor executor;
    private final ExecutorService ownExecutor;
    private final AtomicReference<Scheduler> scheduler = new AtomicReference<>();
    private final AtomicReference<WriterHistory> history = new AtomicReference<>();
    private final LongAdder waits = new LongAdder();
    private final LongAdder waitsReplayed = new LongAdder();
    private final LongAdder waitsExpired = new LongAdder();
    private volatile boolean closed;

    private ReplayWatermarkPoller(Builder b, Map<String, NodeSource> sources) {
        Map<String, RegionPoll> polls = new LinkedHashMap<>();
        sources.forEach((region, source) -> polls.put(region, new RegionPoll(region, source)));
        this.regions = Collections.unmodifiableMap(polls);
        this.polls = polls.values().toArray(new RegionPoll[0]);
        this.intervalNanos = b.interval.toNanos();
        this.waitIntervalNanos = b.waitInterval.toNanos();
        this.ticker = b.ticker != null ? b.ticker : Ticker.system();
        if (b.executor != null) {
            this.executor = b.executor;
            this.ownExecutor = null;
        } else {
            AtomicInteger ids = new AtomicInteger();
            this.ownExecutor = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "latitude-jdbc-replay-poll-" + ids.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            this.executor = ownExecutor;
        }
    }

    /** Starts a builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts polling every region on {@code scheduler}. Until then every position is {@link #UNKNOWN} and waits end
     * false at once.
     *
     * @param scheduler the timer for polls and waits (the routing engine's)
     * @throws IllegalStateException if already started or closed
     */
    public void start(Scheduler scheduler) {
        Objects.requireNonNull(scheduler, "scheduler");
        if (closed || !this.scheduler.compareAndSet(null, scheduler)) {
            throw new IllegalStateException("the replay poller is " + (closed ? "closed" : "already started"));
        }
        regions.values().forEach(this::pollNow);
    }

    /**
     * Returns the position {@code region} has replayed up to (a writer: has written up to), if it is on
     * {@code writer}'s identity.
     *
     * @param region a region
     * @param writer the identity of the writer the position is compared with
     * @return the position, or {@link #UNKNOWN} if nothing is known or the region is on another identity
     */
    public long replayedLsn(String region, WriterIdentity writer) {
        RegionPoll rp = pollOf(region);
        NodeState s = rp == null ? null : rp.state;
        return s != null && s.identity().equals(writer) ? s.lsn() : UNKNOWN;
    }

    /**
     * Returns the last state polled from {@code region}.
     *
     * @param region a region
     * @return its state, or {@code null} if it has not answered a poll yet (or is not one of the poller's regions)
     */
    public NodeState state(String region) {
        RegionPoll rp = pollOf(region);
        return rp == null ? null : rp.state;
    }

    /** The poll of {@code region}, or {@code null}; ids are usually the topology's own strings, so compared first. */
    private RegionPoll pollOf(String region) {
        for (RegionPoll rp : polls) {
            if (rp.region == region) {
                return rp;
            }
        }
        return regions.get(region);
    }

    /**
     * Waits, without blocking the caller, until {@code region} is seen to have replayed up to {@code lsn} of
     * {@code writer}'s WAL, polling that region every wait interval meanwhile.
     *
     * @param region one of the poller's regions
     * @param writer the identity of the writer that produced {@code lsn}
     * @param lsn the position to reach
     * @param max how long to wait at most
     * @return a future that completes true once the region has replayed {@code lsn}, false when {@code max} has passed,
     *     the region turned out to be on another identity, or the poller is not running
     * @throws IllegalArgumentException if the region is not one of the poller's
     */
    public CompletableFuture<Boolean> awaitReplay(String region, WriterIdentity writer, long lsn, Duration max) {
        RegionPoll rp = regions.get(region);
        if (rp == null) {
            throw new IllegalArgumentException("region " + region + " is not polled; polled regions: "
                    + regions.keySet());
        }
        Objects.requireNonNull(writer, "writer");
        if (replayedLsn(region, writer) >= lsn) {
            return CompletableFuture.completedFuture(true);
        }
        Scheduler s = scheduler.get();
        if (closed || s == null || max.isNegative() || max.isZero()) {
            return CompletableFuture.completedFuture(false);
        }
        Waiter w = new Waiter(writer, lsn);
        waits.increment();
        rp.waiters.add(w);
        // Checked again after joining: a poll that landed between the first check and the add did not see this waiter.
        NodeState now = rp.state;
        Boolean decided = now == null ? null : w.decided(now);
        if (decided != null) {
            finish(rp, w, decided);
            return w.result;
        }
        w.timer = s.schedule(() -> offload(() -> finish(rp, w, false)), max.toNanos());
        if (w.result.isDone()) {
            w.timer.cancel();
        }
        pollNow(rp);
        return w.result;
    }

    @Override
    public long applied(String region, String sourceRegion, String dataClass) {
        NodeState replica = state(region);
        NodeState source = state(sourceRegion);
        // The whole PostgreSQL cluster replicates as one stream: the data class does not matter.
        return replica != null && source != null && replica.identity().equals(source.identity()) ? replica.lsn()
                : UNKNOWN;
    }

    @Override
    public long stalenessMillis(String region, String dataClass) {
        WriterHistory h = history.get();
        NodeState s = state(region);
        if (h == null || s == null) {
            return UNKNOWN;
        }
        if (region.equals(h.region)) {
            return 0;
        }
        if (!s.identity().equals(h.identity)) {
            return UNKNOWN;
        }
        long since = h.lastTimeAtOrBelow(s.lsn());
        return since == Long.MIN_VALUE ? UNKNOWN : Math.max(0, (ticker.read() - since) / 1_000_000);
    }

    /** Returns how many callers of {@link #awaitReplay} had to wait (those answered at once are not counted). */
    public long waits() {
        return waits.sum();
    }

    /** Returns how many waits ended with the position replayed. */
    public long waitsReplayed() {
        return waitsReplayed.sum();
    }

    /** Returns how many waits ended without it (time up, another identity, or the poller closed). */
    public long waitsExpired() {
        return waitsExpired.sum();
    }

    /** Returns how many callers wait on {@code region} now. */
    int waiting(String region) {
        return regions.get(region).waiters.size();
    }

    /** Stops polling and ends every wait with false; idempotent. */
    @Override
    public void close() {
        closed = true;
        for (RegionPoll rp : regions.values()) {
            Scheduler.Cancellable next = rp.next;
            if (next != null) {
                next.cancel();
            }
            rp.waiters.forEach(w -> finish(rp, w, false));
        }
        if (ownExecutor != null) {
            ownExecutor.shutdown();
        }
    }

    private void pollNow(RegionPoll rp) {
        if (closed || !rp.polling.compareAndSet(false, true)) {
            return;
        }
        try {
            executor.execute(() -> poll(rp));
        } catch (RejectedExecutionException e) {
            rp.polling.set(false); // closing
        }
    }

    private void poll(RegionPoll rp) {
        try {
            deliver(rp, rp.source.inspect());
        } catch (SQLException | RuntimeException e) {
            LOG.debug("could not poll the replay position of region {}: {}", rp.region, e.toString());
        } finally {
            rp.polling.set(false);
            scheduleNext(rp);
        }
    }

    private void deliver(RegionPoll rp, NodeState s) {
        rp.state = s;
        if (!s.inRecovery()) {
            history.updateAndGet(h -> h != null && h.region.equals(s.region()) && h.identity.equals(s.identity())
                    ? h.with(s.lsn(), ticker.read()) : new WriterHistory(s.region(), s.identity(), s.lsn(),
                    ticker.read()));
        }
        for (Waiter w : rp.waiters) {
            Boolean decided = w.decided(s);
            if (decided != null) {
                finish(rp, w, decided);
            }
        }
    }

    private void scheduleNext(RegionPoll rp) {
        Scheduler s = scheduler.get();
        if (closed || s == null) {
            return;
        }
        long delay = rp.waiters.isEmpty() ? intervalNanos : waitIntervalNanos;
        // Only the latest timer polls: one that an early poll for a waiter has superseded does nothing when it fires.
        // Superseded timers are not cancelled, because with a short delay a timer may fire before its handle is
        // stored, and cancelling "the previous handle" could then cancel the latest one and end the polls.
        long generation = rp.generation.incrementAndGet();
        rp.next = s.schedule(() -> {
            if (rp.generation.get() == generation) {
                pollNow(rp);
            }
        }, delay);
    }

    private void finish(RegionPoll rp, Waiter w, boolean replayed) {
        rp.waiters.remove(w);
        Scheduler.Cancellable timer = w.timer;
        if (timer != null) {
            timer.cancel();
        }
        if (w.ended.compareAndSet(false, true)) {
            // Counted before the future completes, so whoever sees it done also sees it counted.
            (replayed ? waitsReplayed : waitsExpired).increment();
            w.result.complete(replayed);
        }
    }

    /** Runs work a timer started on the executor, so callers' continuations never run on the timer's thread. */
    private void offload(Runnable work) {
        try {
            executor.execute(work);
        } catch (RejectedExecutionException e) {
            work.run(); // closing: ending a wait is cheap
        }
    }

    /** One region's poll: its source, last state, the chain of timed polls and the callers waiting on it. */
    private static final class RegionPoll {
        final String region;
        final NodeSource source;
        final AtomicBoolean polling = new AtomicBoolean();
        final AtomicLong generation = new AtomicLong();
        volatile Scheduler.Cancellable next;
        final Set<Waiter> waiters = ConcurrentHashMap.newKeySet();
        volatile NodeState state;

        RegionPoll(String region, NodeSource source) {
            this.region = region;
            this.source = source;
        }
    }

    /** A caller waiting for a region to replay a position. Identity-compared (each wait is its own). */
    private static final class Waiter {
        final WriterIdentity writer;
        final long lsn;
        final CompletableFuture<Boolean> result = new CompletableFuture<>();
        final AtomicBoolean ended = new AtomicBoolean();
        volatile Scheduler.Cancellable timer;

        Waiter(WriterIdentity writer, long lsn) {
            this.writer = writer;
            this.lsn = lsn;
        }

        /** Returns true if {@code s} has the position, false if it never will (another identity), else null. */
        Boolean decided(NodeState s) {
            if (!s.identity().equals(writer)) {
                return false;
            }
            return s.lsn() >= lsn ? Boolean.TRUE : null;
        }
    }

    /**
     * The writer's positions as polled, each with the last time it was seen there, oldest first; immutable, replaced
     * whole on each change so readers need no lock. A new entry is added only when the position moved.
     */
    private static final class WriterHistory {
        final String region;
        final WriterIdentity identity;
        final long[] lsns;
        final long[] times;

        WriterHistory(String region, WriterIdentity identity, long lsn, long time) {
            this(region, identity, new long[] {lsn}, new long[] {time});
        }

        private WriterHistory(String region, WriterIdentity identity, long[] lsns, long[] times) {
            this.region = region;
            this.identity = identity;
            this.lsns = lsns;
            this.times = times;
        }

        WriterHistory with(long lsn, long time) {
            int n = lsns.length;
            if (lsn <= lsns[n - 1]) {
                // Still there: the writer had no more than this position at this later time.
                long[] t = times.clone();
                t[n - 1] = time;
                return new WriterHistory(region, identity, lsns, t);
            }
            int drop = n == HISTORY_SIZE ? 1 : 0;
            long[] l = Arrays.copyOfRange(lsns, drop, n + 1);
            long[] t = Arrays.copyOfRange(times, drop, n + 1);
            l[l.length - 1] = lsn;
            t[t.length - 1] = time;
            return new WriterHistory(region, identity, l, t);
        }

        /** Returns the last time the writer was seen at or below {@code lsn}, or {@link Long#MIN_VALUE} if never. */
        long lastTimeAtOrBelow(long lsn) {
            int i = Arrays.binarySearch(lsns, lsn);
            int at = i >= 0 ? i : -i - 2;
            return at < 0 ? Long.MIN_VALUE : times[at];
        }
    }

    /**
     * Builds a {@link ReplayWatermarkPoller}. Only {@link #regions(Map)} is required; each setter may be called once.
     * Defaults: poll every 100 ms, every 10 ms while someone waits, a 1 s network timeout per poll, the system ticker,
     * an executor of the poller's own (daemon threads, one busy per region at most).
     */
    public static final class Builder {
        private Map<String, NodeSource> sources;
        private Duration interval = Duration.ofMillis(100);
        private Duration waitInterval = Duration.ofMillis(10);
        private Duration queryTimeout = Duration.ofSeconds(1);
        private Ticker ticker;
        private Executor executor;
        private final Set<String> set = new HashSet<>();

        private Builder() {
        }

        /**
         * Sets the regions to poll, each with its data source (typically the region's connection pool).
         *
         * @param regions region id to data source, one or more
         * @return this builder
         */
        public Builder regions(Map<String, DataSource> regions) {
            once("regions");
            if (regions == null || regions.isEmpty()) {
                throw new LatitudeConfigException("regions", "no region's DataSource given: give one per region");
            }
            Map<String, NodeSource> s = new LinkedHashMap<>();
            regions.forEach((region, ds) -> s.put(region, () -> inspect(region, ds)));
            this.sources = s;
            return this;
        }

        /** Sets stand-ins for the regions' nodes, for tests. */
        Builder sources(Map<String, NodeSource> sources) {
            once("regions");
            this.sources = new LinkedHashMap<>(sources);
            return this;
        }

        /**
         * Sets how often each region is polled.
         *
         * @param interval positive; default 100 ms
         * @return this builder
         */
        public Builder interval(Duration interval) {
            once("replayPollInterval");
            this.interval = positive("replayPollInterval", interval);
            return this;
        }

        /**
         * Sets how often a region is polled while a caller waits for it to replay a position.
         *
         * @param interval positive; default 10 ms
         * @return this builder
         */
        public Builder waitInterval(Duration interval) {
            once("replayWaitPollInterval");
            this.waitInterval = positive("replayWaitPollInterval", interval);
            return this;
        }

        /**
         * Sets the network timeout of each poll, after which a silent region's poll gives up.
         *
         * @param timeout positive; default 1 s
         * @return this builder
         */
        public Builder queryTimeout(Duration timeout) {
            once("replayPollTimeout");
            this.queryTimeout = positive("replayPollTimeout", timeout);
            return this;
        }

        /**
         * Sets the time source for staleness.
         *
         * @param ticker the ticker; default {@link Ticker#system()}
         * @return this builder
         */
        public Builder ticker(Ticker ticker) {
            once("ticker");
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Sets the executor polls run on; it must be able to run one blocked poll per region at a time.
         *
         * @param executor the executor; default a pool of the poller's own, shut down by {@link #close()}
         * @return this builder
         */
        public Builder executor(Executor executor) {
            once("executor");
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * Returns the poller, not yet started.
         *
         * @return the poller
         * @throws LatitudeConfigException if no regions were set
         */
        public ReplayWatermarkPoller build() {
            if (sources == null) {
                throw new LatitudeConfigException("regions", "not set; call regions(Map.of(region, dataSource, ...))");
            }
            return new ReplayWatermarkPoller(this, sources);
        }

        private NodeState inspect(String region, DataSource ds) throws SQLException {
            try (Connection c = ds.getConnection()) {
                c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, queryTimeout.toMillis()));
                return NodeInspector.inspect(region, c);
            }
        }

        private void once(String setting) {
            if (!set.add(setting)) {
                throw new IllegalStateException(setting + " was already set");
            }
        }

        private static Duration positive(String setting, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new LatitudeConfigException(setting, "must be positive, got " + d);
            }
            return d;
        }
    }
}
