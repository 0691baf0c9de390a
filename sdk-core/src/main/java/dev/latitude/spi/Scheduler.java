package dev.latitude.spi;

/**
 * Runs a task after a delay; the engine's timers (attempt timeouts, deadlines, hedges, health probes) go through it.
 *
 * <p>The default scheduler is one daemon thread shared by a {@code Latitude} instance. Tests supply a manual
 * scheduler that fires tasks when a fake {@link Ticker} is advanced. Implementations must be thread-safe, must not
 * run the task on the calling thread, and should run tasks quickly in order of their due time.
 */
@FunctionalInterface
public interface Scheduler {

    /**
     * Schedules {@code task} to run once after {@code delayNanos}.
     *
     * @param task the task; it is cheap and never blocks
     * @param delayNanos the delay in nanoseconds, zero or more
     * @return a handle whose {@link Cancellable#cancel()} prevents the task from running if it has not started
     */
    Cancellable schedule(Runnable task, long delayNanos);

    /** A handle to a scheduled task. */
    @FunctionalInterface
    interface Cancellable {
        /** Prevents the task from running if it has not started yet; safe to call more than once. */
        void cancel();
    }
}
