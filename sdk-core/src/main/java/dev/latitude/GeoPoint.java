package dev.latitude;

/**
 * A point on Earth in decimal degrees; immutable.
 *
 * <pre>{@code GeoPoint dublin = GeoPoint.of(53.35, -6.26);}</pre>
 */
public final class GeoPoint {
    private static final double EARTH_RADIUS_KM = 6371.0088;
    private final double latitude;
    private final double longitude;

    private GeoPoint(double latitude, double longitude) {
        this.latitude = latitude;
        this.longitude = longitude;
    }

    /**
     * Returns the point at {@code latitude}, {@code longitude}.
     *
     * @param latitude degrees north, from -90 to 90
     * @param longitude degrees east, from -180 to 180
     * @return the point
     * @throws LatitudeConfigException if either coordinate is out of range or not a number
     */
    public static GeoPoint of(double latitude, double longitude) {
        if (!(latitude >= -90 && latitude <= 90)) {
            throw new LatitudeConfigException("latitude",
                    latitude + " is outside [-90, 90]; give degrees north (south is negative), e.g. 53.35 for Dublin");
        }
        if (!(longitude >= -180 && longitude <= 180)) {
            throw new LatitudeConfigException("longitude",
                    longitude + " is outside [-180, 180]; give degrees east (west is negative), e.g. -6.26 for Dublin");
        }
        return new GeoPoint(latitude, longitude);
    }

    /** Returns the latitude in degrees. */
    public double latitude() {
        return latitude;
    }

    /** Returns the longitude in degrees. */
    public double longitude() {
        return longitude;
    }

    /**
     * Returns the great-circle distance to {@code other} in kilometres (haversine formula on a spherical Earth).
     *
     * @param other the other point
     * @return the distance, zero or more
     */
    public double distanceKm(GeoPoint other) {
        double lat1 = Math.toRadians(latitude);
        double lat2 = Math.toRadians(other.latitude);
        double dLat = lat2 - lat1;
        double dLon = Math.toRadians(other.longitude - longitude);
        double h = Math.sin(dLat / 2) * Math.sin(dLat / 2)
                + Math.cos(lat1) * Math.cos(lat2) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
        return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1.0, Math.sqrt(h)));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GeoPoint && ((GeoPoint) o).latitude == latitude && ((GeoPoint) o).longitude == longitude;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(latitude) * 31 + Double.hashCode(longitude);
    }

    @Override
    public String toString() {
        return "(" + latitude + ", " + longitude + ")";
    }
}
