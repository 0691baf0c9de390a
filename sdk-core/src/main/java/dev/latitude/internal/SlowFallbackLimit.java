package dev.latitude.internal;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Caps, engine-wide, the attempts running beside an attempt that passed its timeout and still runs: at most
 * {@code max(minimum, share × calls in flight)} at a time. Such a fallback adds load (the slow attempt keeps its
 * connection and its place in the region), so when everything is slow at once (a cold JVM, a saturated host, every
 * region overloaded) unbounded fallbacks multiply the load by the number of regions and keep the slowness going. A
 * region failure needs few at a time: each lasts one round trip to a healthy region. Thread-safe, lock-free.
 */
final class SlowFallbackLimit {
    private final double share;
    private final int minimum;
    private final AtomicInteger calls = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();

    SlowFallbackLimit(double share, int minimum) {
        this.share = share;
        this.minimum = minimum;
    }

    void callStarted() {
        calls.incrementAndGet();
    }

    void callEnded() {
        calls.decrementAndGet();
    }

    /** Takes a place for one fallback beside a slow attempt, if the limit allows one more now. */
    boolean tryAcquire() {
        int allowed = Math.max(minimum, (int) (share * calls.get()));
        int r;
        do {
            r = running.get();
            if (r >= allowed) {
                return false;
            }
        } while (!running.compareAndSet(r, r + 1));
        return true;
    }

    /** Gives back the place of a fallback that ended. */
    void release() {
        running.decrementAndGet();
    }

    /** Returns the fallbacks beside slow attempts running now. */
    int running() {
        return running.get();
    }
}
