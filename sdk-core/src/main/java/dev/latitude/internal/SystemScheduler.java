package dev.latitude.internal;

import dev.latitude.spi.Scheduler;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The default {@link Scheduler}: one daemon thread; cancelled tasks are removed at once. */
public final class SystemScheduler implements Scheduler, AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();
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
