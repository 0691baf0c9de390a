package dev.latitude.dynamodb;

import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.Latitude;
import dev.latitude.LatitudeConfigException;
import dev.latitude.Operation;
import dev.latitude.ProbeConfig;
import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.dynamodb.internal.Heartbeats;
import dev.latitude.dynamodb.internal.KeySchemas;
import dev.latitude.spi.HealthProbe;
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
     * Adjusts the routing engine: routing policy, timeouts, breaker, hedging, OpenTelemetry, clocks. The topology,
     * data policies, error classifier, replication watermarks and health probe are set by this builder.
     *
     * @param settings applied to the engine's builder
     * @return this builder
     */
    public B router(Consumer<Latitude.Builder> settings) {
        this.router = Objects.requireNonNull(settings, "router");
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
            throw new LatitudeConfigException("warmUp", timeout + " is outside (0, 1 min]; use a second or two,"
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
     * Builds the engine, the router and the heartbeats over resolved clients.
     *
     * @param io sends heartbeat requests
     * @param probe the health probe (also the warm-up's request)
     * @param describe given the engine, starts a key-schema lookup of a table through it (so the lookup has the
     *     engine's timeouts, deadline and fallback, and honours the table's residency); must not block
     * @param resources closed with the client (made clients, probe threads)
     */
    Core core(Heartbeats.Io io, HealthProbe probe,
            Function<Latitude, Function<String, CompletableFuture<List<KeySchemaElement>>>> describe,
            List<AutoCloseable> resources) {
        Topology t = requireTopology();
        Heartbeats beats = heartbeats == null ? null : new Heartbeats(heartbeats, t, io, stampAttribute);
        Latitude latitude;
        try {
            Latitude.Builder lb = Latitude.builder().topology(t).errorClassifier(DynamoDbErrorClassifier.create());
            if (dataPolicies != null) {
                lb.dataPolicies(dataPolicies);
            }
            if (beats != null) {
                lb.replicationWatermarks(beats);
            }
            lb.healthProbe(probe, this.probe);
            if (warmUp != null) {
                lb.warmUp(warmUp);
            }
            if (router != null) {
                try {
                    router.accept(lb);
                } catch (LatitudeConfigException e) {
                    throw new LatitudeConfigException("router", e.getMessage() + " (the topology, data policies,"
                            + " error classifier, replication watermarks, health probe and warm-up are set by the"
                            + " multi-region client's builder: use its topology, dataPolicies, heartbeats,"
                            + " healthProbes and warmUp)");
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
        return new Core(latitude, requests, homeRegionId(), beats, resources);
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
