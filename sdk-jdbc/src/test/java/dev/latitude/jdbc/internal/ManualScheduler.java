package dev.latitude.jdbc.internal;

import dev.latitude.spi.Scheduler;
import dev.latitude.spi.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A scheduler and ticker for tests: time stands still until {@link #advance(Duration)}, which runs every task that
 * has fallen due, in due order, on the calling thread.
 */
final class ManualScheduler implements Scheduler, Ticker {
    private final PriorityQueue<Task> tasks = new PriorityQueue<>();
    private long now;
    private long sequence;

    @Override
    public synchronized long read() {
        return now;
    }

    @Override
    public synchronized Cancellable schedule(Runnable task, long delayNanos) {
        Task t = new Task(now + delayNanos, sequence++, task);
        tasks.add(t);
        return () -> {
            synchronized (ManualScheduler.this) {
                tasks.remove(t);
            }
        };
    }

    /** Moves time forward, running the tasks that fall due (including those they schedule within the step). */
    void advance(Duration step) {
        long until;
        synchronized (this) {
            until = now + step.toNanos();
        }
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.peek();
                if (next == null || next.due > until) {
                    now = until;
                    return;
                }
                tasks.poll();
                now = Math.max(now, next.due);
            }
            next.task.run();
        }
    }

    /** Returns how many tasks are waiting to run. */
    synchronized int pending() {
        return tasks.size();
    }

    /** Returns the due times of the waiting tasks, relative to now, in nanoseconds. */
    synchronized List<Long> pendingDelays() {
        List<Long> delays = new ArrayList<>();
        tasks.forEach(t -> delays.add(t.due - now));
        return delays;
    }

    private record Task(long due, long sequence, Runnable task) implements Comparable<Task> {
        @Override
        public int compareTo(Task o) {
            return due != o.due ? Long.compare(due, o.due) : Long.compare(sequence, o.sequence);
        }
    }
}
