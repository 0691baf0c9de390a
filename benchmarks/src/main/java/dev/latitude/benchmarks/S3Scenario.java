package dev.latitude.benchmarks;

import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.s3.MultiRegionS3Client;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.S3Regions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * {@code MultiRegionS3Client} against the testkit's {@link S3Regions}: two S3Proxy servers in the JVM on 127.0.0.1,
 * us-east-1 (takes the writes) and eu-west-1 (the local region), each behind a TCP fault front, with the routing
 * policy {@code failover().priority("eu-west-1", "us-east-1")}. Three parts:
 *
 * <ul>
 *   <li><b>Overhead</b>: 1 KiB GetObjects from 4 threads through a plain {@code S3Client} of eu-west-1 and through the
 *       multi-region client, interleaved rounds; {@code overhead_pct} compares the median throughputs.</li>
 *   <li><b>Large objects</b>: 64 MiB GetObjects (read to the end into one reused buffer) and PutObjects (from one
 *       array), plain and wrapped, interleaved; the ratios show that the wrapper does not copy bodies.</li>
 *   <li><b>Failover</b>: 2 threads read while eu-west-1 is blackholed; failed reads (idempotent, so none should fail)
 *       and the slowest read, the time the move to us-east-1 cost a caller.</li>
 * </ul>
 */
final class S3Scenario {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final Map<String, String> BUCKETS = Map.of(WRITER, "bench-use1", LOCAL, "bench-euw1");
    private static final int LARGE = 64 * 1024 * 1024;

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
            try (MultiRegionS3Client wrapped = MultiRegionS3Client.builder().topology(topology)
                    .bucket("bench", BUCKETS)
                    .regionClients(r -> S3Regions.clientBuilder(lab.region(r)).overrideConfiguration(o -> o
                            .retryStrategy(MultiRegionS3Client.failoverRetryStrategy())).build())
                    .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build())
                            .attemptTimeout(Duration.ofMillis(300)).deadline(Duration.ofSeconds(30)))
                    .build()) {
                List<String> m = new ArrayList<>();
                m.addAll(overhead(plainLocal, wrapped));
                m.addAll(large(plainLocal, plainWriter, wrapped, large));
                m.addAll(failover(lab, wrapped));
                return m;
            }
        }
    }

    private static List<String> overhead(S3Client plain, S3Client wrapped) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            // Warm both paths (JIT, connections) before measuring: the first seconds run several times slower, and
            // the wrapped path (the engine's code on top of the SDK's) has more to compile, so its throughput was
            // still rising after 3 rounds of 2 s. Override with -Ds3.warmUpRounds=N.
            int warmUpRounds = Integer.getInteger("s3.warmUpRounds", 10);
            for (int i = 0; i < warmUpRounds; i++) {
                throughput(pool, plain, "bench-euw1", 2000);
                throughput(pool, wrapped, "bench", 2000);
            }
            int rounds = 6;
            double[] p = new double[rounds];
            double[] w = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                if (i % 2 == 0) {
                    p[i] = throughput(pool, plain, "bench-euw1", 2000);
                    w[i] = throughput(pool, wrapped, "bench", 2000);
                } else {
                    w[i] = throughput(pool, wrapped, "bench", 2000);
                    p[i] = throughput(pool, plain, "bench-euw1", 2000);
                }
                System.out.printf(Locale.ROOT, "s3: 1 KiB GET round %d: plain %.0f ops/s, wrapped %.0f ops/s%n",
                        i + 1, p[i], w[i]);
            }
            double plainMedian = median(p);
            double wrappedMedian = median(w);
            return List.of(metric("overhead_pct", 100 * (plainMedian - wrappedMedian) / plainMedian, "%"),
                    metric("plain_get_1k_ops_per_s", plainMedian, "ops/s"),
                    metric("wrapped_get_1k_ops_per_s", wrappedMedian, "ops/s"));
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
        drain(wrapped, "bench", buffer);
        for (int i = 0; i < rounds; i++) {
            pg[i] = drain(plainLocal, "bench-euw1", buffer);
            wg[i] = drain(wrapped, "bench", buffer);
            pp[i] = put(plainWriter, "bench-use1", body);
            wp[i] = put(wrapped, "bench", body);
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
                            wrapped.getObjectAsBytes(g -> g.bucket("bench").key("small"));
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
}
