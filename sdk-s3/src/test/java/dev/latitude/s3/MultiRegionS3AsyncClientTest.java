package dev.latitude.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.HedgingConfig;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * The non-blocking client's own contract, on region clients whose requests never answer unless told: cancelling the
 * returned future cancels the region request in flight, and refusals come as failed futures, never thrown.
 */
class MultiRegionS3AsyncClientTest {
    private static final String WRITER = "us-east-1";
    private static final String REPLICA = "eu-west-1";

    /** A region whose HeadObject requests wait until the test completes or cancels them. */
    private static final class PendingRegion implements S3AsyncClient {
        final List<CompletableFuture<HeadObjectResponse>> requests = new CopyOnWriteArrayList<>();

        @Override
        public CompletableFuture<HeadObjectResponse> headObject(HeadObjectRequest request) {
            CompletableFuture<HeadObjectResponse> f = new CompletableFuture<>();
            requests.add(f);
            return f;
        }

        @Override
        public String serviceName() {
            return SERVICE_NAME;
        }

        @Override
        public void close() {
        }
    }

    private static MultiRegionS3AsyncClient client(PendingRegion writer, PendingRegion replica) {
        return MultiRegionS3AsyncClient.builder()
                .topology(Topology.builder().region(RegionSpec.builder(WRITER).writer().build())
                        .region(RegionSpec.builder(REPLICA).build()).localRegion(REPLICA).build())
                .regionClient(WRITER, writer).regionClient(REPLICA, replica)
                .bucket("photos", Map.of(WRITER, "photos-use1", REPLICA, "photos-euw1"))
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(REPLICA, WRITER).build())
                        .hedging(HedgingConfig.disabled()).attemptTimeout(Duration.ofSeconds(30))
                        .deadline(Duration.ofSeconds(60)))
                .build();
    }

    @Test
    void cancellingTheFuture_cancelsTheRegionRequestInFlight() throws Exception {
        PendingRegion writer = new PendingRegion();
        PendingRegion replica = new PendingRegion();
        try (MultiRegionS3AsyncClient c = client(writer, replica)) {
            CompletableFuture<HeadObjectResponse> head = c.headObject(h -> h.bucket("photos").key("k"));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (replica.requests.isEmpty() && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(replica.requests).hasSize(1);

            head.cancel(true);

            CompletableFuture<HeadObjectResponse> sent = replica.requests.get(0);
            while (!sent.isDone() && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(sent).isCancelled();
            assertThat(writer.requests).isEmpty();
        }
    }

    /** A region whose HeadObject answers at once: from {@code answers}, by bucket, else S3's 503. */
    private static final class AnsweringRegion implements S3AsyncClient {
        final Map<String, String> answers;
        final List<String> asked = new CopyOnWriteArrayList<>();

        AnsweringRegion(Map<String, String> answers) {
            this.answers = answers;
        }

        @Override
        public CompletableFuture<HeadObjectResponse> headObject(HeadObjectRequest request) {
            asked.add(request.bucket());
            String contentType = answers.get(request.bucket());
            return contentType != null
                    ? CompletableFuture.completedFuture(HeadObjectResponse.builder().contentType(contentType).build())
                    : CompletableFuture.failedFuture(FakeS3Region.error(503, "SlowDown"));
        }

        @Override
        public String serviceName() {
            return SERVICE_NAME;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void mrapMode_readsThroughTheAccessPoint_andFallsBackToTheBucketsWhenItFails() throws Exception {
        String arn = "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap";
        AnsweringRegion writer = new AnsweringRegion(Map.of("photos-use1", "direct"));
        AnsweringRegion local = new AnsweringRegion(new java.util.HashMap<>(Map.of(arn, "via mrap")));
        MultiRegionAccessPoint mrap = MultiRegionAccessPoint.builder().arn(arn).bucket(WRITER, "photos-use1")
                .bucket(REPLICA, "photos-euw1").build();
        try (MultiRegionS3AsyncClient c = MultiRegionS3AsyncClient.builder()
                .topology(Topology.builder().region(RegionSpec.builder(WRITER).writer().build())
                        .region(RegionSpec.builder(REPLICA).build()).localRegion(REPLICA).build())
                .regionClient(WRITER, writer).regionClient(REPLICA, local)
                .multiRegionAccessPoint("photos", mrap)
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(REPLICA, WRITER).build())
                        .hedging(HedgingConfig.disabled()))
                .build()) {
            assertThat(c.headObject(h -> h.bucket("photos").key("k")).get(10, TimeUnit.SECONDS).contentType())
                    .isEqualTo("via mrap");
            local.answers.remove(arn);
            assertThat(c.headObject(h -> h.bucket("photos").key("k")).get(10, TimeUnit.SECONDS).contentType())
                    .isEqualTo("direct");
        }
        assertThat(local.asked).containsExactly(arn, arn, "photos-euw1");
    }

    @Test
    void refusals_comeAsFailedFutures() {
        try (MultiRegionS3AsyncClient c = client(new PendingRegion(), new PendingRegion())) {
            CompletableFuture<?> policy = c.putBucketPolicy(p -> p.bucket("photos").policy("{}"));
            CompletableFuture<?> unmapped = c.headObject(h -> h.bucket("nope").key("k"));

            assertThatThrownBy(() -> policy.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(UnroutableS3RequestException.class);
            assertThatThrownBy(() -> unmapped.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(UnroutableS3RequestException.class);
        }
    }
}
