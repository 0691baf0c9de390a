package dev.latitude.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.BreakerConfig;
import dev.latitude.CircuitState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The breaker's state machine on its own, timed by explicit ticker readings (nanoseconds). */
class RegionBreakerTest {
    private static final long MS = 1_000_000L;

    private final List<String> transitions = new ArrayList<>();

    private RegionBreaker breaker(BreakerConfig config) {
        return new RegionBreaker(config, (from, to, now) -> transitions.add(from + "->" + to + "@" + now / MS));
    }

    @Test
    void recordFailure_thresholdMetBelowMinimumVolume_staysClosed() {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(2, 10)
                .minimumVolume(4, Duration.ofSeconds(10)).build());

        b.recordFailure(0, 0);
        b.recordFailure(1 * MS, 1 * MS);
        b.recordFailure(2 * MS, 2 * MS);
        assertThat(b.state()).isEqualTo(CircuitState.CLOSED);
        b.recordFailure(3 * MS, 3 * MS);

        assertThat(b.state()).isEqualTo(CircuitState.OPEN);
        assertThat(transitions).containsExactly("CLOSED->OPEN@3");
    }

    @Test
    void recordFailure_successesCountTowardsVolume() {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(2, 10)
                .minimumVolume(4, Duration.ofSeconds(10)).build());
        b.recordSuccess(0, 0);
        b.recordSuccess(0, 0);
        b.recordFailure(0, 0);

        b.recordFailure(0, 0);

        assertThat(b.state()).isEqualTo(CircuitState.OPEN);
    }

    @Test
    void recordFailure_outcomesOlderThanVolumePeriod_countNeitherAsFailuresNorVolume() {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(2, 10)
                .minimumVolume(2, Duration.ofSeconds(1)).build());
        b.recordFailure(0, 0);

        b.recordFailure(1001 * MS, 1001 * MS);

        assertThat(b.state()).as("the first failure is 1001 ms old").isEqualTo(CircuitState.CLOSED);
        b.recordFailure(2000 * MS, 2000 * MS);
        assertThat(b.state()).as("999 ms apart: both count").isEqualTo(CircuitState.OPEN);
    }

    @Test
    void recordFailure_exactlyOneVolumePeriodOld_stillCounts() {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(2, 10)
                .minimumVolume(2, Duration.ofSeconds(1)).build());
        b.recordFailure(0, 0);

        b.recordFailure(1000 * MS, 1000 * MS);

        assertThat(b.state()).isEqualTo(CircuitState.OPEN);
    }

    @Test
    void recordFailure_failuresSlidOutOfTheWindow_doNotCount() {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(2, 3)
                .minimumVolume(1, Duration.ofSeconds(10)).build());
        b.recordFailure(0, 0);
        b.recordSuccess(0, 0);
        b.recordSuccess(0, 0);
        b.recordSuccess(0, 0); // the failure is no longer among the last 3

        b.recordFailure(0, 0);

        assertThat(b.state()).isEqualTo(CircuitState.CLOSED);
        b.recordFailure(0, 0);
        assertThat(b.state()).isEqualTo(CircuitState.OPEN);
    }

    @Test
    void tryAcquirePermit_open_refusedUntilHalfOpenThenOnlySuccessThresholdPermits() {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(1, 1).successThreshold(2).build());
        b.recordFailure(0, 0);
        assertThat(b.tryAcquirePermit()).isFalse();

        b.halfOpen(5000 * MS);

        assertThat(b.state()).isEqualTo(CircuitState.HALF_OPEN);
        assertThat(b.tryAcquirePermit()).isTrue();
        assertThat(b.tryAcquirePermit()).isTrue();
        assertThat(b.tryAcquirePermit()).as("both trial permits are taken").isFalse();
    }

    @Test
    void recordSuccess_halfOpenTrialsSucceed_closesWithAFreshWindow() {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(2, 5)
                .minimumVolume(1, Duration.ofSeconds(10)).successThreshold(2).build());
        b.recordFailure(0, 0);
        b.recordFailure(0, 0);
        b.halfOpen(5000 * MS);

        b.recordSuccess(5001 * MS, 5001 * MS);
        assertThat(b.state()).isEqualTo(CircuitState.HALF_OPEN);
        b.recordSuccess(5002 * MS, 5002 * MS);

        assertThat(b.state()).isEqualTo(CircuitState.CLOSED);
        b.recordFailure(5003 * MS, 5003 * MS);
        assertThat(b.state()).as("the failures before it opened are forgotten").isEqualTo(CircuitState.CLOSED);
        assertThat(transitions).containsExactly("CLOSED->OPEN@0", "OPEN->HALF_OPEN@5000", "HALF_OPEN->CLOSED@5002");
    }

    @Test
    void recordFailure_halfOpen_reopensAtOnce() {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(5, 10).successThreshold(3).build());
        b.open(0);
        b.halfOpen(10 * MS);

        b.recordFailure(20 * MS, 20 * MS);

        assertThat(b.state()).isEqualTo(CircuitState.OPEN);
        assertThat(b.tryAcquirePermit()).isFalse();
    }

    @Test
    void halfOpen_outcomesOfAttemptsStartedBeforeIt_areNotTrials() {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(5, 10).successThreshold(1).build());
        b.open(0);
        b.halfOpen(10 * MS);

        b.recordFailure(11 * MS, 5 * MS);
        assertThat(b.state()).as("a failure of an attempt sent before the trial began").isEqualTo(CircuitState.HALF_OPEN);
        b.recordSuccess(12 * MS, 9 * MS);
        assertThat(b.state()).as("nor does an old success close it").isEqualTo(CircuitState.HALF_OPEN);
        b.recordSuccess(13 * MS, 10 * MS);
        assertThat(b.state()).isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void recordSuccess_open_isIgnored() {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(1, 1).successThreshold(1).build());
        b.recordFailure(0, 0);

        b.recordSuccess(1, 1);

        assertThat(b.state()).isEqualTo(CircuitState.OPEN);
    }

    @Test
    void halfOpen_unlessOpen_isNoOp() {
        RegionBreaker b = breaker(BreakerConfig.defaults());

        b.halfOpen(0);

        assertThat(b.state()).isEqualTo(CircuitState.CLOSED);
        assertThat(transitions).isEmpty();
    }

    /** A breaker opened by one failure at 0 ms and half-opened at 100 ms. */
    private RegionBreaker halfOpenedAt100Ms(int successThreshold) {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(1, 1).minimumVolume(1, Duration.ofSeconds(10))
                .successThreshold(successThreshold).build());
        b.recordFailure(0, 0);
        b.halfOpen(100 * MS);
        return b;
    }

    @Test
    void returnTrialPermit_trialEndedWithoutVerdict_anotherCallMayTakeTheTrial() {
        RegionBreaker b = halfOpenedAt100Ms(2);
        assertThat(b.tryAcquirePermit()).isTrue();
        assertThat(b.tryAcquirePermit()).isTrue();
        assertThat(b.tryAcquirePermit()).as("both trials taken").isFalse();

        b.returnTrialPermit(100 * MS); // one trial was abandoned: no verdict

        assertThat(b.tryAcquirePermit()).isTrue();
        assertThat(b.tryAcquirePermit()).isFalse();
        b.recordSuccess(110 * MS, 100 * MS);
        b.recordSuccess(120 * MS, 105 * MS);
        assertThat(b.state()).isEqualTo(CircuitState.CLOSED);
    }

    @Test
    void returnTrialPermit_neverMoreThanTheTrialsLeft() {
        RegionBreaker b = halfOpenedAt100Ms(2);
        assertThat(b.tryAcquirePermit()).isTrue();
        b.recordSuccess(110 * MS, 100 * MS);

        b.returnTrialPermit(100 * MS);
        b.returnTrialPermit(100 * MS);

        assertThat(b.tryAcquirePermit()).as("one success in: one trial left").isTrue();
        assertThat(b.tryAcquirePermit()).isFalse();
    }

    @Test
    void returnTrialPermit_attemptFromBeforeTheHalfOpen_orCircuitNotHalfOpen_changesNothing() {
        RegionBreaker b = breaker(BreakerConfig.builder().failureThreshold(1, 1).minimumVolume(1, Duration.ofSeconds(10))
                .successThreshold(1).build());
        b.returnTrialPermit(0);
        assertThat(b.state()).isEqualTo(CircuitState.CLOSED);
        b.recordFailure(0, 0);
        b.returnTrialPermit(0);
        assertThat(b.tryAcquirePermit()).as("open").isFalse();
        b.halfOpen(100 * MS);
        assertThat(b.tryAcquirePermit()).isTrue();

        b.returnTrialPermit(50 * MS);

        assertThat(b.tryAcquirePermit()).as("sent before the half-open: not a trial").isFalse();
    }
}
