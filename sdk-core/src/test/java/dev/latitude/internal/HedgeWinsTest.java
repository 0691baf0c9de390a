package dev.latitude.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HedgeWinsTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void noAttemptsAndNoWins_isNotFrequent() {
        HedgeWins w = new HedgeWins(10 * SECOND, 10, 0);
        assertThat(w.frequent(0)).isFalse();
        assertThat(w.frequent(60 * SECOND)).isFalse();
    }

    @Test
    void frequent_fromOneWinInAHundredAttempts() {
        HedgeWins w = new HedgeWins(10 * SECOND, 10, 0);
        attempts(w, 199);
        w.beaten(SECOND);
        assertThat(w.frequent(SECOND)).as("1 in 199").isFalse();
        w.beaten(SECOND);
        assertThat(w.frequent(SECOND)).as("2 in 199: about 1 in 100").isTrue();
    }

    @Test
    void aWinWithFewAttempts_isFrequent() {
        HedgeWins w = new HedgeWins(10 * SECOND, 10, 0);
        attempts(w, 3);
        w.beaten(0);
        assertThat(w.frequent(0)).isTrue();
    }

    @Test
    void winsAgeOut_afterTheWholeWindow_notBefore() {
        HedgeWins w = new HedgeWins(10 * SECOND, 10, 0);
        attempts(w, 50);
        w.beaten(SECOND);
        assertThat(w.frequent(SECOND)).isTrue();
        assertThat(w.frequent(6 * SECOND)).as("the first half became the previous one").isTrue();
        attempts(w, 10);
        assertThat(w.frequent(9 * SECOND)).isTrue();
        assertThat(w.frequent(11 * SECOND)).as("both halves since the win have passed").isFalse();
    }

    @Test
    void attemptsInTheNewHalf_dilutePreviousWins() {
        HedgeWins w = new HedgeWins(10 * SECOND, 10, 0);
        attempts(w, 100);
        w.beaten(SECOND);
        w.beaten(SECOND);
        assertThat(w.frequent(6 * SECOND)).isTrue(); // rolls: 2 wins in 100 attempts behind
        attempts(w, 200);
        assertThat(w.frequent(7 * SECOND)).as("2 wins in 300 attempts").isFalse();
    }

    @Test
    void aLongGap_leavesNothingBehind() {
        HedgeWins w = new HedgeWins(10 * SECOND, 10, 0);
        attempts(w, 10);
        w.beaten(0);
        w.beaten(30 * SECOND); // the first event after a long quiet spell
        attempts(w, 1_000);
        assertThat(w.frequent(30 * SECOND)).as("1 win in 1,000 attempts; the old win is gone").isFalse();
    }

    @Test
    void concurrentAttemptsAndWins_countEveryWin() throws Exception {
        HedgeWins w = new HedgeWins(10 * SECOND, 10, 0);
        int threads = 8;
        int each = 10_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    w.attempt();
                    if (i % 200 == 0) {
                        w.beaten(SECOND); // 1 in 200: half the threshold
                    }
                    w.frequent(SECOND);
                }
            });
            th.start();
            ts.add(th);
        }
        start.countDown();
        for (Thread th : ts) {
            th.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(th.isAlive()).isFalse();
        }
        assertThat(w.frequent(SECOND)).as("400 wins in 80,000 attempts").isFalse();
        for (int i = 0; i < 400; i++) {
            w.beaten(SECOND);
        }
        assertThat(w.frequent(SECOND)).as("800 wins in 80,000 attempts: every win was counted").isTrue();
    }

    private static void attempts(HedgeWins w, int n) {
        for (int i = 0; i < n; i++) {
            w.attempt();
        }
    }
}
