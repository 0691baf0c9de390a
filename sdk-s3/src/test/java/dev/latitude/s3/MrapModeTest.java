package dev.latitude.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.BreakerConfig;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HedgingConfig;
import dev.latitude.LatitudeConfigException;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.testkit.S3ControlStubs;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * MRAP mode of {@link MultiRegionS3Client} on in-memory regions: the local region's client answers for the access
 * point's ARN as S3 would after routing (a bucket of that name stands for the bucket S3 picked), so each test sets what
 * the access point returns. Route dials go to the testkit's S3 Control stand-in.
 */
class MrapModeTest {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final String ARN = "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap";

    private FakeS3Region writer;
    private FakeS3Region local;
    private S3ControlStubs control;

    @BeforeEach
    void start() {
        writer = new FakeS3Region(WRITER, "photos-use1");
        local = new FakeS3Region(LOCAL, "photos-euw1", ARN);
        control = S3ControlStubs.start();
        control.accessPoint(ARN, List.of(new S3ControlStubs.Route("photos-use1", WRITER, 100),
                new S3ControlStubs.Route("photos-euw1", LOCAL, 100)));
    }

    @AfterEach
    void stop() {
        control.close();
    }

    private static MultiRegionAccessPoint.Builder accessPoint() {
        return MultiRegionAccessPoint.builder().arn(ARN).bucket(WRITER, "photos-use1").bucket(LOCAL, "photos-euw1");
    }

    private MultiRegionS3Client client(MultiRegionAccessPoint mrap, Consumer<MultiRegionS3Client.Builder> more) {
        MultiRegionS3Client.Builder b = MultiRegionS3Client.builder()
                .topology(Topology.builder().region(RegionSpec.builder(WRITER).writer().jurisdiction("US").build())
                        .region(RegionSpec.builder(LOCAL).jurisdiction("EU").build()).localRegion(LOCAL).build())
                .regionClient(WRITER, writer).regionClient(LOCAL, local)
                .multiRegionAccessPoint("photos", mrap)
                .s3ControlClients(r -> control.clientBuilder(r).build())
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build())
                        .hedging(HedgingConfig.disabled()).attemptTimeout(Duration.ofSeconds(5))
                        .breaker(BreakerConfig.builder().minimumVolume(4, Duration.ofSeconds(30))
                                .failureThreshold(2, 4).openDelay(Duration.ofSeconds(30)).build()));
        more.accept(b);
        return b.build();
    }

    private static String get(MultiRegionS3Client c, String key) {
        return c.getObjectAsBytes(g -> g.bucket("photos").key(key)).asString(StandardCharsets.UTF_8);
    }

    @Test
    void reads_goToTheAccessPoint_writesToTheWritersBucket() {
        local.store(ARN, "cat", new FakeS3Region.StoredObject("via mrap".getBytes(), Map.of(), null));
        try (MultiRegionS3Client c = client(accessPoint().build(), b -> { })) {
            assertThat(get(c, "cat")).isEqualTo("via mrap");
            c.putObject(p -> p.bucket("photos").key("dog"), RequestBody.fromString("woof"));
        }
        assertThat(local.log()).containsExactly("GetObject " + ARN + "/cat");
        assertThat(writer.log()).containsExactly("PutObject photos-use1/dog");
    }

    @Test
    void aSessionRead_theAccessPointAnswersWith404_isReadFromTheBucketThatTookTheWrite() {
        try (MultiRegionS3Client c = client(accessPoint().build(), b -> { })) {
            MultiRegionS3Client session = c.withSession(Session.create());
            session.putObject(p -> p.bucket("photos").key("cat"), RequestBody.fromString("meow"));

            assertThat(get(session, "cat")).isEqualTo("meow");
        }
        assertThat(local.log()).containsExactly("GetObject " + ARN + "/cat", "GetObject photos-euw1/cat");
        assertThat(writer.log()).containsExactly("PutObject photos-use1/cat", "GetObject photos-use1/cat");
    }

    @Test
    void accessPointReads_haveSpansOfTheirOwn_sayingWhetherTheAccessPointAnswered() {
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        try (OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
                MultiRegionS3Client c = client(accessPoint().build(), b -> b.openTelemetry(otel))) {
            local.store(ARN, "dog", new FakeS3Region.StoredObject("woof".getBytes(), Map.of(), null));
            assertThat(get(c, "dog")).isEqualTo("woof");
            assertThat(spans.getFinishedSpanItems()).singleElement().satisfies(span -> {
                assertThat(span.getName()).isEqualTo("GetObject");
                assertThat(span.getAttributes().get(AttributeKey.stringKey("latitude.s3.access_point")))
                        .isEqualTo(ARN);
                assertThat(span.getAttributes().get(AttributeKey.stringKey("latitude.s3.access_point.outcome")))
                        .isEqualTo("answered");
                assertThat(span.getAttributes().get(AttributeKey.stringKey("aws.s3.bucket"))).isEqualTo("photos");
            });

            spans.reset();
            MultiRegionS3Client session = c.withSession(Session.create());
            session.putObject(p -> p.bucket("photos").key("cat"), RequestBody.fromString("meow"));
            spans.reset();
            assertThat(get(session, "cat")).isEqualTo("meow");
            List<SpanData> read = spans.getFinishedSpanItems();
            assertThat(read).hasSize(2);
            assertThat(read.get(0).getAttributes().get(AttributeKey.stringKey("latitude.s3.access_point.outcome")))
                    .as("NoSuchKey of a key the session wrote").isEqualTo("missing");
            assertThat(read.get(1).getAttributes().get(AttributeKey.stringKey("cloud.region")))
                    .as("then the engine's span: the writer's bucket answered").isEqualTo(WRITER);
        }
    }

    @Test
    void aFailingAccessPoint_fallsBackToTheBucketsBehindIt() {
        local.store("photos-euw1", "cat", new FakeS3Region.StoredObject("direct".getBytes(), Map.of(), null));
        local.failNext(() -> FakeS3Region.error(503, "SlowDown"));
        try (MultiRegionS3Client c = client(accessPoint().build(), b -> { })) {
            assertThat(get(c, "cat")).isEqualTo("direct");
        }
    }

    @Test
    void build_refusesAnAccessPointThatSpansAnotherJurisdiction() {
        assertThatThrownBy(() -> client(accessPoint().build(), b -> b.dataPolicies(DataPolicies.builder()
                .exact("photos", DataPolicy.builder().residency("EU").writerRegion(LOCAL).build()).build())))
                .isInstanceOf(LatitudeConfigException.class)
                .hasMessageContaining("multiRegionAccessPoint").hasMessageContaining("spans region 'us-east-1'")
                .hasMessageContaining("[EU]");
    }

    @Test
    void anUnhealthyRegion_getsItsRouteDialMovedToZero() throws Exception {
        local.store("photos-euw1", "cat", new FakeS3Region.StoredObject("x".getBytes(), Map.of(), null));
        writer.store("photos-use1", "cat", new FakeS3Region.StoredObject("x".getBytes(), Map.of(), null));
        try (MultiRegionS3Client c = client(accessPoint().routeDialFailover(true).build(), b -> { })) {
            failLocalUntilControlIsAsked(c, "PATCH");

            assertThat(control.routes(ARN)).contains(new S3ControlStubs.Route("photos-euw1", LOCAL, 0));
        }
    }

    @Test
    void aDryRun_submitsNothing() throws Exception {
        local.store("photos-euw1", "cat", new FakeS3Region.StoredObject("x".getBytes(), Map.of(), null));
        writer.store("photos-use1", "cat", new FakeS3Region.StoredObject("x".getBytes(), Map.of(), null));
        try (MultiRegionS3Client c = client(accessPoint().routeDialFailover(true).dryRun(true).build(), b -> { })) {
            failLocalUntilControlIsAsked(c, "GET");

            assertThat(control.calls()).isNotEmpty().allMatch(call -> call.method().equals("GET"));
            assertThat(control.routes(ARN)).contains(new S3ControlStubs.Route("photos-euw1", LOCAL, 100));
        }
    }

    /** Reads while the local region fails, until S3 Control has had a request of {@code method} (10 s at most). */
    private void failLocalUntilControlIsAsked(MultiRegionS3Client c, String method) throws InterruptedException {
        local.store(ARN, "cat", new FakeS3Region.StoredObject("x".getBytes(), Map.of(), null));
        for (int i = 0; i < 200; i++) {
            local.failNext(() -> FakeS3Region.error(500, "InternalError"));
        }
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (control.calls().isEmpty() && System.nanoTime() < until) {
            get(c, "cat");
        }
        // The failover thread reads the routes first, then submits the update.
        while (control.calls().stream().noneMatch(call -> call.method().equals(method)) && System.nanoTime() < until) {
            Thread.sleep(20);
        }
    }
}
