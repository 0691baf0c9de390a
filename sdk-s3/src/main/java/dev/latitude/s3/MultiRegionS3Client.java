package dev.latitude.s3;

import dev.latitude.ConsistencyLevel;
import dev.latitude.FailureKind;
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
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.AwsRequest;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ServiceClientConfiguration;
import software.amazon.awssdk.services.s3.S3Utilities;
import software.amazon.awssdk.services.s3.model.*;
import software.amazon.awssdk.services.s3.waiters.S3Waiter;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * An {@link S3Client} over one S3 client per region, for buckets linked by S3 replication (direct mode): existing code
 * changes only where the client is built, and every routed call goes through Latitude's pipeline (plan, execute with
 * fallback, verify, record). The application uses logical bucket names; each maps to a physical bucket per region.
 *
 * <pre>{@code
 * S3Client s3 = MultiRegionS3Client.builder()
 *         .topology(topology)                           // regions, roles, jurisdictions, the local region
 *         .bucket("photos", Map.of("us-east-1", "photos-use1", "eu-west-1", "photos-euw1"))
 *         .buildClients(b -> b.credentialsProvider(credentials))   // one S3Client per region, made by Latitude
 *         .build();
 * s3.putObject(b -> b.bucket("photos").key("cat.jpg"), RequestBody.fromFile(cat)); // to the writer's bucket
 * s3.getObjectAsBytes(b -> b.bucket("photos").key("cat.jpg"));                    // the nearest bucket that has it
 * }</pre>
 *
 * <h2>Routing</h2>
 * <ul>
 *   <li>Reads (GetObject, HeadObject, GetObjectTagging, GetObjectAttributes, GetObjectAcl, GetObjectRetention,
 *       GetObjectLegalHold, ListObjectsV2, ListObjects, ListObjectVersions, HeadBucket) go by the read plan over the
 *       regions' buckets, with fallback; the bucket's data policy gives the consistency level.</li>
 *   <li>Writes (PutObject, CopyObject, DeleteObject, DeleteObjects, PutObjectTagging, DeleteObjectTagging,
 *       CreateMultipartUpload) go to the writer region's bucket, or the best region's bucket when the bucket's
 *       policy is {@code MULTI_WRITER} (bidirectional replication). A write with a condition ({@code If-Match},
 *       {@code If-None-Match}) or that creates an upload is never sent to a second region after an ambiguous
 *       failure.</li>
 *   <li>A multipart upload stays as a whole on the bucket that created it: UploadPart, UploadPartCopy, ListParts,
 *       CompleteMultipartUpload and AbortMultipartUpload of an upload this client created go straight to that
 *       region's client (an upload exists in one bucket only; they do not fail over and are not traced). Those of an
 *       upload it does not know, and ListMultipartUploads, go to the writer.</li>
 *   <li>Paginators and waiters are built on this client, so every page and poll is routed too.</li>
 * </ul>
 * Responses that name the bucket (listings, multipart responses) name the logical bucket.
 *
 * <h2>Bodies</h2>
 * Bodies are never copied. A request body that cannot be read twice ({@code RequestBody.fromInputStream}, a custom
 * provider) is never sent to a second region once the first has read it: such a write fails with
 * {@link BodyNotReplayableException} instead of moving on (bodies from bytes, strings and files can move). A
 * GetObject is routed until its response headers arrive; the body is then the caller's, and a body stream that
 * fails midway is the caller's to retry (with a {@code Range} from where it stopped, if it likes).
 *
 * <h2>Read-your-writes</h2>
 * Writes carry a hybrid-logical-clock stamp in user metadata ({@code x-amz-meta-latitude-stamp},
 * {@link Builder#stampMetadata(String)}); the session in effect ({@link #withSession(Session)}, or the OpenTelemetry
 * context) records it for the key, in the same {@link dev.latitude.SessionToken} as the DynamoDB and JDBC adapters.
 * A SESSION GetObject or HeadObject answered by a replica is checked against it: an older stamp, no stamp, or
 * {@code NoSuchKey} sends the read to the region that took the write. Deletes are recorded the same way, so a replica
 * still holding a deleted object is recognised as stale and no later read brings it back. CopyObject gets a fresh
 * stamp too: with the default {@code COPY} directive the source's metadata and content headers are read in the same
 * region and sent with {@code REPLACE}. Tagging writes are recorded for the key (the object's stamp does not change),
 * so the session's next reads of that key go to the region that took them. Reads that carry no stamp (tagging,
 * listings) use a replica only when the session has not written that key (or bucket), else the writer.
 *
 * <h2>Errors</h2>
 * See {@link S3ErrorClassifier}: the caller's errors ({@code AccessDenied}, {@code PreconditionFailed},
 * {@code InvalidRange}, {@code NoSuchKey} as the answer, {@code NoSuchBucket} of a writer) are thrown as they are;
 * {@code SlowDown}, 5xx, timeouts and resets move the call on where that is safe. When every allowed region failed, the
 * call ends in {@link dev.latitude.RegionsUnavailableException}; an ambiguous failure of a write that must not be
 * repeated ends in {@link dev.latitude.AmbiguousWriteException}; a bucket pinned to jurisdictions with no region left
 * there ends in {@link dev.latitude.ResidencyException}.
 *
 * <h2>Not supported</h2>
 * Bucket configuration and bucket lifecycle (CreateBucket, PutBucketPolicy, GetBucketVersioning, … — each physical
 * bucket has its own), account listings (ListBuckets), S3 Express sessions, and object operations Latitude does not
 * route (PutObjectAcl, retention and legal-hold writes, RestoreObject, RenameObject, annotations, torrents,
 * WriteGetObjectResponse) throw {@link UnroutableS3RequestException} naming the operation and the reason; call the
 * region's own client ({@link #regionClient(String)}) for them.
 *
 * <p>The non-blocking twin is {@link MultiRegionS3AsyncClient}; details in {@code docs/S3.md}.
 */
public final class MultiRegionS3Client implements S3Client {
    private static final Logger LOG = LoggerFactory.getLogger(MultiRegionS3Client.class);
    /** The constructor of the proxy class that bounds each region request (looked up once, not per attempt). */
    private static final Constructor<?> BOUNDED_PROXY = boundedProxyConstructor();
    static final String BUCKET_CONFIGURATION = "each physical bucket has its own configuration, and Latitude does not"
            + " create, delete or configure buckets; call the region's own client (regionClient(region))";
    static final String ACCOUNT_LISTING = "it lists an account's buckets in one region, not a logical bucket; call the"
            + " region's own client (regionClient(region))";
    static final String DIRECTORY_BUCKETS = "S3 Express One Zone directory buckets live in one zone and are not"
            + " replicated; call the region's own client (regionClient(region))";
    static final String NOT_ROUTED = "Latitude does not route this object operation; call the region's own client"
            + " (regionClient(region)) for the bucket that should take it";

    private final S3Core<S3Client> core;
    private final boolean view;

    private static Constructor<?> boundedProxyConstructor() {
        Object sample = Proxy.newProxyInstance(S3Client.class.getClassLoader(), new Class<?>[] {S3Client.class},
                (proxy, method, args) -> null);
        try {
            return sample.getClass().getConstructor(InvocationHandler.class);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private MultiRegionS3Client(S3Core<S3Client> core, boolean view) {
        this.core = core;
        this.view = view;
    }

    /** Starts a builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the retry strategy for region clients that keeps failover fast: {@code SlowDown} (and other throttling,
     * never applied) is repeated once in the same region after 25-100 ms; every other failure goes straight back to
     * Latitude, which moves the call on or, for a write that may have been applied, stops. The SDK's default would
     * hold a failing region's calls for several attempts with back-off.
     *
     * @return the strategy, for {@code overrideConfiguration(o -> o.retryStrategy(...))}
     */
    public static RetryStrategy failoverRetryStrategy() {
        return MultiRegionS3Builder.failoverRetryStrategy();
    }

    /**
     * Returns a view of this client whose calls use {@code session} instead of the one in the OpenTelemetry context.
     * The view shares everything with this client; closing it does nothing.
     *
     * @param session the session
     * @return the view
     */
    public MultiRegionS3Client withSession(Session session) {
        return new MultiRegionS3Client(core.with(Objects.requireNonNull(session, "session"), null), true);
    }

    /**
     * Returns a view of this client whose reads use {@code level} instead of their bucket's consistency level;
     * residency is never relaxed and writes are unchanged. Closing the view does nothing.
     *
     * @param level the consistency level
     * @return the view
     */
    public MultiRegionS3Client withConsistency(ConsistencyLevel level) {
        return new MultiRegionS3Client(core.with(null, Objects.requireNonNull(level, "consistency")), true);
    }

    /**
     * Returns the client of one region, for what this client does not route (bucket configuration) or for a caller
     * that knows which physical bucket it wants.
     *
     * @param regionId a region of the topology
     * @return its client
     * @throws dev.latitude.LatitudeConfigException if the region is not in the topology
     */
    public S3Client regionClient(String regionId) {
        S3Client c = core.client(regionId);
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
    public <ReturnT> ReturnT getObject(GetObjectRequest request,
            ResponseTransformer<GetObjectResponse, ReturnT> transformer) {
        OpenStreams<OpenBody> streams = new OpenStreams<>(OpenBody::abort);
        OpenBody in;
        try {
            in = readObject("GetObject", request.bucket(), request.key(),
                    (c, b) -> streams.opened(c.getObject(request.toBuilder().bucket(b).build(), OpenBody.KEEP_OPEN)),
                    s -> s.response().metadata());
        } catch (RuntimeException e) {
            streams.settle(null);
            throw e;
        }
        streams.settle(in);
        return transform(in, transformer);
    }

    /**
     * A GetObject answer whose body is still unread: what the SDK hands a response transformer, kept open so the
     * answer can be checked (and a stale replica's given up) before the caller's transformer reads it. Not the SDK's
     * {@code ResponseInputStream}: each of those arms a 60 s abort timer on a shared executor that keeps it queued,
     * cancelled or not, for the whole 60 s.
     */
    private record OpenBody(GetObjectResponse response, AbortableInputStream body) {
        static final ResponseTransformer<GetObjectResponse, OpenBody> KEEP_OPEN =
                ResponseTransformer.unmanaged(OpenBody::new);

        /** Drops the connection and closes the stream, as the SDK's {@code ResponseInputStream.abort()} does. */
        void abort() {
            body.abort();
            try {
                body.close();
            } catch (java.io.IOException | RuntimeException e) {
                // the connection is dropped already; nothing is left to release
            }
        }
    }

    /**
     * Hands the winning response to the caller's transformer, as the SDK does: after a transformer that succeeded the
     * stream is closed (a connection read to the end goes back to its pool), after one that failed it is aborted (the
     * connection is dropped); a transformer that keeps the stream open owns it.
     */
    private static <R> R transform(OpenBody in, ResponseTransformer<GetObjectResponse, R> transformer) {
        boolean keep = false;
        boolean succeeded = false;
        try {
            R result = transformer.transform(in.response(), in.body());
            keep = transformer.needsConnectionLeftOpen();
            succeeded = true;
            return result;
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw SdkClientException.create("the GetObject response transformer failed: " + e.getMessage(), e);
        } finally {
            if (!succeeded) {
                in.abort();
            } else if (!keep) {
                closeQuietly(in);
            }
        }
    }

    private static void closeQuietly(OpenBody in) {
        try {
            in.body().close();
        } catch (java.io.IOException | RuntimeException e) {
            in.body().abort(); // the connection cannot be reused; drop it
        }
    }

    @Override
    public HeadObjectResponse headObject(HeadObjectRequest request) {
        return readObject("HeadObject", request.bucket(), request.key(),
                (c, b) -> c.headObject(request.toBuilder().bucket(b).build()), HeadObjectResponse::metadata);
    }

    @Override
    public GetObjectTaggingResponse getObjectTagging(GetObjectTaggingRequest request) {
        return read("GetObjectTagging", request.bucket(), request.key(),
                (c, b) -> c.getObjectTagging(request.toBuilder().bucket(b).build()));
    }

    @Override
    public GetObjectAttributesResponse getObjectAttributes(GetObjectAttributesRequest request) {
        return read("GetObjectAttributes", request.bucket(), request.key(),
                (c, b) -> c.getObjectAttributes(request.toBuilder().bucket(b).build()));
    }

    @Override
    public GetObjectAclResponse getObjectAcl(GetObjectAclRequest request) {
        return read("GetObjectAcl", request.bucket(), request.key(),
                (c, b) -> c.getObjectAcl(request.toBuilder().bucket(b).build()));
    }

    @Override
    public GetObjectRetentionResponse getObjectRetention(GetObjectRetentionRequest request) {
        return read("GetObjectRetention", request.bucket(), request.key(),
                (c, b) -> c.getObjectRetention(request.toBuilder().bucket(b).build()));
    }

    @Override
    public GetObjectLegalHoldResponse getObjectLegalHold(GetObjectLegalHoldRequest request) {
        return read("GetObjectLegalHold", request.bucket(), request.key(),
                (c, b) -> c.getObjectLegalHold(request.toBuilder().bucket(b).build()));
    }

    @Override
    public ListObjectsV2Response listObjectsV2(ListObjectsV2Request request) {
        return read("ListObjectsV2", request.bucket(), null,
                (c, b) -> c.listObjectsV2(request.toBuilder().bucket(b).build()))
                .toBuilder().name(request.bucket()).build();
    }

    @Override
    public ListObjectsResponse listObjects(ListObjectsRequest request) {
        return read("ListObjects", request.bucket(), null,
                (c, b) -> c.listObjects(request.toBuilder().bucket(b).build()))
                .toBuilder().name(request.bucket()).build();
    }

    @Override
    public ListObjectVersionsResponse listObjectVersions(ListObjectVersionsRequest request) {
        return read("ListObjectVersions", request.bucket(), null,
                (c, b) -> c.listObjectVersions(request.toBuilder().bucket(b).build()))
                .toBuilder().name(request.bucket()).build();
    }

    @Override
    public HeadBucketResponse headBucket(HeadBucketRequest request) {
        return read("HeadBucket", request.bucket(), null,
                (c, b) -> c.headBucket(request.toBuilder().bucket(b).build()));
    }

    /** A read whose answer carries the object's stamp, so a replica's answer can be checked against the session. */
    private <R> R readObject(String name, String bucket, String key, BiFunction<S3Client, String, R> call,
            Function<R, Map<String, String>> metadata) {
        Answer<R> viaAccessPoint = viaAccessPoint(name, bucket, key, call, metadata);
        if (viaAccessPoint != null) {
            return viaAccessPoint.valueOrThrow();
        }
        Operation op = core.read(name, bucket, key);
        BiFunction<AwsRequest, String, AwsRequest> bound = core.timeouts().bounding(op, Thread.currentThread());
        Answer<R> a = core.latitude().execute(op, region -> attempt(name, bucket, region, bound, call),
                ans -> core.watermark(ans, ans.value() == null ? Map.of() : metadata.apply(ans.value())));
        return a.valueOrThrow();
    }

    /** A read whose answer carries no stamp: a replica serves a SESSION read only if it provably can. */
    private <R> R read(String name, String bucket, String key, BiFunction<S3Client, String, R> call) {
        Answer<R> viaAccessPoint = viaAccessPoint(name, bucket, key, call, null);
        if (viaAccessPoint != null) {
            return viaAccessPoint.valueOrThrow();
        }
        Operation op = core.read(name, bucket, key);
        BiFunction<AwsRequest, String, AwsRequest> bound = core.timeouts().bounding(op, Thread.currentThread());
        return core.latitude().execute(op, region -> attempt(name, bucket, region, bound, call)).valueOrThrow();
    }

    /**
     * MRAP mode: sends a read to the bucket's access point through the local region's client. Returns the answer, or
     * {@code null} when the buckets must answer directly: not in MRAP mode, a consistency the access point cannot
     * give, a session requirement with no stamp to check the answer by ({@code metadata} null), an answer older than
     * the session's write or a 404 of a key it wrote, or a failure other than the caller's own.
     */
    private <R> Answer<R> viaAccessPoint(String name, String bucket, String key, BiFunction<S3Client, String, R> call,
            Function<R, Map<String, String>> metadata) {
        MultiRegionAccessPoint mrap = core.accessPoint(bucket);
        if (mrap == null || !core.accessPointMayAnswer(bucket)) {
            return null;
        }
        Watermark required = core.requirement(bucket, key);
        if (required != null && metadata == null) {
            return null;
        }
        Span span = core.startSpan(name, bucket, key, null, mrap.arn());
        String outcome = "answered";
        Answer<R> a = null;
        try (Scope ignored = span.makeCurrent()) {
            a = new Answer<>(core.accessPoints().call(() -> call.apply(core.localClient(), mrap.arn())), null, null);
        } catch (TimeoutException e) {
            LOG.debug("{} did not answer within the attempt timeout; reading the buckets behind it", mrap.arn());
            outcome = "timeout";
        } catch (SdkException e) {
            if (S3Core.isMissingKey(e)) {
                a = new Answer<>(null, (S3Exception) e, null);
            } else if (S3ErrorClassifier.create().classify(e) == FailureKind.CALLER) {
                span.setAttribute(S3Core.ACCESS_POINT_OUTCOME, outcome);
                S3Core.end(span, e);
                throw e;
            } else {
                LOG.debug("{} failed; reading the buckets behind it directly", mrap.arn(), e);
                outcome = "failed";
            }
        }
        if (a != null && required != null && core.watermark(a, a.value() == null ? Map.of()
                : metadata.apply(a.value())) < required.value()) {
            outcome = a.value() == null ? "missing" : "stale"; // the bucket that took the session's write answers
            a = null;
        }
        span.setAttribute(S3Core.ACCESS_POINT_OUTCOME, outcome);
        S3Core.end(span, null);
        return a;
    }

    private <R> Answer<R> attempt(String name, String bucket, RegionSpec region,
            BiFunction<AwsRequest, String, AwsRequest> bound, BiFunction<S3Client, String, R> call) {
        String physical = core.buckets().physical(name, bucket, region.id());
        try {
            return new Answer<>(call.apply(bounded(region.id(), bound), physical), null, region.id());
        } catch (S3Exception e) {
            Answer<R> missing = core.answerOf(e, bucket, region);
            if (missing == null) {
                throw e;
            }
            return missing;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Writes

    /** One attempt of a write in one region: the client, the physical bucket there, and the region. */
    @FunctionalInterface
    private interface WriteCall<R> {
        R call(S3Client client, String physicalBucket, RegionSpec region);
    }

    /** Runs a write; {@code stamp} is what the session records for the key ({@code NONE}: nothing). */
    private <R> Answer<R> write(String name, String bucket, String key, boolean idempotent, long stamp,
            WriteCall<R> call) {
        Operation op = core.write(name, bucket, key, idempotent);
        // Cut only at the deadline, even on the caller: an upload may rightly take longer than the attempt timeout.
        BiFunction<AwsRequest, String, AwsRequest> bound = core.timeouts().bounding(op, null);
        return core.latitude().execute(op, region -> new Answer<>(
                call.call(bounded(region.id(), bound), core.buckets().physical(name, bucket, region.id()), region),
                null, region.id()), a -> stamp);
    }

    /**
     * Returns the client of {@code region} as one attempt must use it: every request it is given is first made to end
     * by itself ({@code bound}: at the attempt timeout when the attempt runs on the caller and the call could move,
     * else at what is left of the deadline; see {@link dev.latitude.aws.AttemptTimeouts}), so the caller is never
     * held past the moment the engine moves on. A proxy rather than a change at each call site: every S3 operation
     * takes its request first.
     */
    private S3Client bounded(String region, BiFunction<AwsRequest, String, AwsRequest> bound) {
        S3Client client = core.client(region);
        InvocationHandler handler = (proxy, method, args) -> {
            if (args != null && args.length > 0 && args[0] instanceof AwsRequest request) {
                args[0] = bound.apply(request, region);
            }
            try {
                return method.invoke(client, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        try {
            return (S3Client) BOUNDED_PROXY.newInstance(handler);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make the request-bounding view of the S3 client", e);
        }
    }

    @Override
    public PutObjectResponse putObject(PutObjectRequest request, RequestBody body) {
        long stamp = core.newStamp();
        PutObjectRequest stamped = request.toBuilder().metadata(core.stamped(request.metadata(), stamp)).build();
        BodyGuard guard = BodyGuard.of("PutObject", body);
        return write("PutObject", request.bucket(), request.key(),
                request.ifMatch() == null && request.ifNoneMatch() == null, stamp,
                (c, b, region) -> c.putObject(stamped.toBuilder().bucket(b).build(), guard.wrap(body, region.id())))
                .valueOrThrow();
    }

    @Override
    public CopyObjectResponse copyObject(CopyObjectRequest request) {
        String source = sourceBucket("CopyObject", request.sourceBucket());
        long stamp = core.newStamp();
        boolean unconditional = request.ifMatch() == null && request.ifNoneMatch() == null;
        return write("CopyObject", request.destinationBucket(), request.destinationKey(), unconditional, stamp,
                (c, b, region) -> {
                    String src = core.buckets().physical("CopyObject", source, region.id());
                    CopyObjectRequest.Builder copy = request.toBuilder().sourceBucket(src).destinationBucket(b)
                            .metadataDirective(MetadataDirective.REPLACE);
                    if (request.metadataDirective() == MetadataDirective.REPLACE) {
                        copy.metadata(core.stamped(request.metadata(), stamp));
                    } else {
                        // S3 cannot add one metadata entry to a copy: read the source's in the same region and send
                        // them all with the new stamp, as COPY would have kept them.
                        HeadObjectResponse h = c.headObject(HeadObjectRequest.builder().bucket(src)
                                .key(request.sourceKey()).versionId(request.sourceVersionId())
                                .sseCustomerAlgorithm(request.copySourceSSECustomerAlgorithm())
                                .sseCustomerKey(request.copySourceSSECustomerKey())
                                .sseCustomerKeyMD5(request.copySourceSSECustomerKeyMD5()).build());
                        copy.metadata(core.stamped(h.metadata(), stamp)).contentType(h.contentType())
                                .contentEncoding(h.contentEncoding()).contentDisposition(h.contentDisposition())
                                .contentLanguage(h.contentLanguage()).cacheControl(h.cacheControl())
                                .expires(h.expires()).websiteRedirectLocation(h.websiteRedirectLocation());
                    }
                    return c.copyObject(copy.build());
                }).valueOrThrow();
    }

    private String sourceBucket(String name, String sourceBucket) {
        if (sourceBucket == null) {
            throw new UnroutableS3RequestException(name, "the source is not given as sourceBucket and sourceKey; give"
                    + " them (the deprecated copySource string is not routed)");
        }
        return core.buckets().require(name, sourceBucket);
    }

    @Override
    public DeleteObjectResponse deleteObject(DeleteObjectRequest request) {
        return write("DeleteObject", request.bucket(), request.key(), request.ifMatch() == null, core.newStamp(),
                (c, b, region) -> c.deleteObject(request.toBuilder().bucket(b).build())).valueOrThrow();
    }

    @Override
    public DeleteObjectsResponse deleteObjects(DeleteObjectsRequest request) {
        long stamp = core.newStamp();
        Answer<DeleteObjectsResponse> a = write("DeleteObjects", request.bucket(), null, true, ResultWatermark.NONE,
                (c, b, region) -> c.deleteObjects(request.toBuilder().bucket(b).build()));
        // One call, many keys: each deleted key is recorded on its own, so only those keys' reads are checked.
        for (DeletedObject d : a.value().deleted()) {
            core.recordWrite(request.bucket(), d.key(), stamp, a.region());
        }
        return a.value();
    }

    @Override
    public PutObjectTaggingResponse putObjectTagging(PutObjectTaggingRequest request) {
        return write("PutObjectTagging", request.bucket(), request.key(), true, core.newStamp(),
                (c, b, region) -> c.putObjectTagging(request.toBuilder().bucket(b).build())).valueOrThrow();
    }

    @Override
    public DeleteObjectTaggingResponse deleteObjectTagging(DeleteObjectTaggingRequest request) {
        return write("DeleteObjectTagging", request.bucket(), request.key(), true, core.newStamp(),
                (c, b, region) -> c.deleteObjectTagging(request.toBuilder().bucket(b).build())).valueOrThrow();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Multipart uploads: created by the engine's write plan, then pinned to the region that created them.

    @Override
    public CreateMultipartUploadResponse createMultipartUpload(CreateMultipartUploadRequest request) {
        long stamp = core.newStamp();
        CreateMultipartUploadRequest stamped = request.toBuilder()
                .metadata(core.stamped(request.metadata(), stamp)).build();
        Answer<CreateMultipartUploadResponse> a = write("CreateMultipartUpload", request.bucket(), request.key(),
                false, ResultWatermark.NONE,
                (c, b, region) -> c.createMultipartUpload(stamped.toBuilder().bucket(b).build()));
        core.uploads().created(a.value().uploadId(),
                new Uploads.Upload(a.region(), request.bucket(), request.key(), stamp));
        return a.value().toBuilder().bucket(request.bucket()).build();
    }

    /**
     * Sends a call of an open multipart upload to the region that created it (the upload exists only there), in a span
     * of its own since the engine does not run it.
     */
    private <R> R pinned(String name, Uploads.Upload u, String bucket, BiFunction<S3Client, String, R> call) {
        Span span = core.startSpan(name, bucket, u.key(), u.region(), null);
        try (Scope ignored = span.makeCurrent()) {
            R r = call.apply(core.client(u.region()), core.buckets().physical(name, bucket, u.region()));
            S3Core.end(span, null);
            return r;
        } catch (RuntimeException e) {
            S3Core.end(span, e);
            throw e;
        }
    }

    @Override
    public UploadPartResponse uploadPart(UploadPartRequest request, RequestBody body) {
        Uploads.Upload u = core.uploads().find(request.uploadId());
        if (u != null) {
            return pinned("UploadPart", u, request.bucket(),
                    (c, b) -> c.uploadPart(request.toBuilder().bucket(b).build(), body));
        }
        BodyGuard guard = BodyGuard.of("UploadPart", body);
        return write("UploadPart", request.bucket(), request.key(), true, ResultWatermark.NONE,
                (c, b, region) -> c.uploadPart(request.toBuilder().bucket(b).build(), guard.wrap(body, region.id())))
                .valueOrThrow();
    }

    @Override
    public UploadPartCopyResponse uploadPartCopy(UploadPartCopyRequest request) {
        String source = sourceBucket("UploadPartCopy", request.sourceBucket());
        Uploads.Upload u = core.uploads().find(request.uploadId());
        if (u != null) {
            return pinned("UploadPartCopy", u, request.destinationBucket(), (c, b) -> c.uploadPartCopy(
                    request.toBuilder().sourceBucket(core.buckets().physical("UploadPartCopy", source, u.region()))
                            .destinationBucket(b).build()));
        }
        return write("UploadPartCopy", request.destinationBucket(), request.destinationKey(), true,
                ResultWatermark.NONE, (c, b, region) -> c.uploadPartCopy(request.toBuilder()
                        .sourceBucket(core.buckets().physical("UploadPartCopy", source, region.id()))
                        .destinationBucket(b).build())).valueOrThrow();
    }

    @Override
    public CompleteMultipartUploadResponse completeMultipartUpload(CompleteMultipartUploadRequest request) {
        Uploads.Upload u = core.uploads().find(request.uploadId());
        CompleteMultipartUploadResponse r;
        if (u != null) {
            r = pinned("CompleteMultipartUpload", u, request.bucket(),
                    (c, b) -> c.completeMultipartUpload(request.toBuilder().bucket(b).build()));
            core.uploads().ended(request.uploadId());
            core.recordWrite(u.bucket(), u.key(), u.stamp(), u.region());
        } else {
            r = write("CompleteMultipartUpload", request.bucket(), request.key(), false, ResultWatermark.NONE,
                    (c, b, region) -> c.completeMultipartUpload(request.toBuilder().bucket(b).build()))
                    .valueOrThrow();
        }
        return r.toBuilder().bucket(request.bucket()).build();
    }

    @Override
    public AbortMultipartUploadResponse abortMultipartUpload(AbortMultipartUploadRequest request) {
        Uploads.Upload u = core.uploads().find(request.uploadId());
        if (u != null) {
            AbortMultipartUploadResponse r = pinned("AbortMultipartUpload", u, request.bucket(),
                    (c, b) -> c.abortMultipartUpload(request.toBuilder().bucket(b).build()));
            core.uploads().ended(request.uploadId());
            return r;
        }
        return write("AbortMultipartUpload", request.bucket(), request.key(), true, ResultWatermark.NONE,
                (c, b, region) -> c.abortMultipartUpload(request.toBuilder().bucket(b).build())).valueOrThrow();
    }

    @Override
    public ListPartsResponse listParts(ListPartsRequest request) {
        Uploads.Upload u = core.uploads().find(request.uploadId());
        ListPartsResponse r = u != null
                ? pinned("ListParts", u, request.bucket(), (c, b) -> c.listParts(request.toBuilder().bucket(b).build()))
                : write("ListParts", request.bucket(), request.key(), true, ResultWatermark.NONE,
                        (c, b, region) -> c.listParts(request.toBuilder().bucket(b).build())).valueOrThrow();
        return r.toBuilder().bucket(request.bucket()).build();
    }

    @Override
    public ListMultipartUploadsResponse listMultipartUploads(ListMultipartUploadsRequest request) {
        return write("ListMultipartUploads", request.bucket(), null, true, ResultWatermark.NONE,
                (c, b, region) -> c.listMultipartUploads(request.toBuilder().bucket(b).build())).valueOrThrow()
                .toBuilder().bucket(request.bucket()).build();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Client

    /** Returns a waiter whose polls go through this client. */
    @Override
    public S3Waiter waiter() {
        return S3Waiter.builder().client(this).build();
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

    /**
     * The error of an operation this client does not route.
     *
     * @param operation the S3 operation
     * @param reason why, and what to do instead
     * @return the exception to throw
     */
    static UnroutableS3RequestException unsupported(String operation, String reason) {
        return new UnroutableS3RequestException(operation, "not supported by the multi-region client: " + reason);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public CreateBucketResponse createBucket(CreateBucketRequest request) {
        throw unsupported("CreateBucket", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public CreateBucketMetadataConfigurationResponse createBucketMetadataConfiguration(
            CreateBucketMetadataConfigurationRequest request) {
        throw unsupported("CreateBucketMetadataConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public CreateBucketMetadataTableConfigurationResponse createBucketMetadataTableConfiguration(
            CreateBucketMetadataTableConfigurationRequest request) {
        throw unsupported("CreateBucketMetadataTableConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public CreateSessionResponse createSession(CreateSessionRequest request) {
        throw unsupported("CreateSession", DIRECTORY_BUCKETS);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketResponse deleteBucket(DeleteBucketRequest request) {
        throw unsupported("DeleteBucket", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketAnalyticsConfigurationResponse deleteBucketAnalyticsConfiguration(
            DeleteBucketAnalyticsConfigurationRequest request) {
        throw unsupported("DeleteBucketAnalyticsConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketCorsResponse deleteBucketCors(DeleteBucketCorsRequest request) {
        throw unsupported("DeleteBucketCors", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketEncryptionResponse deleteBucketEncryption(DeleteBucketEncryptionRequest request) {
        throw unsupported("DeleteBucketEncryption", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketIntelligentTieringConfigurationResponse deleteBucketIntelligentTieringConfiguration(
            DeleteBucketIntelligentTieringConfigurationRequest request) {
        throw unsupported("DeleteBucketIntelligentTieringConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketInventoryConfigurationResponse deleteBucketInventoryConfiguration(
            DeleteBucketInventoryConfigurationRequest request) {
        throw unsupported("DeleteBucketInventoryConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketLifecycleResponse deleteBucketLifecycle(DeleteBucketLifecycleRequest request) {
        throw unsupported("DeleteBucketLifecycle", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketMetadataConfigurationResponse deleteBucketMetadataConfiguration(
            DeleteBucketMetadataConfigurationRequest request) {
        throw unsupported("DeleteBucketMetadataConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketMetadataTableConfigurationResponse deleteBucketMetadataTableConfiguration(
            DeleteBucketMetadataTableConfigurationRequest request) {
        throw unsupported("DeleteBucketMetadataTableConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketMetricsConfigurationResponse deleteBucketMetricsConfiguration(
            DeleteBucketMetricsConfigurationRequest request) {
        throw unsupported("DeleteBucketMetricsConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketOwnershipControlsResponse deleteBucketOwnershipControls(
            DeleteBucketOwnershipControlsRequest request) {
        throw unsupported("DeleteBucketOwnershipControls", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketPolicyResponse deleteBucketPolicy(DeleteBucketPolicyRequest request) {
        throw unsupported("DeleteBucketPolicy", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketReplicationResponse deleteBucketReplication(DeleteBucketReplicationRequest request) {
        throw unsupported("DeleteBucketReplication", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketTaggingResponse deleteBucketTagging(DeleteBucketTaggingRequest request) {
        throw unsupported("DeleteBucketTagging", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteBucketWebsiteResponse deleteBucketWebsite(DeleteBucketWebsiteRequest request) {
        throw unsupported("DeleteBucketWebsite", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeleteObjectAnnotationResponse deleteObjectAnnotation(DeleteObjectAnnotationRequest request) {
        throw unsupported("DeleteObjectAnnotation", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public DeletePublicAccessBlockResponse deletePublicAccessBlock(DeletePublicAccessBlockRequest request) {
        throw unsupported("DeletePublicAccessBlock", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketAbacResponse getBucketAbac(GetBucketAbacRequest request) {
        throw unsupported("GetBucketAbac", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketAccelerateConfigurationResponse getBucketAccelerateConfiguration(
            GetBucketAccelerateConfigurationRequest request) {
        throw unsupported("GetBucketAccelerateConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketAclResponse getBucketAcl(GetBucketAclRequest request) {
        throw unsupported("GetBucketAcl", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketAnalyticsConfigurationResponse getBucketAnalyticsConfiguration(
            GetBucketAnalyticsConfigurationRequest request) {
        throw unsupported("GetBucketAnalyticsConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketCorsResponse getBucketCors(GetBucketCorsRequest request) {
        throw unsupported("GetBucketCors", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketEncryptionResponse getBucketEncryption(GetBucketEncryptionRequest request) {
        throw unsupported("GetBucketEncryption", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketIntelligentTieringConfigurationResponse getBucketIntelligentTieringConfiguration(
            GetBucketIntelligentTieringConfigurationRequest request) {
        throw unsupported("GetBucketIntelligentTieringConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketInventoryConfigurationResponse getBucketInventoryConfiguration(
            GetBucketInventoryConfigurationRequest request) {
        throw unsupported("GetBucketInventoryConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketLifecycleConfigurationResponse getBucketLifecycleConfiguration(
            GetBucketLifecycleConfigurationRequest request) {
        throw unsupported("GetBucketLifecycleConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketLocationResponse getBucketLocation(GetBucketLocationRequest request) {
        throw unsupported("GetBucketLocation", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketLoggingResponse getBucketLogging(GetBucketLoggingRequest request) {
        throw unsupported("GetBucketLogging", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketMetadataConfigurationResponse getBucketMetadataConfiguration(
            GetBucketMetadataConfigurationRequest request) {
        throw unsupported("GetBucketMetadataConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketMetadataTableConfigurationResponse getBucketMetadataTableConfiguration(
            GetBucketMetadataTableConfigurationRequest request) {
        throw unsupported("GetBucketMetadataTableConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketMetricsConfigurationResponse getBucketMetricsConfiguration(
            GetBucketMetricsConfigurationRequest request) {
        throw unsupported("GetBucketMetricsConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketNotificationConfigurationResponse getBucketNotificationConfiguration(
            GetBucketNotificationConfigurationRequest request) {
        throw unsupported("GetBucketNotificationConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketOwnershipControlsResponse getBucketOwnershipControls(GetBucketOwnershipControlsRequest request) {
        throw unsupported("GetBucketOwnershipControls", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketPolicyResponse getBucketPolicy(GetBucketPolicyRequest request) {
        throw unsupported("GetBucketPolicy", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketPolicyStatusResponse getBucketPolicyStatus(GetBucketPolicyStatusRequest request) {
        throw unsupported("GetBucketPolicyStatus", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketReplicationResponse getBucketReplication(GetBucketReplicationRequest request) {
        throw unsupported("GetBucketReplication", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketRequestPaymentResponse getBucketRequestPayment(GetBucketRequestPaymentRequest request) {
        throw unsupported("GetBucketRequestPayment", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketTaggingResponse getBucketTagging(GetBucketTaggingRequest request) {
        throw unsupported("GetBucketTagging", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketVersioningResponse getBucketVersioning(GetBucketVersioningRequest request) {
        throw unsupported("GetBucketVersioning", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetBucketWebsiteResponse getBucketWebsite(GetBucketWebsiteRequest request) {
        throw unsupported("GetBucketWebsite", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public <ReturnT> ReturnT getObjectAnnotation(
            GetObjectAnnotationRequest request, ResponseTransformer<GetObjectAnnotationResponse, ReturnT> transformer) {
        throw unsupported("GetObjectAnnotation", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetObjectLockConfigurationResponse getObjectLockConfiguration(GetObjectLockConfigurationRequest request) {
        throw unsupported("GetObjectLockConfiguration", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public <ReturnT> ReturnT getObjectTorrent(
            GetObjectTorrentRequest request, ResponseTransformer<GetObjectTorrentResponse, ReturnT> transformer) {
        throw unsupported("GetObjectTorrent", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public GetPublicAccessBlockResponse getPublicAccessBlock(GetPublicAccessBlockRequest request) {
        throw unsupported("GetPublicAccessBlock", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public ListBucketAnalyticsConfigurationsResponse listBucketAnalyticsConfigurations(
            ListBucketAnalyticsConfigurationsRequest request) {
        throw unsupported("ListBucketAnalyticsConfigurations", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public ListBucketIntelligentTieringConfigurationsResponse listBucketIntelligentTieringConfigurations(
            ListBucketIntelligentTieringConfigurationsRequest request) {
        throw unsupported("ListBucketIntelligentTieringConfigurations", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public ListBucketInventoryConfigurationsResponse listBucketInventoryConfigurations(
            ListBucketInventoryConfigurationsRequest request) {
        throw unsupported("ListBucketInventoryConfigurations", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public ListBucketMetricsConfigurationsResponse listBucketMetricsConfigurations(
            ListBucketMetricsConfigurationsRequest request) {
        throw unsupported("ListBucketMetricsConfigurations", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public ListBucketsResponse listBuckets(ListBucketsRequest request) {
        throw unsupported("ListBuckets", ACCOUNT_LISTING);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public ListDirectoryBucketsResponse listDirectoryBuckets(ListDirectoryBucketsRequest request) {
        throw unsupported("ListDirectoryBuckets", ACCOUNT_LISTING);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public ListObjectAnnotationsResponse listObjectAnnotations(ListObjectAnnotationsRequest request) {
        throw unsupported("ListObjectAnnotations", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketAbacResponse putBucketAbac(PutBucketAbacRequest request) {
        throw unsupported("PutBucketAbac", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketAccelerateConfigurationResponse putBucketAccelerateConfiguration(
            PutBucketAccelerateConfigurationRequest request) {
        throw unsupported("PutBucketAccelerateConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketAclResponse putBucketAcl(PutBucketAclRequest request) {
        throw unsupported("PutBucketAcl", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketAnalyticsConfigurationResponse putBucketAnalyticsConfiguration(
            PutBucketAnalyticsConfigurationRequest request) {
        throw unsupported("PutBucketAnalyticsConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketCorsResponse putBucketCors(PutBucketCorsRequest request) {
        throw unsupported("PutBucketCors", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketEncryptionResponse putBucketEncryption(PutBucketEncryptionRequest request) {
        throw unsupported("PutBucketEncryption", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketIntelligentTieringConfigurationResponse putBucketIntelligentTieringConfiguration(
            PutBucketIntelligentTieringConfigurationRequest request) {
        throw unsupported("PutBucketIntelligentTieringConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketInventoryConfigurationResponse putBucketInventoryConfiguration(
            PutBucketInventoryConfigurationRequest request) {
        throw unsupported("PutBucketInventoryConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketLifecycleConfigurationResponse putBucketLifecycleConfiguration(
            PutBucketLifecycleConfigurationRequest request) {
        throw unsupported("PutBucketLifecycleConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketLoggingResponse putBucketLogging(PutBucketLoggingRequest request) {
        throw unsupported("PutBucketLogging", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketMetricsConfigurationResponse putBucketMetricsConfiguration(
            PutBucketMetricsConfigurationRequest request) {
        throw unsupported("PutBucketMetricsConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketNotificationConfigurationResponse putBucketNotificationConfiguration(
            PutBucketNotificationConfigurationRequest request) {
        throw unsupported("PutBucketNotificationConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketOwnershipControlsResponse putBucketOwnershipControls(PutBucketOwnershipControlsRequest request) {
        throw unsupported("PutBucketOwnershipControls", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketPolicyResponse putBucketPolicy(PutBucketPolicyRequest request) {
        throw unsupported("PutBucketPolicy", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketReplicationResponse putBucketReplication(PutBucketReplicationRequest request) {
        throw unsupported("PutBucketReplication", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketRequestPaymentResponse putBucketRequestPayment(PutBucketRequestPaymentRequest request) {
        throw unsupported("PutBucketRequestPayment", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketTaggingResponse putBucketTagging(PutBucketTaggingRequest request) {
        throw unsupported("PutBucketTagging", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketVersioningResponse putBucketVersioning(PutBucketVersioningRequest request) {
        throw unsupported("PutBucketVersioning", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutBucketWebsiteResponse putBucketWebsite(PutBucketWebsiteRequest request) {
        throw unsupported("PutBucketWebsite", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutObjectAclResponse putObjectAcl(PutObjectAclRequest request) {
        throw unsupported("PutObjectAcl", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutObjectAnnotationResponse putObjectAnnotation(PutObjectAnnotationRequest request, RequestBody body) {
        throw unsupported("PutObjectAnnotation", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutObjectLegalHoldResponse putObjectLegalHold(PutObjectLegalHoldRequest request) {
        throw unsupported("PutObjectLegalHold", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutObjectLockConfigurationResponse putObjectLockConfiguration(PutObjectLockConfigurationRequest request) {
        throw unsupported("PutObjectLockConfiguration", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutObjectRetentionResponse putObjectRetention(PutObjectRetentionRequest request) {
        throw unsupported("PutObjectRetention", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public PutPublicAccessBlockResponse putPublicAccessBlock(PutPublicAccessBlockRequest request) {
        throw unsupported("PutPublicAccessBlock", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public RenameObjectResponse renameObject(RenameObjectRequest request) {
        throw unsupported("RenameObject", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public RestoreObjectResponse restoreObject(RestoreObjectRequest request) {
        throw unsupported("RestoreObject", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public UpdateBucketMetadataAnnotationTableConfigurationResponse updateBucketMetadataAnnotationTableConfiguration(
            UpdateBucketMetadataAnnotationTableConfigurationRequest request) {
        throw unsupported("UpdateBucketMetadataAnnotationTableConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public UpdateBucketMetadataInventoryTableConfigurationResponse updateBucketMetadataInventoryTableConfiguration(
            UpdateBucketMetadataInventoryTableConfigurationRequest request) {
        throw unsupported("UpdateBucketMetadataInventoryTableConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public UpdateBucketMetadataJournalTableConfigurationResponse updateBucketMetadataJournalTableConfiguration(
            UpdateBucketMetadataJournalTableConfigurationRequest request) {
        throw unsupported("UpdateBucketMetadataJournalTableConfiguration", BUCKET_CONFIGURATION);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public UpdateObjectEncryptionResponse updateObjectEncryption(UpdateObjectEncryptionRequest request) {
        throw unsupported("UpdateObjectEncryption", NOT_ROUTED);
    }

    /** Not supported: throws {@link UnroutableS3RequestException} (see the class documentation, "Not supported"). */
    @Override
    public WriteGetObjectResponseResponse writeGetObjectResponse(
            WriteGetObjectResponseRequest request, RequestBody body) {
        throw unsupported("WriteGetObjectResponse", NOT_ROUTED);
    }

    /**
     * Builds a {@link MultiRegionS3Client}; see {@link MultiRegionS3Builder} for the settings.
     */
    public static final class Builder extends MultiRegionS3Builder<Builder, S3Client> {
        private Builder() {
        }

        @Override
        Builder self() {
            return this;
        }

        /**
         * Lets this builder make the client of every region not given one with {@code regionClient}: {@code
         * S3Client.builder()} with the region, then {@code settings} (credentials, HTTP client, endpoint, S3 options),
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
        public Builder buildClients(Consumer<S3ClientBuilder> settings) {
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
        public Builder buildClients(BiConsumer<String, S3ClientBuilder> settings) {
            Objects.requireNonNull(settings, "settings");
            return maker((region, defaults) -> defaults.make(S3Client.builder(), region, settings));
        }

        /**
         * Builds the client and its routing engine.
         *
         * @return the client
         * @throws dev.latitude.LatitudeConfigException if a setting is missing or does not fit the topology
         */
        public MultiRegionS3Client build() {
            // Blocking probes run on their own daemon thread, closed with the client; each is a HeadBucket.
            ExecutorService probes = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "latitude-s3-probe");
                t.setDaemon(true);
                return t;
            });
            S3Core<S3Client> core;
            try {
                core = core(client -> bucket -> CompletableFuture.supplyAsync(
                        () -> client.headBucket(b -> b.bucket(bucket)), probes), probes::shutdownNow, true);
            } catch (RuntimeException e) {
                probes.shutdownNow();
                throw e;
            }
            return new MultiRegionS3Client(core, false);
        }
    }
}
