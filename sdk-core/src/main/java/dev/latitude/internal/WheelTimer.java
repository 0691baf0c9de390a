package dev.latitude.internal;

import dev.latitude.spi.Scheduler;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link Scheduler}: a hashed wheel timer on one daemon thread, after Netty's {@code HashedWheelTimer}.
 *
 * <p>Calls arm timers on their own threads (attempt timeouts, hedges, deadlines), many at once, and cancel most of
 * them. So arming and cancelling never take a lock and never wake the timer thread: {@link #schedule} appends the
 * timeout to a lock-free queue, and {@link Cancellable#cancel()} is one compare-and-set on the timeout's state. The
 * timer thread alone owns the wheel: once per tick it moves the queued timeouts into the wheel's buckets, then runs the
 * due timeouts of the current bucket and drops the cancelled ones it meets there (a cancelled timeout stays in its
 * bucket until the wheel next passes it, at most one rotation; its task is released at once).
 *
 * <p>A timeout never fires before its delay, and fires within about a tick after it on an idle machine; timeouts due
 * in different ticks fire in that order, those due in the same tick in the order they were armed. A timeout further
 * away than one rotation waits in its bucket for the rounds left. While the wheel and the queue are empty the thread
 * sleeps until the next {@code schedule}, which then wakes it (once: only the schedule that finds it asleep).
 *
 * <p>Tasks must be short: they all share the one thread (the engine moves user work off it). A task that throws is
 * logged and does not stop the timer. After {@link #close()} pending timeouts are dropped and later ones are ignored.
 */
final class WheelTimer implements Scheduler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WheelTimer.class);
    private static final AtomicInteger IDS = new AtomicInteger();
    /** One millisecond: fine enough for hedge delays (a millisecond or more) and attempt timeouts. */
    static final long DEFAULT_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** 512 buckets of a millisecond: one rotation covers usual attempt timeouts; deadlines take a few rounds. */
    static final int DEFAULT_WHEEL_SIZE = 512;
    /** Bounds the queued timeouts moved per tick, so a burst cannot hold up the timeouts already due. */
    private static final int MAX_TRANSFERS_PER_TICK = 100_000;

    private final long tickNanos;
    private final Bucket[] wheel;
    private final int mask;
    private final ConcurrentLinkedQueue<Timeout> queued = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private final long startNanos;
    /** Set by the timer thread before it sleeps with nothing to do; the schedule that clears it wakes the thread. */
    private final AtomicInteger idle = new AtomicInteger();
    private volatile boolean closed;
    // Owned by the timer thread.
    private long tick;
    private int inWheel;

    /** Starts a timer with a tick of a millisecond and a wheel of 512 buckets. */
    WheelTimer() {
        this(DEFAULT_TICK_NANOS, DEFAULT_WHEEL_SIZE);
    }

    /**
     * Starts a timer.
     *
     * @param tickNanos the tick, the timer's resolution
     * @param wheelSize the number of buckets, a power of two
     */
    WheelTimer(long tickNanos, int wheelSize) {
        if (tickNanos <= 0 || wheelSize <= 0 || Integer.bitCount(wheelSize) != 1) {
            throw new IllegalArgumentException("tick " + tickNanos + " ns and wheel size " + wheelSize
                    + ": the tick must be positive and the wheel size a power of two");
        }
        this.tickNanos = tickNanos;
        this.wheel = new Bucket[wheelSize];
        for (int i = 0; i < wheelSize; i++) {
            wheel[i] = new Bucket();
        }
        this.mask = wheelSize - 1;
        this.startNanos = System.nanoTime();
        this.thread = new Thread(this::run, "latitude-timer-" + IDS.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public Cancellable schedule(Runnable task, long delayNanos) {
        Timeout t = new Timeout(task, System.nanoTime() - startNanos + Math.max(0, delayNanos));
        if (closed) {
            return t; // the engine is closing: nothing may fire any more
        }
        queued.add(t);
        // Only the schedule that finds the thread asleep with nothing to do wakes it; under load it is ticking.
        if (idle.get() == 1 && idle.compareAndSet(1, 0)) {
            LockSupport.unpark(thread);
        }
        return t;
    }

    /** Returns the timer thread (tests watch it go idle and end). */
    Thread thread() {
        return thread;
    }

    /** Stops the timer thread; pending timeouts never fire. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }

    private void run() {
        while (!closed) {
            long now = awaitTick();
            if (closed) {
                break;
            }
            transfer();
            wheel[(int) (tick & mask)].expire(now);
            tick++;
        }
        queued.clear();
        for (Bucket b : wheel) {
            b.clear();
        }
    }

    /**
     * Sleeps until the current tick has passed and returns the time, relative to the start. With nothing queued and
     * nothing in the wheel it sleeps until a schedule wakes it, then carries on from the tick of the time it woke.
     */
    private long awaitTick() {
        while (inWheel == 0 && queued.isEmpty() && !closed) {
            idle.set(1);
            // Re-check after announcing: a schedule that queued before seeing the flag must not be missed.
            if (queued.isEmpty() && !closed) {
                LockSupport.park(this);
            }
            idle.set(0);
            // Nothing is in the wheel: jump to the present rather than walk empty buckets.
            tick = Math.max(tick, (System.nanoTime() - startNanos) / tickNanos);
        }
        long end = (tick + 1) * tickNanos;
        while (true) {
            long now = System.nanoTime() - startNanos;
            if (now >= end || closed) {
                return now;
            }
            LockSupport.parkNanos(this, end - now);
        }
    }

    /** Moves queued timeouts into their buckets; one already due goes into the current bucket. */
    private void transfer() {
        for (int i = 0; i < MAX_TRANSFERS_PER_TICK; i++) {
            Timeout t = queued.poll();
            if (t == null) {
                return;
            }
            if (t.state != Timeout.PENDING) {
                continue;
            }
            long due = t.deadline / tickNanos;
            t.rounds = (due - tick) / wheel.length;
            wheel[(int) (Math.max(due, tick) & mask)].add(t);
            inWheel++;
        }
    }

    /** A scheduled task; its state moves once, from pending to fired or cancelled, by compare-and-set. */
    private static final class Timeout implements Cancellable {
        static final int PENDING = 0;
        static final int CANCELLED = 1;
        static final int FIRED = 2;
        private static final AtomicIntegerFieldUpdater<Timeout> STATE =
                AtomicIntegerFieldUpdater.newUpdater(Timeout.class, "state");

        /** Dropped on cancel, so a cancelled timeout waiting in its bucket holds on to nothing of its call. */
        Runnable task;
        /** Nanoseconds after the timer's start. */
        final long deadline;
        volatile int state;
        // Owned by the timer thread.
        long rounds;
        Timeout next;
        Timeout prev;

        Timeout(Runnable task, long deadline) {
            this.task = task;
            this.deadline = deadline;
        }

        @Override
        public void cancel() {
            if (STATE.compareAndSet(this, PENDING, CANCELLED)) {
                task = null;
            }
        }

        boolean fire() {
            return STATE.compareAndSet(this, PENDING, FIRED);
        }
    }

    /** A doubly linked list of timeouts, touched only by the timer thread. */
    private final class Bucket {
        private Timeout head;
        private Timeout tail;

        void add(Timeout t) {
            t.prev = tail;
            t.next = null;
            if (tail == null) {
                head = t;
            } else {
                tail.next = t;
            }
            tail = t;
        }

        /** Runs the timeouts due in this rotation, drops the cancelled ones, and counts down the others' rounds. */
        void expire(long now) {
            Timeout t = head;
            while (t != null) {
                Timeout next = t.next;
                if (t.state == Timeout.CANCELLED) {
                    remove(t);
                } else if (t.rounds <= 0 && t.deadline <= now) {
                    remove(t);
                    if (t.fire()) {
                        runTask(t.task);
                    }
                } else {
                    t.rounds--;
                }
                t = next;
            }
        }

        private void remove(Timeout t) {
            if (t.prev == null) {
                head = t.next;
            } else {
                t.prev.next = t.next;
            }
            if (t.next == null) {
                tail = t.prev;
            } else {
                t.next.prev = t.prev;
            }
            t.next = null;
            t.prev = null;
            inWheel--;
        }

        void clear() {
            head = null;
            tail = null;
        }
    }

    private static void runTask(Runnable task) {
        try {
            task.run();
        } catch (Throwable e) {
            LOG.warn("A timer task threw; the timer carries on", e);
        }
    }
}
