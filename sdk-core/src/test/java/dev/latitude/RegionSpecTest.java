package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RegionSpecTest {

    @Test
    void builder_defaults_readerOnlyWeightOneNoJurisdictionNoLocation() {
        RegionSpec r = RegionSpec.builder("us-east-1").build();

        assertThat(r.id()).isEqualTo("us-east-1");
        assertThat(r.roles()).containsExactly(RegionRole.READER);
        assertThat(r.isReader()).isTrue();
        assertThat(r.isWriter()).isFalse();
        assertThat(r.weight()).isEqualTo(1);
        assertThat(r.jurisdiction()).isNull();
        assertThat(r.location()).isNull();
    }

    @Test
    void builder_allSettings_keptAndRoundTripThroughToBuilder() {
        RegionSpec r = RegionSpec.builder("eu-west-1").writer().jurisdiction("EU").location(53.35, -6.26).weight(7)
                .build();

        assertThat(r.roles()).containsExactlyInAnyOrder(RegionRole.WRITER, RegionRole.READER);
        assertThat(r.jurisdiction()).isEqualTo("EU");
        assertThat(r.location()).isEqualTo(GeoPoint.of(53.35, -6.26));
        assertThat(r.weight()).isEqualTo(7);
        assertThat(r.toBuilder().build()).isEqualTo(r);
    }

    @ParameterizedTest
    @ValueSource(strings = {"US-EAST-1", "", "-leading-dash", "us_east_1", "us east 1",
            "a234567890123456789012345678901234567890123456789012345678901234"})
    void builder_malformedId_throwsNamingIdAndExample(String id) {
        assertConfigError(() -> RegionSpec.builder(id), "region.id",
                "'" + id + "' is not a region id", "lowercase letters", "such as 'us-east-1'");
    }

    @Test
    void builder_nullId_throwsNamingNull() {
        assertConfigError(() -> RegionSpec.builder(null), "region.id", "'null' is not a region id", "'us-east-1'");
    }

    @Test
    void builder_idOf63Characters_accepted() {
        String id = "a".repeat(63);

        assertThat(RegionSpec.builder(id).build().id()).isEqualTo(id);
    }

    @Test
    void jurisdiction_lowercase_throwsWithDidYouMeanUppercase() {
        assertConfigError(() -> RegionSpec.builder("eu-west-1").jurisdiction("eu"), "region[eu-west-1].jurisdiction",
                "'eu' is not a jurisdiction code", "use uppercase letters", "(did you mean 'EU'?)");
    }

    @Test
    void jurisdiction_unfixableByUppercasing_throwsWithoutDidYouMean() {
        assertThatThrownBy(() -> RegionSpec.builder("eu-west-1").jurisdiction("E U"))
                .isExactlyInstanceOf(LatitudeConfigException.class)
                .hasMessageContaining("'E U' is not a jurisdiction code")
                .hasMessageContaining("such as 'EU', 'US', 'DE'")
                .hasMessageNotContaining("did you mean");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1EU", "EU!", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"})
    void jurisdiction_malformed_throwsNamingValueAndExample(String jurisdiction) {
        assertConfigError(() -> RegionSpec.builder("r1").jurisdiction(jurisdiction), "region[r1].jurisdiction",
                "'" + jurisdiction + "' is not a jurisdiction code", "such as 'EU'");
    }

    @Test
    void jurisdiction_null_throwsNamingNull() {
        assertConfigError(() -> RegionSpec.builder("r1").jurisdiction(null), "region[r1].jurisdiction",
                "'null' is not a jurisdiction code");
    }

    @Test
    void location_latitudeOutOfRange_throwsNamingValueAndRange() {
        assertConfigError(() -> RegionSpec.builder("r1").location(90.5, 0), "region[r1].location",
                "90.5 is outside [-90, 90]", "degrees north");
    }

    @Test
    void location_longitudeOutOfRange_throwsNamingValueAndRange() {
        assertConfigError(() -> RegionSpec.builder("r1").location(0, -180.5), "region[r1].location",
                "-180.5 is outside [-180, 180]", "degrees east");
    }

    @Test
    void location_nan_throws() {
        assertConfigError(() -> RegionSpec.builder("r1").location(Double.NaN, 0), "region[r1].location",
                "NaN is outside [-90, 90]");
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 1_000_001, Integer.MIN_VALUE})
    void weight_outOfRange_throwsNamingValueAndFallbackHint(int weight) {
        assertConfigError(() -> RegionSpec.builder("r1").weight(weight), "region[r1].weight",
                weight + " is outside [0, 1000000]", "use 0 to send this region traffic only as a fallback");
    }

    @Test
    void weight_bounds_accepted() {
        assertThat(RegionSpec.builder("r1").weight(0).build().weight()).isZero();
        assertThat(RegionSpec.builder("r1").weight(1_000_000).build().weight()).isEqualTo(1_000_000);
    }
}
