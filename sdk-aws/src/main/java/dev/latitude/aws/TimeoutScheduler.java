package dev.latitude.aws;

import dev.latitude.spi.Scheduler;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The scheduled executor Latitude gives the AWS SDK clients its builders make, so that their request timeouts cost
 * next to nothing. The SDK arms a timer for every request that has an {@code apiCallTimeout} or
 * {@code apiCallAttemptTimeout} and cancels it when the request ends. Its default executor, a
 * {@code ScheduledThreadPoolExecutor}, keeps every cancelled timer queued until it falls due and then wakes a thread
 * for it: two thread wake-ups per request, measured at about 30 µs of CPU per request on 2 cores, more than all of
 * Latitude's own routing. Here a timer goes on a timer wheel ({@link Scheduler}): arming it takes no lock and wakes
 * nothing, and cancelling it forgets it.
 *
 * <p>A task that falls due (for the SDK, a timeout: abort the request and interrupt its thread, or fail its future)
 * runs on a pool of daemon threads, never on the wheel's thread, so a slow task holds up no other timer.
 * {@link #execute} and {@code submit} run there too, and periodic tasks are re-armed after each run.
 *
 * <p>{@link #shutdown()} (or {@link #close()}) stops it: tasks not yet due never run, later ones are refused, and
 * {@link #shutdownNow()} returns an empty list (pending timers are not tracked, so as to cost nothing while armed). The
 * wheel is not closed: its owner closes it. The SDK never shuts down an executor it was given. Thread-safe.
 *
 * <pre>{@code
 * S3Client.builder().overrideConfiguration(o -> o.scheduledExecutorService(TimeoutScheduler.over(timer)));
 * }</pre>
 */
public final class TimeoutScheduler extends AbstractExecutorService implements ScheduledExecutorService,
        AutoCloseable {
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Scheduler timer;
    private final ThreadPoolExecutor runner;
    private volatile boolean shutdown;

    private TimeoutScheduler(Scheduler timer) {
        this.timer = timer;
        this.runner = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                r -> {
                    Thread t = new Thread(r, "latitude-sdk-timeout-" + THREADS.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * Returns an executor whose timers go on {@code timer}, which must keep real time (not a test's manual clock: the
     * SDK's timeouts would never fire).
     *
     * @param timer the timer wheel; not closed by this executor
     * @return the executor
     */
    public static TimeoutScheduler over(Scheduler timer) {
        if (timer == null) {
            throw new NullPointerException("timer");
        }
        return new TimeoutScheduler(timer);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return arm(new Task<>(Executors.callable(command), 0), unit.toNanos(delay));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        if (callable == null) {
            throw new NullPointerException("callable");
        }
        return arm(new Task<>(callable, 0), unit.toNanos(delay));
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        return arm(new Task<>(Executors.callable(command), positive(period, unit)), unit.toNanos(initialDelay));
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay,
            TimeUnit unit) {
        return arm(new Task<>(Executors.callable(command), -positive(delay, unit)), unit.toNanos(initialDelay));
    }

    private static long positive(long period, TimeUnit unit) {
        if (period <= 0) {
            throw new IllegalArgumentException("the period must be positive, not " + period + " " + unit);
        }
        return unit.toNanos(period);
    }

    private <V> Task<V> arm(Task<V> task, long delayNanos) {
        if (shutdown) {
            throw new RejectedExecutionException("this timeout scheduler is shut down (its Latitude client was"
                    + " closed); the SDK client using it was closed with it");
        }
        task.arm(System.nanoTime(), Math.max(0, delayNanos));
        return task;
    }

    @Override
    public void execute(Runnable command) {
        if (shutdown) {
            throw new RejectedExecutionException("this timeout scheduler is shut down (its Latitude client was"
                    + " closed)");
        }
        runner.execute(command);
    }

    @Override
    public void shutdown() {
        shutdown = true;
        runner.shutdown();
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown = true;
        runner.shutdownNow();
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown && runner.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return runner.awaitTermination(timeout, unit);
    }

    /** Same as {@link #shutdownNow()}. */
    @Override
    public void close() {
        shutdownNow();
    }

    /**
     * A task armed on the wheel: one-shot ({@code period} 0), at a fixed rate ({@code period} &gt; 0) or with a
     * fixed delay ({@code period} &lt; 0). Cancelling it cancels its timer.
     */
    private final class Task<V> extends FutureTask<V> implements RunnableScheduledFuture<V> {
        private final long period;
        private volatile long dueNanos;
        private volatile Scheduler.Cancellable armed;

        Task(Callable<V> callable, long period) {
            super(callable);
            this.period = period;
        }

        void arm(long now, long delayNanos) {
            dueNanos = now + delayNanos;
            armed = timer.schedule(this::due, delayNanos);
        }

        /** On the wheel's thread: hands the task to the pool. */
        private void due() {
            if (isDone()) {
                return;
            }
            if (shutdown) {
                cancel(false);
                return;
            }
            try {
                runner.execute(this);
            } catch (RejectedExecutionException e) {
                cancel(false); // shut down between the check and the hand-off
            }
        }

        @Override
        public void run() {
            if (period == 0) {
                super.run();
            } else if (runAndReset() && !shutdown) {
                long now = System.nanoTime();
                long next = period > 0 ? dueNanos + period : now - period;
                arm(now, Math.max(0, next - now));
                if (isCancelled()) {
                    armed.cancel(); // cancelled while re-arming
                }
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            Scheduler.Cancellable a = armed;
            if (cancelled && a != null) {
                a.cancel();
            }
            return cancelled;
        }

        @Override
        public boolean isPeriodic() {
            return period != 0;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
        }
    }
}
