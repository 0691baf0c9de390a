package dev.latitude;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConfigDurationFormatTest {
    @Test
    void durationsReadLikeTheUnitsUsersWrite() {
        assertThat(LatitudeConfigException.format(Duration.ofMillis(-300))).isEqualTo("-300 ms");
        assertThat(LatitudeConfigException.format(Duration.ofMillis(1500))).isEqualTo("1.5 s");
        assertThat(LatitudeConfigException.format(Duration.ofMinutes(10))).isEqualTo("10 min");
        assertThat(LatitudeConfigException.format(Duration.ofHours(2))).isEqualTo("2 h");
        assertThat(LatitudeConfigException.format(Duration.ofNanos(250_000))).isEqualTo("250 µs");
        assertThat(LatitudeConfigException.format(Duration.ofNanos(1))).isEqualTo("1 ns");
        assertThat(LatitudeConfigException.format(Duration.ZERO)).isEqualTo("0 ms");
        assertThat(LatitudeConfigException.format(null)).isEqualTo("null");
        assertThat(LatitudeConfigException.format(Duration.ofSeconds(Long.MAX_VALUE))).endsWith("days");
    }

    @Test
    void aNegativeTimeoutIsReportedInMilliseconds() {
        assertThatThrownBy(() -> Latitude.builder().attemptTimeout(Duration.ofMillis(-300)))
                .isInstanceOf(LatitudeConfigException.class)
                .hasMessage("attemptTimeout: -300 ms is outside [1 ms, 10 min]; give something like Duration.ofMillis(500)");
    }
}
