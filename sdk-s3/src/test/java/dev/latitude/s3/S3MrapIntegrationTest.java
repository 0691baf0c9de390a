package dev.latitude.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.BreakerConfig;
import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.testkit.Fault;
import dev.latitude.testkit.ReplicationLag;
import dev.latitude.testkit.S3ControlStubs;
import dev.latitude.testkit.S3MrapEndpoints;
import dev.latitude.testkit.S3Regions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;

/**
 * MRAP mode against real S3 servers: an access point over the buckets of two {@link S3Regions}, whose requests (to
 * the ARN, signed with SigV4a) reach the region its route dials make active ({@link S3MrapEndpoints}), with S3 Control
 * played by {@link S3ControlStubs}. A session read the access point answers with 404 is read from the writer's bucket;
 * a blackholed region behind the access point gets its dial moved to 0, and access point requests follow.
 */
class S3MrapIntegrationTest {
    private static final String WRITER = "us-east-1";
    private static final String LOCAL = "eu-west-1";
    private static final String ARN = "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap";
    private static final Map<String, String> BUCKETS = Map.of(WRITER, "photos-use1", LOCAL, "photos-euw1");

    private S3Regions lab;
    private S3ControlStubs control;
    private S3MrapEndpoints endpoints;
    private MultiRegionS3Client client;

    @BeforeEach
    void start() {
        lab = S3Regions.builder().regions(WRITER, LOCAL).replicationLag(ReplicationLag.fixed(Duration.ofMillis(300)))
                .build();
        BUCKETS.forEach((region, bucket) -> lab.region(region).createBucket(bucket));
        lab.replication().oneWay(WRITER, BUCKETS);
        control = S3ControlStubs.start();
        control.accessPoint(ARN, List.of(new S3ControlStubs.Route("photos-use1", WRITER, 100),
                new S3ControlStubs.Route("photos-euw1", LOCAL, 100)));
        endpoints = S3MrapEndpoints.create(lab, BUCKETS,
                () -> control.activeRegion(ARN, List.of(LOCAL, WRITER)).orElseThrow());
        client = MultiRegionS3Client.builder()
                .topology(Topology.builder().region(RegionSpec.builder(WRITER).writer().build())
                        .region(RegionSpec.builder(LOCAL).build()).localRegion(LOCAL).build())
                .regionClients(r -> endpoints.clientBuilder().region(Region.of(r)).overrideConfiguration(o -> o
                        .retryStrategy(MultiRegionS3Client.failoverRetryStrategy())).build())
                .multiRegionAccessPoint("photos", MultiRegionAccessPoint.builder().arn(ARN)
                        .bucket(WRITER, "photos-use1").bucket(LOCAL, "photos-euw1").routeDialFailover(true).build())
                .s3ControlClients(r -> control.clientBuilder(r).build())
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(LOCAL, WRITER).build())
                        .hedging(HedgingConfig.disabled()).attemptTimeout(Duration.ofMillis(500))
                        .breaker(BreakerConfig.builder().minimumVolume(4, Duration.ofSeconds(30))
                                .failureThreshold(2, 4).openDelay(Duration.ofSeconds(30)).build()))
                .build();
    }

    @AfterEach
    void stop() {
        client.close();
        control.close();
        lab.close();
    }

    @Test
    void aSessionRead_theAccessPointAnswersWith404_isReadFromTheWritersBucket() {
        MultiRegionS3Client session = client.withSession(Session.create());
        session.putObject(p -> p.bucket("photos").key("cat"), RequestBody.fromString("meow"));

        assertThat(session.getObjectAsBytes(g -> g.bucket("photos").key("cat")).asUtf8String()).isEqualTo("meow");
        assertThat(endpoints.lastRegion()).as("the read went to the access point first").isEqualTo(LOCAL);
    }

    @Test
    void aBlackholedRegion_losesItsRouteDial_andAccessPointRequestsFollow() throws Exception {
        client.putObject(p -> p.bucket("photos").key("dog"), RequestBody.fromString("woof"));
        lab.replication().awaitQuiescent(Duration.ofSeconds(30));
        lab.region(LOCAL).proxy().apply(Fault.blackhole());
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (control.activeRegion(ARN, List.of(LOCAL, WRITER)).orElseThrow().equals(LOCAL)
                && System.nanoTime() < until) {
            assertThat(client.getObjectAsBytes(g -> g.bucket("photos").key("dog")).asUtf8String()).isEqualTo("woof");
        }
        assertThat(control.routes(ARN)).contains(new S3ControlStubs.Route("photos-euw1", LOCAL, 0));

        assertThat(client.getObjectAsBytes(g -> g.bucket("photos").key("dog")).asUtf8String()).isEqualTo("woof");
        assertThat(endpoints.lastRegion()).isEqualTo(WRITER);
        lab.region(LOCAL).proxy().apply(Fault.none());
    }
}
