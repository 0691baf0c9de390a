package dev.latitude.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A token bucket that caps hedges at a share of calls: every eligible call deposits {@code ratio} of a token, a
 * hedge withdraws one, and at most {@code maxBurst} tokens are kept. Counts in millionths of a token; no clock, so
 * it behaves the same in tests and production. Thread-safe.
 *
 * <p>Half the burst (rounded down) is a reserve that only late hedges may spend ({@link #tryWithdraw(boolean)}): a
 * hedge at the ordinary trigger leaves it alone, so requests just past the trigger cannot use up the budget that the
 * real tail (requests still unanswered at twice the trigger) needs. Whoever withdraws, the bound is the same: hedges
 * never exceed {@code ratio} of the deposits plus {@code maxBurst}.
 */
final class HedgeBudget {
    private static final long ONE = 1_000_000;
    private final long deposit;
    private final long cap;
    private final long reserve;
    private final AtomicLong balance = new AtomicLong();

    HedgeBudget(double ratio, int maxBurst) {
        this.deposit = Math.max(1, Math.round(ratio * ONE));
        this.cap = maxBurst * ONE;
        this.reserve = (maxBurst / 2) * ONE;
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

    /**
     * Takes one token for a hedge.
     *
     * @param late whether the hedge is a late one, which may spend the reserve; an ordinary hedge may not
     * @return whether a token was taken
     */
    boolean tryWithdraw(boolean late) {
        long floor = late ? ONE : reserve + ONE;
        long b;
        do {
            b = balance.get();
            if (b < floor) {
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
