package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectVersion;
import software.amazon.awssdk.services.s3.model.ReplicationStatus;
import software.amazon.awssdk.services.s3.model.S3Exception;

class S3ReplicationEmulatorTest {
    private static final Duration QUIESCE = Duration.ofSeconds(30);
    private static final String US = "us-east-1";
    private static final String EU = "eu-west-1";
    private static final String AP = "ap-northeast-1";

    private S3Regions lab;
    private S3ReplicationEmulator replication;
    private final List<S3ReplicatedChange> changes = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        lab = S3Regions.builder().regions(US, EU, AP).build();
        lab.region(US).createBucket("b-us");
        lab.region(EU).createBucket("b-eu");
        lab.region(AP).createBucket("b-ap");
        replication = lab.replication();
        replication.addListener(changes::add);
    }

    @AfterEach
    void stop() {
        lab.close();
    }

    private S3Client client(String region) {
        return lab.region(region).client();
    }

    private static void put(S3Client c, String bucket, String key, String value) {
        c.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString(value));
    }

    private static String get(S3Client c, String bucket, String key) {
        return c.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asUtf8String();
    }

    private static boolean exists(S3Client c, String bucket, String key) {
        try {
            c.headObject(b -> b.bucket(bucket).key(key));
            return true;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw e;
        }
    }

    @Test
    void oneWay_copiesWritesWithTheirMetadata_toEveryOtherRegion() {
        replication.oneWay(US, Map.of(US, "b-us", EU, "b-eu", AP, "b-ap"));
        client(US).putObject(b -> b.bucket("b-us").key("doc").contentType("text/plain")
                .metadata(Map.of("stamp", "42")), RequestBody.fromString("hello"));
        replication.awaitQuiescent(QUIESCE);

        for (String region : List.of(EU, AP)) {
            String bucket = region.equals(EU) ? "b-eu" : "b-ap";
            HeadObjectResponse head = client(region).headObject(b -> b.bucket(bucket).key("doc"));
            assertThat(head.metadata()).containsEntry("stamp", "42");
            assertThat(head.contentType()).isEqualTo("text/plain");
            assertThat(head.replicationStatus()).isEqualTo(ReplicationStatus.REPLICA);
            assertThat(get(client(region), bucket, "doc")).isEqualTo("hello");
        }
        assertThat(client(US).headObject(b -> b.bucket("b-us").key("doc")).replicationStatus())
                .isEqualTo(ReplicationStatus.COMPLETED);
        assertThat(replication.appliedCount()).isEqualTo(2);
        // One way: a write in a destination stays there.
        put(client(EU), "b-eu", "local", "eu only");
        replication.awaitQuiescent(QUIESCE);
        assertThat(exists(client(US), "b-us", "local")).isFalse();
        assertThat(client(EU).headObject(b -> b.bucket("b-eu").key("local")).replicationStatus()).isNull();
    }

    @Test
    void lag_holdsEachChangeAtLeastThatLong_andObjectsAbsentUntilThen() {
        Duration lag = Duration.ofMillis(1500);
        replication.lag(ReplicationLag.fixed(lag));
        replication.replicate(US, "b-us", EU, "b-eu");
        long written = System.nanoTime();
        put(client(US), "b-us", "k", "v");
        boolean visible = exists(client(EU), "b-eu", "k");
        if (System.nanoTime() - written < lag.toNanos()) {
            assertThat(visible).as("replica visible before the lag passed").isFalse();
            assertThat(client(US).headObject(b -> b.bucket("b-us").key("k")).replicationStatus())
                    .isEqualTo(ReplicationStatus.PENDING);
        }
        replication.awaitQuiescent(QUIESCE);
        assertThat(get(client(EU), "b-eu", "k")).isEqualTo("v");
        assertThat(changes).singleElement().satisfies(c -> {
            assertThat(c.delay()).isGreaterThanOrEqualTo(lag);
            assertThat(c.outcome()).isEqualTo(ReplicatedChange.Outcome.APPLIED);
            assertThat(c.kind()).isEqualTo(ReplicatedChange.Kind.PUT);
        });
    }

    @Test
    void overwrites_arriveInOrder_evenWithJitteredLag_soTheLastWriteWins() {
        replication.lag(ReplicationLag.jittered(Duration.ZERO, Duration.ofMillis(200), 7));
        replication.replicate(US, "b-us", EU, "b-eu");
        for (int i = 0; i < 20; i++) {
            put(client(US), "b-us", "counter", "v" + i);
        }
        replication.awaitQuiescent(QUIESCE);
        assertThat(get(client(EU), "b-eu", "counter")).isEqualTo("v19");
        // Without versioning every change is a copy taken when it was written, so none is skipped or merged.
        assertThat(changes).hasSize(20).allMatch(c -> c.outcome() == ReplicatedChange.Outcome.APPLIED);
    }

    @Test
    void deletes_replicate_andAReplicaDoesNotComeBack() {
        replication.replicate(US, "b-us", EU, "b-eu");
        put(client(US), "b-us", "gone", "soon");
        client(US).deleteObject(b -> b.bucket("b-us").key("gone"));
        replication.awaitQuiescent(QUIESCE);
        assertThat(exists(client(EU), "b-eu", "gone")).isFalse();
        assertThat(changes).extracting(S3ReplicatedChange::kind)
                .containsExactly(ReplicatedChange.Kind.PUT, ReplicatedChange.Kind.DELETE);
    }

    @Test
    void ruleWithoutDeleteMarkers_keepsTheReplica() {
        replication.replicate(new S3ReplicationEmulator.Rule(US, "b-us", EU, "b-eu", false));
        put(client(US), "b-us", "kept", "x");
        replication.awaitQuiescent(QUIESCE);
        client(US).deleteObject(b -> b.bucket("b-us").key("kept"));
        replication.awaitQuiescent(QUIESCE);
        assertThat(get(client(EU), "b-eu", "kept")).isEqualTo("x");
    }

    @Test
    void stall_queuesChanges_andResumeDeliversThemInOrder() {
        replication.replicate(US, "b-us", EU, "b-eu");
        replication.stall(US);
        put(client(US), "b-us", "a", "1");
        put(client(US), "b-us", "a", "2");
        put(client(US), "b-us", "b", "3");
        assertThat(replication.queuedCount(US)).isEqualTo(3);
        assertThat(replication.isStalled(US)).isTrue();
        assertThatThrownBy(() -> replication.awaitQuiescent(Duration.ofMillis(100)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining(US);
        assertThat(exists(client(EU), "b-eu", "a")).isFalse();

        replication.resume(US);
        replication.awaitQuiescent(QUIESCE);
        assertThat(get(client(EU), "b-eu", "a")).isEqualTo("2");
        assertThat(get(client(EU), "b-eu", "b")).isEqualTo("3");
        assertThat(changes).extracting(S3ReplicatedChange::key).containsExactly("a", "a", "b");
    }

    @Test
    void versionedBuckets_replicateEveryVersion_underItsSourceVersionId() {
        for (var e : Map.of(US, "b-us", EU, "b-eu").entrySet()) {
            lab.region(e.getKey()).enableVersioning(e.getValue());
        }
        replication.replicate(US, "b-us", EU, "b-eu");
        replication.stall(US);
        String v1 = client(US).putObject(b -> b.bucket("b-us").key("doc"), RequestBody.fromString("one")).versionId();
        String v2 = client(US).putObject(b -> b.bucket("b-us").key("doc"), RequestBody.fromString("two")).versionId();
        replication.resume(US);
        replication.awaitQuiescent(QUIESCE);

        S3Client eu = client(EU);
        assertThat(eu.getObjectAsBytes(b -> b.bucket("b-eu").key("doc").versionId(v1)).asUtf8String())
                .isEqualTo("one");
        HeadObjectResponse current = eu.headObject(b -> b.bucket("b-eu").key("doc"));
        assertThat(current.versionId()).isEqualTo(v2);
        assertThat(current.replicationStatus()).isEqualTo(ReplicationStatus.REPLICA);
        assertThat(eu.listObjectVersions(b -> b.bucket("b-eu").prefix("doc")).versions())
                .extracting(ObjectVersion::versionId).containsExactlyInAnyOrder(v1, v2);
        assertThat(client(US).headObject(b -> b.bucket("b-us").key("doc").versionId(v1)).replicationStatus())
                .isEqualTo(ReplicationStatus.COMPLETED);

        String marker = client(US).deleteObject(b -> b.bucket("b-us").key("doc")).versionId();
        replication.awaitQuiescent(QUIESCE);
        assertThatThrownBy(() -> eu.getObject(b -> b.bucket("b-eu").key("doc"))).isInstanceOf(NoSuchKeyException.class);
        assertThat(eu.listObjectVersions(b -> b.bucket("b-eu").prefix("doc")).deleteMarkers())
                .singleElement().satisfies(m -> assertThat(m.versionId()).isEqualTo(marker));
        // A version deleted for good is not replicated, as in S3.
        client(US).deleteObject(b -> b.bucket("b-us").key("doc").versionId(v1));
        replication.awaitQuiescent(QUIESCE);
        assertThat(eu.getObjectAsBytes(b -> b.bucket("b-eu").key("doc").versionId(v1)).asUtf8String())
                .isEqualTo("one");
    }

    @Test
    void bidirectional_convergesOnTheLastWriter_withoutLoops() {
        replication.bidirectional(Map.of(US, "b-us", EU, "b-eu"));
        // Both writes are taken before either replicates: concurrent writes, whatever the machine's speed.
        replication.stall(US);
        replication.stall(EU);
        put(client(US), "b-us", "k", "from us");
        put(client(EU), "b-eu", "k", "from eu");
        replication.resume(US);
        replication.resume(EU);
        replication.awaitQuiescent(QUIESCE);

        assertThat(get(client(US), "b-us", "k")).isEqualTo("from eu");
        assertThat(get(client(EU), "b-eu", "k")).isEqualTo("from eu");
        assertThat(replication.supersededCount()).isEqualTo(1);
        assertThat(replication.appliedCount()).isEqualTo(1);
        assertThat(changes).hasSize(2);
    }

    @Test
    void failedDeliveries_markTheSourceFailed_andAreNotRetried() {
        replication.oneWay(US, Map.of(US, "b-us", EU, "b-eu", AP, "b-ap"));
        replication.failDeliveriesTo(AP);
        put(client(US), "b-us", "k", "v");
        replication.awaitQuiescent(QUIESCE);
        assertThat(client(US).headObject(b -> b.bucket("b-us").key("k")).replicationStatus())
                .isEqualTo(ReplicationStatus.FAILED);
        // A client whose builder got its own override configuration still sees the header.
        try (S3Client own = S3Regions.clientBuilder(lab.region(US))
                .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(1))).build()) {
            assertThat(own.headObject(b -> b.bucket("b-us").key("k")).replicationStatus())
                    .isEqualTo(ReplicationStatus.FAILED);
        }
        assertThat(replication.status(US, "b-us", "k", null)).contains(ReplicationStatus.FAILED);
        assertThat(exists(client(AP), "b-ap", "k")).isFalse();
        assertThat(get(client(EU), "b-eu", "k")).isEqualTo("v");
        assertThat(replication.failedCount()).isEqualTo(1);

        replication.restoreDeliveriesTo(AP);
        put(client(US), "b-us", "k", "v2");
        replication.awaitQuiescent(QUIESCE);
        assertThat(get(client(AP), "b-ap", "k")).isEqualTo("v2");
    }

    @Test
    void multipartUploadsAndCopies_replicateAsWholeObjects_andOldObjectsDoNot() {
        put(client(US), "b-us", "before-rule", "old");
        replication.replicate(US, "b-us", EU, "b-eu");
        S3Client us = client(US);
        String upload = us.createMultipartUpload(b -> b.bucket("b-us").key("mp")).uploadId();
        byte[] part = new byte[5 * 1024 * 1024];
        String e1 = us.uploadPart(b -> b.bucket("b-us").key("mp").uploadId(upload).partNumber(1),
                RequestBody.fromBytes(part)).eTag();
        String e2 = us.uploadPart(b -> b.bucket("b-us").key("mp").uploadId(upload).partNumber(2),
                RequestBody.fromString("end")).eTag();
        us.completeMultipartUpload(b -> b.bucket("b-us").key("mp").uploadId(upload)
                .multipartUpload(m -> m.parts(p -> p.partNumber(1).eTag(e1), p -> p.partNumber(2).eTag(e2))));
        us.copyObject(b -> b.sourceBucket("b-us").sourceKey("before-rule").destinationBucket("b-us")
                .destinationKey("copied"));
        replication.awaitQuiescent(QUIESCE);

        assertThat(client(EU).headObject(b -> b.bucket("b-eu").key("mp")).contentLength())
                .isEqualTo(part.length + 3L);
        assertThat(get(client(EU), "b-eu", "copied")).isEqualTo("old");
        assertThat(exists(client(EU), "b-eu", "before-rule")).isFalse();
        assertThat(changes).extracting(S3ReplicatedChange::key).containsExactly("mp", "copied");
    }

    @Test
    void rules_areChecked() {
        assertThatThrownBy(() -> replication.replicate(US, "b-us", US, "b-us"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> replication.replicate(US, "b-us", "mars-1", "b"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mars-1");
        replication.replicate(US, "b-us", EU, "b-eu");
        assertThatThrownBy(() -> replication.replicate(US, "b-us", EU, "b-eu"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already");
        assertThat(replication.rules()).hasSize(1);
    }
}
