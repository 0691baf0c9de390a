package dev.latitude.s3;

import dev.latitude.ConsistencyLevel;
import dev.latitude.FailureKind;
import dev.latitude.Futures;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.ResultWatermark;
import dev.latitude.Session;
import dev.latitude.Watermark;
import dev.latitude.s3.internal.Answer;
import dev.latitude.s3.internal.BodyGuard;
import dev.latitude.s3.internal.OpenStreams;
import dev.latitude.s3.internal.S3Core;
import dev.latitude.s3.internal.Uploads;
import java.nio.ByteBuffer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.SdkPublisher;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3ServiceClientConfiguration;
import software.amazon.awssdk.services.s3.S3Utilities;
import software.amazon.awssdk.services.s3.model.*;
import software.amazon.awssdk.services.s3.waiters.S3AsyncWaiter;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;

/**
 * The non-blocking twin of {@link MultiRegionS3Client}: an {@link S3AsyncClient} over one Java-based S3 async client
 * per region (the CRT-based client cannot take Multi-Region Access Point ARNs), with the same routing,
 * read-your-writes, residency, errors and refusals (documented on {@link MultiRegionS3Client}). A failure comes as
 * the future's failure; nothing is thrown by the methods themselves. Cancelling a returned future cancels the region
 * requests in flight.
 *
 * <pre>{@code
 * S3AsyncClient s3 = MultiRegionS3AsyncClient.builder()
 *         .topology(topology)
 *         .bucket("photos", Map.of("us-east-1", "photos-use1", "eu-west-1", "photos-euw1"))
 *         .buildClients(b -> b.credentialsProvider(credentials))   // one S3AsyncClient per region, made by Latitude
 *         .build();
 * s3.getObject(b -> b.bucket("photos").key("cat.jpg"), AsyncResponseTransformer.toBytes())
 *         .thenAccept(bytes -> show(bytes.asByteArray()));
 * }</pre>
 *
 * <p>A GetObject is routed until its response headers arrive; the body is then streamed to the caller's transformer,
 * and a body that fails midway is the caller's to retry. An {@code AsyncRequestBody} that cannot be replayed (from a
 * publisher or stream) is never sent to a second region once the first has read it
 * ({@link BodyNotReplayableException}); bodies from bytes, strings and files can move.
 */
public final class MultiRegionS3AsyncClient implements S3AsyncClient {
    private final S3Core<S3AsyncClient> core;
    private final boolean view;

    private MultiRegionS3AsyncClient(S3Core<S3AsyncClient> core, boolean view) {
        this.core = core;
        this.view = view;
    }

    /** Starts a builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a view of this client whose calls use {@code session} instead of the one in the OpenTelemetry context.
     * The view shares everything with this client; closing it does nothing.
     *
     * @param session the session
     * @return the view
     */
    public MultiRegionS3AsyncClient withSession(Session session) {
        return new MultiRegionS3AsyncClient(core.with(Objects.requireNonNull(session, "session"), null), true);
    }

    /**
     * Returns a view of this client whose reads use {@code level} instead of their bucket's consistency level;
     * residency is never relaxed and writes are unchanged. Closing the view does nothing.
     *
     * @param level the consistency level
     * @return the view
     */
    public MultiRegionS3AsyncClient withConsistency(ConsistencyLevel level) {
        return new MultiRegionS3AsyncClient(core.with(null, Objects.requireNonNull(level, "consistency")), true);
    }

    /**
     * Returns the client of one region, for what this client does not route.
     *
     * @param regionId a region of the topology
     * @return its client
     * @throws dev.latitude.LatitudeConfigException if the region is not in the topology
     */
    public S3AsyncClient regionClient(String regionId) {
        S3AsyncClient c = core.client(regionId);
        if (c == null) {
            throw new dev.latitude.LatitudeConfigException("regionId", "'" + regionId + "' is not in the topology "
                    + core.clients().keySet());
        }
        return c;
    }

    /** Returns the routing engine, for its status, plans and routing policy. */
    public Latitude latitude() {
        return core.latitude();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Reads

    @Override
    public <ReturnT> CompletableFuture<ReturnT> getObject(GetObjectRequest request,
            AsyncResponseTransformer<GetObjectResponse, ReturnT> transformer) {
        OpenStreams<OpenBody> streams = new OpenStreams<>(OpenBody::discard);
        CompletableFuture<OpenBody> routed = readObject("GetObject", request.bucket(),
                request.key(), (c, b) -> {
                    CompletableFuture<OpenBody> f = c.getObject(request.toBuilder().bucket(b).build(),
                            new KeepOpen());
                    return Futures.propagateCancellation(f.thenApply(streams::opened), f);
                }, p -> p.response().metadata());
        CompletableFuture<ReturnT> result = new CompletableFuture<>();
        routed.whenComplete((publisher, error) -> {
            if (error != null) {
                streams.settle(null);
                result.completeExceptionally(error);
                return;
            }
            streams.settle(publisher);
            try {
                CompletableFuture<ReturnT> transformed = transformer.prepare();
                transformer.onResponse(publisher.response());
                transformer.onStream(publisher.body());
                transformed.whenComplete((v, e) -> {
                    if (e != null) {
                        result.completeExceptionally(e);
                    } else {
                        result.complete(v);
                    }
                });
            } catch (RuntimeException e) {
                transformer.exceptionOccurred(e);
                publisher.discard();
                result.completeExceptionally(e);
            }
        });
        return Futures.propagateCancellation(result, routed);
    }

    /** A future failed with the refusal of an operation this client does not route. */
    private static <T> CompletableFuture<T> refused(String operation, String reason) {
        return CompletableFuture.failedFuture(MultiRegionS3Client.unsupported(operation, reason));
    }

    /**
     * A GetObject answer whose body is still unsubscribed, kept so the answer can be checked (and a stale replica's
     * given up) before the caller's transformer takes the body. Not the SDK's {@code ResponsePublisher}: each of those
     * arms a 60 s abort timer on a shared executor that keeps it queued, cancelled or not, for the whole 60 s.
     */
    private record OpenBody(GetObjectResponse response, SdkPublisher<ByteBuffer> body) {
        /** Gives up a body that will not be read: subscribes and cancels at once, releasing the connection. */
        void discard() {
            MultiRegionS3AsyncClient.discard(body);
        }
    }

    /** Takes a GetObject answer as it arrives: the response, then the body's publisher, left unsubscribed. */
    private static final class KeepOpen implements AsyncResponseTransformer<GetObjectResponse, OpenBody> {
        private volatile CompletableFuture<OpenBody> future;
        private volatile GetObjectResponse response;

        @Override
        public CompletableFuture<OpenBody> prepare() {
            future = new CompletableFuture<>(); // once per SDK attempt: the latest is the one that completes
            return future;
        }

        @Override
        public void onResponse(GetObjectResponse r) {
            response = r;
        }

        @Override
        public void onStream(SdkPublisher<ByteBuffer> publisher) {
            future.complete(new OpenBody(response, publisher));
        }

        @Override
        public void exceptionOccurred(Throwable error) {
            future.completeExceptionally(error);
        }
    }

    /** Gives up a response body that will not be read: subscribes and cancels at once, releasing the connection. */
    private static void discard(SdkPublisher<ByteBuffer> publisher) {
        publisher.subscribe(new Subscriber<ByteBuffer>() {
            @Override
            public void onSubscribe(Subscription s) {
                s.cancel();
            }

            @Override
            public void onNext(ByteBuffer b) {
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onComplete() {
            }
        });
    }

    @Override
    public CompletableFuture<HeadObjectResponse> headObject(HeadObjectRequest request) {
        return readObject("HeadObject", request.bucket(), request.key(),
                (c, b) -> c.headObject(request.toBuilder().bucket(b).build()), HeadObjectResponse::metadata);
    }

    @Override
    public CompletableFuture<GetObjectTaggingResponse> getObjectTagging(GetObjectTaggingRequest request) {
        return read("GetObjectTagging", request.bucket(), request.key(),
                (c, b) -> c.getObjectTagging(request.toBuilder().bucket(b).build()));
    }

    @Override
    public CompletableFuture<GetObjectAttributesResponse> getObjectAttributes(GetObjectAttributesRequest request) {
        return read("GetObjectAttributes", request.bucket(), request.key(),
                (c, b) -> c.getObjectAttributes(request.toBuilder().bucket(b).build()));
    }

    @Override
    public CompletableFuture<GetObjectAclResponse> getObjectAcl(GetObjectAclRequest request) {
        return read("GetObjectAcl", request.bucket(), request.key(),
                (c, b) -> c.getObjectAcl(request.toBuilder().bucket(b).build()));
    }

    @Override
    public CompletableFuture<GetObjectRetentionResponse> getObjectRetention(GetObjectRetentionRequest request) {
        return read("GetObjectRetention", request.bucket(), request.key(),
                (c, b) -> c.getObjectRetention(request.toBuilder().bucket(b).build()));
    }

    @Override
    public CompletableFuture<GetObjectLegalHoldResponse> getObjectLegalHold(GetObjectLegalHoldRequest request) {
        return read("GetObjectLegalHold", request.bucket(), request.key(),
                (c, b) -> c.getObjectLegalHold(request.toBuilder().bucket(b).build()));
    }

    @Override
    public CompletableFuture<ListObjectsV2Response> listObjectsV2(ListObjectsV2Request request) {
        return read("ListObjectsV2", request.bucket(), null,
                (c, b) -> c.listObjectsV2(request.toBuilder().bucket(b).build()))
                .thenApply(r -> r.toBuilder().name(request.bucket()).build());
    }

    @Override
    public CompletableFuture<ListObjectsResponse> listObjects(ListObjectsRequest request) {
        return read("ListObjects", request.bucket(), null,
                (c, b) -> c.listObjects(request.toBuilder().bucket(b).build()))
                .thenApply(r -> r.toBuilder().name(request.bucket()).build());
    }

    @Override
    public CompletableFuture<ListObjectVersionsResponse> listObjectVersions(ListObjectVersionsRequest request) {
        return read("ListObjectVersions", request.bucket(), null,
                (c, b) -> c.listObjectVersions(request.toBuilder().bucket(b).build()))
                .thenApply(r -> r.toBuilder().name(request.bucket()).build());
    }

    @Override
    public CompletableFuture<HeadBucketResponse> headBucket(HeadBucketRequest request) {
        return read("HeadBucket", request.bucket(), null,
                (c, b) -> c.headBucket(request.toBuilder().bucket(b).build()));
    }

    /** A read whose answer carries the object's stamp, so a replica's answer can be checked against the session. */
    private <R> CompletableFuture<R> readObject(String name, String bucket, String key,
            BiFunction<S3AsyncClient, String, CompletableFuture<R>> call, Function<R, Map<String, String>> metadata) {
        return viaAccessPoint(name, bucket, key, call, metadata, () -> {
            Operation op = core.read(name, bucket, key);
            return core.latitude().executeAsync(op, region -> attempt(name, bucket, region, call),
                    ans -> core.watermark(ans, ans.value() == null ? Map.of() : metadata.apply(ans.value())));
        });
    }

    /** A read whose answer carries no stamp: a replica serves a SESSION read only if it provably can. */
    private <R> CompletableFuture<R> read(String name, String bucket, String key,
            BiFunction<S3AsyncClient, String, CompletableFuture<R>> call) {
        return viaAccessPoint(name, bucket, key, call, null, () -> {
            Operation op = core.read(name, bucket, key);
            return core.latitude().executeAsync(op, region -> attempt(name, bucket, region, call));
        });
    }

    /**
     * MRAP mode: sends a read to the bucket's access point through the local region's client first, and runs
     * {@code direct} (the buckets behind it, by the engine's plan) when the access point cannot answer: see the
     * blocking client's {@code viaAccessPoint} for when. Outside MRAP mode, runs {@code direct} at once.
     */
    private <R> CompletableFuture<R> viaAccessPoint(String name, String bucket, String key,
            BiFunction<S3AsyncClient, String, CompletableFuture<R>> call, Function<R, Map<String, String>> metadata,
            Supplier<CompletableFuture<Answer<R>>> direct) {
        try {
            MultiRegionAccessPoint mrap = core.accessPoint(bucket);
            Watermark required = mrap == null ? null : core.requirement(bucket, key);
            if (mrap == null || !core.accessPointMayAnswer(bucket) || (required != null && metadata == null)) {
                return valueOf(direct.get());
            }
            Span span = core.startSpan(name, bucket, key, null, mrap.arn());
            CompletableFuture<R> sent;
            try (Scope ignored = span.makeCurrent()) {
                sent = call.apply(core.localClient(), mrap.arn());
            } catch (RuntimeException e) {
                S3Core.end(span, e);
                throw e;
            }
            // An access point that does not answer within the attempt timeout is left (and its request cancelled).
            CompletableFuture<R> timed = Futures.propagateCancellation(sent.copy().orTimeout(
                    core.accessPoints().attemptTimeout().toNanos(), TimeUnit.NANOSECONDS), sent);
            CompletableFuture<Answer<R>> answer = timed.handle((v, e) -> {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (cause == null) {
                    return new Answer<>(v, null, null);
                }
                if (S3Core.isMissingKey(cause)) {
                    return new Answer<R>(null, (S3Exception) cause, null);
                }
                boolean timeout = cause instanceof TimeoutException;
                if (!timeout && S3ErrorClassifier.create().classify(cause) == FailureKind.CALLER) {
                    span.setAttribute(S3Core.ACCESS_POINT_OUTCOME, "answered");
                    S3Core.end(span, cause);
                    throw new CompletionException(cause);
                }
                span.setAttribute(S3Core.ACCESS_POINT_OUTCOME, timeout ? "timeout" : "failed");
                S3Core.end(span, null);
                return null; // the access point failed: the buckets behind it answer
            });
            CompletableFuture<Answer<R>> chosen = answer.thenCompose(a -> {
                if (a == null) {
                    return direct.get();
                }
                boolean stale = required != null && core.watermark(a, a.value() == null ? Map.of()
                        : metadata.apply(a.value())) < required.value();
                span.setAttribute(S3Core.ACCESS_POINT_OUTCOME, !stale ? "answered"
                        : a.value() == null ? "missing" : "stale");
                S3Core.end(span, null);
                return !stale ? CompletableFuture.completedFuture(a) : direct.get();
            });
            return Futures.propagateCancellation(valueOf(chosen), sent);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static <R> CompletableFuture<R> valueOf(CompletableFuture<Answer<R>> answer) {
        return Futures.propagateCancellation(answer.thenApply(Answer::valueOrThrow), answer);
    }

    private <R> CompletableFuture<Answer<R>> attempt(String name, String bucket, RegionSpec region,
            BiFunction<S3AsyncClient, String, CompletableFuture<R>> call) {
        CompletableFuture<R> f;
        try {
            f = call.apply(core.client(region.id()), core.buckets().physical(name, bucket, region.id()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Answer<R>> answer = f.handle((v, e) -> {
            if (e == null) {
                return new Answer<>(v, null, region.id());
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            Answer<R> missing = core.answerOf(cause, bucket, region);
            if (missing == null) {
                throw e instanceof CompletionException ce ? ce : new CompletionException(cause);
            }
            return missing;
        });
        return Futures.propagateCancellation(answer, f);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Writes

    /** One attempt of a write in one region: the client, the physical bucket there, and the region. */
    @FunctionalInterface
    private interface WriteCall<R> {
        CompletableFuture<R> call(S3AsyncClient client, String physicalBucket, RegionSpec region);
    }

    /** Runs a write; {@code stamp} is what the session records for the key ({@code NONE}: nothing). */
    private <R> CompletableFuture<Answer<R>> write(String name, String bucket, String key, boolean idempotent,
            long stamp, WriteCall<R> call) {
        Operation op;
        try {
            op = core.write(name, bucket, key, idempotent);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return core.latitude().executeAsync(op, region -> {
            CompletableFuture<R> f;
            try {
                f = call.call(core.client(region.id()), core.buckets().physical(name, bucket, region.id()), region);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
            return Futures.propagateCancellation(f.thenApply(v -> new Answer<>(v, null, region.id())), f);
        }, a -> stamp);
    }

    @Override
    public CompletableFuture<PutObjectResponse> putObject(PutObjectRequest request, AsyncRequestBody body) {
        long stamp = core.newStamp();
        PutObjectRequest stamped = request.toBuilder().metadata(core.stamped(request.metadata(), stamp)).build();
        BodyGuard guard = BodyGuard.of("PutObject", body);
        return valueOf(write("PutObject", request.bucket(), request.key(),
                request.ifMatch() == null && request.ifNoneMatch() == null, stamp,
                (c, b, region) -> c.putObject(stamped.toBuilder().bucket(b).build(), guard.wrap(body, region.id()))));
    }

    @Override
    public CompletableFuture<CopyObjectResponse> copyObject(CopyObjectRequest request) {
        if (request.sourceBucket() == null || !core.buckets().logicalBuckets().contains(request.sourceBucket())) {
            return CompletableFuture.failedFuture(request.sourceBucket() == null
                    ? new UnroutableS3RequestException("CopyObject", "the source is not given as sourceBucket and"
                            + " sourceKey; give them (the deprecated copySource string is not routed)")
                    : new UnroutableS3RequestException("CopyObject", "bucket '" + request.sourceBucket()
                            + "' is not mapped; map it with bucket(logical, regionToBucket) on the builder"));
        }
        long stamp = core.newStamp();
        boolean unconditional = request.ifMatch() == null && request.ifNoneMatch() == null;
        return valueOf(write("CopyObject", request.destinationBucket(), request.destinationKey(), unconditional,
                stamp, (c, b, region) -> {
                    String src = core.buckets().physical("CopyObject", request.sourceBucket(), region.id());
                    CopyObjectRequest.Builder copy = request.toBuilder().sourceBucket(src).destinationBucket(b)
                            .metadataDirective(MetadataDirective.REPLACE);
                    if (request.metadataDirective() == MetadataDirective.REPLACE) {
                        return c.copyObject(copy.metadata(core.stamped(request.metadata(), stamp)).build());
                    }
                    // S3 cannot add one metadata entry to a copy: read the source's in the same region and send them
                    // all with the new stamp, as COPY would have kept them.
                    CompletableFuture<HeadObjectResponse> head = c.headObject(HeadObjectRequest.builder().bucket(src)
                            .key(request.sourceKey()).versionId(request.sourceVersionId())
                            .sseCustomerAlgorithm(request.copySourceSSECustomerAlgorithm())
                            .sseCustomerKey(request.copySourceSSECustomerKey())
                            .sseCustomerKeyMD5(request.copySourceSSECustomerKeyMD5()).build());
                    return Futures.propagateCancellation(head.thenCompose(h -> c.copyObject(copy
                            .metadata(core.stamped(h.metadata(), stamp)).contentType(h.contentType())
                            .contentEncoding(h.contentEncoding()).contentDisposition(h.contentDisposition())
                            .contentLanguage(h.contentLanguage()).cacheControl(h.cacheControl())
                            .expires(h.expires()).websiteRedirectLocation(h.websiteRedirectLocation()).build())),
                            head);
                }));
    }

    @Override
    public CompletableFuture<DeleteObjectResponse> deleteObject(DeleteObjectRequest request) {
        return valueOf(write("DeleteObject", request.bucket(), request.key(), request.ifMatch() == null,
                core.newStamp(), (c, b, region) -> c.deleteObject(request.toBuilder().bucket(b).build())));
    }

    @Override
    public CompletableFuture<DeleteObjectsResponse> deleteObjects(DeleteObjectsRequest request) {
        long stamp = core.newStamp();
        CompletableFuture<Answer<DeleteObjectsResponse>> a = write("DeleteObjects", request.bucket(), null, true,
                ResultWatermark.NONE, (c, b, region) -> c.deleteObjects(request.toBuilder().bucket(b).build()));
        // One call, many keys: each deleted key is recorded on its own, so only those keys' reads are checked.
        return Futures.propagateCancellation(a.thenApply(answer -> {
            for (DeletedObject d : answer.value().deleted()) {
                core.recordWrite(request.bucket(), d.key(), stamp, answer.region());
            }
            return answer.value();
        }), a);
    }

    @Override
    public CompletableFuture<PutObjectTaggingResponse> putObjectTagging(PutObjectTaggingRequest request) {
        return valueOf(write("PutObjectTagging", request.bucket(), request.key(), true, core.newStamp(),
                (c, b, region) -> c.putObjectTagging(request.toBuilder().bucket(b).build())));
    }

    @Override
    public CompletableFuture<DeleteObjectTaggingResponse> deleteObjectTagging(DeleteObjectTaggingRequest request) {
        return valueOf(write("DeleteObjectTagging", request.bucket(), request.key(), true, core.newStamp(),
                (c, b, region) -> c.deleteObjectTagging(request.toBuilder().bucket(b).build())));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Multipart uploads: created by the engine's write plan, then pinned to the region that created them.

    @Override
    public CompletableFuture<CreateMultipartUploadResponse> createMultipartUpload(
            CreateMultipartUploadRequest request) {
        long stamp = core.newStamp();
        CreateMultipartUploadRequest stamped = request.toBuilder()
                .metadata(core.stamped(request.metadata(), stamp)).build();
        CompletableFuture<Answer<CreateMultipartUploadResponse>> a = write("CreateMultipartUpload", request.bucket(),
                request.key(), false, ResultWatermark.NONE,
                (c, b, region) -> c.createMultipartUpload(stamped.toBuilder().bucket(b).build()));
        return Futures.propagateCancellation(a.thenApply(answer -> {
            core.uploads().created(answer.value().uploadId(),
                    new Uploads.Upload(answer.region(), request.bucket(), request.key(), stamp));
            return answer.value().toBuilder().bucket(request.bucket()).build();
        }), a);
    }

    /** Runs a call of a known upload on the region that created it, with the physical bucket there. */
    private <R> CompletableFuture<R> pinned(String name, Uploads.Upload u, String bucket,
            BiFunction<S3AsyncClient, String, CompletableFuture<R>> call) {
        Span span = core.startSpan(name, bucket, u.key(), u.region(), null);
        CompletableFuture<R> sent;
        try (Scope ignored = span.makeCurrent()) {
            sent = call.apply(core.client(u.region()), core.buckets().physical(name, bucket, u.region()));
        } catch (RuntimeException e) {
            S3Core.end(span, e);
            return CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((v, e) -> S3Core.end(span, e));
        return sent;
    }

    @Override
    public CompletableFuture<UploadPartResponse> uploadPart(UploadPartRequest request, AsyncRequestBody body) {
        Uploads.Upload u = core.uploads().find(request.uploadId());
        if (u != null) {
            return pinned("UploadPart", u, request.bucket(),
                    (c, b) -> c.uploadPart(request.toBuilder().bucket(b).build(), body));
        }
        BodyGuard guard = BodyGuard.of("UploadPart", body);
        return valueOf(write("UploadPart", request.bucket(), request.key(), true, ResultWatermark.NONE,
                (c, b, region) -> c.uploadPart(request.toBuilder().bucket(b).build(), guard.wrap(body, region.id()))));
    }

    @Override
    public CompletableFuture<UploadPartCopyResponse> uploadPartCopy(UploadPartCopyRequest request) {
        Uploads.Upload u = core.uploads().find(request.uploadId());
        String region = u != null ? u.region() : null;
        if (region != null) {
            return pinned("UploadPartCopy", u, request.destinationBucket(), (c, b) -> c.uploadPartCopy(
                    request.toBuilder().destinationBucket(b).sourceBucket(core.buckets().physical("UploadPartCopy",
                            request.sourceBucket(), region)).build()));
        }
        return valueOf(write("UploadPartCopy", request.destinationBucket(), request.destinationKey(), true,
                ResultWatermark.NONE, (c, b, r) -> c.uploadPartCopy(request.toBuilder().destinationBucket(b)
                        .sourceBucket(core.buckets().physical("UploadPartCopy", request.sourceBucket(), r.id()))
                        .build())));
    }

    @Override
    public CompletableFuture<CompleteMultipartUploadResponse> completeMultipartUpload(
            CompleteMultipartUploadRequest request) {
        Uploads.Upload u = core.uploads().find(request.uploadId());
        CompletableFuture<CompleteMultipartUploadResponse> r;
        if (u != null) {
            r = pinned("CompleteMultipartUpload", u, request.bucket(),
                    (c, b) -> c.completeMultipartUpload(request.toBuilder().bucket(b).build()))
                    .thenApply(done -> {
                        core.uploads().ended(request.uploadId());
                        core.recordWrite(u.bucket(), u.key(), u.stamp(), u.region());
                        return done;
                    });
        } else {
            r = valueOf(write("CompleteMultipartUpload", request.bucket(), request.key(), false, ResultWatermark.NONE,
                    (c, b, region) -> c.completeMultipartUpload(request.toBuilder().bucket(b).build())));
        }
        return r.thenApply(done -> done.toBuilder().bucket(request.bucket()).build());
    }

    @Override
    public CompletableFuture<AbortMultipartUploadResponse> abortMultipartUpload(AbortMultipartUploadRequest request) {
        Uploads.Upload u = core.uploads().find(request.uploadId());
        if (u != null) {
            return pinned("AbortMultipartUpload", u, request.bucket(),
                    (c, b) -> c.abortMultipartUpload(request.toBuilder().bucket(b).build()))
                    .thenApply(done -> {
                        core.uploads().ended(request.uploadId());
                        return done;
                    });
        }
        return valueOf(write("AbortMultipartUpload", request.bucket(), request.key(), true, ResultWatermark.NONE,
                (c, b, region) -> c.abortMultipartUpload(request.toBuilder().bucket(b).build())));
    }

    @Override
    public CompletableFuture<ListPartsResponse> listParts(ListPartsRequest request) {
        Uploads.Upload u = core.uploads().find(request.uploadId());
        CompletableFuture<ListPartsResponse> r = u != null
                ? pinned("ListParts", u, request.bucket(), (c, b) -> c.listParts(request.toBuilder().bucket(b).build()))
                : valueOf(write("ListParts", request.bucket(), request.key(), true, ResultWatermark.NONE,
                        (c, b, region) -> c.listParts(request.toBuilder().bucket(b).build())));
        return r.thenApply(done -> done.toBuilder().bucket(request.bucket()).build());
    }

    @Override
    public CompletableFuture<ListMultipartUploadsResponse> listMultipartUploads(ListMultipartUploadsRequest request) {
        return valueOf(write("ListMultipartUploads", request.bucket(), null, true, ResultWatermark.NONE,
                (c, b, region) -> c.listMultipartUploads(request.toBuilder().bucket(b).build())))
                .thenApply(done -> done.toBuilder().bucket(request.bucket()).build());
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Client

    /** Returns a waiter whose polls go through this client. */
    @Override
    public S3AsyncWaiter waiter() {
        return S3AsyncWaiter.builder().client(this).build();
    }

    /** Returns the utilities of the local region's client (URLs it builds name physical buckets). */
    @Override
    public S3Utilities utilities() {
        return core.client(core.latitude().topology().localRegion().id()).utilities();
    }

    /** Returns the configuration of the local region's client. */
    @Override
    public S3ServiceClientConfiguration serviceClientConfiguration() {
        return core.client(core.latitude().topology().localRegion().id()).serviceClientConfiguration();
    }

    @Override
    public String serviceName() {
        return SERVICE_NAME;
    }

    /** Closes the engine and the clients the builder made (not those given to it); a view closes nothing. */
    @Override
    public void close() {
        if (!view) {
            core.close();
        }
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<CreateBucketResponse> createBucket(CreateBucketRequest request) {
        return refused("CreateBucket", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<CreateBucketMetadataConfigurationResponse> createBucketMetadataConfiguration(
            CreateBucketMetadataConfigurationRequest request) {
        return refused("CreateBucketMetadataConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<CreateBucketMetadataTableConfigurationResponse> createBucketMetadataTableConfiguration(
            CreateBucketMetadataTableConfigurationRequest request) {
        return refused("CreateBucketMetadataTableConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<CreateSessionResponse> createSession(CreateSessionRequest request) {
        return refused("CreateSession", MultiRegionS3Client.DIRECTORY_BUCKETS);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketResponse> deleteBucket(DeleteBucketRequest request) {
        return refused("DeleteBucket", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketAnalyticsConfigurationResponse> deleteBucketAnalyticsConfiguration(
            DeleteBucketAnalyticsConfigurationRequest request) {
        return refused("DeleteBucketAnalyticsConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketCorsResponse> deleteBucketCors(DeleteBucketCorsRequest request) {
        return refused("DeleteBucketCors", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketEncryptionResponse> deleteBucketEncryption(
            DeleteBucketEncryptionRequest request) {
        return refused("DeleteBucketEncryption", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketIntelligentTieringConfigurationResponse>
            deleteBucketIntelligentTieringConfiguration(
            DeleteBucketIntelligentTieringConfigurationRequest request) {
        return refused("DeleteBucketIntelligentTieringConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketInventoryConfigurationResponse> deleteBucketInventoryConfiguration(
            DeleteBucketInventoryConfigurationRequest request) {
        return refused("DeleteBucketInventoryConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketLifecycleResponse> deleteBucketLifecycle(
            DeleteBucketLifecycleRequest request) {
        return refused("DeleteBucketLifecycle", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketMetadataConfigurationResponse> deleteBucketMetadataConfiguration(
            DeleteBucketMetadataConfigurationRequest request) {
        return refused("DeleteBucketMetadataConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketMetadataTableConfigurationResponse> deleteBucketMetadataTableConfiguration(
            DeleteBucketMetadataTableConfigurationRequest request) {
        return refused("DeleteBucketMetadataTableConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketMetricsConfigurationResponse> deleteBucketMetricsConfiguration(
            DeleteBucketMetricsConfigurationRequest request) {
        return refused("DeleteBucketMetricsConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketOwnershipControlsResponse> deleteBucketOwnershipControls(
            DeleteBucketOwnershipControlsRequest request) {
        return refused("DeleteBucketOwnershipControls", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketPolicyResponse> deleteBucketPolicy(DeleteBucketPolicyRequest request) {
        return refused("DeleteBucketPolicy", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketReplicationResponse> deleteBucketReplication(
            DeleteBucketReplicationRequest request) {
        return refused("DeleteBucketReplication", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketTaggingResponse> deleteBucketTagging(DeleteBucketTaggingRequest request) {
        return refused("DeleteBucketTagging", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteBucketWebsiteResponse> deleteBucketWebsite(DeleteBucketWebsiteRequest request) {
        return refused("DeleteBucketWebsite", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeleteObjectAnnotationResponse> deleteObjectAnnotation(
            DeleteObjectAnnotationRequest request) {
        return refused("DeleteObjectAnnotation", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<DeletePublicAccessBlockResponse> deletePublicAccessBlock(
            DeletePublicAccessBlockRequest request) {
        return refused("DeletePublicAccessBlock", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketAbacResponse> getBucketAbac(GetBucketAbacRequest request) {
        return refused("GetBucketAbac", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketAccelerateConfigurationResponse> getBucketAccelerateConfiguration(
            GetBucketAccelerateConfigurationRequest request) {
        return refused("GetBucketAccelerateConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketAclResponse> getBucketAcl(GetBucketAclRequest request) {
        return refused("GetBucketAcl", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketAnalyticsConfigurationResponse> getBucketAnalyticsConfiguration(
            GetBucketAnalyticsConfigurationRequest request) {
        return refused("GetBucketAnalyticsConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketCorsResponse> getBucketCors(GetBucketCorsRequest request) {
        return refused("GetBucketCors", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketEncryptionResponse> getBucketEncryption(GetBucketEncryptionRequest request) {
        return refused("GetBucketEncryption", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketIntelligentTieringConfigurationResponse> getBucketIntelligentTieringConfiguration(
            GetBucketIntelligentTieringConfigurationRequest request) {
        return refused("GetBucketIntelligentTieringConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketInventoryConfigurationResponse> getBucketInventoryConfiguration(
            GetBucketInventoryConfigurationRequest request) {
        return refused("GetBucketInventoryConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketLifecycleConfigurationResponse> getBucketLifecycleConfiguration(
            GetBucketLifecycleConfigurationRequest request) {
        return refused("GetBucketLifecycleConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketLocationResponse> getBucketLocation(GetBucketLocationRequest request) {
        return refused("GetBucketLocation", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketLoggingResponse> getBucketLogging(GetBucketLoggingRequest request) {
        return refused("GetBucketLogging", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketMetadataConfigurationResponse> getBucketMetadataConfiguration(
            GetBucketMetadataConfigurationRequest request) {
        return refused("GetBucketMetadataConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketMetadataTableConfigurationResponse> getBucketMetadataTableConfiguration(
            GetBucketMetadataTableConfigurationRequest request) {
        return refused("GetBucketMetadataTableConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketMetricsConfigurationResponse> getBucketMetricsConfiguration(
            GetBucketMetricsConfigurationRequest request) {
        return refused("GetBucketMetricsConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketNotificationConfigurationResponse> getBucketNotificationConfiguration(
            GetBucketNotificationConfigurationRequest request) {
        return refused("GetBucketNotificationConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketOwnershipControlsResponse> getBucketOwnershipControls(
            GetBucketOwnershipControlsRequest request) {
        return refused("GetBucketOwnershipControls", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketPolicyResponse> getBucketPolicy(GetBucketPolicyRequest request) {
        return refused("GetBucketPolicy", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketPolicyStatusResponse> getBucketPolicyStatus(
            GetBucketPolicyStatusRequest request) {
        return refused("GetBucketPolicyStatus", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketReplicationResponse> getBucketReplication(GetBucketReplicationRequest request) {
        return refused("GetBucketReplication", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketRequestPaymentResponse> getBucketRequestPayment(
            GetBucketRequestPaymentRequest request) {
        return refused("GetBucketRequestPayment", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketTaggingResponse> getBucketTagging(GetBucketTaggingRequest request) {
        return refused("GetBucketTagging", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketVersioningResponse> getBucketVersioning(GetBucketVersioningRequest request) {
        return refused("GetBucketVersioning", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetBucketWebsiteResponse> getBucketWebsite(GetBucketWebsiteRequest request) {
        return refused("GetBucketWebsite", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public <ReturnT> CompletableFuture<ReturnT> getObjectAnnotation(
            GetObjectAnnotationRequest request,
            AsyncResponseTransformer<GetObjectAnnotationResponse, ReturnT> transformer) {
        return refused("GetObjectAnnotation", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetObjectLockConfigurationResponse> getObjectLockConfiguration(
            GetObjectLockConfigurationRequest request) {
        return refused("GetObjectLockConfiguration", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public <ReturnT> CompletableFuture<ReturnT> getObjectTorrent(
            GetObjectTorrentRequest request, AsyncResponseTransformer<GetObjectTorrentResponse, ReturnT> transformer) {
        return refused("GetObjectTorrent", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<GetPublicAccessBlockResponse> getPublicAccessBlock(GetPublicAccessBlockRequest request) {
        return refused("GetPublicAccessBlock", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<ListBucketAnalyticsConfigurationsResponse> listBucketAnalyticsConfigurations(
            ListBucketAnalyticsConfigurationsRequest request) {
        return refused("ListBucketAnalyticsConfigurations", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<ListBucketIntelligentTieringConfigurationsResponse>
            listBucketIntelligentTieringConfigurations(
            ListBucketIntelligentTieringConfigurationsRequest request) {
        return refused("ListBucketIntelligentTieringConfigurations", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<ListBucketInventoryConfigurationsResponse> listBucketInventoryConfigurations(
            ListBucketInventoryConfigurationsRequest request) {
        return refused("ListBucketInventoryConfigurations", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<ListBucketMetricsConfigurationsResponse> listBucketMetricsConfigurations(
            ListBucketMetricsConfigurationsRequest request) {
        return refused("ListBucketMetricsConfigurations", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<ListBucketsResponse> listBuckets(ListBucketsRequest request) {
        return refused("ListBuckets", MultiRegionS3Client.ACCOUNT_LISTING);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<ListDirectoryBucketsResponse> listDirectoryBuckets(ListDirectoryBucketsRequest request) {
        return refused("ListDirectoryBuckets", MultiRegionS3Client.ACCOUNT_LISTING);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<ListObjectAnnotationsResponse> listObjectAnnotations(
            ListObjectAnnotationsRequest request) {
        return refused("ListObjectAnnotations", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketAbacResponse> putBucketAbac(PutBucketAbacRequest request) {
        return refused("PutBucketAbac", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketAccelerateConfigurationResponse> putBucketAccelerateConfiguration(
            PutBucketAccelerateConfigurationRequest request) {
        return refused("PutBucketAccelerateConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketAclResponse> putBucketAcl(PutBucketAclRequest request) {
        return refused("PutBucketAcl", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketAnalyticsConfigurationResponse> putBucketAnalyticsConfiguration(
            PutBucketAnalyticsConfigurationRequest request) {
        return refused("PutBucketAnalyticsConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketCorsResponse> putBucketCors(PutBucketCorsRequest request) {
        return refused("PutBucketCors", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketEncryptionResponse> putBucketEncryption(PutBucketEncryptionRequest request) {
        return refused("PutBucketEncryption", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketIntelligentTieringConfigurationResponse> putBucketIntelligentTieringConfiguration(
            PutBucketIntelligentTieringConfigurationRequest request) {
        return refused("PutBucketIntelligentTieringConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketInventoryConfigurationResponse> putBucketInventoryConfiguration(
            PutBucketInventoryConfigurationRequest request) {
        return refused("PutBucketInventoryConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketLifecycleConfigurationResponse> putBucketLifecycleConfiguration(
            PutBucketLifecycleConfigurationRequest request) {
        return refused("PutBucketLifecycleConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketLoggingResponse> putBucketLogging(PutBucketLoggingRequest request) {
        return refused("PutBucketLogging", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketMetricsConfigurationResponse> putBucketMetricsConfiguration(
            PutBucketMetricsConfigurationRequest request) {
        return refused("PutBucketMetricsConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketNotificationConfigurationResponse> putBucketNotificationConfiguration(
            PutBucketNotificationConfigurationRequest request) {
        return refused("PutBucketNotificationConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketOwnershipControlsResponse> putBucketOwnershipControls(
            PutBucketOwnershipControlsRequest request) {
        return refused("PutBucketOwnershipControls", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketPolicyResponse> putBucketPolicy(PutBucketPolicyRequest request) {
        return refused("PutBucketPolicy", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketReplicationResponse> putBucketReplication(PutBucketReplicationRequest request) {
        return refused("PutBucketReplication", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketRequestPaymentResponse> putBucketRequestPayment(
            PutBucketRequestPaymentRequest request) {
        return refused("PutBucketRequestPayment", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketTaggingResponse> putBucketTagging(PutBucketTaggingRequest request) {
        return refused("PutBucketTagging", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketVersioningResponse> putBucketVersioning(PutBucketVersioningRequest request) {
        return refused("PutBucketVersioning", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutBucketWebsiteResponse> putBucketWebsite(PutBucketWebsiteRequest request) {
        return refused("PutBucketWebsite", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutObjectAclResponse> putObjectAcl(PutObjectAclRequest request) {
        return refused("PutObjectAcl", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutObjectAnnotationResponse> putObjectAnnotation(
            PutObjectAnnotationRequest request, AsyncRequestBody body) {
        return refused("PutObjectAnnotation", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutObjectLegalHoldResponse> putObjectLegalHold(PutObjectLegalHoldRequest request) {
        return refused("PutObjectLegalHold", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutObjectLockConfigurationResponse> putObjectLockConfiguration(
            PutObjectLockConfigurationRequest request) {
        return refused("PutObjectLockConfiguration", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutObjectRetentionResponse> putObjectRetention(PutObjectRetentionRequest request) {
        return refused("PutObjectRetention", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<PutPublicAccessBlockResponse> putPublicAccessBlock(PutPublicAccessBlockRequest request) {
        return refused("PutPublicAccessBlock", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<RenameObjectResponse> renameObject(RenameObjectRequest request) {
        return refused("RenameObject", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<RestoreObjectResponse> restoreObject(RestoreObjectRequest request) {
        return refused("RestoreObject", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<java.lang.Void> selectObjectContent(
            SelectObjectContentRequest request, SelectObjectContentResponseHandler handler) {
        return refused("SelectObjectContent", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<UpdateBucketMetadataAnnotationTableConfigurationResponse>
            updateBucketMetadataAnnotationTableConfiguration(
            UpdateBucketMetadataAnnotationTableConfigurationRequest request) {
        return refused("UpdateBucketMetadataAnnotationTableConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<UpdateBucketMetadataInventoryTableConfigurationResponse>
            updateBucketMetadataInventoryTableConfiguration(
            UpdateBucketMetadataInventoryTableConfigurationRequest request) {
        return refused("UpdateBucketMetadataInventoryTableConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<UpdateBucketMetadataJournalTableConfigurationResponse>
            updateBucketMetadataJournalTableConfiguration(
            UpdateBucketMetadataJournalTableConfigurationRequest request) {
        return refused("UpdateBucketMetadataJournalTableConfiguration", MultiRegionS3Client.BUCKET_CONFIGURATION);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<UpdateObjectEncryptionResponse> updateObjectEncryption(
            UpdateObjectEncryptionRequest request) {
        return refused("UpdateObjectEncryption", MultiRegionS3Client.NOT_ROUTED);
    }

    /** Not supported: fails with {@link UnroutableS3RequestException} (see MultiRegionS3Client, "Not supported"). */
    @Override
    public CompletableFuture<WriteGetObjectResponseResponse> writeGetObjectResponse(
            WriteGetObjectResponseRequest request, AsyncRequestBody body) {
        return refused("WriteGetObjectResponse", MultiRegionS3Client.NOT_ROUTED);
    }

    /**
     * Builds a {@link MultiRegionS3AsyncClient}; see {@link MultiRegionS3Builder} for the settings.
     */
    public static final class Builder extends MultiRegionS3Builder<Builder, S3AsyncClient> {
        private Builder() {
        }

        @Override
        Builder self() {
            return this;
        }

        /**
         * Lets this builder make the client of every region not given one with {@code regionClient}: {@code
         * S3AsyncClient.builder()} with the region, then {@code settings} (credentials, HTTP client, endpoint, S3 options),
         * then, where those left them unset, Latitude's: {@link MultiRegionS3Client#failoverRetryStrategy()} and a
         * scheduled executor on a timer wheel that arms and cancels the request timeouts Latitude sets at next to no
         * cost (the SDK's default executor wakes a thread twice per request for them). The clients are closed with this one. Prefer it to
         * {@link #regionClients}: the same settings, without having to remember Latitude's.
         *
         * <pre>{@code .buildClients(b -> b.credentialsProvider(credentials))}</pre>
         *
         * @param settings applied to each region's builder
         * @return this builder
         */
        public Builder buildClients(Consumer<S3AsyncClientBuilder> settings) {
            Objects.requireNonNull(settings, "settings");
            return buildClients((region, b) -> settings.accept(b));
        }

        /**
         * Like {@link #buildClients(Consumer)}, with settings that depend on the region (an endpoint, credentials or
         * a proxy per region).
         *
         * @param settings given each region's id and builder
         * @return this builder
         */
        public Builder buildClients(BiConsumer<String, S3AsyncClientBuilder> settings) {
            Objects.requireNonNull(settings, "settings");
            return maker((region, defaults) -> defaults.make(S3AsyncClient.builder(), region, settings));
        }

        /**
         * Builds the client and its routing engine.
         *
         * @return the client
         * @throws dev.latitude.LatitudeConfigException if a setting is missing or does not fit the topology
         */
        public MultiRegionS3AsyncClient build() {
            return new MultiRegionS3AsyncClient(core(client -> bucket -> client.headBucket(b -> b.bucket(bucket)),
                    () -> { }, false), false);
        }
    }
}
