package dev.latitude.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LatencyTrackerTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long T0 = 1_000_000_000L;
    private static final long REFRESH = 100 * MS;
    private static final long WINDOW = 10_000 * MS;
    /** A prior far above every sample here, so that first samples are taken as they are. */
    private static final long PRIOR = 60_000 * MS;

    private static LatencyTracker tracker(long minSamples) {
        return new LatencyTracker(0.2, PRIOR, 95, minSamples, REFRESH, WINDOW, T0);
    }

    @Test
    void ewmaNanos_noSample_minusOne() {
        assertThat(tracker(1).ewmaNanos()).isEqualTo(-1);
    }

    @Test
    void ewmaNanos_firstSample_takenAsIs() {
        LatencyTracker t = tracker(1);

        t.record(12_345_678, T0);

        assertThat(t.ewmaNanos()).isEqualTo(12_345_678);
    }

    @Test
    void ewmaNanos_sequence_alpha02Arithmetic() {
        LatencyTracker t = tracker(1);

        t.record(1_000_000, T0);
        t.record(2_000_000, T0);
        assertThat(t.ewmaNanos()).isEqualTo(1_200_000);   // 1.0 ms + 0.2 x (2.0 - 1.0)

        t.record(200_000, T0);
        assertThat(t.ewmaNanos()).isEqualTo(1_000_000);   // 1.2 ms + 0.2 x (0.2 - 1.2)

        t.updateEwma(6_000_000);
        assertThat(t.ewmaNanos()).isEqualTo(1_400_000);   // 1.0 ms + 0.2 x (3.0 - 1.0): clipped to 3 x the estimate
    }

    @Test
    void ewmaNanos_longSequence_matchesClippedDoubleRecurrenceExactly() {
        LatencyTracker t = tracker(1);
        long[] samples = {5_000_000, 7_300_001, 1_999_999, 0, 42_000_017, 3, 9_999_999_999L, 15_000_000};
        double expected = Double.NaN;
        for (long s : samples) {
            expected = Double.isNaN(expected) ? s
                    : expected + 0.2 * (Math.min(s, Math.max(1_000_000.0, 3 * expected)) - expected);
            t.record(s, T0);
            assertThat(t.ewmaNanos()).isEqualTo((long) expected);
        }
    }

    @Test
    void updateEwma_negativeLatency_countsAsZero() {
        LatencyTracker t = tracker(1);
        t.updateEwma(1_000_000);

        t.updateEwma(-5_000_000);

        assertThat(t.ewmaNanos()).isEqualTo(800_000);
    }

    @Test
    void updateEwma_doesNotFeedPercentile() {
        LatencyTracker t = tracker(1);
        for (int i = 0; i < 10; i++) {
            t.updateEwma(5 * MS);
        }

        assertThat(t.percentileNanos(T0 + REFRESH)).isEqualTo(-1);
        assertThat(t.ewmaNanos()).isEqualTo(5 * MS);
    }

    @Test
    void percentileNanos_belowMinSamples_minusOne() {
        LatencyTracker t = tracker(20);
        for (int i = 0; i < 19; i++) {
            t.record(10 * MS, T0);
        }

        assertThat(t.percentileNanos(T0 + REFRESH)).isEqualTo(-1);

        t.record(10 * MS, T0 + REFRESH);
        assertThat(t.percentileNanos(T0 + 2 * REFRESH)).isCloseTo(10 * MS, withinPercentage(1));
    }

    @Test
    void percentileNanos_uniformOneToThousandMillis_p95Near950ms() {
        LatencyTracker t = tracker(20);
        for (int i = 1; i <= 1000; i++) {
            t.record(i * MS, T0);
        }

        assertThat(t.percentileNanos(T0 + REFRESH)).isCloseTo(950 * MS, withinPercentage(1));
    }

    @Test
    void percentileNanos_p99OfSkewedDistribution_findsTheTail() {
        LatencyTracker t = new LatencyTracker(0.2, PRIOR, 99, 20, REFRESH, WINDOW, T0);
        for (int i = 0; i < 980; i++) {
            t.record(2 * MS, T0);
        }
        for (int i = 0; i < 20; i++) {
            t.record(300 * MS, T0);
        }

        assertThat(t.percentileNanos(T0 + REFRESH)).isCloseTo(300 * MS, withinPercentage(1));
    }

    @Test
    void percentileNanos_withinRefreshInterval_returnsCachedValue() {
        LatencyTracker t = tracker(20);
        for (int i = 0; i < 20; i++) {
            t.record(10 * MS, T0);
        }
        long first = t.percentileNanos(T0 + REFRESH);
        assertThat(first).isCloseTo(10 * MS, withinPercentage(1));

        for (int i = 0; i < 20; i++) {
            t.record(500 * MS, T0 + REFRESH + 50 * MS);
        }
        assertThat(t.percentileNanos(T0 + REFRESH + 99 * MS)).isEqualTo(first);

        assertThat(t.percentileNanos(T0 + 2 * REFRESH)).isCloseTo(500 * MS, withinPercentage(1));
    }

    @Test
    void percentileNanos_samplesWithinHalfWindow_kept() {
        LatencyTracker t = tracker(20);
        for (int i = 0; i < 20; i++) {
            t.record(10 * MS, T0);
        }

        assertThat(t.percentileNanos(T0 + WINDOW / 2 - MS)).isCloseTo(10 * MS, withinPercentage(1));
    }

    @Test
    void percentileNanos_samplesOlderThanWindow_droppedAfterAdvancing() {
        LatencyTracker t = tracker(20);
        for (int i = 0; i < 20; i++) {
            t.record(10 * MS, T0);
        }
        assertThat(t.percentileNanos(T0 + REFRESH)).isPositive();              // harvested into the first half
        assertThat(t.percentileNanos(T0 + WINDOW / 2 + REFRESH)).isPositive(); // rotated into the older half

        assertThat(t.percentileNanos(T0 + WINDOW + 2 * REFRESH)).isEqualTo(-1);
    }

    @Test
    void percentileNanos_noQueryForTwoWindows_olderHalfAndCurrentBothDropped() {
        LatencyTracker t = tracker(20);
        for (int i = 0; i < 20; i++) {
            t.record(10 * MS, T0);
        }
        assertThat(t.percentileNanos(T0 + REFRESH)).isPositive();

        assertThat(t.percentileNanos(T0 + 3 * WINDOW)).isEqualTo(-1);
    }

    @Test
    void percentileNanos_oldSamplesDroppedNewOnesKept_reflectsOnlyRecentLatency() {
        LatencyTracker t = tracker(20);
        for (int i = 0; i < 20; i++) {
            t.record(400 * MS, T0);
        }
        assertThat(t.percentileNanos(T0 + REFRESH)).isCloseTo(400 * MS, withinPercentage(1));
        t.percentileNanos(T0 + WINDOW / 2 + REFRESH);
        long late = T0 + WINDOW + 2 * REFRESH;
        for (int i = 0; i < 20; i++) {
            t.record(20 * MS, late);
        }

        assertThat(t.percentileNanos(late + REFRESH)).isCloseTo(20 * MS, withinPercentage(1));
    }

    @Test
    void record_triggersRefreshOnceIntervalPassed() {
        LatencyTracker t = tracker(1);
        t.record(30 * MS, T0);

        t.record(30 * MS, T0 + REFRESH); // refreshes as a side effect

        assertThat(t.percentileNanos(T0 + REFRESH)).isCloseTo(30 * MS, withinPercentage(1));
    }

    @Test
    void record_latencyBelowOneMicrosecond_countsAsOneMicrosecond() {
        LatencyTracker t = tracker(1);
        t.record(0, T0);

        assertThat(t.percentileNanos(T0 + REFRESH)).isEqualTo(TimeUnit.MICROSECONDS.toNanos(1));
    }

    @Test
    void percentileNanos_samplesOlderThanWindowButNeverCollected_areDropped() {
        LatencyTracker t = tracker(20);
        for (int i = 0; i < 20; i++) {
            t.record(10 * MS, T0);
        }
        assertThat(t.percentileNanos(T0 + 12_000 * MS)).isEqualTo(-1);
    }

    @Test
    void percentileNanos_samplesCollectedThenAged_areDroppedAfterTheWindow() {
        LatencyTracker t = tracker(20);
        for (int i = 0; i < 20; i++) {
            t.record(10 * MS, T0);
        }
        assertThat(t.percentileNanos(T0 + 7_000 * MS)).isPositive();
        assertThat(t.percentileNanos(T0 + 12_500 * MS)).isEqualTo(-1);
    }

    @Test
    void percentileNanos_refreshLateAfterARecentBurst_keepsTheFreshSamples() {
        // A refresh that comes late (here: a refresh interval longer than the window) must not throw away samples
        // recorded just before it, only those whose time has passed.
        LatencyTracker t = new LatencyTracker(0.2, PRIOR, 95, 20, 2_500 * MS, 2_000 * MS, T0);
        for (int i = 0; i < 20; i++) {
            t.record(30 * MS, T0 + 100 * MS);
        }
        for (int i = 0; i < 20; i++) {
            t.record(10 * MS, T0 + 2_450 * MS);
        }
        long p = t.percentileNanos(T0 + 2_500 * MS);
        assertThat(p).as("the 20 fresh samples of 10 ms are kept").isPositive();
        assertThat(t.percentileNanos(T0 + 5_000 * MS)).as("and dropped once older than the window").isEqualTo(-1);
    }

    @Test
    void updateEwma_outlierAmongFastSamples_countsForThreeTimesTheEstimate() {
        LatencyTracker t = tracker(1);
        t.record(3 * MS, T0);

        t.record(300 * MS, T0);

        assertThat(t.ewmaNanos()).isEqualTo(4_200_000); // 3 ms + 0.2 x (9 ms - 3 ms), not 62.4 ms
        for (int i = 0; i < 30; i++) {
            t.record(3 * MS, T0);
        }
        assertThat(t.ewmaNanos()).isBetween(3 * MS, 3 * MS + 10_000);
    }

    @Test
    void updateEwma_regionBecomesUniformlySlow_estimatePassesFortyFiveMillisecondsWithinElevenSamples() {
        LatencyTracker t = tracker(1);
        t.record(3 * MS, T0);

        int samples = 0;
        while (t.ewmaNanos() <= 45 * MS) {
            t.record(60 * MS, T0);
            samples++;
        }

        assertThat(samples).isEqualTo(11);
    }

    @Test
    void updateEwma_firstSampleOfTheLocalRegion_clippedAgainstItsZeroPrior() {
        LatencyTracker t = new LatencyTracker(0.2, 0, 95, 1, REFRESH, WINDOW, T0);

        t.record(300 * MS, T0); // a cold start's first answer

        assertThat(t.ewmaNanos()).isEqualTo(MS);
    }

    @Test
    void updateEwma_firstSampleOfARemoteRegion_clippedAtThreeTimesItsDistanceEstimate() {
        LatencyTracker t = new LatencyTracker(0.2, 30 * MS, 95, 1, REFRESH, WINDOW, T0);

        t.record(45 * MS, T0);
        assertThat(t.ewmaNanos()).isEqualTo(45 * MS);

        LatencyTracker far = new LatencyTracker(0.2, 30 * MS, 95, 1, REFRESH, WINDOW, T0);
        far.record(500 * MS, T0);
        assertThat(far.ewmaNanos()).isEqualTo(90 * MS);
    }

    @Test
    void updateEwma_estimateNearZero_growsFromTheOneMillisecondFloor() {
        LatencyTracker t = tracker(1);
        t.record(0, T0);

        t.record(50 * MS, T0);

        assertThat(t.ewmaNanos()).isEqualTo(200_000); // 0 + 0.2 x 1 ms
    }

    @Test
    void hedgeDelayNanos_tightDistribution_twiceTheMedianRatherThanP95() {
        LatencyTracker t = tracker(20);
        for (int i = 0; i < 100; i++) {
            t.record((i < 94 ? 3 : 4) * MS, T0);
        }

        long now = T0 + REFRESH;
        assertThat(t.percentileNanos(now)).isCloseTo(4 * MS, withinPercentage(1));
        assertThat(t.medianNanos(now)).isCloseTo(3 * MS, withinPercentage(1));
        assertThat(t.hedgeDelayNanos(now)).isEqualTo(2 * t.medianNanos(now));
    }

    @Test
    void hedgeDelayNanos_longTail_theTrackedPercentile() {
        LatencyTracker t = tracker(20);
        for (int i = 0; i < 100; i++) {
            t.record((i < 90 ? 3 : 20) * MS, T0);
        }

        long now = T0 + REFRESH;
        assertThat(t.hedgeDelayNanos(now)).isEqualTo(t.percentileNanos(now));
        assertThat(t.hedgeDelayNanos(now)).isCloseTo(20 * MS, withinPercentage(1));
    }

    @Test
    void hedgeDelayNanos_tooFewSamples_minusOne() {
        LatencyTracker t = tracker(20);
        t.record(3 * MS, T0);

        assertThat(t.hedgeDelayNanos(T0 + REFRESH)).isEqualTo(-1);
        assertThat(t.medianNanos(T0 + REFRESH)).isEqualTo(-1);
    }
}
