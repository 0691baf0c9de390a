package dev.latitude.s3.internal;

import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicy;
import dev.latitude.Latitude;
import dev.latitude.aws.AttemptTimeouts;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.ResultWatermark;
import dev.latitude.Session;
import dev.latitude.Watermark;
import dev.latitude.WriteMode;
import dev.latitude.s3.MultiRegionAccessPoint;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * What the blocking and non-blocking multi-region S3 clients share: the engine, the region clients, the bucket map,
 * the write stamps, the open multipart uploads, and how calls are described to the engine. Immutable apart from the
 * upload registry; {@link #with} derives a view with its own session or consistency that shares everything else.
 *
 * @param <C> the region client type
 */
public final class S3Core<C> {
    private static final Logger LOG = LoggerFactory.getLogger(S3Core.class);
    private static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
    private static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
    private static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
    private static final AttributeKey<String> CLOUD_REGION = AttributeKey.stringKey("cloud.region");
    /** The Multi-Region Access Point a read was sent to. */
    public static final AttributeKey<String> ACCESS_POINT = AttributeKey.stringKey("latitude.s3.access_point");
    /**
     * What became of a read sent to an access point: {@code answered}, or why the buckets behind it were read
     * instead ({@code failed}, {@code timeout}, {@code missing}: {@code NoSuchKey} of a key the session wrote,
     * {@code stale}: older than the session's write).
     */
    public static final AttributeKey<String> ACCESS_POINT_OUTCOME =
            AttributeKey.stringKey("latitude.s3.access_point.outcome");
    /** The logical bucket of a call. */
    public static final AttributeKey<String> BUCKET = AttributeKey.stringKey("aws.s3.bucket");
    /** The object key of a call, only when keys are recorded. */
    public static final AttributeKey<String> KEY = AttributeKey.stringKey("aws.s3.key");

    private final Latitude latitude;
    private final Map<String, C> clients;
    private final BucketMap buckets;
    private final AccessPoints accessPoints;
    private final String stampKey;
    private final boolean recordKeys;
    /** Span attributes without a key, by operation and logical bucket. */
    private final Map<String, Map<String, Attributes>> attributeCache = new ConcurrentHashMap<>();
    private final Uploads uploads;
    private final Session session;
    private final ConsistencyLevel consistency;
    private final List<AutoCloseable> owned;
    private final AttemptTimeouts timeouts;
    private final Tracer tracer;

    /**
     * Creates the core.
     *
     * @param latitude the engine
     * @param clients the region clients, by region id
     * @param buckets the bucket map
     * @param accessPoints the logical buckets in MRAP mode
     * @param stampKey the user-metadata name of the write stamp, lower case
     * @param recordKeys whether spans carry object keys
     * @param timeouts what makes each region request end by itself
     * @param openTelemetry where the spans of calls the engine does not run go
     * @param owned what closing the client closes (the engine, clients the builder made)
     */
    public S3Core(Latitude latitude, Map<String, C> clients, BucketMap buckets, AccessPoints accessPoints,
            String stampKey, boolean recordKeys, AttemptTimeouts timeouts, OpenTelemetry openTelemetry,
            List<AutoCloseable> owned) {
        this(latitude, clients, buckets, accessPoints, stampKey, recordKeys, new Uploads(), null, null, timeouts,
                openTelemetry.getTracer("dev.latitude.s3"), owned);
    }

    private S3Core(Latitude latitude, Map<String, C> clients, BucketMap buckets, AccessPoints accessPoints,
            String stampKey, boolean recordKeys, Uploads uploads, Session session, ConsistencyLevel consistency,
            AttemptTimeouts timeouts, Tracer tracer, List<AutoCloseable> owned) {
        this.latitude = latitude;
        this.clients = clients;
        this.buckets = buckets;
        this.accessPoints = accessPoints;
        this.stampKey = stampKey;
        this.recordKeys = recordKeys;
        this.uploads = uploads;
        this.session = session;
        this.consistency = consistency;
        this.timeouts = timeouts;
        this.tracer = tracer;
        this.owned = owned;
    }

    /**
     * Returns a view with its own session and consistency (either {@code null} to keep this one's).
     *
     * @param session the session of the view's calls
     * @param consistency the consistency of the view's reads
     * @return the view
     */
    public S3Core<C> with(Session session, ConsistencyLevel consistency) {
        return new S3Core<>(latitude, clients, buckets, accessPoints, stampKey, recordKeys, uploads,
                session != null ? session : this.session, consistency != null ? consistency : this.consistency,
                timeouts, tracer, List.of());
    }

    /**
     * Starts the span of a call the engine does not run, with the attributes of the engine's spans for S3 calls: a
     * read sent to an access point ({@code accessPoint} its ARN; its region is S3's choice, unknown here), or a
     * multipart call pinned to its upload's region. End it with {@link #end}.
     *
     * @param name the S3 operation
     * @param bucket the logical bucket
     * @param key the object key, or {@code null}
     * @param region the region it goes to, or {@code null}
     * @param accessPoint the access point's ARN, or {@code null}
     * @return the span
     */
    public Span startSpan(String name, String bucket, String key, String region, String accessPoint) {
        Span span = tracer.spanBuilder(name).setSpanKind(SpanKind.CLIENT).startSpan();
        if (span.isRecording()) {
            span.setAllAttributes(attributes(name, bucket, key));
            if (region != null) {
                span.setAttribute(CLOUD_REGION, region);
            }
            if (accessPoint != null) {
                span.setAttribute(ACCESS_POINT, accessPoint);
            }
        }
        return span;
    }

    /**
     * Ends a span from {@link #startSpan}, marking it failed if {@code error} is not {@code null}.
     *
     * @param span the span
     * @param error the call's failure, or {@code null}
     */
    public static void end(Span span, Throwable error) {
        if (error != null && span.isRecording()) {
            span.recordException(error);
            span.setStatus(StatusCode.ERROR, String.valueOf(error.getMessage()));
        }
        span.end();
    }

    /** Returns what makes each region request end by itself: at the attempt timeout on the caller, else the deadline. */
    public AttemptTimeouts timeouts() {
        return timeouts;
    }

    /** Returns the engine. */
    public Latitude latitude() {
        return latitude;
    }

    /** Returns the bucket map. */
    public BucketMap buckets() {
        return buckets;
    }

    /**
     * Returns the access point of {@code bucket}, or {@code null} if the bucket is in direct mode.
     *
     * @param bucket the logical bucket
     * @return the access point or null
     */
    public MultiRegionAccessPoint accessPoint(String bucket) {
        return accessPoints.of(bucket);
    }

    /** Returns the access points, which also time their blocking requests. */
    public AccessPoints accessPoints() {
        return accessPoints;
    }

    /** Returns the client of the local region, which sends requests to access points. */
    public C localClient() {
        return clients.get(latitude.topology().localRegion().id());
    }

    /**
     * Whether a read of {@code bucket} may be answered by its access point: at EVENTUAL and SESSION consistency (the
     * latter checked against the session); STRONG and BOUNDED_STALENESS need a bucket known to qualify.
     *
     * @param bucket the logical bucket
     * @return whether the access point may answer
     */
    public boolean accessPointMayAnswer(String bucket) {
        ConsistencyLevel.Kind level = level(bucket);
        return level == ConsistencyLevel.Kind.EVENTUAL || level == ConsistencyLevel.Kind.SESSION;
    }

    private ConsistencyLevel.Kind level(String bucket) {
        return (consistency != null ? consistency : latitude.dataPolicies().policyFor(bucket).consistency()).kind();
    }

    /**
     * Returns what the session of a SESSION read (this view's session, else the current context's) requires of
     * {@code bucket} and {@code key}, or {@code null} if nothing.
     *
     * @param bucket the logical bucket
     * @param key the key, or {@code null} for the bucket as a whole
     * @return the requirement or null
     */
    public Watermark requirement(String bucket, String key) {
        if (level(bucket) != ConsistencyLevel.Kind.SESSION) {
            return null;
        }
        Session s = session != null ? session : Session.current();
        return s == null ? null : s.token().requirement(bucket, key);
    }

    /** Returns the open multipart uploads. */
    public Uploads uploads() {
        return uploads;
    }

    /** Returns the region clients, by region id. */
    public Map<String, C> clients() {
        return clients;
    }

    /**
     * Returns the client of {@code region}.
     *
     * @param region a region id of the topology
     * @return its client
     */
    public C client(String region) {
        return clients.get(region);
    }

    /**
     * Describes a read for the engine.
     *
     * @param name the S3 operation
     * @param bucket the logical bucket (checked to be mapped)
     * @param key the object key, or {@code null} for the bucket as a whole
     * @return the operation
     */
    public Operation read(String name, String bucket, String key) {
        Operation.Builder b = Operation.read(name).dataClass(buckets.require(name, bucket))
                .attributes(attributes(name, bucket, key));
        if (key != null) {
            b.key(key);
        }
        if (consistency != null) {
            b.consistency(consistency);
        }
        if (session != null) {
            b.session(session);
        }
        return b.build();
    }

    /**
     * Describes a write for the engine.
     *
     * @param name the S3 operation
     * @param bucket the logical bucket (checked to be mapped)
     * @param key the object key, or {@code null}
     * @param idempotent whether sending it twice has the effect of once
     * @return the operation
     */
    public Operation write(String name, String bucket, String key, boolean idempotent) {
        Operation.Builder b = Operation.write(name).idempotent(idempotent).dataClass(buckets.require(name, bucket))
                .attributes(attributes(name, bucket, key));
        if (key != null) {
            b.key(key);
        }
        if (session != null) {
            b.session(session);
        }
        return b.build();
    }

    private Attributes attributes(String name, String bucket, String key) {
        if ((!recordKeys || key == null) && buckets.logicalBuckets().contains(bucket)) {
            // The same few per operation and logical bucket: built once.
            return attributeCache.computeIfAbsent(name, n -> new ConcurrentHashMap<>())
                    .computeIfAbsent(bucket, b -> build(name, b, null));
        }
        return build(name, bucket, key);
    }

    private Attributes build(String name, String bucket, String key) {
        AttributesBuilder a = Attributes.builder().put(RPC_SYSTEM, "aws-api").put(RPC_SERVICE, "S3")
                .put(RPC_METHOD, name).put(BUCKET, bucket);
        if (recordKeys && key != null) {
            a.put(KEY, key);
        }
        return a.build();
    }

    /** Returns a fresh write stamp from the engine's hybrid logical clock. */
    public long newStamp() {
        return latitude.hybridClock().now();
    }

    /**
     * Returns {@code metadata} with the write stamp added (replacing one copied from an earlier read).
     *
     * @param metadata the caller's user metadata, possibly empty
     * @param stamp the stamp
     * @return a new map
     */
    public Map<String, String> stamped(Map<String, String> metadata, long stamp) {
        Map<String, String> m = new HashMap<>(metadata.size() + 1);
        metadata.forEach((k, v) -> {
            if (!k.equalsIgnoreCase(stampKey)) {
                m.put(k, v);
            }
        });
        m.put(stampKey, Long.toString(stamp));
        return m;
    }

    /**
     * Returns the write stamp in an object's user metadata, or {@link ResultWatermark#NONE} if it has none (or one
     * that is not a stamp).
     *
     * @param metadata the user metadata of a response
     * @return the stamp or NONE
     */
    public long stampOf(Map<String, String> metadata) {
        String v = metadata.get(stampKey);
        if (v == null) {
            return ResultWatermark.NONE;
        }
        try {
            long stamp = Long.parseLong(v);
            return stamp >= 0 ? stamp : ResultWatermark.NONE;
        } catch (NumberFormatException e) {
            return ResultWatermark.NONE;
        }
    }

    /**
     * Returns the watermark of an answer: the stamp of the object returned, or NONE for a missing key.
     *
     * @param answer the answer
     * @param metadata the object's user metadata, when the answer has a value
     * @return the watermark
     */
    public long watermark(Answer<?> answer, Map<String, String> metadata) {
        return answer.missing() != null ? ResultWatermark.NONE : stampOf(metadata);
    }

    /**
     * Whether {@code region} takes writes of {@code bucket} (its policy's writer region, any region for a
     * bidirectionally replicated bucket, else the topology's writers).
     *
     * @param bucket the logical bucket
     * @param region the region
     * @return whether it takes writes
     */
    public boolean takesWrites(String bucket, RegionSpec region) {
        DataPolicy policy = latitude.dataPolicies().policyFor(bucket);
        if (policy.writeMode() == WriteMode.MULTI_WRITER) {
            return true;
        }
        return policy.writerRegion() != null ? policy.writerRegion().equals(region.id()) : region.isWriter();
    }

    /**
     * Turns an S3 error of an object read into an answer when it means "no such key", and a {@code NoSuchBucket} of a
     * bucket that only receives replicas into a region-level failure; returns {@code null} for other errors.
     *
     * @param error the error
     * @param bucket the logical bucket
     * @param region the region that answered
     * @param <R> the response type
     * @return the answer, or {@code null}
     */
    public <R> Answer<R> answerOf(Throwable error, String bucket, RegionSpec region) {
        if (error instanceof NoSuchBucketException && !takesWrites(bucket, region)) {
            throw new ReplicaBucketMissingException(region.id(), error);
        }
        return isMissingKey(error) ? new Answer<>(null, (S3Exception) error, region.id()) : null;
    }

    /**
     * Whether {@code error} is S3 saying the object (or version) does not exist.
     *
     * @param error the error
     * @return whether it means "no such key"
     */
    public static boolean isMissingKey(Throwable error) {
        return error instanceof NoSuchKeyException || (error instanceof S3Exception e && e.statusCode() == 404
                && !(error instanceof NoSuchBucketException) && isMissingKeyCode(e));
    }

    private static boolean isMissingKeyCode(S3Exception e) {
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        return code == null || code.equals("NoSuchKey") || code.equals("NotFound") || code.equals("NoSuchVersion");
    }

    /**
     * Records a write in the session of the call (this view's, else the current context's), when the engine's bounds
     * admit it; for writes the engine cannot record itself (several keys, multipart completion).
     *
     * @param bucket the logical bucket
     * @param key the key
     * @param stamp the write stamp
     * @param region the region that took it
     */
    public void recordWrite(String bucket, String key, long stamp, String region) {
        Session s = session != null ? session : Session.current();
        if (s != null && stamp >= 0 && latitude.watermarkBounds().admits(region, stamp)) {
            s.recordWrite(bucket, key, stamp, region);
        }
    }

    /** Closes the engine and the clients the builder made; a view closes nothing. */
    public void close() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("Closing {} failed", c, e);
            }
        }
    }
}
