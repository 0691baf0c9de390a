package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OperationTest {

    @Test
    void read_defaults_idempotentReadWithNothingElseSet() {
        Operation op = Operation.read("GetItem").build();

        assertThat(op.name()).isEqualTo("GetItem");
        assertThat(op.isRead()).isTrue();
        assertThat(op.idempotent()).isTrue();
        assertThat(op.deadline()).isNull();
        assertThat(op.callerCountry()).isNull();
        assertThat(op.callerJurisdiction()).isNull();
        assertThat(op.callerLocation()).isNull();
    }

    @Test
    void write_defaults_notIdempotent() {
        Operation op = Operation.write("PutItem").build();

        assertThat(op.kind()).isEqualTo(Operation.Kind.WRITE);
        assertThat(op.idempotent()).isFalse();
        assertThat(Operation.write("PutItem").idempotent(true).build().idempotent()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\t\n"})
    void read_blankName_throwsWithExample(String name) {
        assertConfigError(() -> Operation.read(name), "operation.name", "'" + name + "' is empty",
                "such as 'GetItem'");
    }

    @Test
    void write_nullName_throws() {
        assertConfigError(() -> Operation.write(null), "operation.name", "'null' is empty", "name the operation");
    }

    @ParameterizedTest
    @ValueSource(strings = {"DEU", "D", "D1", "", "d-"})
    void callerCountry_notTwoLetters_throwsNamingValueAndExample(String country) {
        assertConfigError(() -> Operation.read("X").callerCountry(country), "operation.callerCountry",
                "'" + country + "' is not an ISO 3166-1 alpha-2 country code", "such as 'DE' or 'US'");
    }

    @Test
    void callerCountry_null_throws() {
        assertConfigError(() -> Operation.read("X").callerCountry(null), "operation.callerCountry", "'null'");
    }

    @Test
    void callerCountry_lowercase_storedUppercase() {
        assertThat(Operation.read("X").callerCountry("de").build().callerCountry()).isEqualTo("DE");
    }

    @Test
    void deadline_zero_throwsNamingValueAndExample() {
        assertConfigError(() -> Operation.read("X").deadline(Duration.ZERO), "operation.deadline",
                "0 ms is not positive", "such as Duration.ofSeconds(2)");
    }

    @Test
    void deadline_negative_throws() {
        assertConfigError(() -> Operation.read("X").deadline(Duration.ofMillis(-1)), "operation.deadline",
                "-1 ms is not positive");
    }

    @Test
    void deadline_null_throws() {
        assertConfigError(() -> Operation.read("X").deadline(null), "operation.deadline", "null is not positive");
    }

    @Test
    void deadline_positive_kept() {
        assertThat(Operation.read("X").deadline(Duration.ofNanos(1)).build().deadline()).isEqualTo(Duration.ofNanos(1));
    }
}
