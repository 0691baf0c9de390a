package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.withinPercentage;

import org.junit.jupiter.api.Test;

class GeoPointTest {
    private static final GeoPoint LONDON = GeoPoint.of(51.5074, -0.1278);
    private static final GeoPoint PARIS = GeoPoint.of(48.8566, 2.3522);
    private static final GeoPoint NEW_YORK = GeoPoint.of(40.7128, -74.0060);
    private static final GeoPoint SYDNEY = GeoPoint.of(-33.8688, 151.2093);

    @Test
    void of_latitudeAbove90_throwsNamingValueAndExample() {
        assertConfigError(() -> GeoPoint.of(91, 0), "latitude", "91.0 is outside [-90, 90]", "e.g. 53.35 for Dublin");
    }

    @Test
    void of_latitudeBelowMinus90_throws() {
        assertConfigError(() -> GeoPoint.of(-90.0001, 0), "latitude", "-90.0001 is outside [-90, 90]");
    }

    @Test
    void of_longitudeOutOfRange_throwsNamingValueAndExample() {
        assertConfigError(() -> GeoPoint.of(0, 181), "longitude", "181.0 is outside [-180, 180]",
                "e.g. -6.26 for Dublin");
    }

    @Test
    void of_nanCoordinates_throw() {
        assertConfigError(() -> GeoPoint.of(Double.NaN, 0), "latitude", "NaN");
        assertConfigError(() -> GeoPoint.of(0, Double.NaN), "longitude", "NaN");
    }

    @Test
    void of_boundaryValues_accepted() {
        GeoPoint p = GeoPoint.of(-90, 180);

        assertThat(p.latitude()).isEqualTo(-90);
        assertThat(p.longitude()).isEqualTo(180);
        assertThat(GeoPoint.of(90, -180)).isEqualTo(GeoPoint.of(90, -180));
    }

    @Test
    void distanceKm_londonParis_about344km() {
        assertThat(LONDON.distanceKm(PARIS)).isCloseTo(344, withinPercentage(1));
    }

    @Test
    void distanceKm_londonNewYork_about5570km() {
        assertThat(LONDON.distanceKm(NEW_YORK)).isCloseTo(5570, withinPercentage(1));
    }

    @Test
    void distanceKm_londonSydney_about16990km() {
        assertThat(LONDON.distanceKm(SYDNEY)).isCloseTo(16990, withinPercentage(1));
    }

    @Test
    void distanceKm_oneDegreeOfLongitudeAtEquator_about111km() {
        assertThat(GeoPoint.of(0, 0).distanceKm(GeoPoint.of(0, 1))).isCloseTo(111.19, within(0.1));
    }

    @Test
    void distanceKm_samePoint_zero() {
        assertThat(LONDON.distanceKm(GeoPoint.of(51.5074, -0.1278))).isZero();
    }

    @Test
    void distanceKm_symmetric() {
        assertThat(PARIS.distanceKm(NEW_YORK)).isEqualTo(NEW_YORK.distanceKm(PARIS));
    }

    @Test
    void distanceKm_antipodes_halfTheCircumference() {
        assertThat(GeoPoint.of(0, 0).distanceKm(GeoPoint.of(0, 180))).isCloseTo(Math.PI * 6371.0088, within(0.001));
    }
}
