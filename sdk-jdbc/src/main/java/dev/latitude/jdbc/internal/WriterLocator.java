package dev.latitude.jdbc.internal;

import dev.latitude.LatitudeConfigException;
import dev.latitude.jdbc.NoWriterException;
import dev.latitude.jdbc.SplitBrainException;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;

/**
 * Finds the PostgreSQL writer among the regions by asking every region at once whether it is in recovery
 * ({@link NodeInspector}), and never guesses: exactly one region not in recovery is the writer; two or more is a split
 * brain ({@link SplitBrainException}); none, or none reachable within the timeout, is {@link NoWriterException}.
 *
 * <p>The whole search is bounded by the timeout: a region that does not answer in time (a blackholed network, a pool
 * that has no connection to give) counts as unreachable. Its question keeps running on the executor until the
 * connection's network timeout (the same timeout) or the pool's connection timeout ends it, so the executor must be
 * able to hold one blocked task per region. A question that fails on a connection the pool gave (a pooled connection
 * can be dead while its node is up) is asked once more on the next one before the region counts as unreachable.
 * Thread-safe.
 */
public final class WriterLocator {
    private final Map<String, DataSource> regions;
    private final Executor executor;
    private final Duration timeout;

    /**
     * Creates a locator.
     *
     * @param regions each region's data source, in the order used to report answers
     * @param executor runs the questions, one task per region per search
     * @param timeout how long a search waits for the regions' answers, positive
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
        this.regions = new LinkedHashMap<>(regions);
        this.executor = Objects.requireNonNull(executor, "executor");
        this.timeout = timeout;
    }

    /**
     * Returns the region of the one writer.
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
     * Returns what the one writer said about itself: its region, identity and WAL position.
     *
     * @return the writer's state
     * @throws SplitBrainException if two or more regions claim to be the writer
     * @throws NoWriterException if no region that answered in time is the writer
     * @throws SQLException if the calling thread is interrupted while waiting (the interrupt flag is kept)
     */
    public NodeState locateState() throws SQLException {
        Map<String, CompletableFuture<Answer>> asked = new LinkedHashMap<>();
        regions.forEach((region, ds) -> asked.put(region, CompletableFuture.supplyAsync(() -> ask(region, ds),
                executor)));
        try {
            CompletableFuture.allOf(asked.values().toArray(CompletableFuture[]::new))
                    .get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while looking for the PostgreSQL writer");
        } catch (ExecutionException | TimeoutException e) {
            // A region is slower than the timeout: it counts as unreachable below.
        }
        List<NodeState> writers = new ArrayList<>();
        Map<String, String> answers = new LinkedHashMap<>();
        asked.forEach((region, pending) -> {
            Answer answer = pending.getNow(null);
            if (answer == null) {
                answers.put(region, "no answer within " + timeout.toMillis() + " ms");
            } else if (answer.state == null) {
                answers.put(region, "unreachable: " + answer.error);
            } else {
                answers.put(region, answer.state.inRecovery() ? "replica" : "writer");
                if (!answer.state.inRecovery()) {
                    writers.add(answer.state);
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

    private Answer ask(String region, DataSource ds) {
        Answer first = askOnce(region, ds);
        // A pool learns that one of its connections is dead (its node restarted, a proxy dropped it) only when it is
        // used, while the node itself may answer fine. Judging the region unreachable on that alone could hide a live
        // writer, and with it a split brain: a restarted old primary would then pass as the only writer. So a question
        // that failed on a connection is asked once more, on the connection the pool gives next.
        return first.state == null && first.onConnection ? askOnce(region, ds) : first;
    }

    private Answer askOnce(String region, DataSource ds) {
        Connection c;
        try {
            c = ds.getConnection();
        } catch (SQLException | RuntimeException e) {
            return new Answer(null, e, false);
        }
        try (c) {
            c.setNetworkTimeout(executor, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            return new Answer(NodeInspector.inspect(region, c), null, false);
        } catch (SQLException | RuntimeException e) {
            return new Answer(null, e, true);
        }
    }

    /**
     * What one region answered: its state, or the error that kept it from answering and whether that error came from
     * a connection the region's data source had given (rather than from getting one).
     */
    private record Answer(NodeState state, Exception error, boolean onConnection) {
    }
}
