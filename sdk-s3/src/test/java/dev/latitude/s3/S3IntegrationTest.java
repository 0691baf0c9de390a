package dev.latitude.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.FakeRegion;
import dev.latitude.testkit.History;
import dev.latitude.testkit.HistoryChecker;
import dev.latitude.testkit.HistoryOp;
import dev.latitude.testkit.HistoryReport;
import dev.latitude.testkit.ReplicationLag;
import dev.latitude.testkit.S3Regions;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.AwsRequest;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * {@link MultiRegionS3Client} and {@link MultiRegionS3AsyncClient} against real S3 servers (S3Proxy, one per region,
 * each behind a TCP fault front): the writer us-east-1 and the local replica eu-west-1, linked by the testkit's
 * {@code S3ReplicationEmulator} with a fixed 300 ms lag. Covers every routed operation end to end, read-your-writes under lag checked by {@link HistoryChecker},
 * and failover from a blackholed, resetting or throttling replica.
 */
class S3IntegrationTest {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final String WRITER_BUCKET = "photos-use1";
    private static final String LOCAL_BUCKET = "photos-euw1";
    private static final String SLOW_DOWN = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
            + "<Message>Please reduce your request rate.</Message></Error>";

    private static S3Regions lab;
    private InMemorySpanExporter spans;
    private OpenTelemetrySdk otel;
    private MultiRegionS3Client client;
    private MultiRegionS3AsyncClient async;

    @BeforeAll
    static void start() {
        lab = S3Regions.builder().regions(WRITER, LOCAL).replicationLag(ReplicationLag.fixed(Duration.ofMillis(300)))
                .build();
        lab.region(WRITER).createBucket(WRITER_BUCKET);
        lab.region(LOCAL).createBucket(LOCAL_BUCKET);
        lab.replication().oneWay(WRITER, Map.of(WRITER, WRITER_BUCKET, LOCAL, LOCAL_BUCKET));
    }

    @AfterAll
    static void stop() {
        lab.close();
    }

    @BeforeEach
    void build() {
        spans = InMemorySpanExporter.create();
        otel = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").build())
                .region(RegionSpec.builder(LOCAL).jurisdiction("EU").build())
                .localRegion(LOCAL).build();
        Map<String, String> buckets = Map.of(WRITER, WRITER_BUCKET, LOCAL, LOCAL_BUCKET);
        client = MultiRegionS3Client.builder().topology(topology).bucket("photos", buckets)
                .buildClients((r, b) -> S3Regions.configure(b, lab.region(r)))
                .openTelemetry(otel)
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build())
                        .hedging(HedgingConfig.disabled()).attemptTimeout(Duration.ofMillis(500))
                        .deadline(Duration.ofSeconds(10)))
                .build();
        async = MultiRegionS3AsyncClient.builder().topology(topology).bucket("photos", buckets)
                .buildClients((r, b) -> S3Regions.configure(b, lab.region(r)))
                .openTelemetry(otel)
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build())
                        .hedging(HedgingConfig.disabled()).attemptTimeout(Duration.ofMillis(500))
                        .deadline(Duration.ofSeconds(10)))
                .build();
    }

    @AfterEach
    void close() {
        lab.regions().forEach(r -> r.proxy().apply(Fault.none()));
        client.close();
        async.close();
        otel.close();
    }

    private static String body(MultiRegionS3Client c, String key) {
        return c.getObjectAsBytes(g -> g.bucket("photos").key(key)).asString(StandardCharsets.UTF_8);
    }

    @Test
    void everyRoutedOperation_worksAgainstARealServer() throws Exception {
        // A session: the objects not replicated yet (the copy, the multipart object) are read from the writer.
        MultiRegionS3Client client = this.client.withSession(Session.create());
        client.putObject(p -> p.bucket("photos").key("it/a").contentType("text/plain"),
                RequestBody.fromString("alpha"));
        client.copyObject(c -> c.sourceBucket("photos").sourceKey("it/a").destinationBucket("photos")
                .destinationKey("it/b"));
        String upload = client.createMultipartUpload(c -> c.bucket("photos").key("it/big")).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        byte[] part = new byte[5 * 1024 * 1024];
        for (int i = 1; i <= 2; i++) {
            int n = i;
            String etag = client.uploadPart(u -> u.bucket("photos").key("it/big").uploadId(upload).partNumber(n),
                    RequestBody.fromBytes(part)).eTag();
            parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
        }
        client.completeMultipartUpload(c -> c.bucket("photos").key("it/big").uploadId(upload)
                .multipartUpload(m -> m.parts(parts)));
        lab.replication().awaitQuiescent(Duration.ofSeconds(30));

        assertThat(body(client, "it/a")).isEqualTo("alpha");
        assertThat(client.headObject(h -> h.bucket("photos").key("it/b")).contentType()).isEqualTo("text/plain");
        assertThat(client.headObject(h -> h.bucket("photos").key("it/big")).contentLength())
                .isEqualTo(2L * part.length);
        assertThat(client.listObjectsV2Paginator(l -> l.bucket("photos").prefix("it/")).contents().stream()
                .map(S3Object::key)).contains("it/a");
        client.deleteObject(d -> d.bucket("photos").key("it/b"));
        assertThatThrownBy(() -> lab.region(WRITER).adminClient().headObject(h -> h.bucket(WRITER_BUCKET)
                .key("it/b"))).isInstanceOf(NoSuchKeyException.class);
    }

    @Test
    void sessions_readTheirWrites_underReplicationLag() throws Exception {
        History history = History.create();
        Map<String, Long> deleted = new ConcurrentHashMap<>();
        java.util.Set<String> keys = ConcurrentHashMap.newKeySet();
        AtomicInteger versions = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int s = 0; s < 4; s++) {
                String name = "s" + s;
                Random random = new Random(42 + s);
                MultiRegionS3Client session = client.withSession(Session.create());
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 40; i++) {
                        String key = "ryw/" + name + "/" + random.nextInt(4);
                        keys.add(key);
                        int dice = random.nextInt(100);
                        if (dice < 35 && !deleted.containsKey(key)) {
                            long v = versions.incrementAndGet();
                            History.Pending op = history.invoke(name, HistoryOp.Type.WRITE, "photos", key, null);
                            if (dice < 30) {
                                session.putObject(p -> p.bucket("photos").key(key), RequestBody.fromString(
                                        Long.toString(v)));
                                op.ok(WRITER, v, Long.toString(v));
                            } else {
                                deleted.put(key, v);
                                session.deleteObject(d -> d.bucket("photos").key(key));
                                op.ok(WRITER, v, null);
                            }
                        } else {
                            History.Pending op = history.invoke(name, HistoryOp.Type.READ, "photos", key, null);
                            try {
                                String value = body(session, key);
                                op.ok(LOCAL, Long.parseLong(value), value);
                            } catch (NoSuchKeyException e) {
                                op.ok(LOCAL, deleted.getOrDefault(key, HistoryOp.NONE), null);
                            }
                            reads.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        lab.replication().awaitQuiescent(Duration.ofSeconds(30));
        for (String key : keys) {
            for (String region : List.of(WRITER, LOCAL)) {
                history.finalState("photos", key, region, finalVersion(region, key, deleted));
            }
        }
        HistoryReport report = HistoryChecker.builder().build().check(history);
        assertThat(report.violations()).as("%s", report).isEmpty();
        assertThat(reads.get()).isGreaterThan(50);
        assertThat(spans.getFinishedSpanItems().stream().filter(s -> s.getEvents().stream()
                .anyMatch(e -> e.getName().equals("latitude.stale_read_avoided")))).isNotEmpty();
    }

    /** The version a region holds of {@code key} once replication settled (the value is the version written). */
    private static long finalVersion(String region, String key, Map<String, Long> deleted) {
        String bucket = region.equals(WRITER) ? WRITER_BUCKET : LOCAL_BUCKET;
        try {
            return Long.parseLong(lab.region(region).adminClient().getObjectAsBytes(g -> g.bucket(bucket).key(key))
                    .asUtf8String());
        } catch (NoSuchKeyException e) {
            return deleted.getOrDefault(key, HistoryOp.NONE);
        }
    }

    @Test
    void reads_failOver_fromABlackholedOrResettingReplica() {
        client.putObject(p -> p.bucket("photos").key("fo/k"), RequestBody.fromString("v"));
        lab.region(LOCAL).adminClient().putObject(p -> p.bucket(LOCAL_BUCKET).key("fo/k"),
                RequestBody.fromString("v"));
        for (Fault fault : List.of(Fault.blackhole(), Fault.resetConnections())) {
            lab.region(LOCAL).proxy().apply(fault);
            spans.reset();
            for (int i = 0; i < 5; i++) {
                assertThat(body(client, "fo/k")).as("read %d with %s", i, fault).isEqualTo("v");
            }
            assertThat(spans.getFinishedSpanItems()).extracting(S3IntegrationTest::region).as("with %s", fault)
                    .containsOnly(WRITER);
            lab.region(LOCAL).proxy().apply(Fault.none());
        }
    }

    @Test
    void multipartCallsPinnedToTheirUploadsRegion_areTraced() {
        MultiRegionS3Client session = client.withSession(Session.create());
        String upload = session.createMultipartUpload(c -> c.bucket("photos").key("mp/k")).uploadId();
        spans.reset();
        String etag = session.uploadPart(u -> u.bucket("photos").key("mp/k").uploadId(upload).partNumber(1),
                RequestBody.fromString("part one")).eTag();
        session.completeMultipartUpload(c -> c.bucket("photos").key("mp/k").uploadId(upload)
                .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(etag).build())));
        assertThat(spans.getFinishedSpanItems()).extracting(SpanData::getName)
                .containsExactly("UploadPart", "CompleteMultipartUpload");
        assertThat(spans.getFinishedSpanItems()).extracting(S3IntegrationTest::region).containsOnly(WRITER);
        assertThat(spans.getFinishedSpanItems()).allSatisfy(span -> assertThat(
                span.getAttributes().get(AttributeKey.stringKey("aws.s3.bucket"))).isEqualTo("photos"));
        assertThat(body(session, "mp/k")).as("the session reads its upload").isEqualTo("part one");
    }

    @Test
    void asyncTwin_multipartCallsPinnedToTheirUploadsRegion_areTraced() throws Exception {
        MultiRegionS3AsyncClient session = async.withSession(Session.create());
        String upload = session.createMultipartUpload(c -> c.bucket("photos").key("amp/k"))
                .get(10, TimeUnit.SECONDS).uploadId();
        spans.reset();
        String etag = session.uploadPart(u -> u.bucket("photos").key("amp/k").uploadId(upload).partNumber(1),
                AsyncRequestBody.fromString("async part")).get(10, TimeUnit.SECONDS).eTag();
        session.completeMultipartUpload(c -> c.bucket("photos").key("amp/k").uploadId(upload)
                .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(etag).build())))
                .get(10, TimeUnit.SECONDS);
        assertThat(spans.getFinishedSpanItems()).extracting(SpanData::getName)
                .containsExactly("UploadPart", "CompleteMultipartUpload");
        assertThat(spans.getFinishedSpanItems()).extracting(S3IntegrationTest::region).containsOnly(WRITER);
    }

    /** What one region request carried: the region client it went to, the thread, and its SDK timeouts. */
    private record Sent(String region, String operation, Thread thread, Duration attemptTimeout, Duration callTimeout) {
    }

    /** Records every request a region's client sends: on which thread, with which timeouts of its own. */
    private static ExecutionInterceptor recording(String region, List<Sent> sent) {
        return new ExecutionInterceptor() {
            @Override
            public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
                AwsRequestOverrideConfiguration o = ((AwsRequest) context.request()).overrideConfiguration()
                        .orElse(null);
                sent.add(new Sent(region, context.request().getClass().getSimpleName(), Thread.currentThread(),
                        o == null ? null : o.apiCallAttemptTimeout().orElse(null),
                        o == null ? null : o.apiCallTimeout().orElse(null)));
            }
        };
    }

    @Test
    void firstAttempts_runOnTheCaller_cutAtTheAttemptTimeout_fallbacksOnlyAtTheDeadline() {
        List<Sent> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").build())
                .region(RegionSpec.builder(LOCAL).jurisdiction("EU").build())
                .localRegion(LOCAL).build();
        try (MultiRegionS3Client c = MultiRegionS3Client.builder().topology(topology)
                .bucket("photos", Map.of(WRITER, WRITER_BUCKET, LOCAL, LOCAL_BUCKET))
                .regionClients(r -> S3Regions.clientBuilder(lab.region(r))
                        .overrideConfiguration(o -> o.retryStrategy(MultiRegionS3Client.failoverRetryStrategy())
                                .addExecutionInterceptor(recording(r, sent)))
                        .build())
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build())
                        .attemptTimeout(Duration.ofMillis(500)).deadline(Duration.ofSeconds(10)))
                .build()) {
            Thread me = Thread.currentThread();
            c.putObject(p -> p.bucket("photos").key("cut/k"), RequestBody.fromString("v"));
            assertThat(sent).singleElement().satisfies(w -> {
                assertThat(w.region()).isEqualTo(WRITER);
                assertThat(w.thread()).as("the write runs on the caller").isSameAs(me);
                assertThat(w.callTimeout()).as("a write is cut only at the deadline: uploads may take long")
                        .isGreaterThan(Duration.ofMillis(500)).isLessThanOrEqualTo(Duration.ofSeconds(10));
            });
            lab.region(LOCAL).adminClient().putObject(p -> p.bucket(LOCAL_BUCKET).key("cut/k"),
                    RequestBody.fromString("v"));

            sent.clear();
            assertThat(body(c, "cut/k")).isEqualTo("v");
            assertThat(sent).singleElement().satisfies(g -> {
                assertThat(g.region()).isEqualTo(LOCAL);
                assertThat(g.thread()).as("a calm region: the read runs on the caller (hedging on)").isSameAs(me);
                assertThat(g.attemptTimeout()).as("cut when the engine would move on")
                        .isEqualTo(Duration.ofMillis(500));
            });

            lab.region(LOCAL).proxy().apply(Fault.blackhole());
            sent.clear();
            assertThat(body(c, "cut/k")).as("the caller is freed by the cut and takes the writer's answer")
                    .isEqualTo("v");
            Sent first = sent.get(0);
            assertThat(first.region()).isEqualTo(LOCAL);
            assertThat(first.thread()).isSameAs(me);
            assertThat(first.attemptTimeout()).isEqualTo(Duration.ofMillis(500));
            assertThat(sent).filteredOn(x -> x.region().equals(WRITER)).allSatisfy(x -> {
                assertThat(x.thread()).as("the fallback runs on the attempt threads").isNotSameAs(me);
                assertThat(x.callTimeout()).as("nothing waits on it: cut only at what is left of the deadline")
                        .isGreaterThan(Duration.ofMillis(500)).isLessThanOrEqualTo(Duration.ofSeconds(10));
            }).isNotEmpty();
        }
    }

    @Test
    void builtClients_haveLatitudesSettingsWhereTheApplicationLeftGaps_andTheCallersRequestIsCutOnTheirTimer() {
        List<Sent> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
        Topology topology = Topology.builder().region(RegionSpec.builder(WRITER).writer().build())
                .region(RegionSpec.builder(LOCAL).build()).localRegion(LOCAL).build();
        java.util.concurrent.ScheduledExecutorService sdkTimers;
        try (MultiRegionS3Client c = MultiRegionS3Client.builder().topology(topology)
                .bucket("photos", Map.of(WRITER, WRITER_BUCKET, LOCAL, LOCAL_BUCKET))
                .buildClients((r, b) -> S3Regions.configure(b, lab.region(r))
                        .overrideConfiguration(o -> o.putHeader("x-team", "photos")
                                .addExecutionInterceptor(recording(r, sent))))
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build())
                        .attemptTimeout(Duration.ofMillis(500)).deadline(Duration.ofSeconds(10)))
                .build()) {
            var config = c.regionClient(LOCAL).serviceClientConfiguration().overrideConfiguration();
            assertThat(config.headers()).as("the application's settings stay").containsKey("x-team");
            assertThat(config.retryStrategy()).as("Latitude's fill the gaps").isPresent();
            assertThat(config.scheduledExecutorService()).isPresent();
            assertThat(config.apiCallTimeout()).as("no client-wide cut: multipart parts and the non-blocking"
                    + " client's calls may rightly take longer").isEmpty();
            sdkTimers = config.scheduledExecutorService().get();

            lab.region(LOCAL).adminClient().putObject(p -> p.bucket(LOCAL_BUCKET).key("built/k"),
                    RequestBody.fromString("v"));
            lab.region(WRITER).adminClient().putObject(p -> p.bucket(WRITER_BUCKET).key("built/k"),
                    RequestBody.fromString("v"));
            Thread me = Thread.currentThread();
            assertThat(body(c, "built/k")).isEqualTo("v");
            assertThat(sent).singleElement().satisfies(g -> {
                assertThat(g.thread()).isSameAs(me);
                assertThat(g.attemptTimeout()).as("the caller's request carries the attempt timeout")
                        .isEqualTo(Duration.ofMillis(500));
            });

            lab.region(LOCAL).proxy().apply(Fault.blackhole());
            try {
                sent.clear();
                long start = System.nanoTime();
                assertThat(body(c, "built/k")).as("the SDK's timeout, on Latitude's timer, frees the caller")
                        .isEqualTo("v");
                assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(500).toNanos());
                assertThat(sent.get(0).region()).isEqualTo(LOCAL);
                assertThat(sent.get(0).thread()).isSameAs(me);
                assertThat(sent).filteredOn(x -> x.region().equals(WRITER)).isNotEmpty();
            } finally {
                lab.region(LOCAL).proxy().apply(Fault.none());
            }
        }
        assertThat(sdkTimers.isShutdown()).as("the made clients' timers are closed with the client").isTrue();
    }

    @Test
    void regionClientsAndBuildClients_together_areRefused() {
        var b = MultiRegionS3Client.builder()
                .topology(Topology.builder().region(RegionSpec.builder(WRITER).writer().build())
                        .region(RegionSpec.builder(LOCAL).build()).localRegion(LOCAL).build())
                .bucket("photos", Map.of(WRITER, WRITER_BUCKET, LOCAL, LOCAL_BUCKET))
                .regionClients(r -> S3Regions.clientBuilder(lab.region(r)).build())
                .buildClients((r, cb) -> S3Regions.configure(cb, lab.region(r)));
        assertThatThrownBy(b::build).isInstanceOf(dev.latitude.LatitudeConfigException.class)
                .hasMessageContaining("regionClients(...) and buildClients(...)");
    }

    @Test
    void reads_failOver_fromAReplicaThatSaysSlowDown_afterOneQuickRetry() {
        lab.region(LOCAL).adminClient().putObject(p -> p.bucket(LOCAL_BUCKET).key("slow/k"),
                RequestBody.fromString("v"));
        lab.region(WRITER).adminClient().putObject(p -> p.bucket(WRITER_BUCKET).key("slow/k"),
                RequestBody.fromString("v"));
        // S3's 503 SlowDown is an HTTP answer: an HTTP front before the replica's server gives it.
        try (FakeRegion front = FakeRegion.proxy(LOCAL, lab.region(LOCAL).endpoint(), Duration.ZERO);
                MultiRegionS3Client c = MultiRegionS3Client.builder()
                        .topology(Topology.builder().region(RegionSpec.builder(WRITER).writer().build())
                                .region(RegionSpec.builder(LOCAL).build()).localRegion(LOCAL).build())
                        .bucket("photos", Map.of(WRITER, WRITER_BUCKET, LOCAL, LOCAL_BUCKET))
                        .regionClients(r -> {
                            var b = S3Regions.clientBuilder(lab.region(r)).overrideConfiguration(o -> o
                                    .retryStrategy(MultiRegionS3Client.failoverRetryStrategy()));
                            return (r.equals(LOCAL) ? b.endpointOverride(front.uri()) : b).build();
                        })
                        .openTelemetry(otel)
                        .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build())
                                .hedging(HedgingConfig.disabled()))
                        .build()) {
            assertThat(body(c, "slow/k")).isEqualTo("v");
            front.apply(Fault.errorRate(1.0, 503, SLOW_DOWN));
            spans.reset();
            for (int i = 0; i < 3; i++) {
                assertThat(body(c, "slow/k")).isEqualTo("v");
            }
            assertThat(spans.getFinishedSpanItems()).extracting(S3IntegrationTest::region).containsOnly(WRITER);
        }
    }

    private static String region(SpanData span) {
        return span.getAttributes().get(AttributeKey.stringKey("cloud.region"));
    }

    @Test
    void asyncTwin_routesWritesToTheWriter_andKeepsTheSessionsWrites() throws Exception {
        MultiRegionS3AsyncClient session = async.withSession(Session.create());
        session.putObject(p -> p.bucket("photos").key("async/k"), AsyncRequestBody.fromString("one"))
                .get(10, TimeUnit.SECONDS);

        String read = session.getObject(g -> g.bucket("photos").key("async/k"), AsyncResponseTransformer.toBytes())
                .get(10, TimeUnit.SECONDS).asUtf8String();
        assertThat(read).isEqualTo("one");
        assertThat(session.headObject(h -> h.bucket("photos").key("async/k")).get(10, TimeUnit.SECONDS)
                .contentLength()).isEqualTo(3);
        session.deleteObject(d -> d.bucket("photos").key("async/k")).get(10, TimeUnit.SECONDS);
        assertThatThrownBy(() -> session.headObject(h -> h.bucket("photos").key("async/k"))
                .get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(NoSuchKeyException.class);
        assertThatThrownBy(() -> lab.region(WRITER).adminClient().headObject(h -> h.bucket(WRITER_BUCKET)
                .key("async/k"))).isInstanceOf(NoSuchKeyException.class);
    }

    @Test
    void asyncTwin_cancellingAPendingWrite_leavesTheClientUsable() throws Exception {
        lab.region(WRITER).proxy().apply(Fault.blackhole());
        var pending = async.putObject(p -> p.bucket("photos").key("async/cancel"),
                AsyncRequestBody.fromInputStream(new ByteArrayInputStream("x".getBytes()), 1L,
                        Executors.newSingleThreadExecutor()));
        assertThat(pending.cancel(true)).isTrue();
        lab.region(WRITER).proxy().apply(Fault.none());

        async.putObject(p -> p.bucket("photos").key("async/after"), AsyncRequestBody.fromString("ok"))
                .get(10, TimeUnit.SECONDS);
        assertThat(lab.region(WRITER).adminClient().getObjectAsBytes(g -> g.bucket(WRITER_BUCKET)
                .key("async/after")).asUtf8String()).isEqualTo("ok");
    }
}
