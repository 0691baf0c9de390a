package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BreakerConfigTest {

    @Test
    void defaults_fiveOfTenThreeTrialsFiveSeconds() {
        BreakerConfig c = BreakerConfig.defaults();

        assertThat(c.failureThreshold()).isEqualTo(5);
        assertThat(c.failureWindow()).isEqualTo(10);
        assertThat(c.successThreshold()).isEqualTo(3);
        assertThat(c.openDelay()).isEqualTo(Duration.ofSeconds(5));
    }

    @ParameterizedTest
    @CsvSource({"0, 10", "6, 5", "5, 1001", "-1, -1"})
    void failureThreshold_outOfRange_throwsNamingValuesAndExample(int failures, int window) {
        assertConfigError(() -> BreakerConfig.builder().failureThreshold(failures, window), "breaker.failureThreshold",
                failures + " of " + window + " is not valid", "1 <= failures <= window <= 1000", "such as 5 of 10");
    }

    @Test
    void failureThreshold_bounds_accepted() {
        BreakerConfig c = BreakerConfig.builder().failureThreshold(1000, 1000).build();

        assertThat(c.failureThreshold()).isEqualTo(1000);
        assertThat(c.failureWindow()).isEqualTo(1000);
        assertThat(BreakerConfig.builder().failureThreshold(1, 1).build().failureWindow()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 101, -3})
    void successThreshold_outOfRange_throwsNamingValueAndRange(int successes) {
        assertConfigError(() -> BreakerConfig.builder().successThreshold(successes), "breaker.successThreshold",
                successes + " is outside [1, 100]");
    }

    @Test
    void openDelay_zero_throwsNamingValueAndExample() {
        assertConfigError(() -> BreakerConfig.builder().openDelay(Duration.ZERO), "breaker.openDelay",
                "0 ms is not in (0, 1 day]", "such as Duration.ofSeconds(5)");
    }

    @Test
    void openDelay_negative_throws() {
        assertConfigError(() -> BreakerConfig.builder().openDelay(Duration.ofSeconds(-1)), "breaker.openDelay",
                "-1 s is not in (0, 1 day]");
    }

    @Test
    void openDelay_longerThanADay_throws() {
        assertConfigError(() -> BreakerConfig.builder().openDelay(Duration.ofDays(1).plusNanos(1)), "breaker.openDelay",
                "is not in (0, 1 day]");
    }

    @Test
    void openDelay_null_throws() {
        assertConfigError(() -> BreakerConfig.builder().openDelay(null), "breaker.openDelay", "null is not in");
    }

    @Test
    void openDelay_exactlyOneDay_accepted() {
        assertThat(BreakerConfig.builder().openDelay(Duration.ofDays(1)).build().openDelay())
                .isEqualTo(Duration.ofDays(1));
    }
}
