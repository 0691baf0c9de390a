package dev.latitude.spi;

import dev.latitude.internal.WheelTimer;

/**
 * The engine's default {@link Scheduler}, for an adapter or application that needs one of its own before an engine
 * exists, or beside one driven by a test's clock: a hashed wheel timer with a tick of a millisecond on one daemon
 * thread. Arming and cancelling a task never takes a lock and never wakes the thread, so it suits timers armed on
 * every request and cancelled on almost all of them. Tasks share the one thread: they must be short and never block.
 *
 * <pre>{@code
 * try (TimerWheel timer = TimerWheel.start()) {
 *     Scheduler.Cancellable c = timer.schedule(() -> request.abort(), Duration.ofMillis(300).toNanos());
 *     ...
 *     c.cancel();
 * }
 * }</pre>
 */
public final class TimerWheel implements Scheduler, AutoCloseable {
    private final WheelTimer timer;

    private TimerWheel(WheelTimer timer) {
        this.timer = timer;
    }

    /**
     * Starts a timer on a new daemon thread.
     *
     * @return the timer; close it to stop its thread
     */
    public static TimerWheel start() {
        return new TimerWheel(new WheelTimer());
    }

    @Override
    public Cancellable schedule(Runnable task, long delayNanos) {
        return timer.schedule(task, delayNanos);
    }

    /** Stops the timer's thread; tasks still pending never run, and later ones are ignored. */
    @Override
    public void close() {
        timer.close();
    }
}
