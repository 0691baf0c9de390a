package dev.latitude.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.gaul.s3proxy.blobstore.domain.MultipartUpload;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.CopyObjectResponse;
import software.amazon.awssdk.services.s3.model.DeleteMarkerEntry;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.ObjectVersion;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;

/**
 * The blob store an {@link S3Regions} server runs on: S3Proxy's own store, plus what {@link S3ReplicationEmulator}
 * needs from it.
 *
 * <ul>
 *   <li>Writes the server takes (put, copy, completed multipart upload, delete) in a bucket that replication follows
 *       are reported to the {@link Listener}, each under a lock of its key, so a write and the emulator's look at it
 *       (and the emulator's own writes of that key) never interleave.</li>
 *   <li>Replicas keep the version id of their source, as S3 replication does. S3Proxy mints its own version ids
 *       (unique in the JVM), so the store keeps an alias from the id it minted for a replica to the source's id, and
 *       translates both ways: ids in requests (GET, HEAD, DELETE and copy sources of a version) and in responses (the
 *       object's headers, version listings, delete responses).</li>
 * </ul>
 *
 * The emulator writes replicas through {@link #applyWrite} and {@link #applyDelete}, which go to S3Proxy's store
 * directly and so are not reported again: replicas are never replicated further.
 */
final class S3BlobStoreTap extends ForwardingBlobStore {
    private static final int STRIPES = 256;
    private static final String NULL_VERSION = "null";
    /** Keys S3Proxy keeps for itself (multipart upload stubs, version folders): never replicated. */
    private static final String RESERVED_PREFIX = ".s3proxy-";

    /** What the emulator is told of a region's writes. */
    interface Listener {
        /** Returns whether writes to this bucket of this region matter to replication (as source or destination). */
        boolean follows(String region, String bucket);

        /**
         * A write or delete the server took, reported under the key's lock.
         *
         * @param region the region
         * @param bucket the bucket
         * @param key the key
         * @param delete whether it removed the object (or added a delete marker)
         * @param versionId the version (or delete marker) id, or null in a bucket without versioning
         */
        void written(String region, String bucket, String key, boolean delete, String versionId);
    }

    private final String region;
    private final Object[] stripes = new Object[STRIPES];
    private final Map<String, String> logicalOfLocal = new ConcurrentHashMap<>();
    private final Map<String, String> localOfLogical = new ConcurrentHashMap<>();
    private volatile Listener listener;

    S3BlobStoreTap(String region, BlobStore store) {
        super(store);
        this.region = region;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Object();
        }
    }

    void listener(Listener l) {
        this.listener = l;
    }

    /** Returns the lock of one key: the same object for every write of that key in this region. */
    Object lock(String bucket, String key) {
        return stripes[Math.floorMod(31 * bucket.hashCode() + key.hashCode(), STRIPES)];
    }

    // ---- local writes: reported when followed --------------------------------------------------------------------

    @Override
    public PutObjectResponse putBlob(PutObjectRequest request, InputStream input) {
        return reported(request.bucket(), request.key(), false, () -> super.putBlob(request, input),
                PutObjectResponse::versionId);
    }

    @Override
    public CopyObjectResponse copyBlob(CopyObjectRequest request) {
        CopyObjectRequest local = request.sourceVersionId() == null ? request
                : request.toBuilder().sourceVersionId(local(request.sourceVersionId())).build();
        return reported(request.destinationBucket(), request.destinationKey(), false, () -> super.copyBlob(local),
                CopyObjectResponse::versionId);
    }

    @Override
    public CompleteMultipartUploadResponse completeMultipartUpload(MultipartUpload upload,
            CompleteMultipartUploadRequest request) {
        return reported(upload.containerName(), upload.blobName(), false,
                () -> super.completeMultipartUpload(upload, request), CompleteMultipartUploadResponse::versionId);
    }

    @Override
    public DeleteObjectResponse removeBlob(DeleteObjectRequest request) {
        if (request.versionId() != null) {
            // Removing one version for good is not replicated by S3, so it is not reported either.
            DeleteObjectResponse r = super.removeBlob(request.toBuilder().versionId(local(request.versionId())).build());
            return r.versionId() == null ? r : r.toBuilder().versionId(logical(r.versionId())).build();
        }
        return reported(request.bucket(), request.key(), true, () -> super.removeBlob(request),
                DeleteObjectResponse::versionId);
    }

    private <R> R reported(String bucket, String key, boolean delete, Supplier<R> write,
            java.util.function.Function<R, String> versionOf) {
        Listener l = listener;
        if (l == null || key.startsWith(RESERVED_PREFIX) || !l.follows(region, bucket)) {
            return write.get();
        }
        synchronized (lock(bucket, key)) {
            R response = write.get();
            l.written(region, bucket, key, delete, versionIdOrNull(versionOf.apply(response)));
            return response;
        }
    }

    // ---- reads: version ids translated ---------------------------------------------------------------------------

    @Override
    public ResponseInputStream<GetObjectResponse> getBlob(GetObjectRequest request) {
        GetObjectRequest local = request.versionId() == null ? request
                : request.toBuilder().versionId(local(request.versionId())).build();
        ResponseInputStream<GetObjectResponse> in = super.getBlob(local);
        if (in == null) {
            return null;
        }
        GetObjectResponse r = in.response();
        if (r.versionId() == null || !logicalOfLocal.containsKey(r.versionId())) {
            return in;
        }
        return new ResponseInputStream<>(r.toBuilder().versionId(logical(r.versionId())).build(), (InputStream) in);
    }

    @Override
    public HeadObjectResponse blobMetadata(HeadObjectRequest request) {
        HeadObjectRequest local = request.versionId() == null ? request
                : request.toBuilder().versionId(local(request.versionId())).build();
        HeadObjectResponse r = super.blobMetadata(local);
        return r == null || r.versionId() == null ? r : r.toBuilder().versionId(logical(r.versionId())).build();
    }

    @Override
    public ListObjectVersionsResponse listVersions(ListObjectVersionsRequest request) {
        ListObjectVersionsRequest local = request.versionIdMarker() == null ? request
                : request.toBuilder().versionIdMarker(local(request.versionIdMarker())).build();
        ListObjectVersionsResponse r = super.listVersions(local);
        if (logicalOfLocal.isEmpty()) {
            return r;
        }
        return r.toBuilder()
                .versions(r.versions().stream()
                        .map(v -> v.toBuilder().versionId(logical(v.versionId())).build())
                        .toArray(ObjectVersion[]::new))
                .deleteMarkers(r.deleteMarkers().stream()
                        .map(m -> m.toBuilder().versionId(logical(m.versionId())).build())
                        .toArray(DeleteMarkerEntry[]::new))
                .nextVersionIdMarker(r.nextVersionIdMarker() == null ? null : logical(r.nextVersionIdMarker()))
                .build();
    }

    // ---- the emulator's side -------------------------------------------------------------------------------------

    /**
     * Opens one version of an object (by the id clients see), or the current object when {@code versionId} is null;
     * null if there is none.
     */
    ResponseInputStream<GetObjectResponse> read(String bucket, String key, String versionId) {
        try {
            return getBlob(GetObjectRequest.builder().bucket(bucket).key(key).versionId(versionId).build());
        } catch (RuntimeException e) {
            if (isNotFound(e)) {
                return null;
            }
            throw e;
        }
    }

    /**
     * Writes a replica to S3Proxy's store, not reported; in a versioned bucket the new version answers to
     * {@code sourceVersionId}. The caller holds {@link #lock(String, String)}.
     */
    void applyWrite(String bucket, String key, GetObjectResponse source, InputStream body, String sourceVersionId) {
        PutObjectRequest put = PutObjectRequest.builder().bucket(bucket).key(key)
                .contentLength(source.contentLength())
                .contentType(source.contentType())
                .contentEncoding(source.contentEncoding())
                .contentDisposition(source.contentDisposition())
                .contentLanguage(source.contentLanguage())
                .cacheControl(source.cacheControl())
                .expires(source.expires())
                .metadata(source.metadata())
                .build();
        PutObjectResponse r = delegate().putBlob(put, body);
        alias(versionIdOrNull(r.versionId()), sourceVersionId);
    }

    /**
     * Removes an object from S3Proxy's store, not reported; in a versioned bucket the delete marker answers to
     * {@code sourceMarkerId}. The caller holds {@link #lock(String, String)}.
     */
    void applyDelete(String bucket, String key, String sourceMarkerId) {
        DeleteObjectResponse r = delegate().removeBlob(DeleteObjectRequest.builder().bucket(bucket).key(key).build());
        alias(versionIdOrNull(r.versionId()), sourceMarkerId);
    }

    private void alias(String localId, String logicalId) {
        if (localId != null && logicalId != null && !localId.equals(logicalId)) {
            logicalOfLocal.put(localId, logicalId);
            localOfLogical.put(logicalId, localId);
        }
    }

    private String local(String logicalId) {
        return localOfLogical.getOrDefault(logicalId, logicalId);
    }

    private String logical(String localId) {
        return localId == null ? null : logicalOfLocal.getOrDefault(localId, localId);
    }

    private static String versionIdOrNull(String versionId) {
        return versionId == null || NULL_VERSION.equals(versionId) ? null : versionId;
    }

    private static boolean isNotFound(RuntimeException e) {
        return e instanceof software.amazon.awssdk.services.s3.model.NoSuchKeyException
                || (e instanceof software.amazon.awssdk.awscore.exception.AwsServiceException ase
                        && ase.statusCode() == 404);
    }

    /** Reads a whole stream, for the emulator's copies of objects without versions. */
    static byte[] readAll(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading an object for replication failed", e);
        }
    }
}
