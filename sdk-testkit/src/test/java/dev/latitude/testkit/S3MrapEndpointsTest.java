package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ReplicationStatus;
import software.amazon.awssdk.services.s3control.S3ControlClient;
import software.amazon.awssdk.services.s3control.model.MultiRegionAccessPointRoute;

class S3MrapEndpointsTest {
    private static final String ARN = "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap";
    private static final String US = "us-east-1";
    private static final String EU = "eu-west-1";
    private static final Map<String, String> BUCKETS = Map.of(US, "mrap-use1", EU, "mrap-euw1");

    private static S3Regions lab;

    @BeforeAll
    static void start() {
        lab = S3Regions.start(US, EU);
        BUCKETS.forEach((region, bucket) -> lab.region(region).createBucket(bucket));
    }

    @AfterAll
    static void stop() {
        lab.close();
    }

    /** Records the Authorization header of each request as sent. */
    private static final class Signatures implements ExecutionInterceptor {
        final List<String> authorizations = new CopyOnWriteArrayList<>();
        final List<String> hosts = new CopyOnWriteArrayList<>();

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            authorizations.add(context.httpRequest().firstMatchingHeader("Authorization").orElse(""));
            hosts.add(context.httpRequest().host() + ":" + context.httpRequest().port()
                    + context.httpRequest().encodedPath());
        }
    }

    @Test
    void accessPointRequests_areSignedWithSigV4a_andLandInTheActiveRegionsBucket() {
        AtomicReference<String> active = new AtomicReference<>(EU);
        S3MrapEndpoints endpoints = S3MrapEndpoints.create(lab, BUCKETS, active::get);
        Signatures signatures = new Signatures();
        try (S3Client mrap = endpoints.clientBuilder()
                .overrideConfiguration(o -> o.addExecutionInterceptor(signatures)).build()) {
            mrap.putObject(b -> b.bucket(ARN).key("doc/1"), RequestBody.fromString("via mrap"));
            assertThat(endpoints.lastRegion()).isEqualTo(EU);
            assertThat(lab.region(EU).adminClient().getObjectAsBytes(b -> b.bucket("mrap-euw1").key("doc/1"))
                    .asUtf8String()).isEqualTo("via mrap");
            assertThat(signatures.authorizations).singleElement().asString().startsWith("AWS4-ECDSA-P256-SHA256");
            assertThat(signatures.hosts).singleElement().asString()
                    .isEqualTo("127.0.0.1:" + lab.region(EU).proxy().port() + "/mrap-euw1/doc/1");

            active.set(US);
            lab.region(US).adminClient().putObject(b -> b.bucket("mrap-use1").key("doc/2"),
                    RequestBody.fromString("us copy"));
            assertThat(mrap.getObjectAsBytes(b -> b.bucket(ARN).key("doc/2")).asUtf8String()).isEqualTo("us copy");
            assertThat(endpoints.lastRegion()).isEqualTo(US);

            // By bucket name: that bucket's region, signed with SigV4.
            assertThat(mrap.getObjectAsBytes(b -> b.bucket("mrap-euw1").key("doc/1")).asUtf8String())
                    .isEqualTo("via mrap");
            assertThat(signatures.authorizations.get(2)).startsWith("AWS4-HMAC-SHA256");
        }
    }

    @Test
    void routeDialsMovedThroughTheControlStubs_moveTheTraffic() {
        try (S3ControlStubs control = S3ControlStubs.start()) {
            control.accessPoint(ARN, List.of(new S3ControlStubs.Route("mrap-use1", US, 100),
                    new S3ControlStubs.Route("mrap-euw1", EU, 0)));
            S3MrapEndpoints endpoints = S3MrapEndpoints.create(lab, BUCKETS,
                    () -> control.activeRegion(ARN, List.of(EU, US)).orElseThrow());
            try (S3Client mrap = endpoints.clientBuilder().build();
                    S3ControlClient s3control = control.clientBuilder("us-west-2").build()) {
                mrap.headBucket(b -> b.bucket(ARN));
                assertThat(endpoints.lastRegion()).isEqualTo(US);
                s3control.submitMultiRegionAccessPointRoutes(b -> b.accountId("123456789012").mrap(ARN)
                        .routeUpdates(MultiRegionAccessPointRoute.builder().region(US).trafficDialPercentage(0)
                                .build(), MultiRegionAccessPointRoute.builder().region(EU).trafficDialPercentage(100)
                                .build()));
                mrap.headBucket(b -> b.bucket(ARN));
                assertThat(endpoints.lastRegion()).isEqualTo(EU);
                assertThat(s3control.getMultiRegionAccessPointRoutes(b -> b.accountId("123456789012").mrap(ARN))
                        .routes()).extracting(MultiRegionAccessPointRoute::trafficDialPercentage)
                        .containsExactly(0, 100);
            }
        }
    }

    @Test
    void asyncClient_andReplicationStatus_workThroughTheAccessPoint() {
        lab.replication().replicate(US, "mrap-use1", EU, "mrap-euw1");
        S3MrapEndpoints endpoints = S3MrapEndpoints.create(lab, BUCKETS, () -> US);
        try (var async = endpoints.asyncClientBuilder().build()) {
            async.putObject(b -> b.bucket(ARN).key("async"), AsyncRequestBody.fromString("a")).join();
            lab.replication().awaitQuiescent(java.time.Duration.ofSeconds(30));
            assertThat(async.getObject(b -> b.bucket(ARN).key("async"), AsyncResponseTransformer.toBytes()).join()
                    .response().replicationStatus()).isEqualTo(ReplicationStatus.COMPLETED);
        }
        S3MrapEndpoints toEu = S3MrapEndpoints.create(lab, BUCKETS, () -> EU);
        try (S3Client mrap = toEu.clientBuilder().build()) {
            assertThat(mrap.headObject(b -> b.bucket(ARN).key("async")).replicationStatus())
                    .isEqualTo(ReplicationStatus.REPLICA);
        }
    }
}
