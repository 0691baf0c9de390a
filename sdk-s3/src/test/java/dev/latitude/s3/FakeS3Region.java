package dev.latitude.s3;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.*;

/**
 * An in-memory S3 of one region for unit tests: buckets of objects (bytes and user metadata), a log of the operations
 * it served, and failures queued for its next calls. Only what the multi-region client's routing needs is served.
 */
final class FakeS3Region implements S3Client {
    record StoredObject(byte[] body, Map<String, String> metadata, String contentType) {
    }

    private final String region;
    private final Map<String, Map<String, StoredObject>> buckets = new ConcurrentHashMap<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final Deque<Supplier<RuntimeException>> failures = new ConcurrentLinkedDeque<>();
    private final Map<String, List<byte[]>> uploads = new ConcurrentHashMap<>();
    private final AtomicInteger uploadIds = new AtomicInteger();
    final List<AbortableInputStream> opened = new CopyOnWriteArrayList<>();
    final List<Boolean> aborted = new CopyOnWriteArrayList<>();

    FakeS3Region(String region, String... bucketNames) {
        this.region = region;
        for (String b : bucketNames) {
            buckets.put(b, new ConcurrentHashMap<>());
        }
    }

    static S3Exception error(int status, String code) {
        return (S3Exception) S3Exception.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(code).build())
                .message(code).build();
    }

    /** Makes the next call fail with what {@code failure} supplies. */
    void failNext(Supplier<RuntimeException> failure) {
        failures.add(failure);
    }

    /** Returns the operations served (or failed), such as {@code PutObject b/k}. */
    List<String> log() {
        return log;
    }

    StoredObject object(String bucket, String key) {
        return bucket(bucket).get(key);
    }

    void store(String bucket, String key, StoredObject o) {
        bucket(bucket).put(key, o);
    }

    void remove(String bucket, String key) {
        bucket(bucket).remove(key);
    }

    private Map<String, StoredObject> bucket(String name) {
        Map<String, StoredObject> b = buckets.get(name);
        if (b == null) {
            throw (NoSuchBucketException) NoSuchBucketException.builder().statusCode(404)
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("NoSuchBucket").build()).build();
        }
        return b;
    }

    private void served(String op, String bucket, String key) {
        log.add(op + " " + bucket + (key == null ? "" : "/" + key));
        Supplier<RuntimeException> f = failures.poll();
        if (f != null) {
            throw f.get();
        }
    }

    private StoredObject get(String bucket, String key) {
        StoredObject o = bucket(bucket).get(key);
        if (o == null) {
            throw (NoSuchKeyException) NoSuchKeyException.builder().statusCode(404)
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("NoSuchKey").build()).build();
        }
        return o;
    }

    private static byte[] read(RequestBody body) {
        try (InputStream in = body.contentStreamProvider().newStream()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public PutObjectResponse putObject(PutObjectRequest r, RequestBody body) {
        byte[] bytes = read(body); // the body is sent before the region answers, as over the wire
        served("PutObject", r.bucket(), r.key());
        bucket(r.bucket()).put(r.key(), new StoredObject(bytes, Map.copyOf(r.metadata()), r.contentType()));
        return PutObjectResponse.builder().eTag("\"e\"").build();
    }

    @Override
    public <T> T getObject(GetObjectRequest r, ResponseTransformer<GetObjectResponse, T> transformer) {
        served("GetObject", r.bucket(), r.key());
        StoredObject o = get(r.bucket(), r.key());
        int index = aborted.size();
        aborted.add(false);
        AbortableInputStream in = AbortableInputStream.create(new ByteArrayInputStream(o.body()),
                () -> aborted.set(index, true));
        opened.add(in);
        try {
            return transformer.transform(GetObjectResponse.builder().metadata(o.metadata())
                    .contentLength((long) o.body().length).contentType(o.contentType()).build(), in);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public HeadObjectResponse headObject(HeadObjectRequest r) {
        served("HeadObject", r.bucket(), r.key());
        StoredObject o = get(r.bucket(), r.key());
        return HeadObjectResponse.builder().metadata(o.metadata()).contentType(o.contentType())
                .contentLength((long) o.body().length).build();
    }

    @Override
    public DeleteObjectResponse deleteObject(DeleteObjectRequest r) {
        served("DeleteObject", r.bucket(), r.key());
        bucket(r.bucket()).remove(r.key());
        return DeleteObjectResponse.builder().build();
    }

    @Override
    public DeleteObjectsResponse deleteObjects(DeleteObjectsRequest r) {
        served("DeleteObjects", r.bucket(), null);
        List<DeletedObject> deleted = new ArrayList<>();
        for (ObjectIdentifier id : r.delete().objects()) {
            bucket(r.bucket()).remove(id.key());
            deleted.add(DeletedObject.builder().key(id.key()).build());
        }
        return DeleteObjectsResponse.builder().deleted(deleted).build();
    }

    @Override
    public CopyObjectResponse copyObject(CopyObjectRequest r) {
        served("CopyObject", r.destinationBucket(), r.destinationKey());
        StoredObject src = get(r.sourceBucket(), r.sourceKey());
        Map<String, String> metadata = r.metadataDirective() == MetadataDirective.REPLACE ? Map.copyOf(r.metadata())
                : src.metadata();
        bucket(r.destinationBucket()).put(r.destinationKey(), new StoredObject(src.body(), metadata,
                r.contentType() != null ? r.contentType() : src.contentType()));
        return CopyObjectResponse.builder().build();
    }

    @Override
    public ListObjectsV2Response listObjectsV2(ListObjectsV2Request r) {
        served("ListObjectsV2", r.bucket(), null);
        List<S3Object> contents = new ArrayList<>();
        new java.util.TreeMap<>(bucket(r.bucket())).forEach((k, o) -> contents.add(S3Object.builder().key(k)
                .size((long) o.body().length).build()));
        return ListObjectsV2Response.builder().name(r.bucket()).contents(contents).keyCount(contents.size()).build();
    }

    @Override
    public GetObjectTaggingResponse getObjectTagging(GetObjectTaggingRequest r) {
        served("GetObjectTagging", r.bucket(), r.key());
        get(r.bucket(), r.key());
        return GetObjectTaggingResponse.builder().build();
    }

    @Override
    public HeadBucketResponse headBucket(HeadBucketRequest r) {
        served("HeadBucket", r.bucket(), null);
        bucket(r.bucket());
        return HeadBucketResponse.builder().build();
    }

    @Override
    public CreateMultipartUploadResponse createMultipartUpload(CreateMultipartUploadRequest r) {
        served("CreateMultipartUpload", r.bucket(), r.key());
        bucket(r.bucket());
        String id = region + "-upload-" + uploadIds.incrementAndGet();
        uploads.put(id, new CopyOnWriteArrayList<>());
        pendingMetadata.put(id, Map.copyOf(r.metadata()));
        return CreateMultipartUploadResponse.builder().bucket(r.bucket()).key(r.key()).uploadId(id).build();
    }

    private final Map<String, Map<String, String>> pendingMetadata = new HashMap<>();

    @Override
    public UploadPartResponse uploadPart(UploadPartRequest r, RequestBody body) {
        served("UploadPart", r.bucket(), r.key());
        List<byte[]> parts = uploads.get(r.uploadId());
        if (parts == null) {
            throw error(404, "NoSuchUpload");
        }
        parts.add(read(body));
        return UploadPartResponse.builder().eTag("\"p" + parts.size() + "\"").build();
    }

    @Override
    public CompleteMultipartUploadResponse completeMultipartUpload(CompleteMultipartUploadRequest r) {
        served("CompleteMultipartUpload", r.bucket(), r.key());
        List<byte[]> parts = uploads.remove(r.uploadId());
        if (parts == null) {
            throw error(404, "NoSuchUpload");
        }
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        parts.forEach(all::writeBytes);
        bucket(r.bucket()).put(r.key(), new StoredObject(all.toByteArray(), pendingMetadata.remove(r.uploadId()),
                null));
        return CompleteMultipartUploadResponse.builder().bucket(r.bucket()).key(r.key()).build();
    }

    @Override
    public AbortMultipartUploadResponse abortMultipartUpload(AbortMultipartUploadRequest r) {
        served("AbortMultipartUpload", r.bucket(), r.key());
        uploads.remove(r.uploadId());
        return AbortMultipartUploadResponse.builder().build();
    }

    @Override
    public String serviceName() {
        return SERVICE_NAME;
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "FakeS3Region[" + region + "]";
    }
}
