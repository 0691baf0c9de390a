package dev.latitude;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Routes by where the caller is, like Route 53 geolocation records: the regions mapped to the caller's country come
 * first, then those mapped to its jurisdiction, then the default region, then every other region. The regions of one
 * group tie: chain a policy with {@link RoutingPolicy#then(RoutingPolicy)} to choose among them (latency, usually);
 * without one they keep topology order.
 *
 * <p>The caller is described by {@link Operation#callerCountry()} and {@link Operation#callerJurisdiction()}; the
 * jurisdiction falls back to the local region's.
 *
 * <pre>{@code
 * RoutingPolicy policy = RoutingPolicy.geolocation()
 *     .country("DE", "eu-central-1")
 *     .jurisdiction("EU", "eu-west-1", "eu-central-1")
 *     .defaultRegion("us-east-1")
 *     .build()
 *     .then(RoutingPolicy.latency().build());
 * }</pre>
 */
public final class GeolocationPolicy implements RoutingPolicy {
    private static final double COUNTRY_RANK = 0;
    private static final double JURISDICTION_RANK = 1;
    private static final double DEFAULT_RANK = 2;
    private static final double UNMATCHED_RANK = 3;

    private final Map<String, List<String>> byCountry;
    private final Map<String, List<String>> byJurisdiction;
    private final String defaultRegion;

    private GeolocationPolicy(Builder b) {
        this.byCountry = Map.copyOf(b.byCountry);
        this.byJurisdiction = Map.copyOf(b.byJurisdiction);
        this.defaultRegion = b.defaultRegion;
    }

    static Builder builder() {
        return new Builder();
    }

    @Override
    public void rank(RoutingCandidates c) {
        String country = c.operation().callerCountry();
        List<String> countryRegions = country == null ? List.of() : byCountry.getOrDefault(country, List.of());
        String jurisdiction = c.callerJurisdiction();
        List<String> jurisdictionRegions = jurisdiction == null ? List.of()
                : byJurisdiction.getOrDefault(jurisdiction, List.of());
        for (int i = 0; i < c.size(); i++) {
            String id = c.region(i).id();
            c.rank(i, countryRegions.contains(id) ? COUNTRY_RANK
                    : jurisdictionRegions.contains(id) ? JURISDICTION_RANK
                    : id.equals(defaultRegion) ? DEFAULT_RANK : UNMATCHED_RANK);
        }
    }

    @Override
    public void validate(Topology topology) {
        byCountry.forEach((k, ids) -> ids.forEach(id -> topology.requireRegion("geolocation.country[" + k + "]", id)));
        byJurisdiction.forEach((k, ids) -> ids.forEach(id -> topology.requireRegion("geolocation.jurisdiction[" + k + "]", id)));
        if (defaultRegion != null) {
            topology.requireRegion("geolocation.defaultRegion", defaultRegion);
        }
    }

    @Override
    public String toString() {
        return "geolocation(countries=" + byCountry + ", jurisdictions=" + byJurisdiction + ", default=" + defaultRegion + ")";
    }

    /** Builds a {@link GeolocationPolicy}; at least one mapping or a default is required. */
    public static final class Builder {
        private final Map<String, List<String>> byCountry = new HashMap<>();
        private final Map<String, List<String>> byJurisdiction = new HashMap<>();
        private String defaultRegion;

        private Builder() {
        }

        /**
         * Sends callers from {@code isoCountry} to these regions.
         *
         * @param isoCountry an ISO 3166-1 alpha-2 code such as {@code DE}
         * @param regionIds one or more region ids
         * @return this builder
         * @throws LatitudeConfigException if the code is malformed, no region is given, or the country was mapped before
         */
        public Builder country(String isoCountry, String... regionIds) {
            if (isoCountry == null || !isoCountry.matches("[A-Za-z]{2}")) {
                throw new LatitudeConfigException("geolocation.country", "'" + isoCountry
                        + "' is not an ISO 3166-1 alpha-2 code; use two letters such as 'DE'");
            }
            put(byCountry, "geolocation.country", isoCountry.toUpperCase(Locale.ROOT), regionIds);
            return this;
        }

        /**
         * Sends callers in {@code jurisdiction} to these regions.
         *
         * @param jurisdiction a jurisdiction code such as {@code EU}
         * @param regionIds one or more region ids
         * @return this builder
         * @throws LatitudeConfigException if no region is given or the jurisdiction was mapped before
         */
        public Builder jurisdiction(String jurisdiction, String... regionIds) {
            if (jurisdiction == null || jurisdiction.isBlank()) {
                throw new LatitudeConfigException("geolocation.jurisdiction", "empty; give a code such as 'EU'");
            }
            put(byJurisdiction, "geolocation.jurisdiction", jurisdiction, regionIds);
            return this;
        }

        /**
         * Sets the region for callers that match no mapping.
         *
         * @param regionId a region id
         * @return this builder
         */
        public Builder defaultRegion(String regionId) {
            if (regionId == null) {
                throw new LatitudeConfigException("geolocation.defaultRegion", "null; give a region id");
            }
            this.defaultRegion = regionId;
            return this;
        }

        private static void put(Map<String, List<String>> map, String setting, String key, String[] regionIds) {
            if (regionIds.length == 0) {
                throw new LatitudeConfigException(setting + "[" + key + "]", "no regions; give at least one region id");
            }
            if (map.containsKey(key)) {
                throw new LatitudeConfigException(setting + "[" + key + "]", "mapped twice; give all its regions in one call");
            }
            List<String> ids = new ArrayList<>();
            for (String id : regionIds) {
                if (id == null || ids.contains(id)) {
                    throw new LatitudeConfigException(setting + "[" + key + "]", "'" + id + "' is null or repeated; list each region once");
                }
                ids.add(id);
            }
            map.put(key, List.copyOf(ids));
        }

        /**
         * Returns the policy.
         *
         * @throws LatitudeConfigException if nothing was mapped and no default was set
         */
        public GeolocationPolicy build() {
            if (byCountry.isEmpty() && byJurisdiction.isEmpty() && defaultRegion == null) {
                throw new LatitudeConfigException("geolocation", "no mapping and no default region; call country(...),"
                        + " jurisdiction(...) or defaultRegion(...)");
            }
            return new GeolocationPolicy(this);
        }
    }
}
