package dev.latitude;

import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a data class (a table, bucket or schema) requires: its default consistency level, its residency (the
 * jurisdictions its data may be read or written in) and its write mode; immutable.
 *
 * <pre>{@code
 * DataPolicy euPersonalData = DataPolicy.builder()
 *     .consistency(ConsistencyLevel.SESSION)
 *     .residency("EU")
 *     .writeMode(WriteMode.SINGLE_WRITER)
 *     .writerRegion("eu-west-1")
 *     .build();
 * }</pre>
 *
 * <p>Defaults ({@link #defaults()}): {@link ConsistencyLevel#SESSION}, no residency restriction,
 * {@link WriteMode#SINGLE_WRITER} with the topology's writer regions. A residency is never relaxed: when every region
 * in it has been tried and failed, calls fail with {@link ResidencyException} and nothing is sent elsewhere (a call
 * whose deadline passes first ends, as any call does, with {@link RegionsUnavailableException#deadlineExceeded()}).
 */
public final class DataPolicy {
    private static final DataPolicy DEFAULTS = builder().build();

    private final ConsistencyLevel consistency;
    private final Set<String> residency;
    private final WriteMode writeMode;
    private final String writerRegion;

    private DataPolicy(Builder b) {
        this.consistency = b.consistency;
        this.residency = Collections.unmodifiableSet(new TreeSet<>(b.residency));
        this.writeMode = b.writeMode;
        this.writerRegion = b.writerRegion;
    }

    /** Returns the policy for data classes nobody described: SESSION, anywhere, single writer. */
    public static DataPolicy defaults() {
        return DEFAULTS;
    }

    /** Starts from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the consistency level reads get unless the operation asks for another. */
    public ConsistencyLevel consistency() {
        return consistency;
    }

    /** Returns the jurisdictions the data may live in; empty means anywhere. */
    public Set<String> residency() {
        return residency;
    }

    /** Returns the write mode. */
    public WriteMode writeMode() {
        return writeMode;
    }

    /** Returns the single writer region, or {@code null} to use the topology's writer regions. */
    public String writerRegion() {
        return writerRegion;
    }

    /** Returns whether {@code region} may hold this data. */
    public boolean allows(RegionSpec region) {
        return residency.isEmpty() || region.jurisdiction() != null && residency.contains(region.jurisdiction());
    }

    /**
     * Checks the policy against a topology.
     *
     * @param setting the name to report, such as {@code dataPolicies["users"]}
     * @param topology the topology
     * @throws LatitudeConfigException if no region lies in the residency, or the writer region is unknown or outside it
     */
    void validate(String setting, Topology topology) {
        if (topology.regions().stream().noneMatch(this::allows)) {
            throw new LatitudeConfigException(setting + ".residency", residency + " contains no region of the topology "
                    + topology.regions().stream().map(r -> r.id() + "=" + r.jurisdiction()).toList()
                    + "; add a region in those jurisdictions or correct the residency");
        }
        if (writerRegion != null) {
            topology.requireRegion(setting + ".writerRegion", writerRegion);
            if (!allows(topology.region(writerRegion))) {
                throw new LatitudeConfigException(setting + ".writerRegion", "'" + writerRegion + "' lies in "
                        + topology.region(writerRegion).jurisdiction() + ", outside the residency " + residency
                        + "; pick a writer region inside it");
            }
        } else if (writeMode == WriteMode.SINGLE_WRITER
                && topology.regions().stream().noneMatch(r -> r.isWriter() && allows(r))) {
            throw new LatitudeConfigException(setting + ".writerRegion", "no writer region of the topology lies in "
                    + residency + "; name one with writerRegion(id) or mark a region there writer()");
        }
    }

    @Override
    public String toString() {
        return "DataPolicy[" + consistency + ", residency=" + (residency.isEmpty() ? "anywhere" : residency) + ", "
                + writeMode + (writerRegion == null ? "" : " " + writerRegion) + "]";
    }

    /** Builds a {@link DataPolicy}. */
    public static final class Builder {
        private ConsistencyLevel consistency = ConsistencyLevel.SESSION;
        private Set<String> residency = Set.of();
        private WriteMode writeMode = WriteMode.SINGLE_WRITER;
        private String writerRegion;

        private Builder() {
        }

        /**
         * Sets the default consistency level of reads.
         *
         * @param level the level
         * @return this builder
         */
        public Builder consistency(ConsistencyLevel level) {
            this.consistency = Objects.requireNonNull(level, "consistency");
            return this;
        }

        /**
         * Restricts the data to regions in these jurisdictions; never relaxed, not even when they are all down.
         *
         * @param jurisdictions one or more jurisdiction codes, such as {@code EU}
         * @return this builder
         * @throws LatitudeConfigException if none is given or one is blank
         */
        public Builder residency(String... jurisdictions) {
            if (jurisdictions.length == 0) {
                throw new LatitudeConfigException("dataPolicy.residency", "empty; give at least one jurisdiction such as"
                        + " \"EU\", or leave residency unset for data that may live anywhere");
            }
            Set<String> set = new TreeSet<>();
            for (String j : jurisdictions) {
                if (j == null || j.isBlank()) {
                    throw new LatitudeConfigException("dataPolicy.residency", "a jurisdiction is blank; use codes such as \"EU\"");
                }
                set.add(j);
            }
            this.residency = set;
            return this;
        }

        /**
         * Sets the write mode.
         *
         * @param mode single writer or multi-writer
         * @return this builder
         */
        public Builder writeMode(WriteMode mode) {
            this.writeMode = Objects.requireNonNull(mode, "writeMode");
            return this;
        }

        /**
         * Names the single writer region of this data class (only with {@link WriteMode#SINGLE_WRITER}).
         *
         * @param regionId a region id
         * @return this builder
         */
        public Builder writerRegion(String regionId) {
            this.writerRegion = Objects.requireNonNull(regionId, "writerRegion");
            return this;
        }

        /**
         * Returns the policy.
         *
         * @throws LatitudeConfigException if a writer region is named for a multi-writer policy
         */
        public DataPolicy build() {
            if (writerRegion != null && writeMode == WriteMode.MULTI_WRITER) {
                throw new LatitudeConfigException("dataPolicy.writerRegion", "'" + writerRegion + "' is set but the write"
                        + " mode is MULTI_WRITER, where every allowed region takes writes; drop one of the two");
            }
            return new DataPolicy(this);
        }
    }
}
