package dev.latitude.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HedgingConfig;
import dev.latitude.LatitudeConfigException;
import dev.latitude.RegionSpec;
import dev.latitude.ResidencyException;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.WriteMode;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.AccessDeniedException;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Proves where {@link MultiRegionS3Client} sends each call and how a session keeps its writes, on two in-memory
 * regions: the writer (us-east-1) and a replica that the routing policy prefers (eu-west-1), so every call the writer
 * serves got there for a reason. Replication is done by hand ({@link #replicate}), so each test sets exactly how far
 * behind the replica is.
 */
class MultiRegionS3ClientTest {
    private static final String WRITER = "us-east-1";
    private static final String REPLICA = "eu-west-1";
    private static final String STAMP = "latitude-stamp";

    private FakeS3Region writer;
    private FakeS3Region replica;
    private InMemorySpanExporter spans;
    private OpenTelemetrySdk otel;
    private MultiRegionS3Client client;

    @BeforeEach
    void build() {
        writer = new FakeS3Region(WRITER, "photos-use1", "shared-use1");
        replica = new FakeS3Region(REPLICA, "photos-euw1", "shared-euw1", "eu-only-euw1");
        spans = InMemorySpanExporter.create();
        otel = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
        client = newClient(b -> { });
    }

    private MultiRegionS3Client newClient(Consumer<MultiRegionS3Client.Builder> more) {
        Topology topology = Topology.builder()
                .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").build())
                .region(RegionSpec.builder(REPLICA).jurisdiction("EU").build())
                .localRegion(REPLICA).build();
        MultiRegionS3Client.Builder b = MultiRegionS3Client.builder().topology(topology)
                .regionClient(WRITER, writer)
                .regionClient(REPLICA, replica)
                .bucket("photos", Map.of(WRITER, "photos-use1", REPLICA, "photos-euw1"))
                .bucket("shared", Map.of(WRITER, "shared-use1", REPLICA, "shared-euw1"))
                .bucket("eu-only", Map.of(REPLICA, "eu-only-euw1"))
                .dataPolicies(DataPolicies.builder()
                        .exact("shared", DataPolicy.builder().writeMode(WriteMode.MULTI_WRITER).build())
                        .exact("eu-only", DataPolicy.builder().residency("EU").writerRegion(REPLICA).build())
                        .build())
                .openTelemetry(otel)
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(REPLICA, WRITER).build())
                        .hedging(HedgingConfig.disabled()).attemptTimeout(Duration.ofSeconds(5)));
        more.accept(b);
        return b.build();
    }

    @AfterEach
    void close() {
        client.close();
        otel.close();
    }

    /** Copies an object from the writer's bucket to the replica's, as S3 replication would. */
    private void replicate(String key) {
        replica.store("photos-euw1", key, writer.object("photos-use1", key));
    }

    private String get(MultiRegionS3Client c, String key) {
        return c.getObjectAsBytes(g -> g.bucket("photos").key(key)).asString(StandardCharsets.UTF_8);
    }

    @Test
    void putObject_goesToTheWriterWithAStampInItsMetadata() {
        client.putObject(p -> p.bucket("photos").key("cat").metadata(Map.of("owner", "ann")),
                RequestBody.fromString("meow"));

        assertThat(writer.log()).containsExactly("PutObject photos-use1/cat");
        assertThat(replica.log()).isEmpty();
        FakeS3Region.StoredObject stored = writer.object("photos-use1", "cat");
        assertThat(stored.metadata()).containsEntry("owner", "ann").containsKey(STAMP);
        assertThat(Long.parseLong(stored.metadata().get(STAMP))).isPositive();
    }

    @Test
    void getObject_withoutSession_isServedByTheReplica_evenWhenItHasNotReceivedTheObject() {
        client.putObject(p -> p.bucket("photos").key("cat"), RequestBody.fromString("meow"));

        assertThatThrownBy(() -> get(client, "cat")).isInstanceOf(NoSuchKeyException.class);
        assertThat(writer.log()).containsExactly("PutObject photos-use1/cat");
    }

    @Test
    void getObject_ofAKeyTheSessionWrote_escalatesFromAReplicaThatSays404() {
        MultiRegionS3Client session = client.withSession(Session.create());
        session.putObject(p -> p.bucket("photos").key("cat"), RequestBody.fromString("meow"));

        assertThat(get(session, "cat")).isEqualTo("meow");
        assertThat(replica.log()).containsExactly("GetObject photos-euw1/cat");
        assertThat(writer.log()).containsExactly("PutObject photos-use1/cat", "GetObject photos-use1/cat");
    }

    @Test
    void getObject_ofAnOlderVersionOnTheReplica_escalates_andTheStaleBodyIsAborted() {
        MultiRegionS3Client session = client.withSession(Session.create());
        session.putObject(p -> p.bucket("photos").key("cat"), RequestBody.fromString("v1"));
        replicate("cat");
        session.putObject(p -> p.bucket("photos").key("cat"), RequestBody.fromString("v2"));

        assertThat(get(session, "cat")).isEqualTo("v2");
        assertThat(replica.log()).containsExactly("GetObject photos-euw1/cat");
        assertThat(replica.aborted).containsExactly(true);
    }

    @Test
    void getObject_isServedByAReplicaThatHasTheSessionsWrite() {
        MultiRegionS3Client session = client.withSession(Session.create());
        session.putObject(p -> p.bucket("photos").key("cat"), RequestBody.fromString("meow"));
        replicate("cat");

        assertThat(get(session, "cat")).isEqualTo("meow");
        assertThat(session.headObject(h -> h.bucket("photos").key("cat")).metadata()).containsKey(STAMP);
        assertThat(writer.log()).containsExactly("PutObject photos-use1/cat");
    }

    @Test
    void deleteObject_isRecorded_soAReplicaStillHoldingTheObjectDoesNotBringItBack() {
        MultiRegionS3Client session = client.withSession(Session.create());
        session.putObject(p -> p.bucket("photos").key("cat"), RequestBody.fromString("meow"));
        replicate("cat");
        session.deleteObject(d -> d.bucket("photos").key("cat"));

        assertThatThrownBy(() -> get(session, "cat")).isInstanceOf(NoSuchKeyException.class);
        assertThat(writer.log()).endsWith("DeleteObject photos-use1/cat", "GetObject photos-use1/cat");
    }

    @Test
    void deleteObjects_recordsEachKey() {
        MultiRegionS3Client session = client.withSession(Session.create());
        for (String k : List.of("a", "b")) {
            session.putObject(p -> p.bucket("photos").key(k), RequestBody.fromString(k));
            replicate(k);
        }
        session.deleteObjects(d -> d.bucket("photos").delete(Delete.builder().objects(
                ObjectIdentifier.builder().key("a").build(), ObjectIdentifier.builder().key("b").build()).build()));

        assertThatThrownBy(() -> get(session, "a")).isInstanceOf(NoSuchKeyException.class);
        assertThatThrownBy(() -> get(session, "b")).isInstanceOf(NoSuchKeyException.class);
        assertThat(writer.log()).endsWith("GetObject photos-use1/a", "GetObject photos-use1/b");
    }

    @Test
    void read_movesToTheWriter_whenTheReplicaSlowsDown_orFails() {
        writer.store("photos-use1", "cat", new FakeS3Region.StoredObject("meow".getBytes(), Map.of(), null));
        replicate("cat");
        replica.failNext(() -> FakeS3Region.error(503, "SlowDown"));
        assertThat(get(client, "cat")).isEqualTo("meow");
        replica.failNext(() -> FakeS3Region.error(500, "InternalError"));
        assertThat(get(client, "cat")).isEqualTo("meow");

        assertThat(writer.log()).containsExactly("GetObject photos-use1/cat", "GetObject photos-use1/cat");
    }

    @Test
    void callerErrors_areThrownAsTheyAre_withoutTryingAnotherRegion() {
        replica.failNext(() -> AccessDeniedException.builder().statusCode(403).message("denied").build());
        assertThatThrownBy(() -> get(client, "cat")).isInstanceOf(AccessDeniedException.class);
        replica.failNext(() -> FakeS3Region.error(412, "PreconditionFailed"));
        assertThatThrownBy(() -> get(client, "cat")).isInstanceOf(S3Exception.class)
                .extracting(e -> ((S3Exception) e).statusCode()).isEqualTo(412);

        assertThat(writer.log()).isEmpty();
    }

    @Test
    void noSuchBucket_ofAReplica_movesOn_butOfTheWriter_isTheCallersError() {
        MultiRegionS3Client noReplicaBucket = newClient(b -> { });
        FakeS3Region empty = new FakeS3Region(REPLICA);
        MultiRegionS3Client c = MultiRegionS3Client.builder()
                .topology(Topology.builder().region(RegionSpec.builder(WRITER).writer().build())
                        .region(RegionSpec.builder(REPLICA).build()).localRegion(REPLICA).build())
                .regionClient(WRITER, writer).regionClient(REPLICA, empty)
                .bucket("photos", Map.of(WRITER, "photos-use1", REPLICA, "photos-euw1"))
                .router(r -> r.routingPolicy(RoutingPolicy.failover().priority(REPLICA, WRITER).build())
                        .hedging(HedgingConfig.disabled()))
                .build();
        try (c; noReplicaBucket) {
            writer.store("photos-use1", "cat", new FakeS3Region.StoredObject("meow".getBytes(), Map.of(), null));
            assertThat(get(c, "cat")).isEqualTo("meow");
            writer.failNext(() -> NoSuchBucketException.builder().statusCode(404).message("gone").build());
            assertThatThrownBy(() -> c.putObject(p -> p.bucket("photos").key("x"), RequestBody.fromString("x")))
                    .isInstanceOf(NoSuchBucketException.class);
        }
    }

    @Test
    void aBodyThatCannotBeReplayed_isNotSentToASecondRegion() {
        replica.failNext(() -> FakeS3Region.error(500, "InternalError"));
        RequestBody stream = RequestBody.fromContentProvider(() -> new ByteArrayInputStream("x".getBytes()), 1,
                "text/plain");

        assertThatThrownBy(() -> client.putObject(p -> p.bucket("shared").key("k"), stream))
                .isInstanceOf(BodyNotReplayableException.class)
                .hasMessageContaining("already sent to " + REPLICA).hasMessageContaining("not retried in " + WRITER);
        assertThat(writer.log()).isEmpty();
    }

    @Test
    void aReplayableBody_movesToAnotherWriterOfABidirectionalBucket() {
        replica.failNext(() -> FakeS3Region.error(500, "InternalError"));

        client.putObject(p -> p.bucket("shared").key("k"), RequestBody.fromBytes("x".getBytes()));

        assertThat(writer.object("shared-use1", "k").body()).isEqualTo("x".getBytes());
    }

    @Test
    void multipartUpload_staysOnTheBucketThatCreatedIt_andIsRecordedInTheSession() {
        MultiRegionS3Client session = client.withSession(Session.create());
        String id = session.createMultipartUpload(c -> c.bucket("shared").key("big")).uploadId();
        session.uploadPart(u -> u.bucket("shared").key("big").uploadId(id).partNumber(1),
                RequestBody.fromString("part1"));
        session.uploadPart(u -> u.bucket("shared").key("big").uploadId(id).partNumber(2),
                RequestBody.fromString("part2"));
        assertThat(session.completeMultipartUpload(c -> c.bucket("shared").key("big").uploadId(id)).bucket())
                .isEqualTo("shared");

        assertThat(replica.object("shared-euw1", "big").body()).isEqualTo("part1part2".getBytes());
        assertThat(replica.object("shared-euw1", "big").metadata()).containsKey(STAMP);
        assertThat(session.getObjectAsBytes(g -> g.bucket("shared").key("big")).asUtf8String())
                .isEqualTo("part1part2");
        assertThat(writer.log()).isEmpty();
    }

    @Test
    void copyObject_keepsTheSourcesMetadata_withAFreshStamp() {
        MultiRegionS3Client session = client.withSession(Session.create());
        session.putObject(p -> p.bucket("photos").key("a").metadata(Map.of("owner", "ann")).contentType("image/png"),
                RequestBody.fromString("A"));
        long first = Long.parseLong(writer.object("photos-use1", "a").metadata().get(STAMP));

        session.copyObject(c -> c.sourceBucket("photos").sourceKey("a").destinationBucket("photos")
                .destinationKey("b"));

        FakeS3Region.StoredObject copy = writer.object("photos-use1", "b");
        assertThat(copy.metadata()).containsEntry("owner", "ann");
        assertThat(Long.parseLong(copy.metadata().get(STAMP))).isGreaterThan(first);
        assertThat(copy.contentType()).isEqualTo("image/png");
        session.copyObject(c -> c.sourceBucket("photos").sourceKey("a").destinationBucket("photos")
                .destinationKey("c").metadataDirective(MetadataDirective.REPLACE).metadata(Map.of("x", "y")));
        assertThat(writer.object("photos-use1", "c").metadata()).containsEntry("x", "y").containsKey(STAMP)
                .doesNotContainKey("owner");
    }

    @Test
    void listObjectsV2_namesTheLogicalBucket() {
        replica.store("photos-euw1", "a", new FakeS3Region.StoredObject(new byte[1], Map.of(), null));

        assertThat(client.listObjectsV2(l -> l.bucket("photos")).name()).isEqualTo("photos");
        assertThat(client.listObjectsV2Paginator(l -> l.bucket("photos")).contents()).hasSize(1);
    }

    @Test
    void residency_aPinnedBucketNeverReachesAnotherJurisdiction_evenWhenItsRegionFails() {
        replica.failNext(() -> FakeS3Region.error(503, "SlowDown"));

        assertThatThrownBy(() -> client.getObjectAsBytes(g -> g.bucket("eu-only").key("k")))
                .isInstanceOf(ResidencyException.class).hasMessageContaining("[EU]");
        client.putObject(p -> p.bucket("eu-only").key("k"), RequestBody.fromString("x"));
        assertThat(writer.log()).isEmpty();
        assertThat(replica.log()).containsExactly("GetObject eu-only-euw1/k", "PutObject eu-only-euw1/k");
    }

    @Test
    void unsupportedOperations_andUnmappedBuckets_areRefusedBeforeAnythingIsSent() {
        assertThatThrownBy(() -> client.putBucketPolicy(p -> p.bucket("photos").policy("{}")))
                .isInstanceOf(UnroutableS3RequestException.class)
                .hasMessageContaining("PutBucketPolicy").hasMessageContaining("regionClient(region)");
        assertThatThrownBy(() -> client.listBuckets()).isInstanceOf(UnroutableS3RequestException.class)
                .hasMessageContaining("ListBuckets");
        assertThatThrownBy(() -> client.getObjectAsBytes(g -> g.bucket("nope").key("k")))
                .isInstanceOf(UnroutableS3RequestException.class).hasMessageContaining("'nope' is not mapped");
        assertThat(writer.log()).isEmpty();
        assertThat(replica.log()).isEmpty();
        assertThat(client.regionClient(WRITER)).isSameAs(writer);
    }

    @Test
    void spans_carryTheBucketAndRegion_andTheKeyOnlyWhenAskedFor() {
        replica.store("photos-euw1", "cat", new FakeS3Region.StoredObject(new byte[1], Map.of(), null));
        get(client, "cat");
        SpanData span = spans.getFinishedSpanItems().get(0);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("aws.s3.bucket"))).isEqualTo("photos");
        assertThat(span.getAttributes().get(AttributeKey.stringKey("cloud.region"))).isEqualTo(REPLICA);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("aws.s3.key"))).isNull();

        spans.reset();
        try (MultiRegionS3Client keys = newClient(b -> b.recordKeys(true))) {
            get(keys, "cat");
        }
        assertThat(spans.getFinishedSpanItems().get(0).getAttributes().get(AttributeKey.stringKey("aws.s3.key")))
                .isEqualTo("cat");
    }

    @Test
    void build_refusesABucketWithoutABucketInARegionItsPolicyAllows() {
        assertThatThrownBy(() -> newClient(b -> b.bucket("half", Map.of(WRITER, "half-use1"))))
                .isInstanceOf(LatitudeConfigException.class)
                .hasMessageContaining("'half' has no bucket in region '" + REPLICA + "'");
        assertThatThrownBy(() -> MultiRegionS3Client.builder().stampMetadata("Bad Name"))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("stampMetadata");
        assertThatThrownBy(() -> MultiRegionS3Client.builder().bucket("a", Map.of(WRITER, "x"))
                .bucket("a", Map.of(WRITER, "y"))).isInstanceOf(LatitudeConfigException.class)
                .hasMessageContaining("mapped twice");
    }
}
