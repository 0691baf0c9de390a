package dev.latitude.s3;

import dev.latitude.LatitudeConfigException;
import dev.latitude.s3.internal.MrapArn;
import dev.latitude.s3.internal.SigV4a;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A Multi-Region Access Point (MRAP) for the S3 clients' MRAP mode: its ARN, the bucket behind it in each region, and
 * whether Latitude may move its route dials. Immutable; built with {@link #builder()}.
 *
 * <p>Requests to an MRAP are signed with SigV4a: {@link Builder#build()} checks that
 * {@code software.amazon.awssdk:http-auth-aws-crt} is on the class path and fails naming it otherwise.
 *
 * <p>Route-dial failover is off by default because it changes shared infrastructure: every client of the access
 * point, in every application, follows the dials. When it is on and a region behind the access point is unhealthy,
 * Latitude sets that region's dial to 0 and a healthy region's to 100 through S3 Control
 * ({@code SubmitMultiRegionAccessPointRoutes}, which S3 takes up to about two minutes to apply). {@link #dryRun()}
 * keeps the decision and logs what would be submitted, without submitting it.
 *
 * <pre>{@code
 * MultiRegionAccessPoint mrap = MultiRegionAccessPoint.builder()
 *         .arn("arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap")
 *         .bucket("us-east-1", "orders-use1")
 *         .bucket("eu-west-1", "orders-euw1")
 *         .routeDialFailover(true)
 *         .dryRun(true)
 *         .build();
 * }</pre>
 */
public final class MultiRegionAccessPoint {
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    private final MrapArn arn;
    private final Map<String, String> buckets;
    private final boolean routeDialFailover;
    private final boolean dryRun;

    private MultiRegionAccessPoint(Builder b) {
        this.arn = b.arn;
        this.buckets = Collections.unmodifiableMap(new LinkedHashMap<>(b.buckets));
        this.routeDialFailover = b.routeDialFailover;
        this.dryRun = b.dryRun;
    }

    /** Returns a builder; the ARN and at least one region's bucket must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the access point's ARN, {@code arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap}. */
    public String arn() {
        return arn.toString();
    }

    /** Returns the account that owns the access point (S3 Control calls are made for it). */
    public String accountId() {
        return arn.accountId();
    }

    /** Returns the access point's alias, such as {@code mfzwi23gnjvgw.mrap}. */
    public String alias() {
        return arn.alias();
    }

    /** Returns the bucket behind the access point in each region, in the order given. */
    public Map<String, String> buckets() {
        return buckets;
    }

    /** Returns the regions behind the access point, in the order given. */
    public List<String> regions() {
        return List.copyOf(buckets.keySet());
    }

    /**
     * Returns the bucket behind the access point in {@code region}.
     *
     * @param region a region id
     * @return the bucket
     * @throws IllegalArgumentException if the access point has no bucket there
     */
    public String bucket(String region) {
        String b = buckets.get(region);
        if (b == null) {
            throw new IllegalArgumentException("the Multi-Region Access Point " + arn + " has no bucket in " + region
                    + "; its regions: " + buckets.keySet());
        }
        return b;
    }

    /** Returns whether Latitude may move route dials when a region fails (default: no). */
    public boolean routeDialFailover() {
        return routeDialFailover;
    }

    /** Returns whether route-dial failover only reports what it would submit (default: no). */
    public boolean dryRun() {
        return dryRun;
    }

    /** Returns a builder holding this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.arn = arn;
        b.buckets.putAll(buckets);
        b.routeDialFailover = routeDialFailover;
        b.dryRun = dryRun;
        return b;
    }

    @Override
    public String toString() {
        return "MultiRegionAccessPoint[" + arn + ", buckets=" + buckets + ", routeDialFailover=" + routeDialFailover
                + (dryRun ? " (dry run)" : "") + "]";
    }

    /** Builds a {@link MultiRegionAccessPoint}. */
    public static final class Builder {
        private MrapArn arn;
        private final Map<String, String> buckets = new LinkedHashMap<>();
        private boolean routeDialFailover;
        private boolean dryRun;

        private Builder() {
        }

        /**
         * Sets the access point's ARN.
         *
         * @param arn {@code arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap}
         * @return this builder
         * @throws LatitudeConfigException naming {@code mrap.arn} if it is not an MRAP ARN
         */
        public Builder arn(String arn) {
            this.arn = MrapArn.parse("mrap.arn", arn);
            return this;
        }

        /**
         * Names the bucket behind the access point in a region.
         *
         * @param region the region id, such as {@code eu-west-1}
         * @param bucket the bucket's name
         * @return this builder
         * @throws LatitudeConfigException naming {@code mrap.buckets} if a name is malformed or the region was given
         *     before
         */
        public Builder bucket(String region, String bucket) {
            if (region == null || region.isBlank()) {
                throw new LatitudeConfigException("mrap.buckets", "a region id is empty; give the region of each"
                        + " bucket behind the access point, such as bucket(\"eu-west-1\", \"orders-euw1\")");
            }
            if (bucket == null || !BUCKET.matcher(bucket).matches()) {
                throw new LatitudeConfigException("mrap.buckets[" + region + "]", "'" + bucket + "' is not a bucket"
                        + " name (3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a"
                        + " letter or digit)");
            }
            if (buckets.containsKey(region)) {
                throw new LatitudeConfigException("mrap.buckets[" + region + "]", "was given twice (" + buckets.get(
                        region) + ", " + bucket + "); an access point has one bucket per region");
            }
            buckets.put(region, bucket);
            return this;
        }

        /**
         * Lets Latitude move the route dials when a region fails; off by default, because every client of the access
         * point follows them.
         *
         * @param enabled whether to fail over by route dials
         * @return this builder
         */
        public Builder routeDialFailover(boolean enabled) {
            this.routeDialFailover = enabled;
            return this;
        }

        /**
         * Makes route-dial failover report what it would submit instead of submitting it; needs
         * {@link #routeDialFailover(boolean)}.
         *
         * @param enabled whether to only report
         * @return this builder
         */
        public Builder dryRun(boolean enabled) {
            this.dryRun = enabled;
            return this;
        }

        /**
         * Checks the configuration, and that SigV4a signing is available.
         *
         * @return the access point
         * @throws LatitudeConfigException if the ARN or buckets are missing, route-dial failover has no second region
         *     to move to, a dry run is asked for without route-dial failover, or
         *     {@code software.amazon.awssdk:http-auth-aws-crt} is missing
         */
        public MultiRegionAccessPoint build() {
            if (arn == null) {
                throw new LatitudeConfigException("mrap.arn", "not set; call arn(\"arn:aws:s3::ACCOUNT:accesspoint/"
                        + "ALIAS.mrap\")");
            }
            if (buckets.isEmpty()) {
                throw new LatitudeConfigException("mrap.buckets", "none given; name the bucket behind " + arn
                        + " in each region with bucket(region, bucket), so reads can fall back to the bucket that took"
                        + " a write and failover knows the regions");
            }
            if (routeDialFailover && buckets.size() < 2) {
                throw new LatitudeConfigException("mrap.routeDialFailover", "needs at least two regions behind the"
                        + " access point to move traffic between, got " + buckets.keySet());
            }
            if (dryRun && !routeDialFailover) {
                throw new LatitudeConfigException("mrap.dryRun", "has nothing to report while route-dial failover is"
                        + " off; call routeDialFailover(true) too, or leave dryRun out");
            }
            SigV4a.check("mrap.arn");
            return new MultiRegionAccessPoint(this);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MultiRegionAccessPoint m && arn.equals(m.arn) && buckets.equals(m.buckets)
                && routeDialFailover == m.routeDialFailover && dryRun == m.dryRun;
    }

    @Override
    public int hashCode() {
        return Objects.hash(arn, buckets, routeDialFailover, dryRun);
    }
}
