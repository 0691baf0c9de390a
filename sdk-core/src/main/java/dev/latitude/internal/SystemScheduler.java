package dev.latitude.internal;

import dev.latitude.spi.Scheduler;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The default {@link Scheduler}: one daemon thread; cancelled tasks are removed at once.
 *
 * <p>A no-op task ticks every {@value #TICK_MILLIS} ms. A {@link ScheduledThreadPoolExecutor} wakes its thread
 * whenever a new task becomes the earliest in its queue; without the tick, every call's attempt timeout would (the
 * previous call's having been cancelled), costing a thread wake-up on the call's path. With it, the earliest task is
 * never more than a tick away, so the timeouts of calls (hundreds of milliseconds) are queued without waking anyone.
 */
public final class SystemScheduler implements Scheduler, AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();
    private static final long TICK_MILLIS = 10;
    private final ScheduledThreadPoolExecutor executor;

    /** Starts the scheduler thread. */
    public SystemScheduler() {
        executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "latitude-scheduler-" + IDS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.scheduleAtFixedRate(() -> { }, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public Cancellable schedule(Runnable task, long delayNanos) {
        ScheduledFuture<?> f = executor.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        return () -> f.cancel(false);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
