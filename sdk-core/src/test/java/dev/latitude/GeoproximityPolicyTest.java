package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static dev.latitude.Engines.planIds;
import static dev.latitude.Engines.reader;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.testing.ManualClock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeoproximityPolicyTest {
    private static final GeoPoint BRUSSELS = GeoPoint.of(50.85, 4.35);
    private static final GeoPoint LONDON = GeoPoint.of(51.5074, -0.1278);
    private static final GeoPoint PARIS = GeoPoint.of(48.8566, 2.3522);

    private final ManualClock clock = new ManualClock();

    private static final Topology TOPOLOGY = Topology.builder()
            .region(RegionSpec.builder("nowhere").writer().build()) // no location
            .region(reader("new-york", 40.7128, -74.0060))
            .region(reader("london", 51.5074, -0.1278))
            .region(reader("paris", 48.8566, 2.3522))
            .localRegion("new-york")
            .build();

    private static final Operation FROM_BRUSSELS = Operation.read("X").callerLocation(BRUSSELS).build();

    @BeforeAll
    static void premises() {
        // From Brussels, Paris (~264 km) is nearer than London (~320 km), and a London bias of 20 lands between the
        // Route 53 formula (320 x 0.8 = 256 < 264) and a division-based one (320 / 1.2 = 267 > 264).
        double london = BRUSSELS.distanceKm(LONDON);
        double paris = BRUSSELS.distanceKm(PARIS);
        assertThat(paris).isLessThan(london);
        assertThat(london * 0.8).isLessThan(paris);
        assertThat(london / 1.2).isGreaterThan(paris);
    }

    private Latitude engine(RoutingPolicy policy) {
        return Engines.engine(TOPOLOGY, policy, clock, 1);
    }

    @Test
    void plan_callerLocation_nearestFirstAndRegionWithoutLocationLast() {
        try (Latitude latitude = engine(RoutingPolicy.geoproximity().build())) {
            assertThat(planIds(latitude, FROM_BRUSSELS)).containsExactly("paris", "london", "new-york", "nowhere");
        }
    }

    @Test
    void plan_noCallerLocation_usesLocalRegionsLocation() {
        try (Latitude latitude = engine(RoutingPolicy.geoproximity().build())) {
            // From New York, London (~5570 km) is nearer than Paris (~5837 km).
            assertThat(planIds(latitude, Operation.read("X").build()))
                    .containsExactly("new-york", "london", "paris", "nowhere");
        }
    }

    @Test
    void plan_positiveBias_shrinksDistanceByBiasPercent() {
        try (Latitude latitude = engine(RoutingPolicy.geoproximity().bias("london", 20).build())) {
            assertThat(planIds(latitude, FROM_BRUSSELS)).containsExactly("london", "paris", "new-york", "nowhere");
        }
    }

    @Test
    void plan_smallPositiveBias_notEnoughToOvertake() {
        try (Latitude latitude = engine(RoutingPolicy.geoproximity().bias("london", 15).build())) {
            // 320 x 0.85 = 272 > 264
            assertThat(planIds(latitude, FROM_BRUSSELS)).containsExactly("paris", "london", "new-york", "nowhere");
        }
    }

    @Test
    void plan_negativeBias_growsDistance() {
        try (Latitude latitude = engine(RoutingPolicy.geoproximity().bias("paris", -25).build())) {
            // 264 x 1.25 = 330 > 320
            assertThat(planIds(latitude, FROM_BRUSSELS)).containsExactly("london", "paris", "new-york", "nowhere");
        }
    }

    @Test
    void plan_largeBias_overcomesOceanDistance() {
        try (Latitude latitude = engine(RoutingPolicy.geoproximity().bias("new-york", 99).build())) {
            // ~5660 km x 0.01 = ~57 km
            assertThat(planIds(latitude, FROM_BRUSSELS).get(0)).isEqualTo("new-york");
        }
    }

    @Test
    void plan_neitherCallerNorLocalLocation_allTieInTopologyOrder() {
        Topology t = Topology.builder()
                .region(RegionSpec.builder("nowhere").writer().build())
                .region(reader("paris", 48.8566, 2.3522))
                .region(reader("london", 51.5074, -0.1278))
                .localRegion("nowhere")
                .build();
        try (Latitude latitude = Engines.engine(t, RoutingPolicy.geoproximity().build(), clock, 1)) {
            assertThat(planIds(latitude, Operation.read("X").build())).containsExactly("nowhere", "paris", "london");
        }
    }

    @Test
    void bias_outOfRange_throwsNamingValueAndMeaning() {
        assertConfigError(() -> RoutingPolicy.geoproximity().bias("london", 100), "geoproximity.bias[london]",
                "100 is outside [-99, 99]", "positive values draw more callers");
        assertConfigError(() -> RoutingPolicy.geoproximity().bias("london", -100), "geoproximity.bias[london]",
                "-100 is outside [-99, 99]");
    }

    @Test
    void validate_biasForUnknownRegion_throws() {
        assertConfigError(() -> RoutingPolicy.geoproximity().bias("tokyo", 10).build().validate(TOPOLOGY),
                "geoproximity.bias", "'tokyo' is not a region of the topology");
    }
}
