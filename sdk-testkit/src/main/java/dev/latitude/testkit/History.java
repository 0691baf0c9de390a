package dev.latitude.testkit;

import dev.latitude.testkit.HistoryOp.Outcome;
import dev.latitude.testkit.HistoryOp.Type;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Records the operations a test performs against a multi-region system, for {@link HistoryChecker}. Thread-safe:
 * record from as many client threads as the test runs.
 *
 * <pre>{@code
 * History history = History.create();
 * History.Pending op = history.invoke("alice", HistoryOp.Type.WRITE, "profiles", "u1", "eu-west-1");
 * ... perform the write ...
 * op.ok("eu-west-1", version, value);          // or op.failed() / op.ambiguous()
 * ...
 * HistoryChecker.builder().topology(topology).dataPolicies(policies).build().check(history).assertClean();
 * }</pre>
 */
public final class History {
    private final LongSupplier clock;
    private final AtomicLong ids = new AtomicLong();
    private final ConcurrentLinkedQueue<HistoryOp> ops = new ConcurrentLinkedQueue<>();

    private History(LongSupplier clock) {
        this.clock = clock;
    }

    /** Returns a history timed by {@link System#nanoTime()}. */
    public static History create() {
        return new History(System::nanoTime);
    }

    /**
     * Returns a history timed by {@code clock} (nanoseconds, never decreasing), for tests of the checker.
     *
     * @param clock the time source
     * @return the history
     */
    public static History create(LongSupplier clock) {
        return new History(Objects.requireNonNull(clock, "clock"));
    }

    /**
     * Starts recording an operation; complete it with one of the {@link Pending} methods.
     *
     * @param session the session (client) performing it
     * @param type read or write ({@link Type#FINAL_READ} via {@link #finalState})
     * @param dataClass the data class
     * @param key the key
     * @param regionAsked the region the client sends it to (or {@code null} if the SDK chooses)
     * @return the pending operation
     */
    public Pending invoke(String session, Type type, String dataClass, String key, String regionAsked) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(dataClass, "dataClass");
        Objects.requireNonNull(key, "key");
        return new Pending(ids.getAndIncrement(), session, type, dataClass, key, regionAsked, clock.getAsLong());
    }

    /**
     * Records the final state of a key in one region, read after faults healed and replication settled.
     *
     * @param dataClass the data class
     * @param key the key
     * @param region the region read
     * @param version the version found, or {@link HistoryOp#NONE}
     */
    public void finalState(String dataClass, String key, String region, long version) {
        long now = clock.getAsLong();
        ops.add(new HistoryOp(ids.getAndIncrement(), "final", Type.FINAL_READ, dataClass, key, region, region, version,
                null, Outcome.OK, now, now));
    }

    /** Returns the completed operations in invocation order. */
    public List<HistoryOp> operations() {
        List<HistoryOp> list = new ArrayList<>(ops);
        list.sort(Comparator.comparingLong(HistoryOp::id));
        return list;
    }

    /** An operation that has started and not yet completed. Complete it exactly once. */
    public final class Pending {
        private final long id;
        private final String session;
        private final Type type;
        private final String dataClass;
        private final String key;
        private final String regionAsked;
        private final long start;
        private boolean done;

        private Pending(long id, String session, Type type, String dataClass, String key, String regionAsked,
                long start) {
            this.id = id;
            this.session = session;
            this.type = type;
            this.dataClass = dataClass;
            this.key = key;
            this.regionAsked = regionAsked;
            this.start = start;
        }

        /**
         * Completes the operation as acknowledged.
         *
         * @param regionAnswered the region that answered
         * @param version the version written, or read ({@link HistoryOp#NONE} if not found)
         * @param value the value, or {@code null}
         */
        public void ok(String regionAnswered, long version, String value) {
            complete(regionAnswered, version, value, Outcome.OK);
        }

        /** Completes the operation as failed: nothing was applied. */
        public void failed() {
            complete(null, HistoryOp.NONE, null, Outcome.FAILED);
        }

        /**
         * Completes a write whose outcome is unknown.
         *
         * @param version the version it would have written
         */
        public void ambiguous(long version) {
            complete(null, version, null, Outcome.AMBIGUOUS);
        }

        private synchronized void complete(String answered, long version, String value, Outcome outcome) {
            if (done) {
                throw new IllegalStateException("operation #" + id + " was completed twice");
            }
            done = true;
            ops.add(new HistoryOp(id, session, type, dataClass, key, regionAsked, answered, version, value, outcome,
                    start, clock.getAsLong()));
        }
    }
}
