package dev.latitude.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.latitude.RegionSpec;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.jdbc.MultiRegionDataSource;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.PostgresCluster;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;

/**
 * PostgreSQL side by side: Latitude's {@link MultiRegionDataSource} beside plain pgjdbc + HikariCP, the AWS Advanced
 * JDBC Wrapper 3.2.0 with its simple read/write splitting plugin ({@code srw}, the one that runs on plain PostgreSQL),
 * and pgjdbc's own multi-host failover ({@code targetServerType=primary}), all on one testkit {@link PostgresCluster}
 * (a primary and two streaming replicas on 127.0.0.1, each behind its {@code TcpFaultProxy}).
 *
 * <p>Regions: the primary is {@value #WRITER}, replica 1 is {@value #LOCAL} (where this process runs) and replica 2
 * {@value #FAR}. Four parts, in this order:
 *
 * <ol>
 *   <li><b>Overhead</b> of a point read by primary key on the local replica, with no emulated latency: sequential
 *       p50 over interleaved rounds, and throughput from {@value #THREADS} threads over interleaved rounds. Latitude
 *       (a logical connection per read, {@code setReadOnly(true)}) against plain pgjdbc + HikariCP (a pooled
 *       connection per read); the AWS wrapper (a long-lived connection per thread, read-only, its documented way)
 *       against a long-lived plain pgjdbc connection.
 *   <li><b>Sessions</b>, with round trips emulated on the proxies ({@value #LOCAL} {@value #LOCAL_RTT_MS} ms,
 *       {@value #WRITER} {@value #WRITER_RTT_MS} ms, {@value #FAR} {@value #FAR_RTT_MS} ms) and both replicas
 *       replaying {@code recovery_min_apply_delay} behind (100 ms; then 0 and 500 ms with a tenth of the
 *       operations): {@value #SESSIONS} sessions, each updating its own keys
 *       (10 % of operations, a version counter per key) and reading them back (90 %) as fast as they can. A read that
 *       returns an older version than the session's own last write is a read-your-writes violation; which node served
 *       each read is its {@code inet_server_port()}. The AWS wrapper's sessions hold one connection each and switch it
 *       with {@code setReadOnly}; Latitude's each carry their own {@link Session}.
 *   <li><b>Reader blackholed</b> (Latitude): read-only load from {@value #THREADS} threads; the local replica's proxy
 *       swallows everything for {@value #BLACKHOLE_S} s. Failed reads, and how long reads took meanwhile.
 *   <li><b>Writer killed, replica 2 promoted</b>: a write every {@value #WRITE_INTERVAL_MS} ms through pgjdbc's
 *       multi-host URL ({@code targetServerType=primary}, its default {@code hostRecheckSeconds=10}) in a HikariCP pool
 *       and through Latitude, side by side; the time from the promotion to each one's first successful write.
 * </ol>
 */
final class JdbcScenario {
    static final String WRITER = "us-east-1";
    static final String LOCAL = "eu-west-1";
    static final String FAR = "ap-southeast-2";
    static final int LOCAL_RTT_MS = 1;
    static final int WRITER_RTT_MS = 10;
    static final int FAR_RTT_MS = 20;
    static final int THREADS = 4;
    static final int SESSIONS = 16;
    static final int KEYS_PER_SESSION = 50;
    static final int BLACKHOLE_S = 5;
    static final int WRITE_INTERVAL_MS = 10;
    private static final int ROWS = 1000;
    private static final int OVERHEAD_ROUNDS = 8;
    private static final Duration LATENCY_ROUND = Duration.ofMillis(500);
    /** Many short rounds rather than a few long ones: their medians shrug off other loads of a shared machine. */
    private static final int THROUGHPUT_ROUNDS = 16;
    private static final Duration WARM_UP_STEP = Duration.ofMillis(500);
    private static final Duration WARM_UP_MAX = Duration.ofSeconds(40);
    private static final Duration THROUGHPUT_ROUND = Duration.ofMillis(500);
    /** The replay delays the sessions also run at, besides the main one. */
    private static final int[] OTHER_DELAYS_MS = {0, 500};
    private static final String POINT_READ = "SELECT v FROM kv WHERE k = ?";
    private static final String SESSION_READ = "SELECT v, inet_server_port() FROM kv WHERE k = ?";
    private static final String SESSION_WRITE = "UPDATE kv SET v = v + 1 WHERE k = ? RETURNING v";

    /** Session operations per client at the main replay delay; {@code -Djdbc.sessionOps=N} changes it. */
    private final int sessionOps = Integer.getInteger("jdbc.sessionOps", 100_000);
    /** The replicas' main replay delay in the sessions part; {@code -Djdbc.replayDelayMs=N} changes it. */
    private final int replayDelayMs = Integer.getInteger("jdbc.replayDelayMs", 100);
    /**
     * {@code -Djdbc.only=writer-failover} runs the writer failover part alone (on the same cluster, with the round
     * trips emulated as in the full run), for measuring it repeatedly; by default every part runs.
     */
    private final boolean writerFailoverOnly = writerFailoverOnly(System.getProperty("jdbc.only"));
    /**
     * {@code -Djdbc.overheadOnly=true} runs only the overhead part: what a profile of the hot path needs, in a minute
     * rather than the whole scenario's several.
     */
    private final boolean overheadOnly = Boolean.getBoolean("jdbc.overheadOnly");

    private PostgresCluster cluster;
    private final Map<String, PostgresCluster.Node> nodes = new LinkedHashMap<>();
    private final Map<Integer, String> regionByPort = new HashMap<>();
    private final Map<String, HikariDataSource> pools = new LinkedHashMap<>();
    private final List<String> metrics = new ArrayList<>();

    List<String> run() throws Exception {
        cluster = PostgresCluster.builder().replicas(2).build().start();
        try {
            nodes.put(WRITER, cluster.primary());
            nodes.put(LOCAL, cluster.replica(1));
            nodes.put(FAR, cluster.replica(2));
            nodes.forEach((region, node) -> {
                regionByPort.put(node.port(), region);
                pools.put(region, pool(region, node.jdbcUrl(), 16));
            });
            log("cluster started in %d ms: %s", cluster.startupTime().toMillis(), nodes);
            load();
            if (!writerFailoverOnly) {
                overhead();
                if (overheadOnly) {
                    return metrics;
                }
            }
            try (MultiRegionDataSource latitude = latitude()) {
                emulateRoundTrips();
                if (!writerFailoverOnly) {
                    sessions(latitude);
                    readerBlackhole(latitude);
                }
                writerFailover(latitude);
            }
        } finally {
            pools.values().forEach(HikariDataSource::close);
            cluster.close();
        }
        return metrics;
    }

    private static boolean writerFailoverOnly(String only) {
        if (only == null) {
            return false;
        }
        if (!only.equals("writer-failover")) {
            throw new IllegalArgumentException("-Djdbc.only=" + only + " is not a part that runs alone: use"
                    + " -Djdbc.only=writer-failover, or leave it out to run every part");
        }
        return true;
    }

    // -----------------------------------------------------------------------------------------------------------
    // Setup.

    private void load() throws SQLException {
        try (Connection c = pools.get(WRITER).getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL)");
            s.execute("INSERT INTO kv SELECT g, 0 FROM generate_series(0, " + (ROWS - 1) + ") g");
            s.execute("CHECKPOINT");
        }
        long lsn = cluster.currentLsn();
        cluster.replicas().forEach(r -> cluster.awaitReplayed(r, lsn, Duration.ofSeconds(60)));
    }

    private MultiRegionDataSource latitude() {
        return MultiRegionDataSource.builder()
                .topology(Topology.builder()
                        .region(RegionSpec.builder(WRITER).writer().build())
                        .region(RegionSpec.builder(LOCAL).build())
                        .region(RegionSpec.builder(FAR).build())
                        .localRegion(LOCAL)
                        .build())
                .region(WRITER, pools.get(WRITER))
                .region(LOCAL, pools.get(LOCAL))
                .region(FAR, pools.get(FAR))
                .build();
    }

    private void emulateRoundTrips() {
        Map<String, Integer> rtt = Map.of(WRITER, WRITER_RTT_MS, LOCAL, LOCAL_RTT_MS, FAR, FAR_RTT_MS);
        nodes.forEach((region, node) -> node.proxy().apply(roundTrip(rtt.get(region))));
    }

    /** The proxy's latency fault delays each direction: half the round trip each way. */
    private static Fault roundTrip(int rttMs) {
        return Fault.latency(Duration.ofNanos(rttMs * 1_000_000L / 2));
    }

    private static HikariDataSource pool(String name, String url, int size) {
        HikariConfig c = new HikariConfig();
        c.setPoolName(name);
        c.setJdbcUrl(url);
        c.setUsername(PostgresCluster.USER);
        c.setMaximumPoolSize(size);
        c.setMinimumIdle(size);
        c.setConnectionTimeout(1_000);
        c.setValidationTimeout(500);
        c.setInitializationFailTimeout(-1);
        c.addDataSourceProperty("connectTimeout", "1");
        c.addDataSourceProperty("socketTimeout", "5");
        return new HikariDataSource(c);
    }

    // -----------------------------------------------------------------------------------------------------------
    // Part 1: overhead of a point read.

    /** One way to do a point read of key {@code k}; the connection argument is the thread's own, if it has one. */
    @FunctionalInterface
    private interface PointRead {
        long read(Connection held, int k) throws SQLException;
    }

    /** Opens a connection a thread holds throughout. */
    @FunctionalInterface
    private interface ConnectionSource {
        Connection open() throws SQLException;
    }

    /** A client of the overhead part: how it reads, and where each thread's own connection comes from, if any. */
    private record Client(String name, PointRead read, ConnectionSource held) {
    }

    private void overhead() throws Exception {
        try (MultiRegionDataSource latitude = latitude()) {
            PointRead pooled = (held, k) -> pointRead(pools.get(LOCAL), k, false);
            PointRead routed = (held, k) -> pointRead(latitude, k, true);
            PointRead onHeld = (held, k) -> readOn(held, k);
            ConnectionSource direct = () -> DriverManager.getConnection(nodes.get(LOCAL).jdbcUrl(), user());
            ConnectionSource aws = this::awsConnection;
            List<Client> clients = List.of(new Client("plain", pooled, null), new Client("latitude", routed, null),
                    new Client("direct", onHeld, direct), new Client("aws", onHeld, aws));
            warmUp(clients);
            Map<String, Histogram> latency = new LinkedHashMap<>();
            clients.forEach(c -> latency.put(c.name, new Histogram(3)));
            for (int round = 0; round < OVERHEAD_ROUNDS; round++) {
                for (int i = 0; i < clients.size(); i++) {
                    Client c = clients.get((i + round) % clients.size()); // rotate who goes first
                    latency.get(c.name).add(sequential(c, LATENCY_ROUND));
                }
            }
            Map<String, List<Double>> throughput = new LinkedHashMap<>();
            clients.forEach(c -> throughput.put(c.name, new ArrayList<>()));
            // The clients compared run back to back (plain beside latitude, direct beside aws), first one then the
            // other going first, so that each pair meets about the same load; the paired figures are the medians of
            // the rounds' own ratios.
            List<Double> latitudePaired = new ArrayList<>();
            List<Double> awsPaired = new ArrayList<>();
            for (int round = 0; round < THROUGHPUT_ROUNDS; round++) {
                Map<String, Double> thisRound = new HashMap<>();
                for (int i = 0; i < clients.size(); i++) {
                    Client c = clients.get(round % 2 == 0 ? i : clients.size() - 1 - i);
                    double opsPerS = concurrent(c, THROUGHPUT_ROUND);
                    throughput.get(c.name).add(opsPerS);
                    thisRound.put(c.name, opsPerS);
                    log("overhead round %d: %-8s %,10.0f reads/s", round, c.name, opsPerS);
                }
                latitudePaired.add(100.0 * (thisRound.get("plain") / thisRound.get("latitude") - 1));
                awsPaired.add(100.0 * (thisRound.get("direct") / thisRound.get("aws") - 1));
            }
            latency.forEach((name, h) -> log("overhead: %-8s sequential p50 %d us, p99 %d us, %d reads", name,
                    h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getTotalCount()));
            double plainOps = median(throughput.get("plain"));
            double latitudeOps = median(throughput.get("latitude"));
            double directOps = median(throughput.get("direct"));
            double awsOps = median(throughput.get("aws"));
            metric("overhead_pct", 100.0 * (plainOps / latitudeOps - 1), "%");
            metric("overhead_paired_pct", median(latitudePaired), "%");
            metric("added_p50_us", latency.get("latitude").getValueAtPercentile(50)
                    - latency.get("plain").getValueAtPercentile(50), "us");
            metric("latitude_p50_us", latency.get("latitude").getValueAtPercentile(50), "us");
            metric("latitude_ops_per_s", latitudeOps, "ops/s");
            metric("peer_plain_p50_us", latency.get("plain").getValueAtPercentile(50), "us");
            metric("peer_plain_ops_per_s", plainOps, "ops/s");
            metric("peer_direct_p50_us", latency.get("direct").getValueAtPercentile(50), "us");
            metric("peer_direct_ops_per_s", directOps, "ops/s");
            metric("peer_aws_overhead_pct", 100.0 * (directOps / awsOps - 1), "%");
            metric("peer_aws_overhead_paired_pct", median(awsPaired), "%");
            metric("peer_aws_added_p50_us", latency.get("aws").getValueAtPercentile(50)
                    - latency.get("direct").getValueAtPercentile(50), "us");
        }
    }

    /** Runs every client, alone and from {@value #THREADS} threads, until the JIT settles ({@link JitWarmUp}). */
    private void warmUp(List<Client> clients) throws Exception {
        log("overhead: %s", JitWarmUp.run(() -> {
            for (Client c : clients) {
                sequential(c, WARM_UP_STEP);
                concurrent(c, WARM_UP_STEP);
            }
        }, WARM_UP_MAX));
    }

    private static long pointRead(DataSource ds, int k, boolean readOnly) throws SQLException {
        try (Connection c = ds.getConnection()) {
            if (readOnly) {
                c.setReadOnly(true);
            }
            return readOn(c, k);
        }
    }

    private static long readOn(Connection c, int k) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(POINT_READ)) {
            ps.setInt(1, k);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Reads one after another for {@code length}; returns the latencies in microseconds. */
    private Histogram sequential(Client client, Duration length) throws SQLException {
        Histogram h = new Histogram(3);
        SplittableRandom random = new SplittableRandom(7);
        try (Connection held = client.held == null ? null : open(client.held)) {
            long end = System.nanoTime() + length.toNanos();
            while (System.nanoTime() < end) {
                long start = System.nanoTime();
                client.read.read(held, random.nextInt(ROWS));
                h.recordValue((System.nanoTime() - start) / 1_000);
            }
        }
        return h;
    }

    /** Reads from {@value #THREADS} threads for {@code length}; returns the reads per second. */
    private double concurrent(Client client, Duration length) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(THREADS);
        try {
            LongAdder reads = new LongAdder();
            long start = System.nanoTime();
            long end = start + length.toNanos();
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int seed = t;
                done.add(threads.submit(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    try (Connection held = client.held == null ? null : open(client.held)) {
                        while (System.nanoTime() < end) {
                            client.read.read(held, random.nextInt(ROWS));
                            reads.increment();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            return reads.sum() / ((System.nanoTime() - start) / 1e9);
        } finally {
            threads.shutdownNow();
        }
    }

    private static Connection open(ConnectionSource held) throws SQLException {
        Connection c = held.open();
        c.setReadOnly(true);
        return c;
    }

    private static Properties user() {
        Properties p = new Properties();
        p.setProperty("user", PostgresCluster.USER);
        return p;
    }

    /**
     * A connection of the AWS wrapper with its simple read/write splitting plugin: the writer endpoint is the
     * primary's proxy, the read endpoint the local replica's; {@code setReadOnly} switches between them.
     */
    private Connection awsConnection() throws SQLException {
        Properties p = user();
        p.setProperty("wrapperPlugins", "srw");
        p.setProperty("srwWriteEndpoint", "127.0.0.1:" + nodes.get(WRITER).proxyPort());
        p.setProperty("srwReadEndpoint", "127.0.0.1:" + nodes.get(LOCAL).proxyPort());
        // With verification on, each new connection's role is asked of the host list provider, and the one for a plain
        // connection string cannot tell (ConnectionStringHostListProvider.getHostRole throws).
        p.setProperty("verifyNewSrwConnections", "false");
        return DriverManager.getConnection("jdbc:aws-wrapper:postgresql://127.0.0.1:" + nodes.get(WRITER).proxyPort()
                + "/postgres", p);
    }

    // -----------------------------------------------------------------------------------------------------------
    // Part 2: sessions under replay delay.

    /** One session's operations; implementations hold what the client needs per session. */
    private interface SessionClient extends AutoCloseable {
        /** Updates {@code k} and returns its new version. */
        long write(int k) throws SQLException;

        /** Reads {@code k}: its version and the port of the server that answered. */
        long[] read(int k) throws SQLException;

        @Override
        void close() throws SQLException;
    }

    /** What a sessions run saw. */
    private record SessionResult(long ops, long reads, long violations, Map<String, Long> readsBy, long failures,
            Histogram latency, double seconds) {
        double localSharePct() {
            return reads == 0 ? 0 : 100.0 * readsBy.getOrDefault(LOCAL, 0L) / reads;
        }
    }

    /**
     * Runs the sessions at the main replay delay with every operation, then at 0 and 500 ms with a tenth of them
     * (figures suffixed with the delay).
     */
    private void sessions(MultiRegionDataSource latitude) throws Exception {
        sessions(latitude, replayDelayMs, sessionOps, "");
        for (int delay : OTHER_DELAYS_MS) {
            sessions(latitude, delay, sessionOps / 10, "_" + delay + "ms");
        }
        cluster.replicas().forEach(r -> cluster.replayDelay(r, Duration.ZERO));
    }

    private void sessions(MultiRegionDataSource latitude, int delayMs, int ops, String suffix) throws Exception {
        cluster.replicas().forEach(r -> cluster.replayDelay(r, Duration.ofMillis(delayMs)));
        long waits = latitude.replayWaits();
        long waitsReplayed = latitude.replayWaitsReplayed();
        log("sessions: replicas replay %d ms behind, %d sessions, %,d operations per client", delayMs, SESSIONS, ops);
        SessionResult aws = sessionRun("aws", ops, session -> {
            Connection c = awsConnection();
            return new SessionClient() {
                @Override
                public long write(int k) throws SQLException {
                    c.setReadOnly(false);
                    return update(c, k);
                }

                @Override
                public long[] read(int k) throws SQLException {
                    c.setReadOnly(true);
                    return select(c, k);
                }

                @Override
                public void close() throws SQLException {
                    c.close();
                }
            };
        });
        SessionResult lat = sessionRun("latitude", ops, session -> {
            Session own = Session.create(latitude.latitude().watermarkBounds());
            Context context = own.storeIn(Context.current());
            return new SessionClient() {
                @Override
                public long write(int k) throws SQLException {
                    try (Scope ignored = context.makeCurrent(); Connection c = latitude.getConnection()) {
                        return update(c, k);
                    }
                }

                @Override
                public long[] read(int k) throws SQLException {
                    try (Scope ignored = context.makeCurrent(); Connection c = latitude.getConnection()) {
                        c.setReadOnly(true);
                        return select(c, k);
                    }
                }

                @Override
                public void close() {
                }
            };
        });
        report("peer_aws_", suffix, aws);
        report("", suffix, lat);
        metric("replay_waits" + suffix, latitude.replayWaits() - waits, "");
        metric("replay_waits_replayed" + suffix, latitude.replayWaitsReplayed() - waitsReplayed, "");
    }

    private void report(String prefix, String suffix, SessionResult r) {
        metric(prefix + "ryw_violations" + suffix, r.violations, "");
        metric(prefix + "local_read_share_pct" + suffix, r.localSharePct(), "%");
        metric(prefix + "session_ops" + suffix, r.ops, "");
        metric(prefix + "session_failures" + suffix, r.failures, "");
        metric(prefix + "session_p50_us" + suffix, r.latency.getValueAtPercentile(50), "us");
        metric(prefix + "session_p99_us" + suffix, r.latency.getValueAtPercentile(99), "us");
    }

    private static long update(Connection c, int k) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SESSION_WRITE)) {
            ps.setInt(1, k);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static long[] select(Connection c, int k) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SESSION_READ)) {
            ps.setInt(1, k);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getInt(2)};
            }
        }
    }

    /** Opens a session's client. */
    @FunctionalInterface
    private interface SessionFactory {
        SessionClient open(int session) throws SQLException;
    }

    private SessionResult sessionRun(String name, int ops, SessionFactory factory) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(SESSIONS);
        AtomicLong remaining = new AtomicLong(ops);
        LongAdder reads = new LongAdder();
        LongAdder violations = new LongAdder();
        LongAdder failures = new LongAdder();
        Map<String, LongAdder> readsBy = new ConcurrentHashMap<>();
        Histogram latency = new Histogram(3);
        long start = System.nanoTime();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int s = 0; s < SESSIONS; s++) {
                int session = s;
                done.add(threads.submit(() -> {
                    // Each session has its own keys (a slice of the table), and remembers their versions.
                    int first = ROWS - SESSIONS * KEYS_PER_SESSION + session * KEYS_PER_SESSION;
                    long[] written = new long[KEYS_PER_SESSION];
                    Arrays.fill(written, -1);
                    Histogram own = new Histogram(3);
                    SplittableRandom random = new SplittableRandom(1000 + session);
                    try (SessionClient client = factory.open(session)) {
                        while (remaining.getAndDecrement() > 0) {
                            int i = random.nextInt(KEYS_PER_SESSION);
                            long t0 = System.nanoTime();
                            try {
                                if (random.nextInt(10) == 0) {
                                    written[i] = client.write(first + i);
                                } else {
                                    long[] read = client.read(first + i);
                                    reads.increment();
                                    readsBy.computeIfAbsent(regionByPort.getOrDefault((int) read[1], "?"),
                                            r -> new LongAdder()).increment();
                                    if (read[0] < written[i]) {
                                        violations.increment();
                                    }
                                }
                            } catch (SQLException e) {
                                failures.increment();
                            }
                            own.recordValue((System.nanoTime() - t0) / 1_000);
                        }
                    }
                    synchronized (latency) {
                        latency.add(own);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            threads.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Long> by = new LinkedHashMap<>();
        readsBy.forEach((region, n) -> by.put(region, n.sum()));
        SessionResult r = new SessionResult(latency.getTotalCount(), reads.sum(), violations.sum(), by,
                failures.sum(), latency, seconds);
        log("sessions %-8s: %,d operations in %.1f s, %,d reads %s, %d read-your-writes violations, %d failures,"
                + " p50 %d us, p99 %d us", name, r.ops, seconds, r.reads, by, r.violations, r.failures,
                latency.getValueAtPercentile(50), latency.getValueAtPercentile(99));
        return r;
    }

    // -----------------------------------------------------------------------------------------------------------
    // Part 3: the local reader blackholed.

    private void readerBlackhole(MultiRegionDataSource latitude) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(THREADS);
        AtomicInteger phase = new AtomicInteger(); // 0 before, 1 blackhole, 2 after
        LongAdder failed = new LongAdder();
        Map<Integer, Histogram> latency = new ConcurrentHashMap<>();
        for (int p = 0; p < 3; p++) {
            latency.put(p, new Histogram(3));
        }
        AtomicLong blackholedAt = new AtomicLong();
        AtomicLong firstElsewhere = new AtomicLong(-1);
        long end = System.nanoTime() + Duration.ofSeconds(3 + BLACKHOLE_S + 3).toNanos();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int seed = t;
                done.add(threads.submit(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    while (System.nanoTime() < end) {
                        int p = phase.get();
                        long t0 = System.nanoTime();
                        try (Connection c = latitude.getConnection()) {
                            c.setReadOnly(true);
                            long[] read = select(c, random.nextInt(ROWS));
                            if (p == 1 && !LOCAL.equals(regionByPort.get((int) read[1]))) {
                                firstElsewhere.compareAndSet(-1, System.nanoTime());
                            }
                        } catch (SQLException e) {
                            failed.increment();
                        }
                        long micros = (System.nanoTime() - t0) / 1_000;
                        synchronized (latency.get(p)) {
                            latency.get(p).recordValue(micros);
                        }
                    }
                    return null;
                }));
            }
            TimeUnit.SECONDS.sleep(3);
            nodes.get(LOCAL).proxy().apply(Fault.blackhole());
            blackholedAt.set(System.nanoTime());
            phase.set(1);
            TimeUnit.SECONDS.sleep(BLACKHOLE_S);
            nodes.get(LOCAL).proxy().apply(roundTrip(LOCAL_RTT_MS));
            phase.set(2);
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            threads.shutdownNow();
        }
        Histogram fault = latency.get(1);
        log("reader blackhole: before p99 %d us; during p50 %d us, p99 %d us, max %d us (%d reads); after p99 %d us;"
                + " %d failed", latency.get(0).getValueAtPercentile(99), fault.getValueAtPercentile(50),
                fault.getValueAtPercentile(99), fault.getMaxValue(), fault.getTotalCount(),
                latency.get(2).getValueAtPercentile(99), failed.sum());
        metric("reader_failover_failed", failed.sum(), "");
        metric("reader_moved_ms", firstElsewhere.get() < 0 ? -1
                : (firstElsewhere.get() - blackholedAt.get()) / 1_000_000, "ms");
        metric("reader_fault_p99_ms", fault.getValueAtPercentile(99) / 1000.0, "ms");
        metric("reader_fault_max_ms", fault.getMaxValue() / 1000.0, "ms");
    }

    // -----------------------------------------------------------------------------------------------------------
    // Part 4: the writer killed, a replica promoted.

    private void writerFailover(MultiRegionDataSource latitude) throws Exception {
        PostgresCluster.Node promoted = nodes.get(FAR);
        String multiHost = "jdbc:postgresql://" + String.join(",", nodes.values().stream()
                .map(n -> "127.0.0.1:" + n.proxyPort()).toList()) + "/postgres?targetServerType=primary";
        try (HikariDataSource pgjdbc = pool("pgjdbc-multi-host", multiHost, 2)) {
            Map<String, DataSource> clients = new LinkedHashMap<>();
            clients.put("peer_pgjdbc", pgjdbc);
            clients.put("latitude", latitude);
            Map<String, AtomicLong> firstWriteAfter = new LinkedHashMap<>();
            Map<String, Map<String, LongAdder>> errors = new LinkedHashMap<>();
            AtomicLong promotedAt = new AtomicLong(Long.MAX_VALUE);
            AtomicLong killedAt = new AtomicLong();
            AtomicLong writes = new AtomicLong(1_000_000);
            ExecutorService threads = Executors.newFixedThreadPool(clients.size());
            long end = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            List<Future<?>> done = new ArrayList<>();
            try {
                clients.forEach((name, ds) -> {
                    AtomicLong first = new AtomicLong(-1);
                    Map<String, LongAdder> seen = new ConcurrentHashMap<>();
                    firstWriteAfter.put(name, first);
                    errors.put(name, seen);
                    done.add(threads.submit(() -> {
                        while (System.nanoTime() < end && first.get() < 0) {
                            long t0 = System.nanoTime();
                            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                                s.execute("INSERT INTO kv VALUES (" + writes.incrementAndGet() + ", 0)");
                                if (t0 > promotedAt.get()) {
                                    first.compareAndSet(-1, System.nanoTime());
                                }
                            } catch (SQLException e) {
                                String kind = e.getClass().getSimpleName() + "(" + e.getSQLState() + ")";
                                seen.computeIfAbsent(kind, k -> new LongAdder()).increment();
                                // Where the time goes: when each failed write started, relative to the kill, and
                                // how long it took to fail.
                                log("writer failover: %-12s write started %+d ms from the kill failed after %d ms: %s",
                                        name, (t0 - killedAt.get()) / 1_000_000,
                                        (System.nanoTime() - t0) / 1_000_000, kind);
                            }
                            TimeUnit.MILLISECONDS.sleep(WRITE_INTERVAL_MS);
                        }
                        return null;
                    }));
                });
                TimeUnit.SECONDS.sleep(2);
                killedAt.set(System.nanoTime());
                cluster.kill(nodes.get(WRITER));
                log("writer failover: primary killed");
                TimeUnit.SECONDS.sleep(1);
                cluster.promote(promoted);
                promotedAt.set(System.nanoTime());
                log("writer failover: %s promoted %d ms after the kill", promoted.name(),
                        (promotedAt.get() - killedAt.get()) / 1_000_000);
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                threads.shutdownNow();
            }
            firstWriteAfter.forEach((name, first) -> {
                long ms = first.get() < 0 ? -1 : (first.get() - promotedAt.get()) / 1_000_000;
                log("writer failover: %-12s first write %d ms after the promotion; errors meanwhile %s", name, ms,
                        errors.get(name));
                metric(name.equals("latitude") ? "promotion_to_write_ms" : name + "_promotion_to_write_ms", ms,
                        "ms");
            });
        }
    }

    // -----------------------------------------------------------------------------------------------------------

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private void metric(String name, double value, String unit) {
        String v = value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : String.format(Locale.ROOT, "%.1f", value);
        metrics.add("jdbc." + name + "=" + v + (unit.isEmpty() ? "" : " " + unit));
    }

    private static void log(String format, Object... args) {
        System.out.println("jdbc: " + String.format(Locale.ROOT, format, args));
    }
}
