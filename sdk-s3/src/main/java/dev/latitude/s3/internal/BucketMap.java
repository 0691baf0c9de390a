package dev.latitude.s3.internal;

import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.LatitudeConfigException;
import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.s3.UnroutableS3RequestException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Logical bucket names and, per logical bucket, the physical bucket in each region. Immutable.
 */
public final class BucketMap {
    private final Map<String, Map<String, String>> physical;

    private BucketMap(Map<String, Map<String, String>> physical) {
        this.physical = physical;
    }

    /**
     * Checks the mapping against the topology and data policies: every region a logical bucket's policy allows must
     * have a physical bucket, and no mapped region may be outside the topology.
     *
     * @param buckets logical bucket to (region id to physical bucket)
     * @param topology the topology
     * @param policies the data policies, by logical bucket
     * @return the checked map
     * @throws LatitudeConfigException naming the bucket and region at fault
     */
    public static BucketMap of(Map<String, Map<String, String>> buckets, Topology topology, DataPolicies policies) {
        if (buckets.isEmpty()) {
            throw new LatitudeConfigException("bucket", "no bucket is mapped; map each logical bucket to its bucket in"
                    + " every region, such as bucket(\"photos\", Map.of(\"us-east-1\", \"photos-use1\", \"eu-west-1\","
                    + " \"photos-euw1\"))");
        }
        Map<String, Map<String, String>> copy = new LinkedHashMap<>();
        buckets.forEach((logical, regions) -> {
            for (String region : regions.keySet()) {
                if (!topology.contains(region)) {
                    throw new LatitudeConfigException("bucket", "logical bucket '" + logical + "' maps region '"
                            + region + "', which is not in the topology; add the region or drop the mapping");
                }
            }
            DataPolicy policy = policies.policyFor(logical);
            for (RegionSpec r : topology.regions()) {
                if (policy.allows(r) && !regions.containsKey(r.id())) {
                    throw new LatitudeConfigException("bucket", "logical bucket '" + logical + "' has no bucket in"
                            + " region '" + r.id() + "'; map one there, or pin the bucket to the regions it lives in"
                            + " with a data policy's residency");
                }
            }
            copy.put(logical, Map.copyOf(regions));
        });
        return new BucketMap(Map.copyOf(copy));
    }

    /**
     * Returns the physical bucket of {@code logical} in {@code region}.
     *
     * @param operation the S3 operation, for the error
     * @param logical the logical bucket
     * @param region the region id
     * @return the physical bucket
     * @throws UnroutableS3RequestException if the bucket is not mapped there
     */
    public String physical(String operation, String logical, String region) {
        Map<String, String> regions = physical.get(logical);
        String bucket = regions == null ? null : regions.get(region);
        if (bucket == null) {
            throw new UnroutableS3RequestException(operation, regions == null
                    ? "bucket '" + logical + "' is not mapped; map it with bucket(logical, regionToBucket) on the"
                            + " builder, or call the region's own client"
                    : "bucket '" + logical + "' has no bucket in region " + region);
        }
        return bucket;
    }

    /**
     * Checks that {@code logical} is mapped.
     *
     * @param operation the S3 operation, for the error
     * @param logical the logical bucket
     * @return the logical bucket
     * @throws UnroutableS3RequestException if it is not
     */
    public String require(String operation, String logical) {
        if (logical == null || !physical.containsKey(logical)) {
            throw new UnroutableS3RequestException(operation, "bucket '" + logical + "' is not mapped; map it with"
                    + " bucket(logical, regionToBucket) on the builder, or call the region's own client");
        }
        return logical;
    }

    /** Returns the logical bucket names. */
    public Set<String> logicalBuckets() {
        return physical.keySet();
    }

    /**
     * Returns the physical buckets of {@code logical}, by region id.
     *
     * @param logical the logical bucket
     * @return the buckets, empty if not mapped
     */
    public Map<String, String> regions(String logical) {
        return physical.getOrDefault(logical, Map.of());
    }
}
