package dev.latitude.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A token bucket that caps hedges at a share of calls: every eligible call deposits {@code ratio} of a token, a
 * hedge withdraws one, and at most {@code maxBurst} tokens are kept. Counts in millionths of a token; no clock, so
 * it behaves the same in tests and production. Thread-safe.
 */
final class HedgeBudget {
    private static final long ONE = 1_000_000;
    private final long deposit;
    private final long cap;
    private final AtomicLong balance = new AtomicLong();

    HedgeBudget(double ratio, int maxBurst) {
        this.deposit = Math.max(1, Math.round(ratio * ONE));
        this.cap = maxBurst * ONE;
    }

    void deposit() {
        long b;
        do {
            b = balance.get();
            if (b >= cap) {
                return;
            }
        } while (!balance.compareAndSet(b, Math.min(cap, b + deposit)));
    }

    boolean tryWithdraw() {
        long b;
        do {
            b = balance.get();
            if (b < ONE) {
                return false;
            }
        } while (!balance.compareAndSet(b, b - ONE));
        return true;
    }

    /** Returns the balance in tokens. */
    double tokens() {
        return balance.get() / (double) ONE;
    }
}
