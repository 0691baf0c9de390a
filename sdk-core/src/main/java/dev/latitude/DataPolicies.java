package dev.latitude;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Maps data classes to their {@link DataPolicy}: an exact name wins, then the longest matching prefix, then the
 * default ({@link DataPolicy#defaults()} unless set). Immutable. Without prefixes a lookup is one map read; with them,
 * lookups are cached per name (at most 10,000 names, in a Caffeine cache).
 *
 * <pre>{@code
 * DataPolicies policies = DataPolicies.builder()
 *     .exact("orders", DataPolicy.builder().consistency(ConsistencyLevel.STRONG).build())
 *     .prefix("eu_", DataPolicy.builder().residency("EU").build())
 *     .build();
 * }</pre>
 */
public final class DataPolicies {
    private static final int MAX_CACHED = 10_000;
    /** Resolved lookups; bounded, since data class names may come from callers. */
    private final Cache<String, DataPolicy> cache = Caffeine.newBuilder().maximumSize(MAX_CACHED).build();
    private final Map<String, DataPolicy> exact;
    private final Map<String, DataPolicy> prefixes; // longest first
    private final DataPolicy fallback;
    private final Function<String, DataPolicy> resolver = this::resolve;

    private DataPolicies(Builder b) {
        this.exact = Map.copyOf(b.exact);
        Map<String, DataPolicy> sorted = new LinkedHashMap<>();
        b.prefixes.entrySet().stream()
                .sorted(Comparator.comparingInt((Map.Entry<String, DataPolicy> e) -> e.getKey().length()).reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        this.prefixes = sorted;
        this.fallback = b.fallback;
    }

    /** Returns the mapping that gives every data class {@link DataPolicy#defaults()}. */
    public static DataPolicies defaults() {
        return builder().build();
    }

    /** Starts an empty mapping. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the policy of {@code dataClass}.
     *
     * @param dataClass a data class name, or {@code null} for calls that name none
     * @return its policy
     */
    public DataPolicy policyFor(String dataClass) {
        if (dataClass == null) {
            return fallback;
        }
        if (prefixes.isEmpty()) {
            return exact.getOrDefault(dataClass, fallback); // nothing to resolve: no cache needed
        }
        return cache.get(dataClass, resolver);
    }

    private DataPolicy resolve(String dataClass) {
        DataPolicy p = exact.get(dataClass);
        if (p != null) {
            return p;
        }
        for (Map.Entry<String, DataPolicy> e : prefixes.entrySet()) {
            if (dataClass.startsWith(e.getKey())) {
                return e.getValue();
            }
        }
        return fallback;
    }

    /** Checks every policy against the topology; called when an engine is built. */
    void validate(Topology topology) {
        exact.forEach((name, p) -> p.validate("dataPolicies[" + name + "]", topology));
        prefixes.forEach((prefix, p) -> p.validate("dataPolicies[" + prefix + "*]", topology));
        fallback.validate("dataPolicies[default]", topology);
    }

    @Override
    public String toString() {
        return "DataPolicies[exact=" + exact + ", prefixes=" + prefixes + ", default=" + fallback + "]";
    }

    /** Builds {@link DataPolicies}. */
    public static final class Builder {
        private final Map<String, DataPolicy> exact = new LinkedHashMap<>();
        private final Map<String, DataPolicy> prefixes = new LinkedHashMap<>();
        private DataPolicy fallback = DataPolicy.defaults();

        private Builder() {
        }

        /**
         * Sets the policy of the data class named exactly {@code name}.
         *
         * @param name the data class
         * @param policy its policy
         * @return this builder
         * @throws LatitudeConfigException if the name is blank or mapped twice
         */
        public Builder exact(String name, DataPolicy policy) {
            put(exact, "dataPolicies.exact", name, policy);
            return this;
        }

        /**
         * Sets the policy of every data class whose name starts with {@code prefix} (the longest prefix wins).
         *
         * @param prefix the prefix
         * @param policy its policy
         * @return this builder
         * @throws LatitudeConfigException if the prefix is blank or mapped twice
         */
        public Builder prefix(String prefix, DataPolicy policy) {
            put(prefixes, "dataPolicies.prefix", prefix, policy);
            return this;
        }

        /**
         * Sets the policy of data classes that match nothing.
         *
         * @param policy the default policy
         * @return this builder
         */
        public Builder defaultPolicy(DataPolicy policy) {
            this.fallback = Objects.requireNonNull(policy, "defaultPolicy");
            return this;
        }

        private static void put(Map<String, DataPolicy> map, String setting, String name, DataPolicy policy) {
            if (name == null || name.isBlank()) {
                throw new LatitudeConfigException(setting, "a data class name is blank; name a table, bucket or schema");
            }
            if (map.putIfAbsent(name, Objects.requireNonNull(policy, "policy")) != null) {
                throw new LatitudeConfigException(setting + "[" + name + "]", "mapped twice; give each name one policy");
            }
        }

        /** Returns the mapping. */
        public DataPolicies build() {
            return new DataPolicies(this);
        }
    }
}
