package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Validation of the bulkhead, warm-up, minimum-volume and unhealthy-only probe settings. */
class ResilienceSettingsTest {

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 100_001})
    void maxConcurrentAttempts_outOfRange_throwsNamingSettingAndValue(int max) {
        assertConfigError(() -> Latitude.builder().maxConcurrentAttempts(max), "maxConcurrentAttempts",
                max + " is outside [1, 100000]");
    }

    @Test
    void maxConcurrentAttempts_bounds_accepted() {
        Latitude.builder().maxConcurrentAttempts(1);
        Latitude.builder().maxConcurrentAttempts(100_000);
    }

    @Test
    void maxConcurrentAttempts_setTwice_throws() {
        Latitude.Builder b = Latitude.builder().maxConcurrentAttempts(8);

        assertConfigError(() -> b.maxConcurrentAttempts(8), "maxConcurrentAttempts", "set twice");
    }

    @Test
    void warmUp_zero_throwsNamingSettingValueAndFix() {
        assertConfigError(() -> Latitude.builder().warmUp(Duration.ZERO), "warmUp", "0 ms is outside (0, 1 min]",
                "Duration.ofSeconds(2)");
    }

    @Test
    void warmUp_negativeOrOverAMinuteOrNull_throws() {
        assertConfigError(() -> Latitude.builder().warmUp(Duration.ofMillis(-1)), "warmUp", "is outside (0, 1 min]");
        assertConfigError(() -> Latitude.builder().warmUp(Duration.ofMinutes(1).plusMillis(1)), "warmUp",
                "is outside (0, 1 min]");
        assertConfigError(() -> Latitude.builder().warmUp(null), "warmUp", "null is outside");
    }

    @Test
    void warmUp_setTwice_throws() {
        Latitude.Builder b = Latitude.builder().warmUp(Duration.ofSeconds(1));

        assertConfigError(() -> b.warmUp(Duration.ofSeconds(1)), "warmUp", "set twice");
    }

    @Test
    void minimumVolume_largerThanDefaultWindow_throwsAtBuildNamingSettingAndFix() {
        BreakerConfig.Builder b = BreakerConfig.builder().minimumVolume(20, Duration.ofSeconds(10));

        assertConfigError(b::build, "breaker.minimumVolume", "20 is larger than the failure window of 10",
                "failureThreshold(failures, window)");
    }

    @Test
    void minimumVolume_withWiderWindow_accepted() {
        BreakerConfig c = BreakerConfig.builder().minimumVolume(20, Duration.ofSeconds(30)).failureThreshold(5, 20)
                .build();

        assertThat(c.minimumVolume()).isEqualTo(20);
        assertThat(c.volumePeriod()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void minimumVolume_defaultsToTheFailureWindowAndTenSeconds() {
        assertThat(BreakerConfig.defaults().minimumVolume()).isEqualTo(10);
        assertThat(BreakerConfig.defaults().volumePeriod()).isEqualTo(Duration.ofSeconds(10));
        assertThat(BreakerConfig.builder().failureThreshold(3, 5).build().minimumVolume()).isEqualTo(5);
    }

    @Test
    void minimumVolume_zeroCallsOrPeriodOutOfRange_throws() {
        assertConfigError(() -> BreakerConfig.builder().minimumVolume(0, Duration.ofSeconds(10)),
                "breaker.minimumVolume", "0 is outside");
        assertConfigError(() -> BreakerConfig.builder().minimumVolume(5, Duration.ofMillis(99)),
                "breaker.minimumVolume", "is outside [100 ms, 1 h]");
        assertConfigError(() -> BreakerConfig.builder().minimumVolume(5, Duration.ofHours(1).plusMillis(1)),
                "breaker.minimumVolume", "is outside [100 ms, 1 h]");
        assertConfigError(() -> BreakerConfig.builder().minimumVolume(5, null), "breaker.minimumVolume",
                "period null");
    }

    @Test
    void unhealthyOnly_defaultsToProbingEveryRegion() {
        assertThat(ProbeConfig.defaults().unhealthyOnly()).isFalse();
        assertThat(ProbeConfig.builder().unhealthyOnly(true).build().unhealthyOnly()).isTrue();
    }
}
