package dev.latitude.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Applies faults to {@link FaultTarget}s at set offsets from {@link #start()}, on a thread the schedule owns, and
 * records what it applied and when, for reports.
 *
 * <p>Steps at the same offset run in the order they were added. A step whose {@code apply} throws is recorded with
 * the error and the schedule goes on. {@link #close()} cancels the steps not yet run, heals every target a step
 * touched, and stops the thread; it is idempotent.
 *
 * <pre>{@code
 * try (FaultSchedule chaos = FaultSchedule.create()
 *         .at(Duration.ofMillis(100), east, Fault.blackhole())
 *         .at(Duration.ofMillis(400), east, Fault.none())
 *         .at(Duration.ofMillis(500), west, Fault.errorRate(0.2, 503, "busy"))
 *         .start()) {
 *     // ... run traffic ...
 *     chaos.awaitCompletion(Duration.ofSeconds(2));
 *     chaos.applied().forEach(System.out::println);
 * } // heals east and west
 * }</pre>
 */
public final class FaultSchedule implements AutoCloseable {
    private final Clock clock;
    private final List<Step> steps = new ArrayList<>();
    private final List<Applied> applied = new CopyOnWriteArrayList<>();
    private final Set<FaultTarget> touched = new LinkedHashSet<>();
    private final List<ScheduledFuture<?>> pending = new ArrayList<>();
    private ScheduledExecutorService executor;
    private CountDownLatch remaining;
    private long startNanos;
    private Instant startedAt;
    private boolean started;
    private boolean closed;

    private FaultSchedule(Clock clock) {
        this.clock = clock;
    }

    /** Returns an empty schedule that stamps its records with the system clock (UTC). */
    public static FaultSchedule create() {
        return create(Clock.systemUTC());
    }

    /**
     * Returns an empty schedule that stamps its records with {@code clock}. Steps are timed on the monotonic clock
     * whatever {@code clock} says; {@code clock} only gives the {@link Applied#at() wall-clock time} of each record.
     *
     * @param clock the clock for record timestamps
     * @return the schedule
     */
    public static FaultSchedule create(Clock clock) {
        if (clock == null) {
            throw new IllegalArgumentException("clock must not be null; use Clock.systemUTC()");
        }
        return new FaultSchedule(clock);
    }

    /**
     * Adds a step: at {@code offset} after {@link #start()}, put {@code target} in {@code fault}.
     *
     * @param offset zero or more
     * @param target the target
     * @param fault the fault ({@link Fault#none()} heals)
     * @return this schedule
     * @throws IllegalStateException if the schedule has started or is closed
     */
    public synchronized FaultSchedule at(Duration offset, FaultTarget target, Fault fault) {
        if (offset == null || offset.isNegative()) {
            throw new IllegalArgumentException("step offset must be zero or more, got " + offset
                    + "; give the time after start(), such as Duration.ofMillis(100)");
        }
        if (target == null) {
            throw new IllegalArgumentException("step target must not be null; give the FakeRegion or proxy to fault");
        }
        if (fault == null) {
            throw new IllegalArgumentException("step fault must not be null; use Fault.none() to heal");
        }
        if (started || closed) {
            throw new IllegalStateException("add steps before start(); this schedule has "
                    + (closed ? "been closed" : "started"));
        }
        steps.add(new Step(offset, target, fault, steps.size()));
        return this;
    }

    /**
     * Adds a step that heals {@code target} at {@code offset}.
     *
     * @param offset zero or more
     * @param target the target
     * @return this schedule
     */
    public FaultSchedule healAt(Duration offset, FaultTarget target) {
        return at(offset, target, Fault.none());
    }

    /**
     * Starts the clock: each step runs at its offset from now.
     *
     * @return this schedule
     * @throws IllegalStateException if already started or closed
     */
    public synchronized FaultSchedule start() {
        if (started || closed) {
            throw new IllegalStateException("a fault schedule starts once; this one has "
                    + (closed ? "been closed" : "already started") + ". Create a new schedule to run again");
        }
        started = true;
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "latitude-fault-schedule");
            t.setDaemon(true);
            return t;
        });
        // One task per distinct offset runs that offset's steps in the order they were added (the executor does not
        // order tasks due at the same instant reliably).
        Map<Duration, List<Step>> byOffset = new TreeMap<>();
        for (Step step : steps) {
            byOffset.computeIfAbsent(step.offset(), k -> new ArrayList<>()).add(step);
        }
        remaining = new CountDownLatch(steps.size());
        startNanos = System.nanoTime();
        startedAt = clock.instant();
        byOffset.forEach((offset, group) -> {
            // Delays are measured from the common start, so a slow step does not shift the ones after it.
            long delay = startNanos + offset.toNanos() - System.nanoTime();
            pending.add(executor.schedule(() -> group.forEach(this::run), Math.max(0, delay), TimeUnit.NANOSECONDS));
        });
        return this;
    }

    private void run(Step step) {
        synchronized (this) {
            if (closed) {
                return;
            }
            touched.add(step.target());
        }
        Duration actual = Duration.ofNanos(System.nanoTime() - startNanos);
        Instant at = clock.instant();
        String error = null;
        try {
            step.target().apply(step.fault());
        } catch (RuntimeException e) {
            error = e.toString();
        }
        applied.add(new Applied(step.offset(), actual, at, step.target().name(), step.fault(), error));
        remaining.countDown();
    }

    /** Returns the steps, in the order they were added. */
    public synchronized List<Step> steps() {
        return List.copyOf(steps);
    }

    /** Returns what has been applied so far, in the order it was applied. */
    public List<Applied> applied() {
        return List.copyOf(applied);
    }

    /** Returns the wall-clock time of {@link #start()}, if started. */
    public synchronized Optional<Instant> startedAt() {
        return Optional.ofNullable(startedAt);
    }

    /** Returns whether every step has run. */
    public synchronized boolean isComplete() {
        return started && remaining.getCount() == 0;
    }

    /**
     * Waits until every step has run.
     *
     * @param timeout how long to wait at most
     * @return whether every step ran in time
     * @throws InterruptedException if interrupted while waiting
     * @throws IllegalStateException if the schedule has not started
     */
    public boolean awaitCompletion(Duration timeout) throws InterruptedException {
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be zero or more, got " + timeout);
        }
        CountDownLatch latch;
        synchronized (this) {
            if (!started) {
                throw new IllegalStateException("call start() before awaiting completion");
            }
            latch = remaining;
        }
        return latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Cancels the steps not yet run, waits for one that is running, heals every target a step touched, and stops the
     * schedule's thread. If healing a target fails, the others are still healed and the first failure is thrown.
     */
    @Override
    public void close() {
        List<FaultTarget> toHeal;
        ScheduledExecutorService ex;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            pending.forEach(f -> f.cancel(false));
            ex = executor;
        }
        if (ex != null) {
            ex.shutdown();
            try {
                // A step already past its closed check finishes its apply before we heal.
                ex.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            toHeal = new ArrayList<>(touched);
        }
        RuntimeException failure = null;
        for (FaultTarget t : toHeal) {
            try {
                t.heal();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public synchronized String toString() {
        return "FaultSchedule[" + steps.size() + " steps, " + applied.size() + " applied"
                + (closed ? ", closed" : started ? ", running" : "") + "]";
    }

    /**
     * One planned step.
     *
     * @param offset when, after {@link #start()}
     * @param target what to fault
     * @param fault the fault
     * @param index the order it was added in
     */
    public record Step(Duration offset, FaultTarget target, Fault fault, int index) {
    }

    /**
     * One step as it ran, for reports.
     *
     * @param plannedOffset the step's offset
     * @param actualOffset when it actually ran, after {@link #start()}
     * @param at the wall-clock time it ran, from the schedule's clock
     * @param target the target's {@link FaultTarget#name() name}
     * @param fault the fault applied
     * @param error the target's exception as text if {@code apply} failed, otherwise {@code null}
     */
    public record Applied(Duration plannedOffset, Duration actualOffset, Instant at, String target, Fault fault,
            String error) {
        /** Returns whether the target accepted the fault. */
        public boolean succeeded() {
            return error == null;
        }

        @Override
        public String toString() {
            return "+" + actualOffset.toMillis() + "ms (planned +" + plannedOffset.toMillis() + "ms) " + target + ": "
                    + fault + (error == null ? "" : " FAILED " + error);
        }
    }
}
