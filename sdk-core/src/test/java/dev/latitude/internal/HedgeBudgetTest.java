package dev.latitude.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HedgeBudgetTest {

    @Test
    void tryWithdraw_new_emptyAndRefuses() {
        HedgeBudget b = new HedgeBudget(0.05, 10);

        assertThat(b.tokens()).isZero();
        assertThat(b.tryWithdraw(true)).isFalse();
    }

    @Test
    void tryWithdraw_afterTwentyDepositsAtFivePercent_exactlyOneToken() {
        HedgeBudget b = new HedgeBudget(0.05, 10);
        for (int i = 0; i < 19; i++) {
            b.deposit();
        }
        assertThat(b.tryWithdraw(true)).isFalse();

        b.deposit();

        assertThat(b.tokens()).isCloseTo(1.0, within(1e-9));
        assertThat(b.tryWithdraw(true)).isTrue();
        assertThat(b.tryWithdraw(true)).isFalse();
    }

    @Test
    void deposit_manyWithoutWithdrawals_cappedAtMaxBurst() {
        HedgeBudget b = new HedgeBudget(0.05, 10);
        for (int i = 0; i < 100_000; i++) {
            b.deposit();
        }

        assertThat(b.tokens()).isEqualTo(10.0);
        int withdrawn = 0;
        while (b.tryWithdraw(true)) {
            withdrawn++;
        }
        assertThat(withdrawn).isEqualTo(10);
    }

    @Test
    void tryWithdraw_greedyEveryCall_neverMoreThanRatioOfCalls() {
        HedgeBudget b = new HedgeBudget(0.05, 10);
        int withdrawn = 0;
        for (int calls = 1; calls <= 10_000; calls++) {
            b.deposit();
            if (b.tryWithdraw(true)) {
                withdrawn++;
            }
            assertThat(withdrawn).isLessThanOrEqualTo((int) Math.floor(0.05 * calls + 1e-9));
        }
        assertThat(withdrawn).isEqualTo(500);
    }

    @Test
    void tryWithdraw_burstyPattern_neverMoreThanRatioTimesCallsPlusMaxBurst() {
        double ratio = 0.1;
        int maxBurst = 5;
        HedgeBudget b = new HedgeBudget(ratio, maxBurst);
        Random random = new Random(12345);
        long calls = 0;
        long withdrawn = 0;
        for (int round = 0; round < 500; round++) {
            int quiet = random.nextInt(200);
            for (int i = 0; i < quiet; i++) {
                b.deposit();
                calls++;
            }
            int burst = random.nextInt(30);
            for (int i = 0; i < burst; i++) {
                if (b.tryWithdraw(true)) {
                    withdrawn++;
                }
                assertThat((double) withdrawn).isLessThanOrEqualTo(ratio * calls + maxBurst);
            }
        }
        assertThat(withdrawn).isGreaterThan(0);
        assertThat(b.tokens()).isBetween(0.0, (double) maxBurst);
    }

    @Test
    void deposit_tinyRatio_stillAccumulatesAtLeastOneMillionth() {
        HedgeBudget b = new HedgeBudget(1e-9, 1);
        for (int i = 0; i < 999_999; i++) {
            b.deposit();
        }
        assertThat(b.tryWithdraw(true)).isFalse();

        b.deposit();

        assertThat(b.tryWithdraw(true)).isTrue();
    }

    @Test
    void tryWithdraw_ratioOne_oneHedgePerCall() {
        HedgeBudget b = new HedgeBudget(1.0, 1);
        b.deposit();
        b.deposit();

        assertThat(b.tryWithdraw(true)).isTrue();
        assertThat(b.tryWithdraw(true)).isFalse();
    }

    @Test
    void tryWithdraw_ordinaryHedge_leavesHalfTheBurstForLateHedges() {
        HedgeBudget b = new HedgeBudget(1.0, 10);
        for (int i = 0; i < 10; i++) {
            b.deposit();
        }

        int ordinary = 0;
        while (b.tryWithdraw(false)) {
            ordinary++;
        }
        int late = 0;
        while (b.tryWithdraw(true)) {
            late++;
        }

        assertThat(ordinary).as("ordinary hedges stop at the reserve").isEqualTo(5);
        assertThat(late).as("late hedges may spend the reserve").isEqualTo(5);
    }

    @Test
    void tryWithdraw_burstOfOne_noReserve() {
        HedgeBudget b = new HedgeBudget(1.0, 1);
        b.deposit();

        assertThat(b.tryWithdraw(false)).isTrue();
    }

    @Test
    void tryWithdraw_eightThreadsDepositingAndWithdrawingBothKinds_neverMoreThanRatioOfDepositsPlusBurst()
            throws Exception {
        double ratio = 0.05;
        int maxBurst = 10;
        int threads = 8;
        int callsPerThread = 200_000;
        HedgeBudget b = new HedgeBudget(ratio, maxBurst);
        AtomicLong deposits = new AtomicLong();
        AtomicLong withdrawn = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Random random = new Random(t);
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < callsPerThread; i++) {
                        b.deposit();
                        deposits.incrementAndGet();
                        // Every call tries to hedge, ordinary or late at random: far more demand than the budget.
                        if (b.tryWithdraw(random.nextBoolean())) {
                            withdrawn.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        // Each deposit adds exactly 50,000 millionths, so the bound is exact, not approximate.
        long bound = (long) Math.floor(deposits.get() * ratio) + maxBurst;
        assertThat(withdrawn.get()).isLessThanOrEqualTo(bound);
        assertThat(withdrawn.get()).as("the budget is actually spent").isGreaterThan(bound / 2);
        assertThat(b.tokens()).isBetween(0.0, (double) maxBurst);
    }
}
