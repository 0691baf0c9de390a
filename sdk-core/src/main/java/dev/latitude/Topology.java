package dev.latitude;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The regions a service uses and the one this process runs in; immutable and validated at {@link Builder#build()}.
 *
 * <pre>{@code
 * Topology topology = Topology.builder()
 *     .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").location(38.9, -77.4).build())
 *     .region(RegionSpec.builder("eu-west-1").jurisdiction("EU").location(53.35, -6.26).build())
 *     .localRegion("eu-west-1")
 *     .build();
 * }</pre>
 *
 * <p>Each region has an index (its position in {@link #regions()}) that the engine uses internally.
 */
public final class Topology {
    /** The most regions a topology may have (more than any cloud offers). */
    public static final int MAX_REGIONS = 64;
    private final List<RegionSpec> regions;
    private final Map<String, Integer> indexById;
    private final RegionSpec localRegion;

    private Topology(List<RegionSpec> regions, Map<String, Integer> indexById, RegionSpec localRegion) {
        this.regions = regions;
        this.indexById = indexById;
        this.localRegion = localRegion;
    }

    /** Starts an empty topology. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns a builder holding these regions and local region, to derive a variant. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.regions.addAll(regions);
        b.localRegion = localRegion.id();
        return b;
    }

    /** Returns the regions in the order they were added. */
    public List<RegionSpec> regions() {
        return regions;
    }

    /** Returns the region this process runs in. */
    public RegionSpec localRegion() {
        return localRegion;
    }

    /**
     * Returns the region with the given id.
     *
     * @param id a region id
     * @return the region
     * @throws LatitudeConfigException if there is no such region
     */
    public RegionSpec region(String id) {
        return regions.get(indexOf(id));
    }

    /** Returns whether a region with {@code id} is part of this topology. */
    public boolean contains(String id) {
        return indexById.containsKey(id);
    }

    /**
     * Returns the index of the region with {@code id} in {@link #regions()}.
     *
     * @param id a region id
     * @return its index
     * @throws LatitudeConfigException if there is no such region
     */
    public int indexOf(String id) {
        Integer i = indexById.get(id);
        if (i == null) {
            throw new LatitudeConfigException("region", "'" + id + "' is not in the topology " + indexById.keySet()
                    + "; add it with Topology.builder().region(...) or use one of those ids");
        }
        return i;
    }

    /** Throws a {@link LatitudeConfigException} naming {@code setting} unless {@code id} is a region here. */
    void requireRegion(String setting, String id) {
        if (!contains(id)) {
            throw new LatitudeConfigException(setting, "'" + id + "' is not a region of the topology "
                    + indexById.keySet() + "; use one of those ids");
        }
    }

    /** Returns the number of regions. */
    public int size() {
        return regions.size();
    }

    @Override
    public String toString() {
        return "Topology" + regions + " local=" + localRegion.id();
    }

    /** Builds a {@link Topology}; {@link #build()} checks the whole. */
    public static final class Builder {
        private final List<RegionSpec> regions = new ArrayList<>();
        private String localRegion;

        private Builder() {
        }

        /**
         * Adds a region.
         *
         * @param region the region
         * @return this builder
         */
        public Builder region(RegionSpec region) {
            regions.add(Objects.requireNonNull(region, "region"));
            return this;
        }

        /**
         * Sets the region this process runs in (on AWS, usually the value of {@code AWS_REGION}).
         *
         * @param id the id of one of the regions
         * @return this builder
         */
        public Builder localRegion(String id) {
            this.localRegion = Objects.requireNonNull(id, "localRegion");
            return this;
        }

        /**
         * Returns the topology.
         *
         * @return the topology
         * @throws LatitudeConfigException if there are no regions, two regions share an id, no region is a writer,
         *     or the local region is missing or unknown
         */
        public Topology build() {
            if (regions.isEmpty()) {
                throw new LatitudeConfigException("topology.regions",
                        "no regions; add at least one with Topology.builder().region(RegionSpec.builder(\"us-east-1\").writer().build())");
            }
            if (regions.size() > MAX_REGIONS) {
                throw new LatitudeConfigException("topology.regions", regions.size() + " regions, more than the "
                        + MAX_REGIONS + " supported; list only the regions this service uses");
            }
            Map<String, Integer> index = new LinkedHashMap<>();
            boolean writer = false;
            boolean reader = false;
            for (int i = 0; i < regions.size(); i++) {
                RegionSpec r = regions.get(i);
                if (index.putIfAbsent(r.id(), i) != null) {
                    throw new LatitudeConfigException("topology.regions", "region '" + r.id()
                            + "' is added twice; each region id must appear once (merge the two definitions)");
                }
                writer |= r.isWriter();
                reader |= r.isReader();
            }
            if (!writer) {
                throw new LatitudeConfigException("topology.regions", "no region is a writer among " + index.keySet()
                        + "; mark the region that takes writes with RegionSpec.builder(id).writer()");
            }
            if (!reader) {
                throw new LatitudeConfigException("topology.regions", "no region is a reader among " + index.keySet()
                        + "; give at least one region the READER role (writer() makes a region both)");
            }
            if (localRegion == null) {
                throw new LatitudeConfigException("topology.localRegion", "not set; call localRegion(id) with the region"
                        + " this process runs in, one of " + index.keySet());
            }
            Integer local = index.get(localRegion);
            if (local == null) {
                throw new LatitudeConfigException("topology.localRegion", "'" + localRegion + "' is not one of the regions "
                        + index.keySet() + "; add it with region(...) or pick one of those");
            }
            List<RegionSpec> copy = Collections.unmodifiableList(new ArrayList<>(regions));
            return new Topology(copy, Collections.unmodifiableMap(index), copy.get(local));
        }
    }
}
