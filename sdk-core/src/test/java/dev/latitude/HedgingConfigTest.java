package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HedgingConfigTest {

    @Test
    void defaults_enabledP95FivePercentBurstTen() {
        HedgingConfig c = HedgingConfig.defaults();

        assertThat(c.enabled()).isTrue();
        assertThat(c.percentile()).isEqualTo(95);
        assertThat(c.budgetRatio()).isEqualTo(0.05);
        assertThat(c.maxBurst()).isEqualTo(10);
        assertThat(c.minSamples()).isEqualTo(20);
        assertThat(c.minDelay()).isEqualTo(Duration.ofMillis(1));
        assertThat(HedgingConfig.disabled().enabled()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(doubles = {49.99, 99.991, 100, 0, -1, Double.NaN})
    void percentile_outOfRange_throwsNamingValueAndAdvice(double percentile) {
        assertConfigError(() -> HedgingConfig.builder().percentile(percentile), "hedging.percentile",
                percentile + " is outside [50, 99.99]", "use 90 to 99");
    }

    @Test
    void percentile_bounds_accepted() {
        assertThat(HedgingConfig.builder().percentile(50).build().percentile()).isEqualTo(50);
        assertThat(HedgingConfig.builder().percentile(99.99).build().percentile()).isEqualTo(99.99);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0, -0.1, 1.0001, Double.NaN})
    void budgetRatio_outOfRange_throwsNamingValueAndAdvice(double ratio) {
        assertConfigError(() -> HedgingConfig.builder().budgetRatio(ratio), "hedging.budgetRatio",
                ratio + " is outside (0, 1]", "use 0.05", "or disable hedging");
    }

    @Test
    void budgetRatio_one_accepted() {
        assertThat(HedgingConfig.builder().budgetRatio(1).build().budgetRatio()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 10_001})
    void maxBurst_outOfRange_throws(int tokens) {
        assertConfigError(() -> HedgingConfig.builder().maxBurst(tokens), "hedging.maxBurst",
                tokens + " is outside [1, 10000]");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1_000_001})
    void minSamples_outOfRange_throws(int samples) {
        assertConfigError(() -> HedgingConfig.builder().minSamples(samples), "hedging.minSamples",
                samples + " is outside [1, 1000000]");
    }

    @Test
    void minDelay_negative_throwsNamingValueAndFix() {
        assertConfigError(() -> HedgingConfig.builder().minDelay(Duration.ofMillis(-1)), "hedging.minDelay",
                "-1 ms is negative", "use Duration.ZERO or more");
    }

    @Test
    void minDelay_null_throws() {
        assertConfigError(() -> HedgingConfig.builder().minDelay(null), "hedging.minDelay", "null");
    }

    @Test
    void minDelay_zero_accepted() {
        assertThat(HedgingConfig.builder().minDelay(Duration.ZERO).build().minDelay()).isEqualTo(Duration.ZERO);
    }
}
