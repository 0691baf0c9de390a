package dev.latitude.internal;

import dev.latitude.spi.Scheduler;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
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
 * away than one rotation waits in its bucket for the rounds left.
 *
 * <p>The thread sleeps until the end of the tick of the next bucket that holds a timeout (a tick at a time while
 * timeouts are queued or due soon, as under load), and for good while there is none. It announces when it will wake;
 * a {@code schedule} wakes it only if its timeout is due more than a tick before that, so an engine whose wheel holds
 * only its health probes' timers wakes a few times a second, and one under load is never woken by a schedule.
 *
 * <p>Tasks must be short: they all share the one thread (the engine moves user work off it). A task that throws is
 * logged and does not stop the timer. After {@link #close()} pending timeouts are dropped and later ones are ignored.
 */
public final class WheelTimer implements Scheduler, AutoCloseable {
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
    /**
     * When the sleeping timer thread will wake, relative to the start ({@link Long#MAX_VALUE}: not until woken), or 0
     * while it is awake (it looks at the queue before sleeping again). The schedule that sets it to 0 wakes the thread.
     */
    private final AtomicLong wakeAt = new AtomicLong();
    private volatile boolean closed;
    // Owned by the timer thread.
    private long tick;
    private int inWheel;

    /** Starts a timer with a tick of a millisecond and a wheel of 512 buckets. */
    public WheelTimer() {
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
        // Wake the thread only if it would otherwise see this timeout more than a tick late; under load it wakes every
        // tick anyway. Only the schedule that claims the wake-up (sets it to 0) unparks the thread.
        long w = wakeAt.get();
        if (t.deadline + tickNanos < w && wakeAt.compareAndSet(w, 0)) {
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
            long now = sleep();
            if (closed) {
                break;
            }
            if (inWheel == 0) {
                tick = Math.max(tick, now / tickNanos); // every bucket is empty: start from the present
            }
            transfer();
            // Every tick that has fully passed, in order; more than one after a long sleep or a stall.
            for (long passed = now / tickNanos; tick < passed; tick++) {
                wheel[(int) (tick & mask)].expire(now);
            }
        }
        queued.clear();
        for (Bucket b : wheel) {
            b.clear();
        }
    }

    /**
     * Sleeps until the end of the tick of the next bucket holding a timeout (at once if that has passed), or until the
     * end of the current tick if timeouts are queued, or for good if there is none; a schedule may cut it short.
     * Returns the time, relative to the start.
     */
    private long sleep() {
        long target = nextBucketEnd();
        wakeAt.set(target);
        // Re-check after announcing: a schedule that queued before reading the announcement did not wake anyone.
        if (!queued.isEmpty()) {
            target = Math.min(target, (tick + 1) * tickNanos);
        }
        long now;
        while (true) {
            now = System.nanoTime() - startNanos;
            if (wakeAt.get() == 0) {
                target = Math.min(target, (tick + 1) * tickNanos); // woken for an earlier timeout
            }
            if (now >= target || closed) {
                break;
            }
            if (target == Long.MAX_VALUE) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, target - now);
            }
        }
        wakeAt.set(0);
        return now;
    }

    /** Returns the end of the tick of the first bucket from the current one that holds a timeout, or "never". */
    private long nextBucketEnd() {
        if (inWheel == 0) {
            return Long.MAX_VALUE;
        }
        for (int i = 0; i < wheel.length; i++) {
            if (!wheel[(int) ((tick + i) & mask)].isEmpty()) {
                return (tick + i + 1) * tickNanos;
            }
        }
        return (tick + 1) * tickNanos; // not reached: a timeout in the wheel is in some bucket
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

        boolean isEmpty() {
            return head == null;
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
