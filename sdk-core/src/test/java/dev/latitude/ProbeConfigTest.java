package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ProbeConfigTest {

    @Test
    void defaults_oneSecondIntervalHalfSecondTimeout() {
        ProbeConfig c = ProbeConfig.defaults();

        assertThat(c.interval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.failureThreshold()).isEqualTo(3);
        assertThat(c.successThreshold()).isEqualTo(2);
    }

    @Test
    void interval_belowTenMillis_throwsNamingValueAndRange() {
        assertConfigError(() -> ProbeConfig.builder().interval(Duration.ofMillis(9)), "probe.interval",
                "9 ms is outside [10 ms, 1 h]", "use about a second");
    }

    @Test
    void interval_aboveOneHour_throws() {
        assertConfigError(() -> ProbeConfig.builder().interval(Duration.ofHours(1).plusMillis(1)), "probe.interval",
                "is outside [10 ms, 1 h]");
    }

    @Test
    void interval_null_throws() {
        assertConfigError(() -> ProbeConfig.builder().interval(null), "probe.interval", "null is outside");
    }

    @Test
    void timeout_notPositive_throwsNamingValueAndHint() {
        assertConfigError(() -> ProbeConfig.builder().timeout(Duration.ZERO), "probe.timeout", "0 ms is not positive",
                "a few hundred ms");
        assertConfigError(() -> ProbeConfig.builder().timeout(Duration.ofMillis(-5)), "probe.timeout",
                "is not positive");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 101})
    void failureThreshold_outOfRange_throws(int failures) {
        assertConfigError(() -> ProbeConfig.builder().failureThreshold(failures), "probe.failureThreshold",
                failures + " is outside [1, 100]");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 101})
    void successThreshold_outOfRange_throws(int successes) {
        assertConfigError(() -> ProbeConfig.builder().successThreshold(successes), "probe.successThreshold",
                successes + " is outside [1, 100]");
    }

    @Test
    void build_timeoutLongerThanInterval_throwsNamingBothAndFix() {
        assertConfigError(() -> ProbeConfig.builder().interval(Duration.ofMillis(200)).timeout(Duration.ofMillis(300))
                        .build(), "probe.timeout", "300 ms is longer than the interval 200 ms",
                "shorten the timeout or lengthen the interval");
    }

    @Test
    void build_defaultTimeoutWithShorterInterval_throws() {
        assertConfigError(() -> ProbeConfig.builder().interval(Duration.ofMillis(100)).build(), "probe.timeout",
                "500 ms is longer than the interval 100 ms");
    }

    @Test
    void build_timeoutEqualToInterval_accepted() {
        ProbeConfig c = ProbeConfig.builder().interval(Duration.ofMillis(100)).timeout(Duration.ofMillis(100)).build();

        assertThat(c.timeout()).isEqualTo(c.interval());
    }
}
