package dev.latitude.s3;

import dev.latitude.DataPolicies;
import dev.latitude.Latitude;
import dev.latitude.LatitudeConfigException;
import dev.latitude.ProbeConfig;
import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.aws.AttemptTimeouts;
import dev.latitude.aws.FailoverRetryStrategy;
import dev.latitude.aws.RegionClients;
import dev.latitude.DataPolicy;
import dev.latitude.s3.internal.AccessPoints;
import dev.latitude.s3.internal.BucketMap;
import dev.latitude.s3.internal.RouteDials;
import dev.latitude.s3.internal.S3Core;
import dev.latitude.spi.HealthProbe;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3control.S3ControlClient;

/**
 * The settings {@link MultiRegionS3Client.Builder} and {@link MultiRegionS3AsyncClient.Builder} share. Required:
 * {@link #topology(Topology)}, at least one {@link #bucket(String, Map) bucket mapping}, and a client for every region
 * ({@link #regionClient}, {@link #regionClients}, or {@code buildClients(...)} on the concrete builder, which makes
 * them with Latitude's settings).
 *
 * <p>Defaults: {@link DataPolicies#defaults()} (single writer: the topology's writer regions take writes; give a
 * bucket {@code WriteMode.MULTI_WRITER} when its replication is bidirectional); the write stamp in user metadata
 * {@value #DEFAULT_STAMP_METADATA}; object keys kept off spans; health probes of unhealthy regions every 250 ms
 * (a {@code HeadBucket}); the engine's own defaults for the rest, adjustable with {@link #router(Consumer)}.
 *
 * @param <B> the concrete builder
 * @param <C> the region client type
 */
public abstract class MultiRegionS3Builder<B extends MultiRegionS3Builder<B, C>, C extends SdkClient> {
    /** The user-metadata name of the write stamp unless another is given ({@code x-amz-meta-latitude-stamp}). */
    public static final String DEFAULT_STAMP_METADATA = "latitude-stamp";
    private static final Pattern METADATA_NAME = Pattern.compile("[a-z0-9][a-z0-9_.\\-]{0,99}");
    /** Unhealthy regions are probed every 250 ms, so a healed region gets traffic back within about half a second. */
    private static final ProbeConfig DEFAULT_PROBES = ProbeConfig.builder().interval(Duration.ofMillis(250))
            .timeout(Duration.ofMillis(250)).unhealthyOnly(true).build();

    private Topology topology;
    private DataPolicies dataPolicies;
    private final Map<String, Map<String, String>> buckets = new LinkedHashMap<>();
    private final Map<String, C> clients = new LinkedHashMap<>();
    private Function<String, C> factory;
    private BiFunction<String, RegionClients, C> maker;
    private Consumer<Latitude.Builder> router;
    private OpenTelemetry openTelemetry;
    private String stampMetadata = DEFAULT_STAMP_METADATA;
    private boolean recordKeys;
    private ProbeConfig probes = DEFAULT_PROBES;
    private final Map<String, MultiRegionAccessPoint> accessPoints = new LinkedHashMap<>();
    private Function<String, S3ControlClient> s3Control;

    MultiRegionS3Builder() {
    }

    abstract B self();

    /**
     * Sets how {@code buildClients(...)} makes a region's client, given the region and Latitude's defaults; this
     * builder then makes the clients of regions not given one.
     */
    B maker(BiFunction<String, RegionClients, C> maker) {
        this.maker = maker;
        return self();
    }

    /**
     * Sets the regions: ids (the AWS region names), roles, jurisdictions, locations and the local region. Required.
     *
     * @param topology the topology
     * @return this builder
     */
    public B topology(Topology topology) {
        this.topology = Objects.requireNonNull(topology, "topology");
        return self();
    }

    /**
     * Sets the data policies, by logical bucket name: consistency of reads, residency (the jurisdictions a bucket's
     * data may be in; its calls never reach a region outside them), and write mode ({@code SINGLE_WRITER}: writes go
     * to the writer region's bucket; {@code MULTI_WRITER}: to the best region's bucket, for bidirectional
     * replication).
     *
     * @param policies the policies
     * @return this builder
     */
    public B dataPolicies(DataPolicies policies) {
        this.dataPolicies = Objects.requireNonNull(policies, "dataPolicies");
        return self();
    }

    /**
     * Maps a logical bucket, the name the application uses, to its physical bucket in each region (buckets linked by
     * S3 replication). Every region the bucket's data policy allows must have one.
     *
     * @param logical the logical name
     * @param regionToBucket region id to physical bucket name
     * @return this builder
     * @throws LatitudeConfigException if the bucket is mapped twice or the map is empty
     */
    public B bucket(String logical, Map<String, String> regionToBucket) {
        Objects.requireNonNull(logical, "logical");
        Objects.requireNonNull(regionToBucket, "regionToBucket");
        if (regionToBucket.isEmpty()) {
            throw new LatitudeConfigException("bucket", "logical bucket '" + logical + "' maps no region; give its"
                    + " bucket in each region, such as Map.of(\"us-east-1\", \"photos-use1\")");
        }
        if (buckets.putIfAbsent(logical, Map.copyOf(regionToBucket)) != null) {
            throw new LatitudeConfigException("bucket", "logical bucket '" + logical + "' is mapped twice; map it"
                    + " once");
        }
        return self();
    }

    /**
     * Serves a logical bucket through a Multi-Region Access Point (MRAP mode): reads go to the access point's ARN
     * first, signed with SigV4a, and S3 routes them to the nearest active bucket; a read the access point cannot serve
     * (a failure, or a session read it answers with {@code NoSuchKey} or an older object than the session wrote) goes
     * to the buckets behind it directly, as in direct mode, escalating to the bucket that took the write. Writes go to
     * the writer's bucket directly, so the session knows which bucket took them. The buckets behind the access point are
     * the logical bucket's mapping; every one must be in a region the bucket's residency allows (checked at build).
     * With the access point's route-dial failover on, a region behind it that becomes unhealthy gets its dial moved to
     * 0 through S3 Control ({@link #s3ControlClients}).
     *
     * @param logical the logical bucket name
     * @param accessPoint the access point and the buckets behind it
     * @return this builder
     * @throws LatitudeConfigException if the bucket is mapped already
     */
    public B multiRegionAccessPoint(String logical, MultiRegionAccessPoint accessPoint) {
        Objects.requireNonNull(accessPoint, "accessPoint");
        bucket(logical, accessPoint.buckets());
        accessPoints.put(logical, accessPoint);
        return self();
    }

    /**
     * Makes the S3 Control clients route-dial failover uses, one per control region (us-east-1, us-west-2,
     * ap-southeast-2, ap-northeast-1, eu-west-1, tried in that order); by default
     * {@code S3ControlClient.builder().region(Region.of(region)).build()}. Closed with the client.
     *
     * @param factory makes the client of a control region
     * @return this builder
     */
    public B s3ControlClients(Function<String, S3ControlClient> factory) {
        this.s3Control = Objects.requireNonNull(factory, "s3ControlClients");
        return self();
    }

    /**
     * Gives the client of one region, pointed at that region's S3 endpoint. Closing the multi-region client does not
     * close it. Its own retries run inside one Latitude attempt: build it with
     * {@link MultiRegionS3Client#failoverRetryStrategy()} so a failing region is left quickly.
     *
     * @param regionId a region of the topology
     * @param client its client
     * @return this builder
     * @throws LatitudeConfigException if the region was given a client already
     */
    public B regionClient(String regionId, C client) {
        Objects.requireNonNull(regionId, "regionId");
        if (clients.putIfAbsent(regionId, Objects.requireNonNull(client, "client")) != null) {
            throw new LatitudeConfigException("regionClient", "region '" + regionId + "' was given two clients;"
                    + " give one per region");
        }
        return self();
    }

    /**
     * Makes the clients of the regions not given one with {@link #regionClient}: the factory is told the region id.
     * Clients it makes are closed with the multi-region client. They are used as they are: give them
     * {@link MultiRegionS3Client#failoverRetryStrategy()}; Latitude then sets each request's timeouts, which the SDK
     * arms on its own timer executor at a cost per request. {@code buildClients(...)} on the concrete builder makes
     * them with Latitude's settings instead.
     *
     * @param factory makes a region's client
     * @return this builder
     */
    public B regionClients(Function<String, C> factory) {
        this.factory = Objects.requireNonNull(factory, "regionClients");
        return self();
    }

    /**
     * Adjusts the routing engine: routing policy, attempt timeout, deadline, hedging, breaker, clocks, executors. The
     * topology, data policies, error classifier, health probe and OpenTelemetry are set by this builder.
     *
     * @param settings applied to the engine's builder
     * @return this builder
     */
    public B router(Consumer<Latitude.Builder> settings) {
        this.router = Objects.requireNonNull(settings, "router");
        return self();
    }

    /**
     * Sets where spans and metrics go (default {@code GlobalOpenTelemetry}). Spans carry {@code aws.s3.bucket} (the
     * logical bucket), {@code cloud.region} (the region that answered) and, only with {@link #recordKeys(boolean)},
     * {@code aws.s3.key}.
     *
     * @param openTelemetry the OpenTelemetry instance
     * @return this builder
     */
    public B openTelemetry(OpenTelemetry openTelemetry) {
        this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
        return self();
    }

    /**
     * Puts object keys on spans as {@code aws.s3.key} (off by default: keys may be personal data).
     *
     * @param record whether to record keys
     * @return this builder
     */
    public B recordKeys(boolean record) {
        this.recordKeys = record;
        return self();
    }

    /**
     * Sets the user-metadata name that carries the write stamp ({@code x-amz-meta-NAME}; default
     * {@value #DEFAULT_STAMP_METADATA}).
     *
     * @param name 1 to 100 lower-case letters, digits, '-', '_' or '.'
     * @return this builder
     * @throws LatitudeConfigException if it is not such a name
     */
    public B stampMetadata(String name) {
        if (name == null || !METADATA_NAME.matcher(name).matches()) {
            throw new LatitudeConfigException("stampMetadata", "'" + name + "' is not a user-metadata name; give 1"
                    + " to 100 lower-case letters, digits, '-', '_' or '.', such as 'latitude-stamp'");
        }
        this.stampMetadata = name;
        return self();
    }

    /**
     * Sets how unhealthy regions are probed (a {@code HeadBucket} of a mapped bucket; any answer from S3, even an
     * error, shows the region is reachable).
     *
     * @param config the probe settings
     * @return this builder
     */
    public B healthProbes(ProbeConfig config) {
        this.probes = Objects.requireNonNull(config, "healthProbes");
        return self();
    }

    /**
     * Returns the retry strategy for region clients that keeps failover fast: a throttled request ({@code SlowDown},
     * 503, 429: never applied) is repeated once in the same region after 25-100 ms ({@code Retry-After} hints capped
     * at 100 ms); every other failure goes straight back to Latitude, which moves the call on or, for a write that may
     * have been applied, stops.
     *
     * @return the strategy
     */
    static RetryStrategy failoverRetryStrategy() {
        return FailoverRetryStrategy.create(S3ErrorClassifier::isThrottling);
    }

    /**
     * Builds the engine and the shared core; {@code probe} checks one region given its client and a physical bucket;
     * {@code resource} is closed with the client (and if the build fails). For the {@code blocking} client, first
     * attempts run on the calling thread unless {@code router(...)} said otherwise: every region request is then cut
     * by the AWS SDK when the engine would move on ({@link AttemptTimeouts}).
     */
    S3Core<C> core(Function<C, Function<String, CompletionStage<?>>> probe, AutoCloseable resource,
            boolean blocking) {
        if (topology == null) {
            throw new LatitudeConfigException("topology", "is required; give the regions with topology(...)");
        }
        DataPolicies policies = dataPolicies != null ? dataPolicies : DataPolicies.defaults();
        BucketMap map = BucketMap.of(buckets, topology, policies);
        for (String id : clients.keySet()) {
            if (!topology.contains(id)) {
                throw new LatitudeConfigException("regionClient", "region '" + id + "' is not in the topology "
                        + topology.regions().stream().map(RegionSpec::id).toList() + "; add it or drop its client");
            }
        }
        AccessPoints mraps = accessPoints(policies);
        List<AutoCloseable> owned = new ArrayList<>();
        owned.add(resource);
        owned.add(mraps);
        Latitude.Builder lb;
        try {
            lb = Latitude.builder().topology(topology).dataPolicies(policies)
                    .errorClassifier(S3ErrorClassifier.create());
            if (openTelemetry != null) {
                lb.openTelemetry(openTelemetry);
            }
            if (router != null) {
                router.accept(lb);
            }
        } catch (RuntimeException e) {
            closeAll(owned);
            throw e;
        }
        if (factory != null && maker != null) {
            closeAll(owned);
            throw new LatitudeConfigException("regionClients", "both regionClients(...) and buildClients(...) were"
                    + " given; give one of them: buildClients lets this builder make the clients with Latitude's"
                    + " settings, regionClients makes them yourself");
        }
        // No timeouts of the clients' own: multipart parts and the non-blocking client's calls go straight to a region's
        // client and may rightly take longer than the attempt timeout; the blocking client bounds its requests one by
        // one (AttemptTimeouts).
        RegionClients made = new RegionClients(lb.attemptTimeout(), false, failoverRetryStrategy(), owned);
        Set<String> madeRegions = new HashSet<>();
        Map<String, C> all = new LinkedHashMap<>();
        try {
            for (RegionSpec r : topology.regions()) {
                C c = clients.get(r.id());
                if (c == null) {
                    if (factory != null) {
                        c = Objects.requireNonNull(factory.apply(r.id()), "the regionClients factory returned null");
                    } else if (maker != null) {
                        c = maker.apply(r.id(), made);
                        madeRegions.add(r.id());
                    } else {
                        throw new LatitudeConfigException("regionClient", "region '" + r.id() + "' has no client;"
                                + " give one with regionClient(\"" + r.id() + "\", client), or let this builder make"
                                + " them with buildClients(settings)");
                    }
                    owned.add(c);
                }
                all.put(r.id(), c);
            }
        } catch (RuntimeException e) {
            closeAll(owned); // the clients made so far, and the timers
            throw e;
        }
        String probeBucket = map.logicalBuckets().iterator().next();
        HealthProbe healthProbe = region -> {
            String physical = map.regions(probeBucket).get(region.id());
            if (physical == null) {
                return CompletableFuture.completedFuture(null);
            }
            return probe.apply(all.get(region.id())).apply(physical).exceptionally(e -> {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (cause instanceof AwsServiceException ase && ase.statusCode() < 500 && ase.statusCode() != 429) {
                    return null; // S3 answered: the region is reachable, whatever it thinks of the request
                }
                throw new CompletionException(cause);
            });
        };
        Latitude latitude;
        AttemptTimeouts timeouts;
        try {
            lb.healthProbe(healthProbe, probes).healthListener(mraps);
            made.shareTimer(lb);
            mraps.attemptTimeout(lb.attemptTimeout());
            if (blocking) {
                try {
                    lb.callerRunsFirstAttempt(true);
                } catch (LatitudeConfigException e) {
                    // Set in router(...): the engine's builder takes each setting once, and the caller's choice stands.
                }
            }
            timeouts = new AttemptTimeouts(lb.attemptTimeout(), lb.deadline(), all, madeRegions, topology, policies);
            latitude = lb.build();
        } catch (RuntimeException e) {
            closeAll(owned);
            throw e;
        }
        owned.add(0, latitude);
        mraps.engine(latitude);
        return new S3Core<>(latitude, Map.copyOf(all), map, mraps, stampMetadata.toLowerCase(Locale.ROOT),
                recordKeys, timeouts, openTelemetry != null ? openTelemetry : GlobalOpenTelemetry.get(), owned);
    }

    /**
     * Checks the access points against the topology and residency (an access point that spans a region the bucket's
     * data may not be in is refused), and makes the route dials of those with failover on.
     */
    private AccessPoints accessPoints(DataPolicies policies) {
        Map<String, RouteDials> dials = new LinkedHashMap<>();
        accessPoints.forEach((logical, mrap) -> {
            DataPolicy policy = policies.policyFor(logical);
            for (String region : mrap.regions()) {
                if (!topology.contains(region)) {
                    throw new LatitudeConfigException("multiRegionAccessPoint", mrap.arn() + " of bucket '" + logical
                            + "' has a bucket in region '" + region + "', which is not in the topology; add the region"
                            + " to the topology");
                }
                RegionSpec spec = topology.region(region);
                if (!policy.allows(spec)) {
                    throw new LatitudeConfigException("multiRegionAccessPoint", mrap.arn() + " spans region '" + region
                            + "' (jurisdiction " + spec.jurisdiction() + "), but bucket '" + logical + "' may only be in "
                            + policy.residency() + "; S3 would route requests there. Use an access point whose"
                            + " buckets are all inside the residency, or direct mode");
                }
            }
        });
        accessPoints.forEach((logical, mrap) -> {
            if (mrap.routeDialFailover()) {
                dials.put(logical, RouteDials.create(mrap, s3Control != null ? s3Control
                        : region -> S3ControlClient.builder().region(Region.of(region)).build(),
                        3, Duration.ofSeconds(1), d -> Thread.sleep(d.toMillis())));
            }
        });
        return new AccessPoints(accessPoints, dials);
    }

    private static void closeAll(List<AutoCloseable> owned) {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                // Closing what was made for a build that failed: the build's own error is the one to report.
            }
        }
    }
}
