package dev.latitude.samples;

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
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.interceptor.Context.BeforeTransmission;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * The S3 demo: two S3 servers on 127.0.0.1 (S3Proxy, one per region), a bucket in each replicated from us-east-1 to
 * eu-west-1 with a 1 s lag (the testkit's replication emulator), and a
 * {@link MultiRegionS3Client} in eu-west-1 (its bucket receives replicas; us-east-1's takes the writes). It shows a
 * session reading its own write at once although the local bucket does not have it yet, the same read without the
 * session getting the local bucket's 404, and reads carrying on while the local region is blackholed. Each line says
 * which region served each request.
 *
 * <p>Run it with {@code mvn -q -pl samples -am package -DskipTests exec:java
 * -Ddemo.mainClass=dev.latitude.samples.S3Demo}. Arguments (optional): {@code --reads N} during the blackhole
 * (default 20).
 */
public final class S3Demo {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final Map<String, String> BUCKETS = Map.of(WRITER, "photos-use1", LOCAL, "photos-euw1");

    private S3Demo() {
    }

    /**
     * Runs the demo.
     *
     * @param args {@code --reads N}
     */
    public static void main(String[] args) {
        run(args, System.out);
    }

    /**
     * Runs the demo, printing to {@code out}.
     *
     * @param args {@code --reads N}
     * @param out where to print
     * @throws IllegalArgumentException if an argument is not understood
     */
    public static void run(String[] args, PrintStream out) {
        int reads = parseReads(args);
        out.printf("Starting S3 servers in %s (takes the writes) and %s (this process's region, receives replicas);"
                + " replication lag 1 s%n", WRITER, LOCAL);
        Map<String, AtomicInteger> served = new ConcurrentHashMap<>();
        try (S3Regions lab = S3Regions.builder().regions(WRITER, LOCAL)
                .replicationLag(ReplicationLag.fixed(Duration.ofSeconds(1))).build()) {
            BUCKETS.forEach((region, bucket) -> lab.region(region).createBucket(bucket));
            lab.replication().oneWay(WRITER, BUCKETS); // like S3 Cross-Region Replication from the writer's bucket
            Topology topology = Topology.builder()
                    .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").build())
                    .region(RegionSpec.builder(LOCAL).jurisdiction("EU").build())
                    .localRegion(LOCAL).build();
            try (MultiRegionS3Client s3 = MultiRegionS3Client.builder().topology(topology)
                    .bucket("photos", BUCKETS)
                    // Every region's client goes through the lab's fault front and says what it sends where.
                    .buildClients((region, b) -> S3Regions.configure(b, lab.region(region))
                            .overrideConfiguration(o -> o.addExecutionInterceptor(new Tracer(region, out, served))))
                    // On one machine every region is as close as the other: prefer the local one explicitly.
                    .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build())
                            .attemptTimeout(Duration.ofMillis(300)))
                    .build()) {
                readYourWrites(lab, s3, out);
                failover(lab, s3, reads, served, out);
            }
        }
    }

    private static void readYourWrites(S3Regions lab, MultiRegionS3Client s3, PrintStream out) {
        // Hold replication back until both reads are shown, so a slow machine cannot let it arrive early.
        lab.replication().stall(WRITER); // changes out of the writer wait
        Session session = Session.create(s3.latitude().watermarkBounds());
        try (Scope ignored = session.storeIn(Context.current()).makeCurrent()) {
            out.println("PutObject photos/cat.txt in a session:");
            s3.putObject(b -> b.bucket("photos").key("cat.txt"), RequestBody.fromString("meow"));
            out.println("GetObject photos/cat.txt in the session (the local bucket has no copy yet):");
            String cat = s3.getObjectAsBytes(b -> b.bucket("photos").key("cat.txt")).asUtf8String();
            out.printf("  -> '%s': the local 404 was checked against the session and the read escalated%n", cat);
        }
        out.println("GetObject photos/cat.txt without the session:");
        try {
            s3.getObjectAsBytes(b -> b.bucket("photos").key("cat.txt"));
            out.println("  -> found");
        } catch (NoSuchKeyException e) {
            out.println("  -> NoSuchKey: the local bucket's answer, which is all an unsessioned read asks for");
        }
        lab.replication().resume(WRITER);
        lab.replication().awaitQuiescent(Duration.ofSeconds(10));
        out.println("Replicated; GetObject photos/cat.txt without the session:");
        out.printf("  -> '%s'%n", s3.getObjectAsBytes(b -> b.bucket("photos").key("cat.txt")).asUtf8String());
    }

    private static void failover(S3Regions lab, MultiRegionS3Client s3, int reads, Map<String, AtomicInteger> served,
            PrintStream out) {
        out.printf("Blackholing %s and reading photos/cat.txt %d times:%n", LOCAL, reads);
        lab.region(LOCAL).proxy().apply(Fault.blackhole());
        served.clear();
        int failed = 0;
        Tracer.mute(true); // a line per request would bury the result: count them instead
        try {
            for (int i = 0; i < reads; i++) {
                try {
                    s3.getObjectAsBytes(b -> b.bucket("photos").key("cat.txt"));
                } catch (RuntimeException e) {
                    failed++;
                }
            }
        } finally {
            Tracer.mute(false);
            lab.region(LOCAL).proxy().apply(Fault.none());
        }
        out.printf("  -> %d of %d reads failed with %s blackholed; answers by region: %s%n", failed, reads, LOCAL,
                Map.of(WRITER, count(served, WRITER, "GetObject"), LOCAL, count(served, LOCAL, "GetObject")));
    }

    private static int count(Map<String, AtomicInteger> served, String region, String operation) {
        AtomicInteger n = served.get(region + " " + operation);
        return n == null ? 0 : n.get();
    }

    private static int parseReads(String[] args) {
        if (args.length == 0) {
            return 20;
        }
        if (args.length == 2 && args[0].equals("--reads")) {
            try {
                int n = Integer.parseInt(args[1]);
                if (n >= 1 && n <= 10_000) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException("expected '--reads N' with N from 1 to 10000, got "
                + String.join(" ", args));
    }

    /** Prints each request a region's client sends, and counts the answers each region gave. */
    private static final class Tracer implements ExecutionInterceptor {
        private static volatile boolean muted;
        private final String region;
        private final PrintStream out;
        private final Map<String, AtomicInteger> served;

        Tracer(String region, PrintStream out, Map<String, AtomicInteger> served) {
            this.region = region;
            this.out = out;
            this.served = served;
        }

        static void mute(boolean on) {
            muted = on;
        }

        @Override
        public void beforeTransmission(BeforeTransmission context, ExecutionAttributes attributes) {
            if (!muted) {
                out.printf("  %s -> %s%n", attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME), region);
            }
        }

        @Override
        public void afterExecution(software.amazon.awssdk.core.interceptor.Context.AfterExecution context,
                ExecutionAttributes attributes) {
            served.computeIfAbsent(region + " " + attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME),
                    k -> new AtomicInteger()).incrementAndGet();
        }
    }
}
