package dev.latitude.dynamodb;

import dev.latitude.aws.AttemptTimeouts;
import dev.latitude.aws.RegionClients;
import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.HedgingConfig;
import dev.latitude.Latitude;
import dev.latitude.LatitudeConfigException;
import dev.latitude.Operation;
import dev.latitude.ProbeConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.dynamodb.internal.Heartbeats;
import dev.latitude.dynamodb.internal.KeySchemas;
import dev.latitude.spi.HealthProbe;
import io.opentelemetry.api.OpenTelemetry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.ListTablesRequest;

/**
 * The settings {@link MultiRegionDynamoDbClient.Builder} and {@link MultiRegionDynamoDbAsyncClient.Builder} share;
 * each adds how it gets its per-region clients. Required: {@link #topology(Topology)} and a client for every region.
 *
 * <p>The routing engine's common settings are here too ({@link #attemptTimeout}, {@link #deadline}, {@link #hedging},
 * {@link #routingPolicy}, {@link #openTelemetry}, {@link #callerRunsFirstAttempt}); they are passed on to
 * {@link Latitude.Builder}, and {@link #router(Consumer)} reaches the rest. Each is set once: on this builder or in
 * {@code router(...)}, not both.
 *
 * @param <B> the concrete builder
 */
public abstract class MultiRegionBuilder<B extends MultiRegionBuilder<B>> {
    private static final Logger LOG = LoggerFactory.getLogger(MultiRegionBuilder.class);
    private static final int MAX_QUIET_ATTEMPTS = 3;
    /** How long a key-schema lookup may take, over all its attempts. */
    static final Duration KEY_SCHEMA_DEADLINE = Duration.ofSeconds(1);
    /**
     * The default health probes: only regions that are not healthy are probed (nothing is sent while all is well),
     * every 250 ms, so a healed region gets traffic again within about half a second instead of the breaker's open
     * delay.
     */
    static final ProbeConfig DEFAULT_PROBES = ProbeConfig.builder().interval(Duration.ofMillis(250))
            .timeout(Duration.ofMillis(250)).unhealthyOnly(true).build();

    private Topology topology;
    private String homeRegion;
    private DataPolicies dataPolicies;
    private Consumer<Latitude.Builder> router;
    private String stampAttribute = WriteStamper.DEFAULT_ATTRIBUTE;
    private final Set<String> unstamped = new HashSet<>();
    private final Map<String, List<String>> keySchemas = new HashMap<>();
    private HeartbeatConfig heartbeats;
    private ProbeConfig probe = DEFAULT_PROBES;
    private Duration warmUp;
    /** Checks the engine settings given here as they come (range, set once); never built. */
    private final Latitude.Builder engineChecks = Latitude.builder();
    /** The engine settings given here, applied to the engine's builder before {@link #router(Consumer)}. */
    private final List<Consumer<Latitude.Builder>> engineSettings = new ArrayList<>();
    private Boolean callerRunsFirstAttempt;

    MultiRegionBuilder() {
    }

    abstract B self();

    /**
     * Sets the regions: ids (the AWS region names), roles, jurisdictions, locations and the local region.
     *
     * @param topology the topology
     * @return this builder
     */
    public B topology(Topology topology) {
        this.topology = Objects.requireNonNull(topology, "topology");
        return self();
    }

    /**
     * Sets the region that takes control-plane calls (default: the topology's local region).
     *
     * @param regionId a region of the topology
     * @return this builder
     */
    public B homeRegion(String regionId) {
        this.homeRegion = Objects.requireNonNull(regionId, "homeRegion");
        return self();
    }

    /**
     * Sets the data policies, by table name: consistency, residency and write mode.
     *
     * @param policies the policies
     * @return this builder
     */
    public B dataPolicies(DataPolicies policies) {
        this.dataPolicies = Objects.requireNonNull(policies, "dataPolicies");
        return self();
    }

    /**
     * Adjusts the routing engine beyond the settings this builder has for it: breaker, bulkhead, clocks, tickers,
     * executors, slow-fallback limit. The topology, data policies, error classifier, replication watermarks, health
     * probe and warm-up are set by this builder; the attempt timeout, deadline, hedging, routing policy,
     * OpenTelemetry and {@code callerRunsFirstAttempt} may be set here or on this builder, not both.
     *
     * @param settings applied to the engine's builder
     * @return this builder
     */
    public B router(Consumer<Latitude.Builder> settings) {
        this.router = Objects.requireNonNull(settings, "router");
        return self();
    }

    /**
     * Sets how long one attempt in one region may take before the engine moves the call on (see
     * {@link Latitude.Builder#attemptTimeout(Duration)}; default 1 s). A region request that could move to another
     * region is also cut by the AWS SDK at this timeout ({@code apiCallTimeout} and {@code apiCallAttemptTimeout}, on the
     * clients the builder makes and on each request to a client you gave), so no region holds a call or a connection
     * longer; give long Scans or Queries a longer one. A call with nowhere else to go (a write that is not idempotent,
     * a single-writer table's write) is cut at its deadline instead.
     *
     * @param timeout 1 ms to 10 min, no longer than the deadline
     * @return this builder
     * @throws LatitudeConfigException if out of range or set twice
     */
    public B attemptTimeout(Duration timeout) {
        engineChecks.attemptTimeout(timeout);
        engineSettings.add(b -> b.attemptTimeout(timeout));
        return self();
    }

    /**
     * Sets a call's overall deadline, over all attempts and regions (see {@link Latitude.Builder#deadline(Duration)};
     * default 5 s). A request is never given longer than what is left of it.
     *
     * @param deadline 1 ms to 10 min
     * @return this builder
     * @throws LatitudeConfigException if out of range or set twice
     */
    public B deadline(Duration deadline) {
        engineChecks.deadline(deadline);
        engineSettings.add(b -> b.deadline(deadline));
        return self();
    }

    /**
     * Sets how reads are hedged (see {@link HedgingConfig}; default {@link HedgingConfig#defaults()}). A hedgeable
     * blocking read runs its first attempt on the engine's attempt threads, so that a hedge that wins answers at once,
     * unless its region is calm (see {@link Latitude.Builder#callerRunsFirstAttempt(boolean)}).
     *
     * @param hedging the settings, {@link HedgingConfig#disabled()} to turn hedging off
     * @return this builder
     * @throws LatitudeConfigException if set twice
     */
    public B hedging(HedgingConfig hedging) {
        engineChecks.hedging(hedging);
        engineSettings.add(b -> b.hedging(hedging));
        return self();
    }

    /**
     * Sets how the regions a call may use are ordered (default {@code RoutingPolicy.latency().build()}).
     *
     * @param policy the routing policy
     * @return this builder
     * @throws LatitudeConfigException if set twice
     */
    public B routingPolicy(RoutingPolicy policy) {
        engineChecks.routingPolicy(policy);
        engineSettings.add(b -> b.routingPolicy(policy));
        return self();
    }

    /**
     * Sets where spans and metrics go (default {@code GlobalOpenTelemetry}).
     *
     * @param openTelemetry the OpenTelemetry instance
     * @return this builder
     * @throws LatitudeConfigException if set twice
     */
    public B openTelemetry(OpenTelemetry openTelemetry) {
        engineChecks.openTelemetry(openTelemetry);
        engineSettings.add(b -> b.openTelemetry(openTelemetry));
        return self();
    }

    /**
     * Sets whether a blocking call runs its first attempt on the calling thread (see
     * {@link Latitude.Builder#callerRunsFirstAttempt(boolean)}), saving two thread hand-offs per call. Default: on for
     * {@link MultiRegionDynamoDbClient}, whose region requests are all cut by the AWS SDK when the engine would move on
     * (see {@link #attemptTimeout}), so a region that hangs holds the caller no longer than the engine would wait for
     * it anyway. The non-blocking client never blocks
     * its caller and ignores it.
     *
     * @param enabled whether the caller runs first attempts
     * @return this builder
     * @throws LatitudeConfigException if set twice
     */
    public B callerRunsFirstAttempt(boolean enabled) {
        engineChecks.callerRunsFirstAttempt(enabled);
        this.callerRunsFirstAttempt = enabled;
        return self();
    }

    /**
     * Sets the number attribute writes are stamped with (default {@value WriteStamper#DEFAULT_ATTRIBUTE}).
     *
     * @param attribute the attribute name
     * @return this builder
     * @throws LatitudeConfigException if empty or longer than DynamoDB allows
     */
    public B stampAttribute(String attribute) {
        if (attribute == null || attribute.isEmpty() || attribute.length() > 255) {
            throw new LatitudeConfigException("stampAttribute", "'" + attribute + "' is not an attribute name;"
                    + " give 1 to 255 characters, such as '_lat_ts'");
        }
        this.stampAttribute = attribute;
        return self();
    }

    /**
     * Leaves the items of these tables as they are (no stamp attribute). Their writes are tracked per table, so a
     * session's reads of them use replicas heartbeats show to be caught up, else the writer.
     *
     * @param tables table names
     * @return this builder
     */
    public B unstampedTables(String... tables) {
        for (String t : tables) {
            unstamped.add(Objects.requireNonNull(t, "table"));
        }
        return self();
    }

    /**
     * Gives a table's key attributes, so written items' keys are tracked without a DescribeTable.
     *
     * @param table the table
     * @param partitionKey the partition key attribute
     * @param sortKey the sort key attribute, if the table has one
     * @return this builder
     * @throws LatitudeConfigException if more than one sort key is given
     */
    public B keySchema(String table, String partitionKey, String... sortKey) {
        if (sortKey.length > 1) {
            throw new LatitudeConfigException("keySchema", "table '" + table + "' was given " + sortKey.length
                    + " sort keys; a DynamoDB key has a partition key and at most one sort key");
        }
        List<String> names = new ArrayList<>(2);
        names.add(Objects.requireNonNull(partitionKey, "partitionKey"));
        if (sortKey.length == 1) {
            names.add(Objects.requireNonNull(sortKey[0], "sortKey"));
        }
        keySchemas.put(Objects.requireNonNull(table, "table"), List.copyOf(names));
        return self();
    }

    /**
     * Turns on replication heartbeats (see {@link HeartbeatConfig}).
     *
     * @param config the settings
     * @return this builder
     */
    public B heartbeats(HeartbeatConfig config) {
        this.heartbeats = Objects.requireNonNull(config, "heartbeats");
        return self();
    }

    /**
     * Sets the active health probes: a {@code ListTables} with limit 1 per region, bounded by the probe timeout. By
     * default only regions that are not healthy are probed, every 250 ms ({@link ProbeConfig#unhealthyOnly()}): a
     * region that failed is used again as soon as it answers, and nothing is sent while all is well. Probing every
     * region ({@code unhealthyOnly(false)}) also notices a region going dark between calls.
     *
     * @param config interval, timeout, thresholds and which regions to probe
     * @return this builder
     */
    public B healthProbes(ProbeConfig config) {
        this.probe = Objects.requireNonNull(config, "healthProbes");
        return self();
    }

    /**
     * Warms every region up when the client is built: a {@code ListTables} with limit 1 to each region in parallel,
     * waiting at most {@code timeout}, so the first real calls do not pay for connection and TLS setup, class loading
     * and the server's own first request. Never fails the build; regions that did not answer are logged.
     *
     * @param timeout the longest {@code build()} waits, 1 ms to 1 minute
     * @return this builder
     * @throws LatitudeConfigException if out of range
     */
    public B warmUp(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()
                || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new LatitudeConfigException("warmUp", LatitudeConfigException.format(timeout) + " is outside (0, 1 min]; use a second or two,"
                    + " such as Duration.ofSeconds(2)");
        }
        this.warmUp = timeout;
        return self();
    }

    /**
     * Returns the cheap request probes and warm-up send: one table name, cut by the SDK after {@code timeout}, so a
     * blackholed region holds a probe's thread or connection that long at most. (The engine judges a probe by its own,
     * shorter, probe timeout; the longer cut lets a cold first request complete during warm-up.)
     */
    static ListTablesRequest probeRequest(Duration timeout) {
        return ListTablesRequest.builder().limit(1)
                .overrideConfiguration(o -> o.apiCallTimeout(timeout).apiCallAttemptTimeout(timeout)).build();
    }

    /** Returns how long a probe request may run before the SDK cuts it: the probe timeout, at least 1 s. */
    Duration probeTimeout() {
        Duration oneSecond = Duration.ofSeconds(1);
        return probe.timeout().compareTo(oneSecond) > 0 ? probe.timeout() : oneSecond;
    }

    /** Adds a region's client to {@code given}, refusing a second one for the same region. */
    static <C> void addClient(Map<String, C> given, String regionId, C client) {
        Objects.requireNonNull(regionId, "regionId");
        if (given.putIfAbsent(regionId, Objects.requireNonNull(client, "client")) != null) {
            throw new LatitudeConfigException("regionClient", "region '" + regionId + "' was given two clients; give"
                    + " one per region");
        }
    }

    /** Returns the topology, checked to be set. */
    Topology requireTopology() {
        if (topology == null) {
            throw new LatitudeConfigException("topology", "is required; give the regions with topology(...)");
        }
        return topology;
    }

    /**
     * Returns the operation that looks up a table's key schema: a DescribeTable routed like an eventual read of the
     * table (any region it may live in), with a short deadline, so a region that is down costs one attempt timeout.
     */
    static Operation describeOperation(String table) {
        return Operation.read("DescribeTable").dataClass(table).consistency(ConsistencyLevel.EVENTUAL)
                .deadline(KEY_SCHEMA_DEADLINE).build();
    }

    /** Returns the home region: the one set, else the topology's local region. */
    String homeRegionId() {
        return homeRegion != null ? homeRegion : requireTopology().localRegion().id();
    }

    /**
     * Resolves a client for every region: the one given, else one made by {@code maker} (closed with the client and
     * added to {@code owned}).
     */
    <C extends SdkClient> Map<String, C> clients(Map<String, C> given, Function<String, C> maker,
            List<AutoCloseable> owned) {
        Topology t = requireTopology();
        for (String id : given.keySet()) {
            if (!t.contains(id)) {
                throw new LatitudeConfigException("regionClient", "region '" + id + "' is not in the topology "
                        + t.regions().stream().map(RegionSpec::id).toList() + "; add it to the topology or drop its"
                        + " client");
            }
        }
        if (homeRegion != null && !t.contains(homeRegion)) {
            throw new LatitudeConfigException("homeRegion", "'" + homeRegion + "' is not in the topology");
        }
        Map<String, C> clients = new LinkedHashMap<>();
        for (RegionSpec r : t.regions()) {
            C c = given.get(r.id());
            if (c == null) {
                if (maker == null) {
                    Core.closeAll(owned);
                    throw new LatitudeConfigException("regionClient", "region '" + r.id() + "' has no client; give"
                            + " one with regionClient(\"" + r.id() + "\", client) or let the builder make them with"
                            + " buildClients(settings)");
                }
                c = maker.apply(r.id());
                owned.add(c);
            } else {
                warnIfRetriesStretchFailover(r.id(), c);
            }
            clients.put(r.id(), c);
        }
        return Map.copyOf(clients);
    }

    /**
     * Starts the engine's builder: the topology, the error classifier, the data policies, the engine settings given
     * to this builder, then {@link #router(Consumer)}. The rest ({@link #core}) comes once the region clients exist,
     * which are made with the attempt timeout read from it.
     */
    Latitude.Builder engineBuilder() {
        Latitude.Builder lb = Latitude.builder().topology(requireTopology())
                .errorClassifier(DynamoDbErrorClassifier.create());
        if (dataPolicies != null) {
            lb.dataPolicies(dataPolicies);
        }
        engineSettings.forEach(s -> s.accept(lb));
        if (callerRunsFirstAttempt != null) {
            lb.callerRunsFirstAttempt(callerRunsFirstAttempt);
        }
        if (router != null) {
            engineSetting(() -> router.accept(lb));
        }
        return lb;
    }

    /** Settings of the engine's builder that this builder sets itself, so {@code router(...)} may not. */
    private static final Set<String> OWNED_SETTINGS = Set.of(
            "topology", "errorClassifier", "dataPolicies", "replicationWatermarks", "healthProbe", "warmUp");

    /**
     * Applies engine settings. A refusal about the value itself (a negative timeout, say) passes through as it is;
     * only a setting this builder owns, or one set twice (here and in {@code router(...)}), gets an explanation in
     * terms of this builder.
     */
    private static void engineSetting(Runnable settings) {
        try {
            settings.run();
        } catch (LatitudeConfigException e) {
            if (OWNED_SETTINGS.contains(e.setting())) {
                throw new LatitudeConfigException("router", e.getMessage() + " (the multi-region client's builder"
                        + " sets " + e.setting() + ": use its topology, dataPolicies, heartbeats, healthProbes and"
                        + " warmUp)");
            }
            if (e.getMessage().endsWith("set twice; set it once")) {
                throw new LatitudeConfigException("router", e.getMessage() + " (set " + e.setting()
                        + " either on the multi-region client's builder or in router(...), not both)");
            }
            throw e;
        }
    }

    /**
     * Builds the engine, the router and the heartbeats over resolved clients.
     *
     * @param lb the engine's builder from {@link #engineBuilder()}
     * @param timeouts the region requests' timeouts, from the engine's attempt timeout and deadline
     * @param io sends heartbeat requests
     * @param probe the health probe (also the warm-up's request)
     * @param describe given the engine, starts a key-schema lookup of a table through it (so the lookup has the
     *     engine's timeouts, deadline and fallback, and honours the table's residency); must not block
     * @param callerRunsByDefault whether first attempts run on the caller unless {@code callerRunsFirstAttempt} was set
     * @param resources closed with the client (made clients, probe threads)
     */
    Core core(Latitude.Builder lb, AttemptTimeouts timeouts, Heartbeats.Io io, HealthProbe probe,
            Function<Latitude, Function<String, CompletableFuture<List<KeySchemaElement>>>> describe,
            boolean callerRunsByDefault, List<AutoCloseable> resources) {
        Topology t = requireTopology();
        Heartbeats beats = heartbeats == null ? null : new Heartbeats(heartbeats, t, io, stampAttribute);
        Latitude latitude;
        try {
            engineSetting(() -> {
                if (beats != null) {
                    lb.replicationWatermarks(beats);
                }
                lb.healthProbe(probe, this.probe);
                if (warmUp != null) {
                    lb.warmUp(warmUp);
                }
            });
            if (callerRunsByDefault && callerRunsFirstAttempt == null) {
                try {
                    lb.callerRunsFirstAttempt(true);
                } catch (LatitudeConfigException e) {
                    // Set in router(...): the engine's builder takes each setting once, and the caller's choice stands.
                    LOG.debug("callerRunsFirstAttempt was set in router(...); keeping it");
                }
            }
            latitude = lb.build();
        } catch (RuntimeException e) {
            Core.closeAll(resources);
            throw e;
        }
        DynamoDbRouter requests = new DynamoDbRouter(latitude.dataPolicies(), latitude.hybridClock(), stampAttribute,
                unstamped, new KeySchemas(keySchemas, describe.apply(latitude), Duration.ofSeconds(30)));
        if (beats != null) {
            beats.start(latitude.hybridClock());
        }
        return new Core(latitude, requests, timeouts, homeRegionId(), beats, resources);
    }

    /**
     * Returns the region requests' timeouts, from the engine's attempt timeout and deadline, and lets the engine share
     * the made clients' timer wheel.
     *
     * @param engine the engine's builder
     * @param clients every region's client
     * @param owned the resources closed with the client: the clients the builder made are among them
     * @param made what made those clients
     */
    AttemptTimeouts timeouts(Latitude.Builder engine, Map<String, ? extends SdkClient> clients,
            List<AutoCloseable> owned, RegionClients made) {
        made.shareTimer(engine);
        Set<String> madeRegions = new HashSet<>();
        clients.forEach((region, client) -> {
            if (owned.contains(client)) {
                madeRegions.add(region);
            }
        });
        return new AttemptTimeouts(engine.attemptTimeout(), engine.deadline(), clients, madeRegions,
                requireTopology(), dataPolicies != null ? dataPolicies : DataPolicies.defaults());
    }

    /**
     * Returns the per-region settings for {@code buildClients}: {@code settings} given the region id and its builder.
     */
    static <T> BiConsumer<String, T> perRegion(Consumer<T> settings) {
        Objects.requireNonNull(settings, "settings");
        return (regionId, builder) -> settings.accept(builder);
    }

    private static void warnIfRetriesStretchFailover(String regionId, SdkClient client) {
        try {
            Optional<RetryStrategy> strategy = client.serviceClientConfiguration().overrideConfiguration()
                    .retryStrategy();
            int attempts = strategy.map(RetryStrategy::maxAttempts).orElse(-1);
            if (attempts > MAX_QUIET_ATTEMPTS || attempts < 0) {
                LOG.warn("The DynamoDB client of {} {}; a failing region holds each call until they are spent (or the"
                        + " attempt timeout passes) before Latitude moves it to another region. Build it with"
                        + " .overrideConfiguration(o -> o.retryStrategy("
                        + "MultiRegionDynamoDbClient.failoverRetryStrategy()))", regionId,
                        attempts < 0 ? "uses the SDK's default retries (up to 9 attempts for DynamoDB)"
                                : "makes up to " + attempts + " attempts per call");
            }
        } catch (RuntimeException e) {
            LOG.debug("Could not read the retry settings of the client of {}", regionId, e);
        }
    }
}
