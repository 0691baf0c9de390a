package dev.latitude.testing;

import dev.latitude.spi.Scheduler;
import dev.latitude.spi.Ticker;
import java.time.Duration;
import java.util.PriorityQueue;

/**
 * A ticker and scheduler driven by the test: time moves only in {@link #advance(Duration)}, which runs every task that
 * falls due, in due order, on the test's thread. Thread-safe, so code under test may schedule from any thread.
 */
public final class ManualClock implements Ticker, Scheduler {
    private final PriorityQueue<Task> queue = new PriorityQueue<>();
    private long now = 1_000_000_000L;
    private long seq;

    private static final class Task implements Comparable<Task>, Cancellable {
        final long due;
        final long order;
        final Runnable body;
        volatile boolean cancelled;

        Task(long due, long order, Runnable body) {
            this.due = due;
            this.order = order;
            this.body = body;
        }

        @Override
        public int compareTo(Task o) {
            return due != o.due ? Long.compare(due, o.due) : Long.compare(order, o.order);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    @Override
    public synchronized long read() {
        return now;
    }

    @Override
    public synchronized Cancellable schedule(Runnable task, long delayNanos) {
        Task t = new Task(now + Math.max(0, delayNanos), seq++, task);
        queue.add(t);
        return t;
    }

    /** Moves time forward by {@code d}, running every task due on the way at its due time. */
    public void advance(Duration d) {
        long target;
        synchronized (this) {
            target = now + d.toNanos();
        }
        while (true) {
            Task t;
            synchronized (this) {
                Task head = queue.peek();
                if (head == null || head.due > target) {
                    now = target;
                    return;
                }
                queue.poll();
                now = Math.max(now, head.due);
                t = head;
            }
            if (!t.cancelled) {
                t.body.run();
            }
        }
    }

    /** Advances by {@code millis} milliseconds. */
    public void advanceMillis(long millis) {
        advance(Duration.ofMillis(millis));
    }

    /** Returns how many scheduled tasks have not run and were not cancelled. */
    public synchronized int pendingTasks() {
        return (int) queue.stream().filter(t -> !t.cancelled).count();
    }
}
