package dev.latitude.jdbc.internal;

import dev.latitude.LatitudeConfigException;
import dev.latitude.jdbc.NoWriterException;
import dev.latitude.jdbc.SplitBrainException;
import dev.latitude.jdbc.WriterIdentity;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;

/**
 * Finds the PostgreSQL writer among the regions by asking every region at once whether it is in recovery
 * ({@link NodeInspector}), and never guesses: exactly one region not in recovery is the writer; two or more is a split
 * brain ({@link SplitBrainException}); none, or none reachable within the timeout, is {@link NoWriterException}.
 *
 * <p>A search is bounded by the timeout: a region that does not answer in time (a blackholed network, a pool that has
 * no connection to give) counts as unreachable. Its question keeps running on the executor until the connection's
 * network timeout (the same timeout) or the pool's connection timeout ends it; a region is asked at most one question
 * at a time, and a search that starts while one is still pending waits for that one's answer instead of asking again,
 * so the executor holds at most one blocked question per region (plus the {@link #awaitWriter hunt} itself). A question
 * that fails on a connection the pool gave (a pooled connection can be dead while its node is up) is asked once more
 * on the next one before the region counts as unreachable.
 *
 * <p>{@link #awaitWriter(String)} searches again every {@value #HUNT_INTERVAL_MILLIS} ms until a writer answers, for
 * at most the timeout, so that a promotion is seen within about that interval; concurrent callers share one hunt. In
 * a hunt, a region whose last question (within the timeout) found it unreachable and whose new question is still
 * pending does not hold a search up while it is still silent: for "no writer yet", always; for a writer found, only
 * if that writer is of the same cluster on a later timeline than the lost writer was last seen on (it was promoted
 * after it). A writer that answers the same as before, or a search outside a hunt, waits for every region's answer,
 * so that a writer that comes back is seen beside the other one and refused as a split brain. Thread-safe.
 */
public final class WriterLocator {
    /** How often a hunt asks the regions again while no writer answers. */
    public static final long HUNT_INTERVAL_MILLIS = 100;

    private final Map<String, Region> regions;
    private final Executor executor;
    private final Duration timeout;
    private final Object huntLock = new Object();
    private Hunt hunt;

    /**
     * Creates a locator.
     *
     * @param regions each region's data source, in the order used to report answers
     * @param executor runs the questions (one task per region at a time) and the hunt
     * @param timeout how long a search waits for the regions' answers, and how long {@link #awaitWriter} waits for a
     *     writer; positive
     * @throws LatitudeConfigException if there are no regions or the timeout is not positive
     */
    public WriterLocator(Map<String, DataSource> regions, Executor executor, Duration timeout) {
        if (regions == null || regions.isEmpty()) {
            throw new LatitudeConfigException("regions", "no region's DataSource given: give one per region");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new LatitudeConfigException("writerSearchTimeout", "must be positive, got " + timeout
                    + "; a few hundred milliseconds more than the round trip to the farthest region is enough");
        }
        this.regions = new LinkedHashMap<>();
        regions.forEach((name, ds) -> this.regions.put(name, new Region(name, Objects.requireNonNull(ds, name))));
        this.executor = Objects.requireNonNull(executor, "executor");
        this.timeout = timeout;
    }

    /**
     * Returns the region of the one writer, after one search.
     *
     * @return the writer's region
     * @throws SplitBrainException if two or more regions claim to be the writer
     * @throws NoWriterException if no region that answered in time is the writer
     * @throws SQLException if the calling thread is interrupted while waiting (the interrupt flag is kept)
     */
    public String locate() throws SQLException {
        return locateState().region();
    }

    /**
     * Returns what the one writer said about itself (its region, identity and WAL position), after one search.
     *
     * @return the writer's state
     * @throws SplitBrainException if two or more regions claim to be the writer
     * @throws NoWriterException if no region that answered in time is the writer
     * @throws SQLException if the calling thread is interrupted while waiting (the interrupt flag is kept)
     */
    public NodeState locateState() throws SQLException {
        return search(null, null);
    }

    /**
     * Returns the one writer once it answers, searching again every {@value #HUNT_INTERVAL_MILLIS} ms for at most
     * the timeout: for read-write work that lost its writer, which may be being replaced by a promotion. Callers at
     * the same time share one hunt.
     *
     * @param lost the identity the lost writer was last seen with, or {@code null} if not known
     * @return the writer's state
     * @throws SplitBrainException if two or more regions claim to be the writer
     * @throws NoWriterException if no writer answered within the timeout, with what each region answered last
     * @throws SQLException if the calling thread is interrupted while waiting (the interrupt flag is kept)
     */
    public NodeState awaitWriter(WriterIdentity lost) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Hunt h = join(lost, deadline);
            try {
                return h.result.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                return h.concludeNow();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while waiting for the PostgreSQL writer");
            } catch (ExecutionException e) {
                // A hunt that gave up just before this caller joined it: hunt again until this caller's deadline.
                if (!(e.getCause() instanceof NoWriterException) || System.nanoTime() - deadline >= 0) {
                    throw e.getCause() instanceof SQLException s ? s
                            : new SQLException("looking for the PostgreSQL writer failed", e.getCause());
                }
            }
        }
    }

    /** Joins the running hunt, extending it to {@code deadline}, or starts one. */
    private Hunt join(WriterIdentity lost, long deadline) throws SQLException {
        synchronized (huntLock) {
            if (hunt == null || hunt.result.isDone()) {
                Hunt h = new Hunt(lost, deadline);
                try {
                    executor.execute(h);
                } catch (RejectedExecutionException e) {
                    throw new SQLException("the data source is closed: no writer search can run", "08003", e);
                }
                hunt = h;
            } else if (hunt.until - deadline < 0) {
                hunt.until = deadline;
            }
            return hunt;
        }
    }

    /** Searches again and again until a writer answers or the deadline (extended by callers who join) passes. */
    private final class Hunt implements Runnable {
        private final WriterIdentity lost;
        private final CompletableFuture<NodeState> result = new CompletableFuture<>();
        /** When the hunt gives up, on {@link System#nanoTime()}; guarded by huntLock. */
        private long until;
        private volatile NoWriterException last;
        /** The questions of the search under way. */
        private volatile Map<Region, CompletableFuture<Answer>> current;

        Hunt(WriterIdentity lost, long until) {
            this.lost = lost;
            this.until = until;
        }

        @Override
        public void run() {
            try {
                while (true) {
                    long start = System.nanoTime();
                    try {
                        result.complete(search(lost, this));
                        return;
                    } catch (NoWriterException e) {
                        last = e;
                    }
                    synchronized (huntLock) {
                        if (System.nanoTime() - until >= 0) {
                            result.completeExceptionally(last);
                            return;
                        }
                    }
                    long pause = start + TimeUnit.MILLISECONDS.toNanos(HUNT_INTERVAL_MILLIS) - System.nanoTime();
                    if (pause > 0) {
                        TimeUnit.NANOSECONDS.sleep(pause); // the next search, a fixed interval after this one began
                    }
                }
            } catch (SQLException | RuntimeException e) {
                result.completeExceptionally(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the data source is closing
                result.completeExceptionally(new SQLException("the writer search was interrupted", "08003", e));
            }
        }

        /**
         * For a caller whose wait is over: what the search under way concludes from the answers it has (a region
         * still silent counts as unreachable, as at the end of a search), else the last search's "no writer".
         */
        NodeState concludeNow() throws SQLException {
            Map<Region, CompletableFuture<Answer>> asked = current;
            NoWriterException e = last;
            if (asked != null) {
                try {
                    return conclude(asked, List.of());
                } catch (NoWriterException now) {
                    e = now;
                }
            }
            if (e == null) {
                Map<String, String> answers = new LinkedHashMap<>();
                regions.keySet().forEach(r -> answers.put(r, "no answer within " + timeout.toMillis() + " ms"));
                e = new NoWriterException(answers);
            }
            throw e;
        }
    }

    /**
     * One search: asks every region (or waits for its pending question) and decides as soon as the answers allow.
     *
     * @param lost the identity the lost writer was last seen with, or {@code null}
     * @param hunt the hunt this search is part of, told the questions asked, or {@code null}: only in a hunt may
     *     regions found unreachable by their last question be decided without
     */
    private NodeState search(WriterIdentity lost, Hunt hunt) throws SQLException {
        boolean hunting = hunt != null;
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        Map<Region, CompletableFuture<Answer>> asked = new LinkedHashMap<>();
        regions.values().forEach(r -> asked.put(r, r.question()));
        if (hunt != null) {
            hunt.current = asked;
        }
        // Only an answer given within the last timeout is remembered.
        long memorySince = start - timeout.toNanos();
        while (true) {
            NodeState found = decide(asked, lost, hunting, memorySince);
            if (found != null) {
                return found;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            CompletableFuture<?>[] pending = asked.values().stream().filter(q -> !q.isDone())
                    .toArray(CompletableFuture[]::new);
            if (pending.length == 0) {
                continue; // the last answers came in since the decision: decide again (anyOf() would never end)
            }
            try {
                CompletableFuture.anyOf(pending).get(left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while looking for the PostgreSQL writer");
            } catch (ExecutionException | TimeoutException e) {
                // Decided on the next turn: an answer came, or the search's time is up.
            }
        }
        // Time is up: a region still silent counts as unreachable.
        return conclude(asked, List.of());
    }

    /**
     * Decides from the answers so far: the writer, or a split brain or "no writer" thrown; {@code null} while a region
     * that must be heard is still silent.
     */
    private NodeState decide(Map<Region, CompletableFuture<Answer>> asked, WriterIdentity lost, boolean hunting,
            long memorySince) throws SQLException {
        List<NodeState> writers = new ArrayList<>();
        List<Region> silent = new ArrayList<>();
        List<Region> knownUnreachable = new ArrayList<>();
        asked.forEach((r, q) -> {
            Answer a = q.getNow(null);
            if (a == null) {
                (hunting && r.unreachableSince(memorySince) ? knownUnreachable : silent).add(r);
            } else if (a.state != null && !a.state.inRecovery()) {
                writers.add(a.state);
            }
        });
        if (writers.size() > 1) {
            throw new SplitBrainException(writers.stream().map(NodeState::region).toList());
        }
        if (!silent.isEmpty()) {
            return null;
        }
        if (writers.size() == 1 && !knownUnreachable.isEmpty() && !promotedAfter(writers.get(0), lost)) {
            return null;
        }
        return conclude(asked, knownUnreachable);
    }

    /** Whether {@code writer} is of the same cluster as {@code lost}, on a later timeline: promoted after it. */
    private static boolean promotedAfter(NodeState writer, WriterIdentity lost) {
        return lost != null && writer.identity().sameSystem(lost) && writer.identity().timeline() > lost.timeline();
    }

    /** The one writer among the answers, else a split brain or "no writer" thrown, naming what each region said. */
    private NodeState conclude(Map<Region, CompletableFuture<Answer>> asked, List<Region> knownUnreachable)
            throws SQLException {
        List<NodeState> writers = new ArrayList<>();
        Map<String, String> answers = new LinkedHashMap<>();
        asked.forEach((r, q) -> {
            Answer a = q.getNow(null);
            if (a == null) {
                answers.put(r.name, knownUnreachable.contains(r) ? "unreachable: " + r.lastError()
                        : "no answer within " + timeout.toMillis() + " ms");
            } else if (a.state == null) {
                answers.put(r.name, "unreachable: " + a.error);
            } else {
                answers.put(r.name, a.state.inRecovery() ? "replica" : "writer");
                if (!a.state.inRecovery()) {
                    writers.add(a.state);
                }
            }
        });
        if (writers.size() > 1) {
            throw new SplitBrainException(writers.stream().map(NodeState::region).toList());
        }
        if (writers.isEmpty()) {
            throw new NoWriterException(answers);
        }
        return writers.get(0);
    }

    /** A region: its data source, its pending question and its last answer. */
    private final class Region {
        private final String name;
        private final DataSource ds;
        private CompletableFuture<Answer> pending;
        private Answer last;

        Region(String name, DataSource ds) {
            this.name = name;
            this.ds = ds;
        }

        /** The pending question, or a new one if none is. */
        synchronized CompletableFuture<Answer> question() {
            if (pending == null || pending.isDone()) {
                CompletableFuture<Answer> q;
                try {
                    q = CompletableFuture.supplyAsync(this::ask, executor);
                } catch (RejectedExecutionException e) {
                    q = CompletableFuture.completedFuture(new Answer(null, e, false, System.nanoTime()));
                }
                pending = q.whenComplete((a, e) -> record(a));
            }
            return pending;
        }

        private synchronized void record(Answer a) {
            if (a != null) {
                last = a;
            }
        }

        /** Whether the last answer, completed at or after {@code since} (on {@link System#nanoTime()}), was an error. */
        synchronized boolean unreachableSince(long since) {
            return last != null && last.state == null && last.completedAt - since >= 0;
        }

        synchronized Exception lastError() {
            return last == null ? null : last.error;
        }

        private Answer ask() {
            Answer first = askOnce();
            // A pool learns that one of its connections is dead (its node restarted, a proxy dropped it) only when it
            // is used, while the node itself may answer fine. Judging the region unreachable on that alone could hide
            // a live writer, and with it a split brain: a restarted old primary would then pass as the only writer. So
            // a question that failed on a connection is asked once more, on the connection the pool gives next.
            return first.state == null && first.onConnection ? askOnce() : first;
        }

        private Answer askOnce() {
            Connection c;
            try {
                c = ds.getConnection();
            } catch (SQLException | RuntimeException e) {
                return new Answer(null, e, false, System.nanoTime());
            }
            try (c) {
                c.setNetworkTimeout(executor, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
                return new Answer(NodeInspector.inspect(name, c), null, false, System.nanoTime());
            } catch (SQLException | RuntimeException e) {
                return new Answer(null, e, true, System.nanoTime());
            }
        }
    }

    /**
     * What one region answered: its state, or the error that kept it from answering and whether that error came from
     * a connection the region's data source had given (rather than from getting one); and when, on
     * {@link System#nanoTime()}.
     */
    private record Answer(NodeState state, Exception error, boolean onConnection, long completedAt) {
    }
}
