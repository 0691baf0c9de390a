package dev.latitude.spi;

/**
 * Runs a task after a delay; the engine's timers (attempt timeouts, deadlines, hedges, health probes) go through it.
 *
 * <p>The default scheduler is a hashed wheel timer with a tick of a millisecond on one daemon thread shared by a
 * {@code Latitude} instance. Tests supply a manual scheduler that fires tasks when a fake {@link Ticker} is advanced.
 *
 * <p>Every call arms its timers on the caller's thread, many calls at once, and cancels most of them: implementations
 * must be thread-safe, and {@link #schedule} and {@link Cancellable#cancel()} should never make the caller wait (no
 * contended lock, no thread wake-up per task). Implementations must not run the task on the calling thread, must
 * never run it before its delay, and should run tasks soon after they fall due, in order of their due time.
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
