package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;

class S3RegionsTest {
    private static S3Regions lab;

    @BeforeAll
    static void start() {
        lab = S3Regions.builder().regions("us-east-1", "eu-west-1").build();
        lab.region("us-east-1").createBucket("data-us");
        lab.region("eu-west-1").createBucket("data-eu");
    }

    @AfterAll
    static void stop() {
        lab.close();
    }

    @Test
    void putAndGet_throughEachRegionsFront_seeOnlyThatRegionsObjects() {
        S3Client us = lab.region("us-east-1").client();
        S3Client eu = lab.region("eu-west-1").client();
        us.putObject(b -> b.bucket("data-us").key("greeting"), RequestBody.fromString("hello from us"));
        eu.putObject(b -> b.bucket("data-eu").key("greeting"), RequestBody.fromString("hello from eu"));

        assertThat(us.getObjectAsBytes(b -> b.bucket("data-us").key("greeting")).asUtf8String())
                .isEqualTo("hello from us");
        assertThat(eu.getObjectAsBytes(b -> b.bucket("data-eu").key("greeting")).asUtf8String())
                .isEqualTo("hello from eu");
        assertThat(lab.region("us-east-1").proxy().connectionCount()).isPositive();
        assertThat(us.listBuckets().buckets()).extracting(bucket -> bucket.name()).contains("data-us").doesNotContain("data-eu");
        assertThatThrownBy(() -> eu.headObject(b -> b.bucket("data-eu").key("absent")))
                .isInstanceOfSatisfying(software.amazon.awssdk.services.s3.model.S3Exception.class,
                        e -> assertThat(e.statusCode()).isEqualTo(404));
        assertThatThrownBy(() -> eu.getObject(b -> b.bucket("data-eu").key("absent")))
                .isInstanceOf(NoSuchKeyException.class);
    }

    @Test
    void endpoints_areTheFrontsOnLoopback_andTheServersBehindThem() {
        S3Regions.Region us = lab.region("us-east-1");
        assertThat(lab.names()).containsExactly("us-east-1", "eu-west-1");
        assertThat(us.endpoint()).isEqualTo(URI.create("http://127.0.0.1:" + us.proxy().port()));
        assertThat(us.serverEndpoint().getHost()).isEqualTo("127.0.0.1");
        assertThat(us.serverEndpoint().getPort()).isEqualTo(us.proxy().target().getPort());
        assertThat(lab.endpoints()).containsKeys("us-east-1", "eu-west-1");
        assertThatThrownBy(() -> lab.region("ap-south-1")).isInstanceOf(NoSuchElementException.class)
                .hasMessageContaining("ap-south-1");
    }

    @Test
    void blackholedFront_failsClientCalls_whileTheServerStillAnswersAroundIt() {
        S3Regions.Region eu = lab.region("eu-west-1");
        try (S3Client impatient = S3Regions.clientBuilder(eu)
                .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMillis(500)).retryStrategy(r -> r.maxAttempts(1)))
                .build()) {
            eu.adminClient().putObject(b -> b.bucket("data-eu").key("held"), RequestBody.fromString("x"));
            eu.proxy().apply(Fault.blackhole());
            try {
                assertThatThrownBy(() -> impatient.getObjectAsBytes(b -> b.bucket("data-eu").key("held")))
                        .isInstanceOf(SdkClientException.class);
                assertThat(eu.adminClient().getObjectAsBytes(b -> b.bucket("data-eu").key("held")).asUtf8String())
                        .isEqualTo("x");
            } finally {
                eu.proxy().heal();
            }
            // Healed: the front forwards again (checked with the patient shared client, as the machine may be slow).
            assertThat(eu.client().getObjectAsBytes(b -> b.bucket("data-eu").key("held")).asUtf8String())
                    .isEqualTo("x");
        }
    }

    @Test
    void versionedBucket_givesVersionIds_andDeleteMarkers() {
        S3Regions.Region us = lab.region("us-east-1");
        us.createBucket("versioned-us");
        us.enableVersioning("versioned-us");
        S3Client client = us.client();
        PutObjectResponse first = client.putObject(b -> b.bucket("versioned-us").key("k"), RequestBody.fromString("1"));
        PutObjectResponse second = client.putObject(b -> b.bucket("versioned-us").key("k"), RequestBody.fromString("2"));
        assertThat(first.versionId()).isNotBlank().isNotEqualTo(second.versionId());
        assertThat(client.getObjectAsBytes(b -> b.bucket("versioned-us").key("k").versionId(first.versionId()))
                .asUtf8String()).isEqualTo("1");

        assertThat(client.deleteObject(b -> b.bucket("versioned-us").key("k")).deleteMarker()).isTrue();
        assertThatThrownBy(() -> client.getObject(b -> b.bucket("versioned-us").key("k")))
                .isInstanceOf(NoSuchKeyException.class);
        assertThat(client.listObjectVersions(b -> b.bucket("versioned-us").prefix("k")).versions()).hasSize(2);
    }

    @Test
    void multipartUpload_andBatchDelete_workThroughTheFront() {
        S3Client client = lab.region("eu-west-1").client();
        String upload = client.createMultipartUpload(b -> b.bucket("data-eu").key("big")).uploadId();
        byte[] part1 = new byte[5 * 1024 * 1024];
        String etag1 = client.uploadPart(b -> b.bucket("data-eu").key("big").uploadId(upload).partNumber(1),
                RequestBody.fromBytes(part1)).eTag();
        String etag2 = client.uploadPart(b -> b.bucket("data-eu").key("big").uploadId(upload).partNumber(2),
                RequestBody.fromString("tail")).eTag();
        client.completeMultipartUpload(b -> b.bucket("data-eu").key("big").uploadId(upload)
                .multipartUpload(m -> m.parts(p -> p.partNumber(1).eTag(etag1), p -> p.partNumber(2).eTag(etag2))));
        assertThat(client.headObject(b -> b.bucket("data-eu").key("big")).contentLength())
                .isEqualTo(part1.length + 4L);

        client.putObject(b -> b.bucket("data-eu").key("other"), RequestBody.fromString("o"));
        client.deleteObjects(b -> b.bucket("data-eu").delete(d -> d.objects(
                ObjectIdentifier.builder().key("big").build(), ObjectIdentifier.builder().key("other").build())));
        assertThat(client.listObjectsV2(b -> b.bucket("data-eu")).contents())
                .extracting(o -> o.key()).doesNotContain("big", "other");
    }

    @Test
    void asyncClient_putsAndGetsThroughTheFront() {
        var async = lab.region("us-east-1").asyncClient();
        async.putObject(b -> b.bucket("data-us").key("async"), AsyncRequestBody.fromString("non-blocking")).join();
        assertThat(async.getObject(b -> b.bucket("data-us").key("async"), AsyncResponseTransformer.toBytes())
                .join().asUtf8String()).isEqualTo("non-blocking");
    }

    @Test
    void filesystemStorage_keepsObjectsInATempFolder_deletedOnClose() throws Exception {
        Path folder;
        // Folders left by other labs (another process, or one killed before it closed) are not this lab's.
        java.util.Set<Path> before;
        try (var files = Files.walk(Path.of(System.getProperty("java.io.tmpdir")), 1)) {
            before = files.collect(java.util.stream.Collectors.toSet());
        }
        try (S3Regions disk = S3Regions.builder().regions("ap-southeast-2").storage(S3Regions.Storage.FILESYSTEM)
                .build()) {
            S3Regions.Region region = disk.region("ap-southeast-2");
            region.createBucket("disk");
            region.client().putObject(b -> b.bucket("disk").key("k"), RequestBody.fromString("on disk"));
            assertThat(region.client().getObjectAsBytes(b -> b.bucket("disk").key("k")).asUtf8String())
                    .isEqualTo("on disk");
            try (var files = Files.walk(Path.of(System.getProperty("java.io.tmpdir")), 1)) {
                folder = files.filter(p -> p.getFileName().toString().startsWith("latitude-s3-"))
                        .filter(p -> !before.contains(p))
                        .filter(p -> Files.exists(p.resolve("ap-southeast-2").resolve("disk")))
                        .findFirst().orElseThrow();
            }
        }
        assertThat(folder).doesNotExist();
    }

    @Test
    void builder_refusesBadSettings() {
        assertThatThrownBy(() -> S3Regions.builder().regions(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> S3Regions.builder().regions("a", "a")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("distinct");
        assertThatThrownBy(() -> S3Regions.builder().regions("a").regions("b"))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> S3Regions.builder().build()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("regions(");
    }
}
