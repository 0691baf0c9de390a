package dev.latitude.jdbc;

import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.HedgingConfig;
import dev.latitude.Latitude;
import dev.latitude.LatitudeConfigException;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.Session;
import dev.latitude.SessionToken;
import dev.latitude.SessionTokenCodec;
import dev.latitude.Topology;
import dev.latitude.Watermark;
import dev.latitude.jdbc.internal.JdbcErrorClassifier;
import dev.latitude.jdbc.internal.NodeState;
import dev.latitude.jdbc.internal.ReadersFirstPolicy;
import dev.latitude.jdbc.internal.ReplayWatermarkPoller;
import dev.latitude.jdbc.internal.WriterLocator;
import dev.latitude.spi.ReplicationWatermarks;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;
import javax.sql.DataSource;

/**
 * A {@link DataSource} over one PostgreSQL {@code DataSource} per region (typically a HikariCP pool each) for a
 * one-writer, many-reader topology: read-write work goes to the writer region, read-only work to the best reader the
 * engine plans (latency, health, residency, consistency). Latitude does not pool connections itself. Thread-safe;
 * build one per application and hand it to the code that used the single-region {@code DataSource}.
 *
 * <pre>{@code
 * MultiRegionDataSource dataSource = MultiRegionDataSource.builder()
 *     .topology(Topology.builder()
 *         .region(RegionSpec.builder("us-east-1").writer().build())
 *         .region(RegionSpec.builder("eu-west-1").build())
 *         .localRegion("eu-west-1")
 *         .build())
 *     .regionDataSources(region -> new HikariDataSource(hikariConfigFor(region.id())))
 *     .build();
 * try (Connection c = dataSource.getConnection()) {
 *     c.setReadOnly(true);                       // decides the region: the nearest fresh reader
 *     try (ResultSet rs = c.createStatement().executeQuery("SELECT name FROM app.profile WHERE id = 42")) { ... }
 * }
 * }</pre>
 *
 * <p>Connections are logical: the physical connection is taken from a region's {@code DataSource} at the first
 * statement, so {@link Connection#setReadOnly(boolean)} or a read-only transaction (Spring's
 * {@code @Transactional(readOnly = true)}) decides the region without {@code LazyConnectionDataSourceProxy}. A
 * transaction stays on one physical connection; after it ends the logical connection gives the physical one back and
 * the next transaction may run in another region, with the settings the application made (auto-commit, isolation,
 * read-only, schema, catalog, holdability, client info, type map, network timeout) carried over.
 *
 * <p>The data class of a unit of work, for data policies and the session token, is the connection's schema
 * ({@link Connection#setSchema(String)}) or else {@link Builder#defaultSchema(String)}. After a read-write
 * transaction commits (or an auto-commit connection that may have written is given back), the session records the
 * writer's WAL position, so that a SESSION read of the same session is served only by a region that has replayed it.
 * The session is the one in the current OpenTelemetry context ({@link Session#current()}) or else this data source's
 * own {@link #session()}.
 */
public final class MultiRegionDataSource implements DataSource, AutoCloseable {
    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(MultiRegionDataSource.class);
    private static final AttributeKey<String> DB_SYSTEM_NAME = AttributeKey.stringKey("db.system.name");
    private static final AttributeKey<String> DB_NAMESPACE = AttributeKey.stringKey("db.namespace");
    private static final AttributeKey<String> DB_OPERATION_NAME = AttributeKey.stringKey("db.operation.name");
    /** Bounds the cached data classes, and the cached verbs of each (a verb is the word a statement starts with). */
    private static final int MAX_CACHED_SHAPES = 256;
    /**
     * Long enough for a replica to receive and replay a write that is committed asynchronously (the WAL writer flushes
     * it within 200 ms by default) plus a usual replay lag: a read that gives up sooner goes to the writer, and the
     * writer's position it then records makes the session's next reads wait for other sessions' writes too.
     */
    private static final Duration DEFAULT_REPLAY_WAIT = Duration.ofMillis(500);
    private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("outcome");
    private static final Attributes REPLAYED = Attributes.of(OUTCOME, "replayed");
    private static final Attributes EXPIRED = Attributes.of(OUTCOME, "expired");

    private final Latitude latitude;
    private final Map<String, DataSource> regions;
    private final String[] regionIds;
    private final DataSource[] regionSources;
    private volatile String writerRegion;
    private volatile boolean writerLost;
    private final WriterLocator locator;
    private final ExecutorService locatorThreads;
    private final SessionTokenCodec codec;
    private final String defaultSchema;
    private final Duration statementDeadline;
    private final ReplayWatermarkPoller poller;
    private final Duration replayWait;
    /** The attempt timeout if first statements run on the caller, else 0. */
    private final long firstStatementCutMillis;
    private final Session session;
    private final LongAdder replayWaits = new LongAdder();
    private final LongAdder replayWaitsReplayed = new LongAdder();
    private final LongCounter replayWaitCounter;
    private final Map<String, Map<String, Shape>> shapes = new ConcurrentHashMap<>();
    private volatile PrintWriter logWriter;
    private volatile int loginTimeout;

    private MultiRegionDataSource(Latitude latitude, Map<String, DataSource> regions, String writerRegion,
            SessionTokenCodec codec, Duration firstStatementCut, String defaultSchema,
            Duration statementDeadline, ReplayWatermarkPoller poller, Duration replayWait,
            Duration writerSearchTimeout, OpenTelemetry openTelemetry) {
        this.latitude = latitude;
        this.firstStatementCutMillis = firstStatementCut == null ? 0 : firstStatementCut.toMillis();
        this.replayWaitCounter = openTelemetry.getMeter("dev.latitude.jdbc")
                .counterBuilder("latitude.jdbc.replay_waits").setUnit("{wait}")
                .setDescription("Session reads that waited for the nearest reader to replay the session's writes, by"
                        + " outcome: replayed (the read stayed near) or expired (it went to a reader that had them, or"
                        + " the writer)").build();
        AtomicInteger ids = new AtomicInteger();
        this.locatorThreads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "latitude-jdbc-writer-search-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.locator = new WriterLocator(regions, locatorThreads, writerSearchTimeout);
        this.poller = poller;
        this.replayWait = replayWait;
        this.regions = regions;
        this.regionIds = latitude.topology().regions().stream().map(RegionSpec::id).toArray(String[]::new);
        this.regionSources = new DataSource[regionIds.length];
        for (int i = 0; i < regionIds.length; i++) {
            regionSources[i] = regions.get(regionIds[i]);
        }
        this.writerRegion = writerRegion;
        this.codec = codec;
        this.defaultSchema = defaultSchema;
        this.statementDeadline = statementDeadline;
        this.session = Session.create(latitude.watermarkBounds());
        latitude.routingPolicy(new ReadersFirstPolicy(latitude.routingPolicy(), this::writerRegion));
    }

    /**
     * Starts a builder.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a logical connection; no physical connection is taken until the first statement (or a call that needs
     * one, such as {@link Connection#getMetaData()}).
     *
     * @return the connection
     * @throws SQLException if this data source is closed
     */
    @Override
    public Connection getConnection() throws SQLException {
        return new LogicalConnection(this);
    }

    /**
     * Not supported: each region's {@code DataSource} holds its own credentials (they usually differ per region).
     *
     * @throws SQLFeatureNotSupportedException always
     */
    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("MultiRegionDataSource takes no credentials: give each region's"
                + " DataSource its own user and password and call getConnection()");
    }

    /** Returns the log writer set here; the regions' data sources keep their own. */
    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    /** Keeps {@code out} for {@link #getLogWriter()}; Latitude logs through SLF4J. */
    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    /** Keeps {@code seconds} for {@link #getLoginTimeout()}; each region's data source has its own login timeout. */
    @Override
    public void setLoginTimeout(int seconds) {
        this.loginTimeout = seconds;
    }

    /** Returns the login timeout set here (0 unless set). */
    @Override
    public int getLoginTimeout() {
        return loginTimeout;
    }

    /** Returns the {@code dev.latitude.jdbc} logger. */
    @Override
    public java.util.logging.Logger getParentLogger() {
        return java.util.logging.Logger.getLogger("dev.latitude.jdbc");
    }

    /**
     * Returns this data source, its engine ({@link Latitude}) or the writer region's data source if one of them is an
     * instance of {@code iface}.
     *
     * @throws SQLException if none is
     */
    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        if (iface.isInstance(latitude)) {
            return iface.cast(latitude);
        }
        return regions.get(writerRegion).unwrap(iface);
    }

    /** Returns whether {@link #unwrap(Class)} would succeed. */
    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || iface.isInstance(latitude) || regions.get(writerRegion).isWrapperFor(iface);
    }

    /** Returns the routing engine, for its status, plans and warm-up. */
    public Latitude latitude() {
        return latitude;
    }

    /**
     * Returns the session this data source uses when the current OpenTelemetry context carries none: all of this
     * process's work then reads its own writes.
     */
    public Session session() {
        return session;
    }

    /**
     * Resumes a session from a token another process encoded (such as the value of a request header), keeping only
     * the watermarks this deployment can have made.
     *
     * @param encoded the token's text
     * @return the session; store it in the OpenTelemetry context for the work done for that request
     * @throws LatitudeConfigException if no {@link Builder#sessionTokenCodec(SessionTokenCodec) codec} was set
     * @throws dev.latitude.InvalidSessionTokenException if the text is not a valid token
     */
    public Session decodeSession(String encoded) {
        SessionToken token = requireCodec().decode(encoded);
        return Session.of(token, latitude.watermarkBounds());
    }

    /**
     * Encodes a session's token for another process (a response header, a message attribute).
     *
     * @param session the session
     * @return the token's text
     * @throws LatitudeConfigException if no {@link Builder#sessionTokenCodec(SessionTokenCodec) codec} was set
     */
    public String encodeSession(Session session) {
        return requireCodec().encode(Objects.requireNonNull(session, "session").token());
    }

    private SessionTokenCodec requireCodec() {
        if (codec == null) {
            throw new LatitudeConfigException("sessionTokenCodec", "not set; give the builder"
                    + " sessionTokenCodec(SessionTokenCodec.builder().signingKey(...).build()) to encode and decode"
                    + " session tokens");
        }
        return codec;
    }

    /**
     * Returns how many times a session read waited for the nearest reader to replay the session's writes (instead of
     * going further at once).
     */
    public long replayWaits() {
        return replayWaits.sum();
    }

    /** Returns how many of the {@link #replayWaits()} ended with the reader caught up, so the read stayed near. */
    public long replayWaitsReplayed() {
        return replayWaitsReplayed.sum();
    }

    /**
     * Closes the replay poller and the engine (its probes and threads). The regions' data sources belong to the caller
     * and stay open.
     */
    @Override
    public void close() {
        poller.close();
        latitude.close();
        locatorThreads.shutdownNow();
    }

    /**
     * Finds the writer after read-write work failed in {@code lostRegion}: asks every region whether it is in
     * recovery, again every {@value WriterLocator#HUNT_INTERVAL_MILLIS} ms until one is the writer (for at most the
     * writer search timeout, so that a promotion under way is waited for), and if another region is now the writer,
     * moves the engine's writer role there. Until a writer is found again, read-write work waits for it here rather
     * than try the lost writer's pool first ({@link #writerLost()}).
     *
     * @return the writer's region (the same one if it is still the writer)
     * @throws SplitBrainException if two regions claim to be the writer: nothing is moved, nothing is guessed
     * @throws NoWriterException if no region answered as the writer in time
     */
    String findWriter(String lostRegion) throws SQLException {
        NodeState lastSeen = poller.state(lostRegion);
        NodeState found;
        try {
            found = locator.awaitWriter(lastSeen == null ? null : lastSeen.identity());
        } catch (NoWriterException e) {
            writerLost = true;
            throw e;
        }
        synchronized (this) {
            if (!found.region().equals(writerRegion)) {
                LOG.warn("The PostgreSQL writer moved from region {} to region {}", writerRegion, found.region());
                latitude.moveWriter(found.region());
                writerRegion = found.region();
            }
            writerLost = false;
        }
        return found.region();
    }

    /** Whether the last writer search found no writer: read-write work should {@link #findWriter} first. */
    boolean writerLost() {
        return writerLost;
    }

    /**
     * Before a read-only unit of work of a session that wrote: if the nearest healthy reader is not yet known to have
     * replayed the session's last write, waits for it at most the replay wait, so that the read can stay near. The
     * engine's plan then decides: that reader if it caught up, else one that has, else the writer. Costs a few map
     * reads, and no plan, when every reader already has what the session needs (a session that only reads, or whose
     * writes have been replayed everywhere).
     */
    void awaitNearestReplay(String dataClass, Session s) {
        if (replayWait.isZero()) {
            return;
        }
        Watermark required = s.token().requirement(dataClass, null);
        if (required == null || replayedEverywhere(required, dataClass)
                || latitude.dataPolicies().policyFor(dataClass).consistency().kind() != ConsistencyLevel.Kind.SESSION) {
            return;
        }
        dev.latitude.Plan anywhere = latitude.plan(Operation.read("Plan").dataClass(dataClass)
                .consistency(ConsistencyLevel.EVENTUAL).build());
        if (anywhere.panic()) {
            return;
        }
        String nearest = anywhere.regions().get(0).id();
        if (nearest.equals(required.region())
                || poller.applied(nearest, required.region(), dataClass) >= required.value()) {
            return;
        }
        NodeState writer = poller.state(required.region());
        long lag = poller.stalenessMillis(nearest, dataClass);
        if (writer == null || lag > replayWait.toMillis()) {
            // Unknown writer, or a reader known to be further behind than the wait: it would not catch up in time.
            return;
        }
        replayWaits.increment();
        try {
            // The future ends by itself at the replay wait; the extra second only guards against a stalled poller.
            boolean replayed = poller.awaitReplay(nearest, writer.identity(), required.value(), replayWait)
                    .get(replayWait.toMillis() + 1_000, TimeUnit.MILLISECONDS);
            if (replayed) {
                replayWaitsReplayed.increment();
            }
            replayWaitCounter.add(1, replayed ? REPLAYED : EXPIRED);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // The read goes where the plan says without the wait.
        }
    }

    /**
     * After a read-only unit of work took a connection in {@code region}: records in the session the position that
     * region was known to have replayed, so that later reads of the session never see older data (monotonic reads).
     */
    void recordRead(String dataClass, Session s, String region) {
        String writer = writerRegion;
        if (region.equals(writer)) {
            return;
        }
        long seen = poller.applied(region, writer, dataClass);
        if (seen == ReplicationWatermarks.UNKNOWN) {
            return;
        }
        Watermark had = s.token().requirement(dataClass, null);
        // Recording a position the session already requires changes nothing; skipping it saves a token copy per read.
        if (had == null || !had.region().equals(writer) || had.value() < seen) {
            s.recordRead(dataClass, null, seen, writer);
        }
    }

    /** Whether every region other than the one that made {@code required} is known to have replayed it. */
    private boolean replayedEverywhere(Watermark required, String dataClass) {
        for (String region : regionIds) {
            if (!region.equals(required.region())
                    && poller.applied(region, required.region(), dataClass) < required.value()) {
                return false;
            }
        }
        return true;
    }

    /** The replay poller; for tests. */
    ReplayWatermarkPoller poller() {
        return poller;
    }

    DataSource regionDataSource(String region) {
        // A scan of a handful of ids, the same String instances as the engine's region specs: cheaper than hashing.
        for (int i = 0; i < regionIds.length; i++) {
            if (regionIds[i] == region) {
                return regionSources[i];
            }
        }
        return regions.get(region);
    }

    String writerRegion() {
        return writerRegion;
    }

    String defaultSchema() {
        return defaultSchema;
    }

    /** The session of the current context, else this data source's own. */
    Session currentSession() {
        Session s = Session.current();
        return s != null ? s : session;
    }

    /**
     * How long, in milliseconds, the first statement of a unit of work may block the calling thread on one region's
     * socket, or 0 if it does not run on the calling thread: for read-only work, which the engine moves to the next
     * region at the attempt timeout, the attempt timeout (or the deadline, if less); for read-write work, which stays
     * on the writer, the deadline.
     *
     * @param write whether the work is read-write
     * @param queryTimeoutSeconds the statement's query timeout, 0 if none
     */
    long callerCutMillis(boolean write, int queryTimeoutSeconds) {
        if (firstStatementCutMillis == 0) {
            return 0;
        }
        long deadline = queryTimeoutSeconds > 0 ? queryTimeoutSeconds * 1_000L : statementDeadline.toMillis();
        return write ? deadline : Math.min(firstStatementCutMillis, deadline);
    }

    /**
     * Describes a unit of work for the engine. The description of work of the data source's own session with the
     * statement deadline is built once per data class, verb and kind, then reused: an {@link Operation} is immutable.
     *
     * @param write whether it is read-write work
     * @param verb the first statement's SQL verb, such as {@code SELECT}
     * @param dataClass the schema
     * @param s the session
     * @param deadlineSeconds the statement's query timeout, or 0 for the data source's statement deadline
     */
    Operation operation(boolean write, String verb, String dataClass, Session s, int deadlineSeconds) {
        Shape shape = shape(verb, dataClass);
        if (s == session && deadlineSeconds == 0) {
            Operation op = write ? shape.ownSessionWrite : shape.ownSessionRead;
            if (op == null) {
                op = build(write, verb, dataClass, s, deadlineSeconds, shape.attributes);
                if (write) {
                    shape.ownSessionWrite = op;
                } else {
                    shape.ownSessionRead = op;
                }
            }
            return op;
        }
        return build(write, verb, dataClass, s, deadlineSeconds, shape.attributes);
    }

    private Operation build(boolean write, String verb, String dataClass, Session s, int deadlineSeconds,
            Attributes attributes) {
        Operation.Builder b = write ? Operation.write(verb) : Operation.read(verb);
        return b.dataClass(dataClass)
                .session(s)
                .deadline(deadlineSeconds > 0 ? Duration.ofSeconds(deadlineSeconds) : statementDeadline)
                .attributes(attributes)
                .build();
    }

    /**
     * What units of work of one data class and verb share: their span attributes and, once built, their descriptions
     * for the data source's own session. Looked up by data class, then verb, so that neither string is copied or
     * hashed anew per statement (both are usually constants whose hash is cached).
     */
    private static final class Shape {
        final Attributes attributes;
        // Racy but safe: two threads may each build one; either is correct, and Operation is immutable.
        volatile Operation ownSessionRead;
        volatile Operation ownSessionWrite;

        Shape(String verb, String dataClass) {
            this.attributes = Attributes.of(DB_SYSTEM_NAME, "postgresql", DB_NAMESPACE, dataClass,
                    DB_OPERATION_NAME, verb);
        }
    }

    private Shape shape(String verb, String dataClass) {
        Map<String, Shape> byVerb = shapes.get(dataClass);
        if (byVerb == null) {
            if (shapes.size() >= MAX_CACHED_SHAPES) {
                return new Shape(verb, dataClass); // too many schemas to cache: described afresh
            }
            byVerb = shapes.computeIfAbsent(dataClass, k -> new ConcurrentHashMap<>());
        }
        Shape shape = byVerb.get(verb);
        if (shape == null) {
            shape = new Shape(verb, dataClass);
            if (byVerb.size() < MAX_CACHED_SHAPES) {
                Shape raced = byVerb.putIfAbsent(verb, shape);
                shape = raced != null ? raced : shape;
            }
        }
        return shape;
    }

    /**
     * Builds a {@link MultiRegionDataSource}. Required: {@link #topology(Topology)} with exactly one writer region, and
     * a data source for every region ({@link #region(String, DataSource)} for each, or
     * {@link #regionDataSources(Function)}). Every setter validates its value and may be called once.
     *
     * <p>Defaults: {@link DataPolicies#defaults()} (SESSION consistency, anywhere); the engine's own defaults for
     * everything set through {@link #router(Consumer)}, except hedging (off) and first statements run on the calling
     * thread (on); no session token codec; schema {@code public}; a statement deadline of 60 s; replay positions
     * polled every 100 ms; a session read waits up to 500 ms for the nearest reader; the writer search after a failure
     * takes at most 2 s.
     */
    public static final class Builder {
        private Topology topology;
        private DataPolicies dataPolicies;
        private final Map<String, DataSource> dataSources = new LinkedHashMap<>();
        private Function<RegionSpec, DataSource> factory;
        private Consumer<Latitude.Builder> router;
        private OpenTelemetry openTelemetry;
        private SessionTokenCodec codec;
        private String defaultSchema;
        private Duration statementDeadline;
        private Duration replayPollInterval;
        private Duration replayWait;
        private Duration writerSearchTimeout;
        private Boolean callerRunsFirstAttempt;
        private HedgingConfig hedging;

        private Builder() {
        }

        private static void once(Object current, String setting) {
            if (current != null) {
                throw new LatitudeConfigException(setting, "set twice; set it once");
            }
        }

        /**
         * Sets the regions: exactly one with the writer role (the primary), the others readers (replicas). Required.
         *
         * @param topology the topology
         * @return this builder
         */
        public Builder topology(Topology topology) {
            once(this.topology, "topology");
            this.topology = Objects.requireNonNull(topology, "topology");
            return this;
        }

        /**
         * Sets each schema's consistency level and residency (a schema is a data class); default
         * {@link DataPolicies#defaults()}.
         *
         * @param policies the policies
         * @return this builder
         */
        public Builder dataPolicies(DataPolicies policies) {
            once(this.dataPolicies, "dataPolicies");
            this.dataPolicies = Objects.requireNonNull(policies, "dataPolicies");
            return this;
        }

        /**
         * Sets the data source of one region, such as a HikariCP pool of that region's endpoint.
         *
         * @param regionId the region's id in the topology
         * @param dataSource its data source
         * @return this builder
         * @throws LatitudeConfigException if the region already has one, or a factory was set
         */
        public Builder region(String regionId, DataSource dataSource) {
            Objects.requireNonNull(regionId, "regionId");
            Objects.requireNonNull(dataSource, "dataSource");
            if (factory != null) {
                throw new LatitudeConfigException("region", "regionDataSources(factory) is set; give every region's"
                        + " data source either with region(id, dataSource) or from the factory, not both");
            }
            if (dataSources.putIfAbsent(regionId, dataSource) != null) {
                throw new LatitudeConfigException("region", "'" + regionId + "' was given a data source twice;"
                        + " give each region one");
            }
            return this;
        }

        /**
         * Sets a factory told each region of the topology, which returns that region's data source.
         *
         * @param factory called once per region at {@link #build()}
         * @return this builder
         * @throws LatitudeConfigException if set twice, or data sources were given with {@link #region}
         */
        public Builder regionDataSources(Function<RegionSpec, DataSource> factory) {
            once(this.factory, "regionDataSources");
            if (!dataSources.isEmpty()) {
                throw new LatitudeConfigException("regionDataSources", "region(id, dataSource) was already used for "
                        + dataSources.keySet() + "; give every region's data source one way, not both");
            }
            this.factory = Objects.requireNonNull(factory, "regionDataSources");
            return this;
        }

        /**
         * Reaches the rest of the engine's settings (routing policy, attempt timeout, deadline, hedging, breaker,
         * health probes, OpenTelemetry, ticker and so on). The topology, data policies and error classifier are set by
         * this builder.
         *
         * @param settings applied to the engine's builder
         * @return this builder
         */
        public Builder router(Consumer<Latitude.Builder> settings) {
            once(this.router, "router");
            this.router = Objects.requireNonNull(settings, "router");
            return this;
        }

        /**
         * Sets whether the first statement of a unit of work runs on the calling thread rather than on one of the
         * engine's attempt threads (see {@link Latitude.Builder#callerRunsFirstAttempt(boolean)}), which saves two
         * thread hand-offs per unit of work. Default: on. So that a region that stops answering does not hold the
         * caller longer than the engine would wait for it, the connection's network timeout is lowered, for that
         * statement, to the attempt timeout for read-only work (which may move to another region), to the statement's
         * deadline for read-write work; taking the connection from the region's pool is not cut, so keep each pool's
         * connection timeout at or below the attempt timeout. With {@link #hedging(HedgingConfig) hedging} on,
         * read-only work runs on the caller only while its region is calm (see
         * {@link Latitude.Builder#callerRunsFirstAttempt(boolean)}), else on the attempt threads, where a hedge can win
         * while the first region is still answering.
         *
         * @param enabled whether the caller runs first statements
         * @return this builder
         * @throws LatitudeConfigException if set twice
         */
        public Builder callerRunsFirstAttempt(boolean enabled) {
            once(this.callerRunsFirstAttempt, "callerRunsFirstAttempt");
            this.callerRunsFirstAttempt = enabled;
            return this;
        }

        /**
         * Sets whether and when a slow read-only unit of work is hedged: its first statement started in a second
         * region while the first is still answering (see {@link HedgingConfig}). Default:
         * {@link HedgingConfig#disabled()}, unlike the engine's: a hedged SQL read holds a second pooled connection
         * and runs the query twice, and an attempt on the engine's attempt threads (a hedge, or a read in a region
         * hedges have lately beaten) is bounded only by the driver's own timeouts ({@code socketTimeout}): set one on
         * each pool before turning hedging on.
         *
         * @param hedging the settings
         * @return this builder
         * @throws LatitudeConfigException if set twice
         */
        public Builder hedging(HedgingConfig hedging) {
            once(this.hedging, "hedging");
            this.hedging = Objects.requireNonNull(hedging, "hedging");
            return this;
        }

        /**
         * Sets where spans and metrics go, the engine's and this data source's own
         * ({@code latitude.jdbc.replay_waits}); default {@link GlobalOpenTelemetry#get()}.
         *
         * @param openTelemetry the OpenTelemetry instance
         * @return this builder
         */
        public Builder openTelemetry(OpenTelemetry openTelemetry) {
            once(this.openTelemetry, "openTelemetry");
            this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
            return this;
        }

        /**
         * Sets the codec of session tokens that travel between processes ({@link #decodeSession(String)},
         * {@link #encodeSession(Session)}); the same codec as the DynamoDB client's, so one session spans both.
         *
         * @param codec the codec
         * @return this builder
         */
        public Builder sessionTokenCodec(SessionTokenCodec codec) {
            once(this.codec, "sessionTokenCodec");
            this.codec = Objects.requireNonNull(codec, "sessionTokenCodec");
            return this;
        }

        /**
         * Sets the data class of connections whose schema the application did not set; default {@code public}.
         *
         * @param schema a schema name
         * @return this builder
         * @throws LatitudeConfigException if blank
         */
        public Builder defaultSchema(String schema) {
            once(this.defaultSchema, "defaultSchema");
            if (schema == null || schema.isBlank()) {
                throw new LatitudeConfigException("defaultSchema", "'" + schema + "' is empty; give the schema"
                        + " unqualified tables live in, such as 'public'");
            }
            this.defaultSchema = schema;
            return this;
        }

        /**
         * Sets how long taking a physical connection and running the first statement of a unit of work may take,
         * over every region tried, when the statement has no query timeout of its own; default 60 s. Later statements
         * of a transaction run on the connection the first one took and are bounded only by the driver's own
         * timeouts.
         *
         * @param deadline 1 ms to 1 h
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder statementDeadline(Duration deadline) {
            once(this.statementDeadline, "statementDeadline");
            if (deadline == null || deadline.compareTo(Duration.ofMillis(1)) < 0
                    || deadline.compareTo(Duration.ofHours(1)) > 0) {
                throw new LatitudeConfigException("statementDeadline", deadline + " is outside [1 ms, 1 h]; give"
                        + " the longest a first statement may take, such as Duration.ofSeconds(30)");
            }
            this.statementDeadline = deadline;
            return this;
        }

        /**
         * Sets how often each region is asked how far it has replayed the writer's WAL (one cheap query per region
         * per interval); default 100 ms. Session reads use a reader only once it is known to have replayed the
         * session's writes, so a longer interval sends more of them to the writer.
         *
         * @param interval 1 ms to 1 min
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder replayPollInterval(Duration interval) {
            once(this.replayPollInterval, "replayPollInterval");
            if (interval == null || interval.compareTo(Duration.ofMillis(1)) < 0
                    || interval.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new LatitudeConfigException("replayPollInterval", interval + " is outside [1 ms, 1 min]; give"
                        + " something like Duration.ofMillis(100)");
            }
            this.replayPollInterval = interval;
            return this;
        }

        /**
         * Sets how long a session read waits for the nearest reader to replay the session's last write before it goes
         * to a reader that has, or to the writer; default 500 ms; zero turns the wait off. The wait ends as soon as the
         * reader is seen to have replayed it (the reader is polled every 10 ms meanwhile), and is skipped when the
         * reader is known to lag by more than the wait. A read that goes to the writer records the writer's position
         * then, so the session's next reads wait for that position; too short a wait thus sends whole runs of reads
         * away from the nearest reader.
         *
         * @param wait 0 to 10 s
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder replayWait(Duration wait) {
            once(this.replayWait, "replayWait");
            if (wait == null || wait.isNegative() || wait.compareTo(Duration.ofSeconds(10)) > 0) {
                throw new LatitudeConfigException("replayWait", wait + " is outside [0, 10 s]; give a little more"
                        + " than the usual replication lag, such as Duration.ofMillis(100), or zero for no wait");
            }
            this.replayWait = wait;
            return this;
        }

        /**
         * Sets how long read-write work that lost the writer waits for one to answer (every region is asked
         * {@code pg_is_in_recovery()} at once, again every {@value WriterLocator#HUNT_INTERVAL_MILLIS} ms until one is
         * the writer, so that a promotion under way is waited for); it also bounds each search. Default 2 s.
         *
         * @param timeout 1 ms to 1 min
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder writerSearchTimeout(Duration timeout) {
            once(this.writerSearchTimeout, "writerSearchTimeout");
            if (timeout == null || timeout.compareTo(Duration.ofMillis(1)) < 0
                    || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new LatitudeConfigException("writerSearchTimeout", timeout + " is outside [1 ms, 1 min]; give a"
                        + " little more than the round trip to the farthest region, such as Duration.ofSeconds(2)");
            }
            this.writerSearchTimeout = timeout;
            return this;
        }

        /**
         * Returns the data source and starts its engine.
         *
         * @return the data source
         * @throws LatitudeConfigException if the topology is missing or does not have exactly one writer region, a
         *     region has no data source, a data source names a region outside the topology, or an engine setting is
         *     refused
         */
        public MultiRegionDataSource build() {
            if (topology == null) {
                throw new LatitudeConfigException("topology", "not set; call topology(Topology.builder()...build())"
                        + " with the writer region (RegionSpec.builder(id).writer()) and its reader regions");
            }
            String writer = null; // a topology has at least one writer: it checks that itself
            for (RegionSpec r : topology.regions()) {
                if (r.isWriter()) {
                    if (writer != null) {
                        throw new LatitudeConfigException("topology", "regions '" + writer + "' and '" + r.id()
                                + "' are both writers; PostgreSQL has one primary: mark only its region writer()");
                    }
                    writer = r.id();
                }
            }
            Map<String, DataSource> resolved = resolveDataSources();
            ReplayWatermarkPoller.Builder pb = ReplayWatermarkPoller.builder().regions(resolved);
            if (replayPollInterval != null) {
                pb.interval(replayPollInterval);
            }
            ReplayWatermarkPoller poller = pb.build();
            HedgingConfig hedge = hedging != null ? hedging : HedgingConfig.disabled();
            boolean callerRuns = callerRunsFirstAttempt == null || callerRunsFirstAttempt;
            Latitude.Builder lb = Latitude.builder().topology(topology).errorClassifier(JdbcErrorClassifier.create())
                    .replicationWatermarks(poller).hedging(hedge).callerRunsFirstAttempt(callerRuns);
            if (dataPolicies != null) {
                lb.dataPolicies(dataPolicies);
            }
            try {
                if (openTelemetry != null) {
                    lb.openTelemetry(openTelemetry);
                }
                if (router != null) {
                    router.accept(lb);
                }
            } catch (LatitudeConfigException e) {
                poller.close();
                throw new LatitudeConfigException("router", e.getMessage() + " (the topology, data policies, error"
                        + " classifier, replication watermarks, hedging and callerRunsFirstAttempt are set by"
                        + " MultiRegionDataSource's builder; OpenTelemetry either on it or in router(...), once)");
            }
            Latitude latitude;
            try {
                latitude = lb.build();
            } catch (RuntimeException e) {
                poller.close();
                throw e;
            }
            poller.start(latitude.scheduler());
            // The first statement is cut at the attempt timeout only where it runs on the caller: elsewhere the engine
            // leaves a slow attempt by itself, and its late answer may still win.
            Duration firstStatementCut = callerRuns ? lb.attemptTimeout() : null;
            return new MultiRegionDataSource(latitude, resolved, writer, codec, firstStatementCut,
                    defaultSchema != null ? defaultSchema : "public",
                    statementDeadline != null ? statementDeadline : Duration.ofSeconds(60), poller,
                    replayWait != null ? replayWait : DEFAULT_REPLAY_WAIT,
                    writerSearchTimeout != null ? writerSearchTimeout : Duration.ofSeconds(2),
                    openTelemetry != null ? openTelemetry : GlobalOpenTelemetry.get());
        }

        private Map<String, DataSource> resolveDataSources() {
            for (String id : dataSources.keySet()) {
                if (!topology.contains(id)) {
                    throw new LatitudeConfigException("region", "'" + id + "' is not a region of the topology "
                            + topology.regions().stream().map(RegionSpec::id).toList() + "; fix the id or add the"
                            + " region to the topology");
                }
            }
            Map<String, DataSource> resolved = new LinkedHashMap<>();
            for (RegionSpec r : topology.regions()) {
                DataSource ds = factory != null ? factory.apply(r) : dataSources.get(r.id());
                if (ds == null) {
                    throw new LatitudeConfigException(factory != null ? "regionDataSources" : "region", "region '"
                            + r.id() + "' has no data source; " + (factory != null ? "make the factory return one for"
                            + " every region" : "give it one with region(\"" + r.id() + "\", dataSource)"));
                }
                resolved.put(r.id(), ds);
            }
            return Map.copyOf(resolved);
        }
    }
}
