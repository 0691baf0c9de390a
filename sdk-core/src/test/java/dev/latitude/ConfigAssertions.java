package dev.latitude;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Asserts that a builder call fails with a {@link LatitudeConfigException} naming the setting, value and fix. */
final class ConfigAssertions {
    private ConfigAssertions() {
    }

    /**
     * Asserts {@code call} throws a {@link LatitudeConfigException} whose {@code setting()} is {@code setting} and
     * whose message starts with the setting and contains every fragment (the bad value, the fix).
     */
    static void assertConfigError(ThrowingCallable call, String setting, String... fragments) {
        assertThatThrownBy(call)
                .isExactlyInstanceOf(LatitudeConfigException.class)
                .satisfies(e -> org.assertj.core.api.Assertions
                        .assertThat(((LatitudeConfigException) e).setting()).isEqualTo(setting))
                .hasMessageStartingWith(setting + ": ")
                .hasMessageContainingAll(fragments);
    }
}
