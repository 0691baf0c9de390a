package dev.latitude;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Residency checks against regions with and without a jurisdiction. */
class DataPolicyResidencyTest {

    @Test
    void allows_regionWithoutJurisdiction_isOutsideEveryResidencyButInsideNone() {
        RegionSpec unknown = RegionSpec.builder("us-east-1").writer().build();
        RegionSpec eu = RegionSpec.builder("eu-west-1").jurisdiction("EU").build();

        DataPolicy pinned = DataPolicy.builder().residency("EU").build();
        DataPolicy anywhere = DataPolicy.builder().build();

        assertThat(pinned.allows(unknown)).isFalse();
        assertThat(pinned.allows(eu)).isTrue();
        assertThat(anywhere.allows(unknown)).isTrue();
    }
}
