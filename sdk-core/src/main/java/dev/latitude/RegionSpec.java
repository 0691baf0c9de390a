package dev.latitude;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One region a service uses: its id, role, jurisdiction, location and weight; immutable.
 *
 * <p>Named {@code RegionSpec} so it never collides with the AWS SDK's {@code Region} in user code.
 *
 * <pre>{@code
 * RegionSpec dublin = RegionSpec.builder("eu-west-1")
 *     .roles(RegionRole.WRITER, RegionRole.READER)
 *     .jurisdiction("EU")
 *     .location(53.35, -6.26)
 *     .build();
 * }</pre>
 *
 * <p>Defaults: roles {@code READER} only, jurisdiction {@code null} (none), no location, weight 1.
 */
public final class RegionSpec {
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern JURISDICTION = Pattern.compile("[A-Z][A-Z0-9_-]{0,31}");

    private final String id;
    private final Set<RegionRole> roles;
    private final String jurisdiction;
    private final GeoPoint location;
    private final int weight;

    private RegionSpec(Builder b) {
        this.id = b.id;
        this.roles = Collections.unmodifiableSet(EnumSet.copyOf(b.roles));
        this.jurisdiction = b.jurisdiction;
        this.location = b.location;
        this.weight = b.weight;
    }

    /**
     * Starts a region with the given id.
     *
     * @param id lowercase letters, digits and dashes, such as {@code us-east-1}
     * @return a builder
     * @throws LatitudeConfigException if the id is null or malformed
     */
    public static Builder builder(String id) {
        return new Builder(id);
    }

    /** Returns a builder holding this region's settings, to derive a variant. */
    public Builder toBuilder() {
        Builder b = new Builder(id);
        b.roles = EnumSet.copyOf(roles);
        b.jurisdiction = jurisdiction;
        b.location = location;
        b.weight = weight;
        return b;
    }

    /** Returns the region id, such as {@code us-east-1}. */
    public String id() {
        return id;
    }

    /** Returns the roles; never empty. */
    public Set<RegionRole> roles() {
        return roles;
    }

    /** Returns whether the region accepts writes. */
    public boolean isWriter() {
        return roles.contains(RegionRole.WRITER);
    }

    /** Returns whether the region serves reads. */
    public boolean isReader() {
        return roles.contains(RegionRole.READER);
    }

    /** Returns the jurisdiction, such as {@code EU}, or {@code null} if none was set. */
    public String jurisdiction() {
        return jurisdiction;
    }

    /** Returns the location, or {@code null} if none was set. */
    public GeoPoint location() {
        return location;
    }

    /** Returns the weight used by the weighted routing policy when it is not given weights of its own. */
    public int weight() {
        return weight;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RegionSpec)) {
            return false;
        }
        RegionSpec r = (RegionSpec) o;
        return id.equals(r.id) && roles.equals(r.roles) && Objects.equals(jurisdiction, r.jurisdiction)
                && Objects.equals(location, r.location) && weight == r.weight;
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    @Override
    public String toString() {
        return id + roles + (jurisdiction == null ? "" : " " + jurisdiction) + (location == null ? "" : " " + location)
                + " w=" + weight;
    }

    /** Builds a {@link RegionSpec}; each setter validates its value at once. */
    public static final class Builder {
        private final String id;
        private Set<RegionRole> roles = EnumSet.of(RegionRole.READER);
        private String jurisdiction;
        private GeoPoint location;
        private int weight = 1;

        private Builder(String id) {
            if (id == null || !ID.matcher(id).matches()) {
                throw new LatitudeConfigException("region.id", "'" + id + "' is not a region id; use lowercase letters,"
                        + " digits and dashes, 1 to 63 characters, such as 'us-east-1'");
            }
            this.id = id;
        }

        /**
         * Sets the roles.
         *
         * @param first a role
         * @param rest more roles
         * @return this builder
         */
        public Builder roles(RegionRole first, RegionRole... rest) {
            Objects.requireNonNull(first, "roles");
            EnumSet<RegionRole> set = EnumSet.of(first);
            for (RegionRole r : rest) {
                set.add(Objects.requireNonNull(r, "roles"));
            }
            this.roles = set;
            return this;
        }

        /** Makes the region a writer and a reader. */
        public Builder writer() {
            return roles(RegionRole.WRITER, RegionRole.READER);
        }

        /**
         * Sets the jurisdiction, such as {@code EU} or {@code US}.
         *
         * @param jurisdiction uppercase letters, digits, {@code _} or {@code -}; up to 32 characters
         * @return this builder
         * @throws LatitudeConfigException if malformed
         */
        public Builder jurisdiction(String jurisdiction) {
            if (jurisdiction == null || !JURISDICTION.matcher(jurisdiction).matches()) {
                throw new LatitudeConfigException("region[" + id + "].jurisdiction", "'" + jurisdiction
                        + "' is not a jurisdiction code; use uppercase letters and digits, such as 'EU', 'US', 'DE'"
                        + (jurisdiction != null && JURISDICTION.matcher(jurisdiction.toUpperCase(Locale.ROOT)).matches()
                        ? " (did you mean '" + jurisdiction.toUpperCase(Locale.ROOT) + "'?)" : ""));
            }
            this.jurisdiction = jurisdiction;
            return this;
        }

        /**
         * Sets where the region is.
         *
         * @param latitude degrees north, -90 to 90
         * @param longitude degrees east, -180 to 180
         * @return this builder
         * @throws LatitudeConfigException if a coordinate is out of range
         */
        public Builder location(double latitude, double longitude) {
            try {
                this.location = GeoPoint.of(latitude, longitude);
            } catch (LatitudeConfigException e) {
                throw new LatitudeConfigException("region[" + id + "].location", e.getMessage());
            }
            return this;
        }

        /**
         * Sets the weight for weighted routing.
         *
         * @param weight 0 (receives traffic only as a fallback) to 1,000,000
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder weight(int weight) {
            if (weight < 0 || weight > 1_000_000) {
                throw new LatitudeConfigException("region[" + id + "].weight",
                        weight + " is outside [0, 1000000]; use 0 to send this region traffic only as a fallback");
            }
            this.weight = weight;
            return this;
        }

        /** Returns the region. */
        public RegionSpec build() {
            return new RegionSpec(this);
        }
    }
}
