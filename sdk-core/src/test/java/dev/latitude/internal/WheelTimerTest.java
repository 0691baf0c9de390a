package dev.latitude.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.spi.Scheduler;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The engine's hashed wheel timer. Waits are bounded generously (a cold JVM on a busy machine) and every assertion is
 * about what fired and in which order, never about how fast.
 */
class WheelTimerTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private final List<WheelTimer> timers = new ArrayList<>();

    private WheelTimer timer(long tickNanos, int wheelSize) {
        WheelTimer t = new WheelTimer(tickNanos, wheelSize);
        timers.add(t);
        return t;
    }

    @AfterEach
    void close() {
        timers.forEach(WheelTimer::close);
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        assertThat(latch.await(30, TimeUnit.SECONDS)).as("fired within 30 s").isTrue();
    }

    /**
     * Holds the timer thread in a task until the returned latch is counted down, so the test can arm and cancel
     * timeouts knowing none can fire meanwhile.
     */
    private static CountDownLatch holdTimerThread(WheelTimer timer) throws InterruptedException {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        timer.schedule(() -> {
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, 0);
        await(running);
        return release;
    }

    @Test
    void schedule_differentDelays_fireInOrderOfDueTime() throws InterruptedException {
        WheelTimer timer = timer(MS, 512);
        ConcurrentLinkedQueue<Integer> fired = new ConcurrentLinkedQueue<>();
        CountDownLatch all = new CountDownLatch(4);
        CountDownLatch release = holdTimerThread(timer);
        // Armed while the timer thread is held, so all four are due (or nearly) when it next ticks: the order must
        // come from their deadlines, not from when the thread got to them.
        for (int delayMs : new int[] {40, 10, 30, 20}) {
            timer.schedule(() -> {
                fired.add(delayMs);
                all.countDown();
            }, delayMs * MS);
        }
        release.countDown();
        await(all);
        assertThat(fired).containsExactly(10, 20, 30, 40);
    }

    @Test
    void schedule_neverFiresBeforeItsDelay() throws InterruptedException {
        WheelTimer timer = timer(MS, 512);
        int n = 200;
        long[] early = new long[1];
        CountDownLatch all = new CountDownLatch(n);
        Random random = new Random(7);
        for (int i = 0; i < n; i++) {
            long delay = random.nextInt(20_000) * 1_000L; // 0 to 20 ms in microseconds
            long armed = System.nanoTime();
            timer.schedule(() -> {
                if (System.nanoTime() - armed < delay) {
                    synchronized (early) {
                        early[0]++;
                    }
                }
                all.countDown();
            }, delay);
        }
        await(all);
        synchronized (early) {
            assertThat(early[0]).as("timeouts that fired before their delay").isZero();
        }
    }

    @Test
    void cancel_beforeDue_taskNeverRuns() throws InterruptedException {
        WheelTimer timer = timer(MS, 512);
        CountDownLatch release = holdTimerThread(timer);
        AtomicReference<String> ran = new AtomicReference<>();
        Scheduler.Cancellable cancelled = timer.schedule(() -> ran.set("cancelled one"), MS);
        cancelled.cancel();
        cancelled.cancel(); // twice is harmless
        CountDownLatch later = new CountDownLatch(1);
        timer.schedule(later::countDown, 5 * MS);
        release.countDown();
        await(later);
        assertThat(ran.get()).isNull();
    }

    @Test
    void cancel_afterArrivingInTheWheel_taskNeverRunsAndIsDroppedWhenPassed() throws InterruptedException {
        WheelTimer timer = timer(MS, 8);
        AtomicReference<String> ran = new AtomicReference<>();
        CountDownLatch first = new CountDownLatch(1);
        // Far beyond one rotation (8 ms), so the timeout sits in the wheel, counting rounds, when it is cancelled.
        Scheduler.Cancellable c = timer.schedule(() -> ran.set("cancelled one"), TimeUnit.SECONDS.toNanos(30));
        timer.schedule(first::countDown, 20 * MS);
        await(first);
        c.cancel();
        CountDownLatch later = new CountDownLatch(1);
        timer.schedule(later::countDown, 20 * MS);
        await(later);
        assertThat(ran.get()).isNull();
        // The wheel holds nothing live: the timer goes to sleep without ticking.
        awaitIdle(timer);
    }

    @Test
    void schedule_delaysBeyondOneRotation_fireInOrderAndNotEarly() throws InterruptedException {
        WheelTimer timer = timer(MS, 8); // one rotation: 8 ms
        ConcurrentLinkedQueue<Integer> fired = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Long> early = new ConcurrentLinkedQueue<>();
        CountDownLatch all = new CountDownLatch(4);
        for (int delayMs : new int[] {37, 5, 80, 16}) {
            long armed = System.nanoTime();
            timer.schedule(() -> {
                if (System.nanoTime() - armed < delayMs * MS) {
                    early.add((long) delayMs);
                }
                fired.add(delayMs);
                all.countDown();
            }, delayMs * MS);
        }
        await(all);
        assertThat(early).isEmpty();
        assertThat(fired).containsExactly(5, 16, 37, 80);
    }

    @Test
    void task_throws_timerCarriesOn() throws InterruptedException {
        WheelTimer timer = timer(MS, 512);
        timer.schedule(() -> {
            throw new IllegalStateException("thrown on purpose by the test");
        }, 0);
        CountDownLatch after = new CountDownLatch(1);
        timer.schedule(after::countDown, 2 * MS);
        await(after);
        assertThat(timer.thread().isAlive()).isTrue();
    }

    @Test
    void close_stopsThreadAndDropsPendingTimeouts() throws InterruptedException {
        WheelTimer timer = timer(MS, 512);
        CountDownLatch release = holdTimerThread(timer);
        AtomicReference<String> ran = new AtomicReference<>();
        timer.schedule(() -> ran.set("pending at close"), MS);
        timer.close();
        timer.schedule(() -> ran.set("armed after close"), 0);
        release.countDown();
        timer.thread().join(TimeUnit.SECONDS.toMillis(30));
        assertThat(timer.thread().isAlive()).as("timer thread ended").isFalse();
        assertThat(ran.get()).isNull();
    }

    @Test
    void idle_sleepsUntilTheNextSchedule_thenFiresIt() throws InterruptedException {
        WheelTimer timer = timer(MS, 512);
        CountDownLatch first = new CountDownLatch(1);
        timer.schedule(first::countDown, MS);
        await(first);
        awaitIdle(timer);
        CountDownLatch second = new CountDownLatch(1);
        timer.schedule(second::countDown, 3 * MS);
        await(second);
    }

    /**
     * With only a timeout a minute away in a wheel of 65 s, the thread sleeps until that timeout's bucket; a timeout
     * due sooner must wake it (the wait for it is bounded well below the minute).
     */
    @Test
    void schedule_soonerThanTheThreadMeansToWake_wakesIt() throws InterruptedException {
        WheelTimer timer = timer(MS, 1 << 16);
        timer.schedule(() -> { }, TimeUnit.SECONDS.toNanos(60));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (timer.thread().getState() != Thread.State.TIMED_WAITING) {
            assertThat(System.nanoTime()).as("timer asleep within 30 s").isLessThan(end);
            Thread.sleep(5);
        }
        CountDownLatch soon = new CountDownLatch(1);
        timer.schedule(soon::countDown, 2 * MS);
        await(soon);
    }

    /** Waits until the timer thread sleeps without a timeout: nothing armed, no tick to wait for. */
    private static void awaitIdle(WheelTimer timer) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (timer.thread().getState() != Thread.State.WAITING) {
            assertThat(System.nanoTime()).as("timer went idle within 30 s").isLessThan(end);
            Thread.sleep(5);
        }
    }

    /**
     * Eight threads arm and cancel timeouts at once while the timer runs: every timeout not cancelled fires exactly
     * once, and none fires twice. A second round holds the timer thread while the threads arm and cancel, so every
     * cancel surely comes first: then no cancelled timeout may fire at all.
     */
    @Test
    void stress_eightThreadsScheduleAndCancel_loseNothing() throws Exception {
        WheelTimer timer = timer(MS, 64);
        run(timer, false);
        run(timer, true);
    }

    private static void run(WheelTimer timer, boolean holdTimer) throws Exception {
        int threads = 8;
        int perThread = 5_000;
        AtomicIntegerArray kept = new AtomicIntegerArray(threads * perThread);
        AtomicIntegerArray cancelled = new AtomicIntegerArray(threads * perThread);
        CountDownLatch keptFired = new CountDownLatch(threads * perThread);
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch release = holdTimer ? holdTimerThread(timer) : null;
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            int base = w * perThread;
            Random random = new Random(w);
            Thread t = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    int id = base + i;
                    timer.schedule(() -> {
                        kept.incrementAndGet(id);
                        keptFired.countDown();
                    }, random.nextInt(5_000) * 1_000L);
                    // Some cancelled timeouts are near (cancelled in the queue or in the wheel), some far (rounds).
                    long delay = random.nextBoolean() ? random.nextInt(5_000) * 1_000L : 100 * MS;
                    timer.schedule(() -> cancelled.incrementAndGet(id), delay).cancel();
                }
            });
            workers.add(t);
            t.start();
        }
        start.countDown();
        for (Thread t : workers) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        if (release != null) {
            release.countDown();
        }
        await(keptFired);
        // A last timeout past every near delay: once it fires, any cancelled timeout that was going to fire has.
        CountDownLatch after = new CountDownLatch(1);
        timer.schedule(after::countDown, 10 * MS);
        await(after);
        for (int i = 0; i < kept.length(); i++) {
            assertThat(kept.get(i)).as("kept timeout %d fired once", i).isEqualTo(1);
            assertThat(cancelled.get(i)).as("cancelled timeout %d fired at most once", i).isLessThanOrEqualTo(1);
            if (holdTimer) {
                assertThat(cancelled.get(i)).as("cancelled before it could fire: %d", i).isZero();
            }
        }
    }
}
