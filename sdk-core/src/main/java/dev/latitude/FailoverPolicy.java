package dev.latitude;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Routes to regions in a fixed priority order (active/passive), like Route 53 failover records: the first healthy
 * region in the list serves; regions not listed rank after all listed ones and tie with each other.
 *
 * <pre>{@code RoutingPolicy policy = RoutingPolicy.failover().priority("us-east-1", "us-west-2").build();}</pre>
 */
public final class FailoverPolicy implements RoutingPolicy {
    private final List<String> priority;

    private FailoverPolicy(List<String> priority) {
        this.priority = priority;
    }

    static Builder builder() {
        return new Builder();
    }

    /** Returns the region ids in priority order. */
    public List<String> priority() {
        return priority;
    }

    @Override
    public void rank(RoutingCandidates c) {
        for (int i = 0; i < c.size(); i++) {
            int p = priority.indexOf(c.region(i).id());
            c.rank(i, p < 0 ? priority.size() : p);
        }
    }

    @Override
    public void validate(Topology topology) {
        for (String id : priority) {
            topology.requireRegion("failover.priority", id);
        }
    }

    @Override
    public String toString() {
        return "failover" + priority;
    }

    /** Builds a {@link FailoverPolicy}. */
    public static final class Builder {
        private List<String> priority;

        private Builder() {
        }

        /**
         * Sets the order in which regions are preferred.
         *
         * @param regionIds region ids, most preferred first, each at most once
         * @return this builder
         * @throws LatitudeConfigException if empty or an id repeats
         */
        public Builder priority(String... regionIds) {
            if (regionIds.length == 0) {
                throw new LatitudeConfigException("failover.priority", "empty; list the regions, most preferred first");
            }
            List<String> list = new ArrayList<>();
            for (String id : regionIds) {
                if (list.contains(id)) {
                    throw new LatitudeConfigException("failover.priority", "'" + id + "' appears twice in "
                            + Arrays.toString(regionIds) + "; list each region once");
                }
                list.add(id);
            }
            this.priority = List.copyOf(list);
            return this;
        }

        /**
         * Returns the policy.
         *
         * @throws LatitudeConfigException if no priority was given
         */
        public FailoverPolicy build() {
            if (priority == null) {
                throw new LatitudeConfigException("failover.priority", "not set; call priority(\"primary\", \"secondary\")");
            }
            return new FailoverPolicy(priority);
        }
    }
}
