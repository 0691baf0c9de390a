package dev.latitude.benchmarks;

import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.s3.MultiRegionS3Client;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.ReplicationLag;
import dev.latitude.testkit.S3Regions;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.interceptor.Context.BeforeTransmission;
import software.amazon.awssdk.core.interceptor.Context.ModifyHttpResponse;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * {@code MultiRegionS3Client} against the testkit's {@link S3Regions}: two S3Proxy servers in the JVM on 127.0.0.1,
 * us-east-1 (takes the writes) and eu-west-1 (the local region), each behind a TCP fault front, with the routing
 * policy {@code failover().priority("eu-west-1", "us-east-1")}. Four parts:
 *
 * <ul>
 *   <li><b>Overhead</b>: 1 KiB GetObjects from 4 threads through a plain {@code S3Client} of eu-west-1 and through the
 *       multi-region client (its region clients made by {@code buildClients}), 12 interleaved rounds;
 *       {@code overhead_pct} compares the median throughputs, {@code overhead_paired_pct} is the median of the rounds'
 *       own ratios. Three passes: the client's defaults with hedging off (no suffix: the wrapper's own cost), the
 *       client's defaults (suffix {@code _hedged}: hedging on, a read runs on the calling thread while its region is
 *       calm; the hedges' extra requests land on the same two CPUs as everything else), and every attempt
 *       handed to the engine's attempt threads ({@code callerRunsFirstAttempt(false)}, suffix {@code _pooled}), the
 *       path a hedgeable read takes in a troubled region.</li>
 *   <li><b>Large objects</b>: 64 MiB GetObjects (read to the end into one reused buffer) and PutObjects (from one
 *       array), plain and wrapped, interleaved; the ratios show that the wrapper does not copy bodies.</li>
 *   <li><b>Sessions</b>: us-east-1's bucket replicates to eu-west-1's with a fixed lag ({@value #LAG_MS} ms, the
 *       testkit's {@code S3ReplicationEmulator}) and us-east-1 is a WAN round trip away; {@value #SESSIONS} sessions,
 *       each on its own {@value #KEYS_PER_SESSION} keys, 10 % PutObject (the body is the key's counter) and 90 %
 *       GetObject. A read older than the session's own last write of the key, or a 404 of a key it wrote, is a
 *       read-your-writes violation. Latitude's sessions each carry their own {@link Session} in the OpenTelemetry
 *       context; the peer is what an application does with replication and no Latitude: a plain client of us-east-1
 *       for writes and one of eu-west-1 for reads. Which region answered a read is told by the region client itself:
 *       an {@link ExecutionInterceptor} on each region's client ({@link RegionTag}) names its region in a header of
 *       every response, so the response the caller gets says where it came from.</li>
 *   <li><b>Failover</b>: 2 threads read while eu-west-1 is blackholed; failed reads (idempotent, so none should fail)
 *       and the slowest read, the time the move to us-east-1 cost a caller.</li>
 * </ul>
 *
 * <p>System properties (defaults are what {@code benchmarks/run.sh s3} measures): {@code s3.warmUpRounds},
 * {@code s3.overheadRounds}, {@code s3.sessionOps} (operations per client in the sessions part), {@code s3.sessionRate} (operations per second
 * per session, 0 for as fast as they can), {@code s3.writerRttMs} (the round trip added to us-east-1 in the sessions
 * part), {@code s3.parts} (a comma-separated subset of overhead,large,sessions,failover).
 */
final class S3Scenario {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final String LOGICAL = "bench";
    private static final Map<String, String> BUCKETS = Map.of(WRITER, "bench-use1", LOCAL, "bench-euw1");
    private static final int LARGE = 64 * 1024 * 1024;
    static final int SESSIONS = 16;
    static final int KEYS_PER_SESSION = 50;
    static final int LAG_MS = 1000;
    /** The response header in which {@link RegionTag} names the region whose client received the response. */
    private static final String REGION_HEADER = "x-latitude-bench-region";
    /** A read's counter when the key was not found. */
    private static final long MISSING = -1;

    private final int warmUpRounds = Integer.getInteger("s3.warmUpRounds", 3);
    private final int sessionOps = Integer.getInteger("s3.sessionOps", 10_000);
    private final int sessionRate = Integer.getInteger("s3.sessionRate", 25);
    private final int writerRttMs = Integer.getInteger("s3.writerRttMs", 40);
    private final List<String> parts = List.of(System.getProperty("s3.parts", "overhead,large,sessions,failover")
            .split(","));

    List<String> run() throws Exception {
        try (S3Regions lab = S3Regions.start(WRITER, LOCAL);
                S3Client plainLocal = S3Regions.clientBuilder(lab.region(LOCAL)).build();
                S3Client plainWriter = S3Regions.clientBuilder(lab.region(WRITER)).build()) {
            BUCKETS.forEach((region, bucket) -> lab.region(region).createBucket(bucket));
            byte[] small = new byte[1024];
            byte[] large = new byte[LARGE];
            for (String region : BUCKETS.keySet()) {
                S3Client admin = lab.region(region).adminClient();
                admin.putObject(p -> p.bucket(BUCKETS.get(region)).key("small"), RequestBody.fromBytes(small));
                admin.putObject(p -> p.bucket(BUCKETS.get(region)).key("large"), RequestBody.fromBytes(large));
            }
            Topology topology = Topology.builder().region(RegionSpec.builder(WRITER).writer().build())
                    .region(RegionSpec.builder(LOCAL).build()).localRegion(LOCAL).build();
            List<String> m = new ArrayList<>();
            try (MultiRegionS3Client wrapped = wrapped(lab, topology, Kind.DEFAULTS);
                    MultiRegionS3Client unhedged = wrapped(lab, topology, Kind.UNHEDGED);
                    MultiRegionS3Client pooled = wrapped(lab, topology, Kind.POOLED)) {
                if (parts.contains("overhead")) {
                    // The pooled pass first: the JVM (S3Proxy's servers included) is still compiling through the
                    // first pass's warm-up; the wrapper's own cost (hedging off) last, the most settled.
                    System.out.println("s3: overhead pass: every attempt on the attempt threads"
                            + " (callerRunsFirstAttempt(false))");
                    List<String> pooledFigures = overhead(plainLocal, pooled, "_pooled");
                    System.out.println("s3: overhead pass: the client's defaults (hedging on)");
                    List<String> hedgedFigures = overhead(plainLocal, wrapped, "_hedged");
                    System.out.println("s3: overhead pass: the client's defaults but hedging off (the wrapper's own"
                            + " cost)");
                    m.addAll(overhead(plainLocal, unhedged, ""));
                    m.addAll(hedgedFigures);
                    m.addAll(pooledFigures);
                }
                if (parts.contains("large")) {
                    m.addAll(large(plainLocal, plainWriter, wrapped, large));
                }
                if (parts.contains("sessions")) {
                    m.addAll(sessions(lab, topology));
                }
                if (parts.contains("failover")) {
                    m.addAll(failover(lab, wrapped));
                }
            }
            return m;
        }
    }

    /** The multi-region clients the overhead passes compare with the plain client. */
    private enum Kind {
        /** The client's defaults (hedging on; a read runs on the calling thread while its region is calm). */
        DEFAULTS,
        /** The defaults with hedging off: the wrapper's own cost, without the hedges' extra requests. */
        UNHEDGED,
        /** The defaults with every attempt handed to the engine's attempt threads. */
        POOLED
    }

    /**
     * A multi-region client over clients of the lab's fronts (made by {@code buildClients}), routing to eu-west-1
     * first, with the client's defaults but for what {@code kind} changes.
     */
    private static MultiRegionS3Client wrapped(S3Regions lab, Topology topology, Kind kind) {
        return MultiRegionS3Client.builder().topology(topology)
                .bucket(LOGICAL, BUCKETS)
                .buildClients((r, b) -> S3Regions.configure(b, lab.region(r)))
                .router(r -> {
                    r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build())
                            .attemptTimeout(Duration.ofMillis(300)).deadline(Duration.ofSeconds(30));
                    if (kind == Kind.POOLED) {
                        r.callerRunsFirstAttempt(false);
                    } else if (kind == Kind.UNHEDGED) {
                        r.hedging(HedgingConfig.disabled());
                    }
                })
                .build();
    }

    private List<String> overhead(S3Client plain, S3Client wrapped, String suffix) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            // Warm both paths (JIT, connections) before measuring, until the JIT settles: the wrapped path (the
            // engine's code on top of the SDK's) has more to compile, and its throughput was still rising after
            // 3 rounds of 2 s. At least -Ds3.warmUpRounds=N rounds (default 3) of each, then as JitWarmUp decides.
            for (int i = 0; i < warmUpRounds; i++) {
                throughput(pool, plain, "bench-euw1", 2000);
                throughput(pool, wrapped, LOGICAL, 2000);
            }
            System.out.println("s3: overhead: " + JitWarmUp.run(() -> {
                throughput(pool, plain, "bench-euw1", 1000);
                throughput(pool, wrapped, LOGICAL, 1000);
            }, Duration.ofSeconds(40)));
            // Rounds swing by ±15 % on a shared 2-core machine: 12 of them, each order half the time, and the paired
            // figure (the median of the rounds' own ratios) beside the ratio of the medians.
            int rounds = Integer.getInteger("s3.overheadRounds", 12);
            double[] p = new double[rounds];
            double[] w = new double[rounds];
            double[] paired = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                if (i % 2 == 0) {
                    p[i] = throughput(pool, plain, "bench-euw1", 2000);
                    w[i] = throughput(pool, wrapped, LOGICAL, 2000);
                } else {
                    w[i] = throughput(pool, wrapped, LOGICAL, 2000);
                    p[i] = throughput(pool, plain, "bench-euw1", 2000);
                }
                paired[i] = 100 * (p[i] - w[i]) / p[i];
                System.out.printf(Locale.ROOT, "s3: 1 KiB GET round %d (%s): plain %.0f ops/s, wrapped %.0f ops/s%n",
                        i + 1, suffix.isEmpty() ? "defaults" : suffix.substring(1), p[i], w[i]);
            }
            double plainMedian = median(p);
            double wrappedMedian = median(w);
            return List.of(metric("overhead_pct" + suffix, 100 * (plainMedian - wrappedMedian) / plainMedian, "%"),
                    metric("overhead_paired_pct" + suffix, median(paired), "%"),
                    metric("plain_get_1k_ops_per_s" + suffix, plainMedian, "ops/s"),
                    metric("wrapped_get_1k_ops_per_s" + suffix, wrappedMedian, "ops/s"));
        } finally {
            pool.shutdownNow();
        }
    }

    private static double throughput(ExecutorService pool, S3Client client, String bucket, long millis)
            throws Exception {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        AtomicLong done = new AtomicLong();
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            workers.add(pool.submit(() -> {
                while (System.nanoTime() < until) {
                    client.getObjectAsBytes(g -> g.bucket(bucket).key("small"));
                    done.incrementAndGet();
                }
            }));
        }
        for (Future<?> f : workers) {
            f.get(60, TimeUnit.SECONDS);
        }
        return done.get() * 1000.0 / millis;
    }

    private static List<String> large(S3Client plainLocal, S3Client plainWriter, S3Client wrapped, byte[] body) {
        byte[] buffer = new byte[1 << 20];
        int rounds = 4;
        double[] pg = new double[rounds];
        double[] wg = new double[rounds];
        double[] pp = new double[rounds];
        double[] wp = new double[rounds];
        drain(plainLocal, "bench-euw1", buffer);
        drain(wrapped, LOGICAL, buffer);
        for (int i = 0; i < rounds; i++) {
            pg[i] = drain(plainLocal, "bench-euw1", buffer);
            wg[i] = drain(wrapped, LOGICAL, buffer);
            pp[i] = put(plainWriter, "bench-use1", body);
            wp[i] = put(wrapped, LOGICAL, body);
            System.out.printf(Locale.ROOT, "s3: 64 MiB round %d: GET plain %.0f MiB/s wrapped %.0f MiB/s, PUT plain"
                    + " %.0f MiB/s wrapped %.0f MiB/s%n", i + 1, pg[i], wg[i], pp[i], wp[i]);
        }
        return List.of(metric("large_get_wrapped_vs_plain_pct", 100 * median(wg) / median(pg), "%"),
                metric("large_put_wrapped_vs_plain_pct", 100 * median(wp) / median(pp), "%"),
                metric("plain_get_64m_mib_per_s", median(pg), "MiB/s"),
                metric("plain_put_64m_mib_per_s", median(pp), "MiB/s"));
    }

    /** Reads the large object to the end into {@code buffer}; returns MiB/s. */
    private static double drain(S3Client client, String bucket, byte[] buffer) {
        long start = System.nanoTime();
        try (ResponseInputStream<GetObjectResponse> in = client.getObject(g -> g.bucket(bucket).key("large"))) {
            long total = 0;
            for (int n; (n = read(in, buffer)) >= 0; ) {
                total += n;
            }
            if (total != LARGE) {
                throw new IllegalStateException("read " + total + " bytes of " + LARGE);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return 64 / ((System.nanoTime() - start) / 1e9);
    }

    private static int read(InputStream in, byte[] buffer) {
        try {
            return in.read(buffer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double put(S3Client client, String bucket, byte[] body) {
        long start = System.nanoTime();
        client.putObject(p -> p.bucket(bucket).key("large-put"), RequestBody.fromBytes(body));
        return 64 / ((System.nanoTime() - start) / 1e9);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Sessions under replication lag.

    /**
     * On a region's client: names the region in a header of every response (so a response, or the error made of it,
     * says which region it came from, whichever client or thread it went through) and counts the GetObject requests
     * the client sends (hedges and escalations included).
     */
    static final class RegionTag implements ExecutionInterceptor {
        private final String region;
        private final LongAdder getRequests = new LongAdder();

        RegionTag(String region) {
            this.region = region;
        }

        @Override
        public void beforeTransmission(BeforeTransmission context, ExecutionAttributes attributes) {
            if (context.request() instanceof GetObjectRequest) {
                getRequests.increment();
            }
        }

        @Override
        public SdkHttpResponse modifyHttpResponse(ModifyHttpResponse context, ExecutionAttributes attributes) {
            return context.httpResponse().toBuilder().putHeader(REGION_HEADER, region).build();
        }
    }

    /** A read's answer: the key's counter ({@link #MISSING} for a 404) and the region that answered. */
    private record Read(long counter, String region) {
    }

    /** One session's operations on one client. */
    private interface SessionClient {
        /** Writes {@code counter} as the body of {@code key}. */
        void write(String key, long counter);

        /** Reads {@code key}. */
        Read read(String key);
    }

    /** What a sessions run saw. */
    private record SessionResult(long ops, long reads, long violations, Map<String, Long> readsBy, long failures,
            Histogram latency, long readsWithinLag, long localReadsWithinLag, Map<String, Long> getRequests) {
        double localSharePct() {
            return reads == 0 ? Double.NaN : 100.0 * readsBy.getOrDefault(LOCAL, 0L) / reads;
        }
    }

    /**
     * Runs the sessions twice, the peer then Latitude, each on keys of its own, with us-east-1's bucket replicating to
     * eu-west-1's {@value #LAG_MS} ms behind and us-east-1 {@code s3.writerRttMs} away.
     */
    private List<String> sessions(S3Regions lab, Topology topology) throws Exception {
        Map<String, RegionTag> tags = new TreeMap<>();
        Map<String, S3Client> clients = new TreeMap<>();
        try {
            for (String region : BUCKETS.keySet()) {
                RegionTag tag = new RegionTag(region);
                tags.put(region, tag);
                clients.put(region, S3Regions.clientBuilder(lab.region(region)).overrideConfiguration(o -> o
                        .retryStrategy(MultiRegionS3Client.failoverRetryStrategy()).addExecutionInterceptor(tag))
                        .build());
            }
            // Every key starts at counter 0 in both buckets: written to us-east-1 and replicated before the clock
            // starts.
            lab.replication().lag(ReplicationLag.fixed(Duration.ofMillis(LAG_MS)));
            lab.replication().oneWay(WRITER, BUCKETS);
            long t0 = System.nanoTime();
            ExecutorService loaders = Executors.newFixedThreadPool(SESSIONS);
            try {
                List<Future<?>> loaded = new ArrayList<>();
                for (String prefix : List.of("peer", "latitude")) {
                    for (int s = 0; s < SESSIONS; s++) {
                        int session = s;
                        loaded.add(loaders.submit(() -> preload(lab.region(WRITER).adminClient(),
                                BUCKETS.get(WRITER), prefix, session)));
                    }
                }
                for (Future<?> f : loaded) {
                    f.get(5, TimeUnit.MINUTES);
                }
            } finally {
                loaders.shutdownNow();
            }
            lab.replication().awaitQuiescent(Duration.ofMinutes(5));
            System.out.printf(Locale.ROOT, "s3: sessions: %d objects written to %s and replicated to %s in %.1f s;"
                    + " replication lag %d ms; %s %d ms away; %d sessions x %d keys, %s, %,d operations per client%n",
                    2 * SESSIONS * KEYS_PER_SESSION, WRITER, LOCAL, (System.nanoTime() - t0) / 1e9, LAG_MS, WRITER,
                    writerRttMs, SESSIONS, KEYS_PER_SESSION,
                    sessionRate > 0 ? sessionRate + " operations/s each" : "as fast as they can", sessionOps);
            // The writer is a WAN round trip away, so that a read sent there (an escalation, a hedge) costs what it
            // would, and a hedge to it does not beat the local region whenever this machine stalls for a moment.
            // Half the round trip each way: the front delays what it forwards in both directions.
            lab.region(WRITER).proxy().apply(Fault.latency(Duration.ofMillis(writerRttMs / 2)));

            S3Client writer = clients.get(WRITER);
            S3Client reader = clients.get(LOCAL);
            SessionResult peer = sessionRun("peer", tags, session -> new SessionClient() {
                @Override
                public void write(String key, long counter) {
                    writer.putObject(p -> p.bucket(BUCKETS.get(WRITER)).key(key),
                            RequestBody.fromString(Long.toString(counter)));
                }

                @Override
                public Read read(String key) {
                    return S3Scenario.read(reader, BUCKETS.get(LOCAL), key);
                }
            });
            SessionResult latitude;
            // The client's defaults but for the routing policy; the same two region clients as the peer.
            try (MultiRegionS3Client client = MultiRegionS3Client.builder().topology(topology)
                    .bucket(LOGICAL, BUCKETS)
                    .regionClient(WRITER, writer)
                    .regionClient(LOCAL, reader)
                    .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build()))
                    .build()) {
                latitude = sessionRun("latitude", tags, session -> {
                    Context context = Session.create(client.latitude().watermarkBounds()).storeIn(Context.current());
                    return new SessionClient() {
                        @Override
                        public void write(String key, long counter) {
                            try (Scope ignored = context.makeCurrent()) {
                                client.putObject(p -> p.bucket(LOGICAL).key(key),
                                        RequestBody.fromString(Long.toString(counter)));
                            }
                        }

                        @Override
                        public Read read(String key) {
                            try (Scope ignored = context.makeCurrent()) {
                                return S3Scenario.read(client, LOGICAL, key);
                            }
                        }
                    };
                });
            }
            List<String> m = new ArrayList<>();
            m.addAll(report("", latitude));
            m.addAll(report("peer_plain_", peer));
            return m;
        } finally {
            lab.region(WRITER).proxy().apply(Fault.none());
            clients.values().forEach(S3Client::close);
        }
    }

    /** Writes counter 0 to every key of one session of one client. */
    private static void preload(S3Client admin, String bucket, String prefix, int session) {
        for (int k = 0; k < KEYS_PER_SESSION; k++) {
            String key = key(prefix, session, k);
            admin.putObject(p -> p.bucket(bucket).key(key), RequestBody.fromString("0"));
        }
    }

    private static String key(String prefix, int session, int k) {
        return prefix + "/s" + session + "-k" + k;
    }

    /** Reads {@code key}'s counter and the region whose client received the answer. */
    private static Read read(S3Client client, String bucket, String key) {
        try {
            ResponseBytes<GetObjectResponse> r = client.getObjectAsBytes(g -> g.bucket(bucket).key(key));
            return new Read(Long.parseLong(r.asUtf8String()), region(r.response().sdkHttpResponse()));
        } catch (NoSuchKeyException e) {
            return new Read(MISSING, e.awsErrorDetails() == null ? "?" : region(e.awsErrorDetails().sdkHttpResponse()));
        }
    }

    private static String region(SdkHttpResponse response) {
        return response == null ? "?" : response.firstMatchingHeader(REGION_HEADER).orElse("?");
    }

    /**
     * Runs {@value #SESSIONS} sessions on one client until {@code s3.sessionOps} operations are done, each paced at
     * {@code s3.sessionRate} operations per second (from a random phase, so they do not move in step).
     */
    private SessionResult sessionRun(String name, Map<String, RegionTag> tags, IntFunction<SessionClient> factory)
            throws Exception {
        Map<String, Long> requestsBefore = requests(tags);
        ExecutorService threads = Executors.newFixedThreadPool(SESSIONS);
        AtomicLong remaining = new AtomicLong(sessionOps);
        LongAdder reads = new LongAdder();
        LongAdder violations = new LongAdder();
        LongAdder failures = new LongAdder();
        LongAdder missing = new LongAdder();
        LongAdder withinLag = new LongAdder();
        LongAdder localWithinLag = new LongAdder();
        Map<String, LongAdder> readsBy = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        Histogram latency = new Histogram(3);
        long period = sessionRate > 0 ? TimeUnit.SECONDS.toNanos(1) / sessionRate : 0;
        long lag = TimeUnit.MILLISECONDS.toNanos(LAG_MS);
        long start = System.nanoTime();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int s = 0; s < SESSIONS; s++) {
                int session = s;
                done.add(threads.submit(() -> {
                    SessionClient client = factory.apply(session);
                    SplittableRandom random = new SplittableRandom(1000 + session);
                    // The counter each key holds (this session's last write, or the preloaded 0), the last counter
                    // the session saw written (MISSING: none yet), and when that write returned.
                    long[] counters = new long[KEYS_PER_SESSION];
                    long[] written = new long[KEYS_PER_SESSION];
                    long[] writtenAt = new long[KEYS_PER_SESSION];
                    Arrays.fill(written, MISSING);
                    Histogram own = new Histogram(3);
                    long next = start + (period > 0 ? random.nextLong(period) : 0);
                    while (remaining.getAndDecrement() > 0) {
                        if (period > 0) {
                            LockSupport.parkNanos(next - System.nanoTime());
                            next += period;
                        }
                        int k = random.nextInt(KEYS_PER_SESSION);
                        String key = key(name, session, k);
                        long t0 = System.nanoTime();
                        try {
                            if (random.nextInt(10) == 0) {
                                long counter = ++counters[k];
                                client.write(key, counter);
                                written[k] = counter;
                                writtenAt[k] = System.nanoTime();
                            } else {
                                // No replica can have a write that returned less than the lag ago: the writer must
                                // answer such a read, whoever the client is.
                                boolean recent = written[k] != MISSING && t0 - writtenAt[k] < lag;
                                Read read = client.read(key);
                                reads.increment();
                                readsBy.computeIfAbsent(read.region(), r -> new LongAdder()).increment();
                                if (recent) {
                                    withinLag.increment();
                                    if (read.region().equals(LOCAL)) {
                                        localWithinLag.increment();
                                    }
                                }
                                if (read.counter() < written[k]) {
                                    violations.increment();
                                } else if (read.counter() == MISSING) {
                                    missing.increment();
                                }
                            }
                        } catch (RuntimeException e) {
                            failures.increment();
                            errors.add(e.toString());
                        }
                        own.recordValue((System.nanoTime() - t0) / 1_000);
                    }
                    synchronized (latency) {
                        latency.add(own);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(10, TimeUnit.MINUTES);
            }
        } finally {
            threads.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Long> by = new TreeMap<>();
        readsBy.forEach((region, n) -> by.put(region, n.sum()));
        Map<String, Long> sent = new TreeMap<>();
        requests(tags).forEach((region, n) -> sent.put(region, n - requestsBefore.get(region)));
        SessionResult r = new SessionResult(latency.getTotalCount(), reads.sum(), violations.sum(), by,
                failures.sum(), latency, withinLag.sum(), localWithinLag.sum(), sent);
        System.out.printf(Locale.ROOT, "s3: sessions %-8s: %,d operations in %.1f s, %,d reads answered by %s,"
                + " %d read-your-writes violations, %d failures, p50 %d us, p99 %d us; %,d reads came less than %d ms"
                + " after the session's own write of the key returned (%,d of them answered by %s); GetObject requests"
                + " sent %s%n", name, r.ops(), seconds, r.reads(), by, r.violations(), r.failures(),
                latency.getValueAtPercentile(50), latency.getValueAtPercentile(99), r.readsWithinLag(), LAG_MS,
                r.localReadsWithinLag(), LOCAL, sent);
        if (missing.sum() > 0) {
            System.out.printf(Locale.ROOT, "s3: sessions %-8s: %d reads found no object for a key the session had"
                    + " not written (every key was preloaded)%n", name, missing.sum());
        }
        errors.stream().limit(5).forEach(e -> System.out.println("s3: sessions " + name + ": error: " + e));
        return r;
    }

    private static Map<String, Long> requests(Map<String, RegionTag> tags) {
        Map<String, Long> m = new TreeMap<>();
        tags.forEach((region, tag) -> m.put(region, tag.getRequests.sum()));
        return m;
    }

    private static List<String> report(String prefix, SessionResult r) {
        return List.of(count(prefix + "ryw_violations", r.violations(), "count"),
                metric(prefix + "local_read_share_pct", r.localSharePct(), "%"),
                count(prefix + "session_ops", r.ops(), "count"),
                count(prefix + "session_failures", r.failures(), "count"),
                count(prefix + "session_p50_us", r.latency().getValueAtPercentile(50), "us"),
                count(prefix + "session_p99_us", r.latency().getValueAtPercentile(99), "us"));
    }

    private static List<String> failover(S3Regions lab, S3Client wrapped) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        AtomicLong failed = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        try {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                workers.add(pool.submit(() -> {
                    while (System.nanoTime() < until) {
                        long s = System.nanoTime();
                        try {
                            wrapped.getObjectAsBytes(g -> g.bucket(LOGICAL).key("small"));
                        } catch (RuntimeException e) {
                            failed.incrementAndGet();
                        }
                        synchronized (latency) {
                            latency.recordValue(System.nanoTime() - s);
                        }
                        reads.incrementAndGet();
                    }
                }));
            }
            Thread.sleep(1000);
            lab.region(LOCAL).proxy().apply(Fault.blackhole());
            for (Future<?> f : workers) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            lab.region(LOCAL).proxy().apply(Fault.none());
            pool.shutdownNow();
        }
        double slowest = latency.getMaxValue() / 1e6;
        System.out.printf(Locale.ROOT, "s3: failover: %d reads, %d failed, slowest %.0f ms%n", reads.get(),
                failed.get(), slowest);
        return List.of(metric("failover_failed_calls", failed.get(), "calls"),
                metric("failover_slowest_read_ms", slowest, "ms"));
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String metric(String name, double value, String unit) {
        return String.format(Locale.ROOT, "s3.%s=%.1f %s", name, value, unit);
    }

    private static String count(String name, long value, String unit) {
        return String.format(Locale.ROOT, "s3.%s=%d %s", name, value, unit);
    }
}
