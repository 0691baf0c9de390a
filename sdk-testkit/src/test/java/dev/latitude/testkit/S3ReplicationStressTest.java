package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Concurrent writers and deleters in both regions of a bidirectional pair, on a few shared keys, with a jittered lag:
 * once quiet, both buckets hold the same thing for every key (last writer wins never lets an older change overwrite a
 * newer one, nor a delete and a write land in different orders in the two regions).
 */
class S3ReplicationStressTest {
    private static final int WRITERS_PER_REGION = 3;
    private static final int OPS_PER_WRITER = 60;
    private static final int KEYS = 4;

    @Test
    void bidirectionalConcurrentWritesAndDeletes_convergeInBothRegions() throws Exception {
        Map<String, String> buckets = Map.of("us-east-1", "s-us", "eu-west-1", "s-eu");
        try (S3Regions lab = S3Regions.builder().regions("us-east-1", "eu-west-1")
                .replicationLag(ReplicationLag.jittered(Duration.ZERO, Duration.ofMillis(20), 11)).build()) {
            buckets.forEach((region, bucket) -> lab.region(region).createBucket(bucket));
            lab.replication().bidirectional(buckets);
            ExecutorService pool = Executors.newFixedThreadPool(2 * WRITERS_PER_REGION);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (var e : buckets.entrySet()) {
                    S3Client client = lab.region(e.getKey()).client();
                    for (int w = 0; w < WRITERS_PER_REGION; w++) {
                        String writer = e.getKey() + "#" + w;
                        done.add(pool.submit(() -> {
                            for (int i = 0; i < OPS_PER_WRITER; i++) {
                                String key = "k" + (i % KEYS);
                                if (i % 7 == 3) {
                                    client.deleteObject(b -> b.bucket(e.getValue()).key(key));
                                } else {
                                    String value = writer + "/" + i;
                                    client.putObject(b -> b.bucket(e.getValue()).key(key), RequestBody.fromString(value));
                                }
                            }
                            return null;
                        }));
                    }
                }
                for (Future<?> f : done) {
                    f.get(2, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            lab.replication().awaitQuiescent(Duration.ofMinutes(1));

            for (int k = 0; k < KEYS; k++) {
                String key = "k" + k;
                assertThat(read(lab.region("eu-west-1").adminClient(), "s-eu", key))
                        .as("key %s", key).isEqualTo(read(lab.region("us-east-1").adminClient(), "s-us", key));
            }
            S3ReplicationEmulator r = lab.replication();
            assertThat(r.appliedCount() + r.supersededCount()).as("every change delivered once")
                    .isEqualTo(2L * WRITERS_PER_REGION * OPS_PER_WRITER);
            assertThat(r.failedCount()).isZero();
        }
    }

    private static String read(S3Client client, String bucket, String key) {
        try {
            return client.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asUtf8String();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return "<absent>";
            }
            throw e;
        }
    }
}
