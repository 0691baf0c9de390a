package dev.latitude.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SlowFallbackLimitTest {

    @Test
    void tryAcquire_noCalls_allowsTheMinimum() {
        SlowFallbackLimit l = new SlowFallbackLimit(0.2, 2);

        assertThat(l.tryAcquire()).isTrue();
        assertThat(l.tryAcquire()).isTrue();
        assertThat(l.tryAcquire()).isFalse();
        l.release();
        assertThat(l.tryAcquire()).as("a place given back is taken again").isTrue();
    }

    @Test
    void tryAcquire_manyCalls_allowsTheShare() {
        SlowFallbackLimit l = new SlowFallbackLimit(0.2, 2);
        for (int i = 0; i < 50; i++) {
            l.callStarted();
        }

        int granted = 0;
        while (l.tryAcquire()) {
            granted++;
        }

        assertThat(granted).as("20 % of 50 calls").isEqualTo(10);
        for (int i = 0; i < 40; i++) {
            l.callEnded();
        }
        l.release();
        assertThat(l.tryAcquire()).as("10 calls now: the minimum of 2 applies, 9 still run").isFalse();
        assertThat(l.running()).isEqualTo(9);
    }

    @Test
    void tryAcquire_concurrentCallers_neverExceedTheLimitAndEndAtZero() throws Exception {
        SlowFallbackLimit l = new SlowFallbackLimit(0.1, 5);
        AtomicInteger peak = new AtomicInteger();
        AtomicInteger over = new AtomicInteger();
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 20_000; i++) {
                    l.callStarted();
                    if (l.tryAcquire()) {
                        int now = l.running();
                        peak.accumulateAndGet(now, Math::max);
                        // At most 8 calls in flight: 10 % of them is below the minimum of 5.
                        if (now > 5) {
                            over.incrementAndGet();
                        }
                        l.release();
                    }
                    l.callEnded();
                }
            });
            w.start();
            workers.add(w);
        }
        start.countDown();
        for (Thread w : workers) {
            w.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(w.isAlive()).isFalse();
        }

        assertThat(over.get()).isZero();
        assertThat(peak.get()).isBetween(1, 5);
        assertThat(l.running()).isZero();
    }
}
