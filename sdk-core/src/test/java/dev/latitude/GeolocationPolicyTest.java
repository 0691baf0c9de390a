package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static dev.latitude.Engines.planIds;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import org.junit.jupiter.api.Test;

class GeolocationPolicyTest {
    private final ManualClock clock = new ManualClock();

    private static Topology topology(String local) {
        return Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").build())
                .region(RegionSpec.builder("eu-west-1").jurisdiction("EU").build())
                .region(RegionSpec.builder("eu-central-1").jurisdiction("EU").build())
                .region(RegionSpec.builder("ap-south-1").jurisdiction("IN").build())
                .region(RegionSpec.builder("sa-east-1").jurisdiction("BR").build())
                .localRegion(local)
                .build();
    }

    private static final RoutingPolicy POLICY = RoutingPolicy.geolocation()
            .country("DE", "eu-central-1")
            .jurisdiction("EU", "eu-west-1", "eu-central-1")
            .defaultRegion("us-east-1")
            .build();

    private Latitude engine(String local) {
        return Engines.engine(topology(local), POLICY, clock, 1);
    }

    @Test
    void plan_countryAndJurisdictionMatch_countryThenJurisdictionThenDefaultThenUnmatched() {
        try (Latitude latitude = engine("us-east-1")) {
            Operation op = Operation.read("X").callerCountry("DE").callerJurisdiction("EU").build();

            assertThat(planIds(latitude, op))
                    .containsExactly("eu-central-1", "eu-west-1", "us-east-1", "ap-south-1", "sa-east-1");
        }
    }

    @Test
    void plan_lowercaseCallerCountry_matchesCountryMapping() {
        try (Latitude latitude = engine("us-east-1")) {
            Operation op = Operation.read("X").callerCountry("de").build();

            assertThat(planIds(latitude, op).get(0)).isEqualTo("eu-central-1");
        }
    }

    @Test
    void plan_jurisdictionOnly_jurisdictionRegionsInGivenOrderThenDefault() {
        try (Latitude latitude = engine("us-east-1")) {
            Operation op = Operation.read("X").callerJurisdiction("EU").build();

            assertThat(planIds(latitude, op))
                    .containsExactly("eu-west-1", "eu-central-1", "us-east-1", "ap-south-1", "sa-east-1");
        }
    }

    @Test
    void plan_noCallerJurisdiction_fallsBackToLocalRegionsJurisdiction() {
        try (Latitude latitude = engine("eu-central-1")) {
            assertThat(planIds(latitude, Operation.read("X").build()))
                    .containsExactly("eu-west-1", "eu-central-1", "us-east-1", "ap-south-1", "sa-east-1");
        }
    }

    @Test
    void plan_callerJurisdictionGiven_overridesLocalRegionsJurisdiction() {
        try (Latitude latitude = engine("eu-central-1")) {
            Operation op = Operation.read("X").callerJurisdiction("IN").build();

            assertThat(planIds(latitude, op))
                    .containsExactly("us-east-1", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1");
        }
    }

    @Test
    void plan_countryMatchWithUnmappedLocalJurisdiction_countryThenDefaultThenRest() {
        try (Latitude latitude = engine("us-east-1")) {
            Operation op = Operation.read("X").callerCountry("DE").build(); // jurisdiction falls back to US: unmapped

            assertThat(planIds(latitude, op))
                    .containsExactly("eu-central-1", "us-east-1", "eu-west-1", "ap-south-1", "sa-east-1");
        }
    }

    @Test
    void plan_nothingMatches_defaultFirstAndUnmatchedInTopologyOrder() {
        try (Latitude latitude = engine("ap-south-1")) {
            Operation op = Operation.read("X").callerCountry("FR").build();

            assertThat(planIds(latitude, op))
                    .containsExactly("us-east-1", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1");
        }
    }

    @Test
    void plan_noDefaultAndNoMatch_allTieInTopologyOrder() {
        RoutingPolicy p = RoutingPolicy.geolocation().country("BR", "sa-east-1").build();
        try (Latitude latitude = Engines.engine(topology("us-east-1"), p, clock, 1)) {
            assertThat(planIds(latitude, Operation.read("X").callerCountry("BR").build()))
                    .containsExactly("sa-east-1", "us-east-1", "eu-west-1", "eu-central-1", "ap-south-1");
            assertThat(planIds(latitude, Operation.read("X").callerCountry("JP").build()))
                    .containsExactly("us-east-1", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1");
        }
    }

    @Test
    void country_malformed_throwsNamingValue() {
        assertConfigError(() -> RoutingPolicy.geolocation().country("DEU", "eu-central-1"), "geolocation.country",
                "'DEU' is not an ISO 3166-1 alpha-2 code", "such as 'DE'");
    }

    @Test
    void country_mappedTwice_throws() {
        GeolocationPolicy.Builder b = RoutingPolicy.geolocation().country("DE", "eu-central-1");

        assertConfigError(() -> b.country("de", "eu-west-1"), "geolocation.country[DE]", "mapped twice");
    }

    @Test
    void jurisdiction_noRegions_throws() {
        assertConfigError(() -> RoutingPolicy.geolocation().jurisdiction("EU"), "geolocation.jurisdiction[EU]",
                "no regions");
    }

    @Test
    void jurisdiction_repeatedRegion_throws() {
        assertConfigError(() -> RoutingPolicy.geolocation().jurisdiction("EU", "eu-west-1", "eu-west-1"),
                "geolocation.jurisdiction[EU]", "'eu-west-1' is null or repeated");
    }

    @Test
    void build_nothingMapped_throwsWithFix() {
        assertConfigError(() -> RoutingPolicy.geolocation().build(), "geolocation", "no mapping and no default region",
                "defaultRegion(...)");
    }

    @Test
    void validate_unknownRegions_throwNamingMapping() {
        Topology t = topology("us-east-1");

        assertConfigError(() -> RoutingPolicy.geolocation().country("JP", "ap-northeast-1").build().validate(t),
                "geolocation.country[JP]", "'ap-northeast-1' is not a region of the topology");
        assertConfigError(() -> RoutingPolicy.geolocation().defaultRegion("nowhere").build().validate(t),
                "geolocation.defaultRegion", "'nowhere'");
    }

    @Test
    void plan_chainedWithLatency_ordersTheMatchedRegionsByLatency() {
        Topology t = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder("eu-central-1").jurisdiction("EU").location(50.11, 8.68).build())
                .region(RegionSpec.builder("eu-west-1").jurisdiction("EU").location(53.35, -6.26).build())
                .localRegion("us-east-1")
                .build();
        RoutingPolicy policy = RoutingPolicy.geolocation().jurisdiction("EU", "eu-central-1", "eu-west-1").build()
                .then(RoutingPolicy.latency().window(java.time.Duration.ZERO).build());
        Latitude l = Engines.engine(t, policy, new ManualClock(), 1);
        assertThat(planIds(l, Operation.read("X").callerJurisdiction("EU").build()))
                .as("Dublin is nearer to Virginia than Frankfurt is").containsExactly("eu-west-1", "eu-central-1", "us-east-1");
    }
}
