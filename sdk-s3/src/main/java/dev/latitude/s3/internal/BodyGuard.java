package dev.latitude.s3.internal;

import dev.latitude.s3.BodyNotReplayableException;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.Set;
import org.reactivestreams.Subscriber;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;

/**
 * Keeps a request body that cannot be read twice from being sent to a second region. Bodies from bytes, strings and
 * files can be replayed and pass through untouched; any other body is handed to each region attempt through a
 * wrapper that notes which region first read it, and an attempt in another region after that is refused with
 * {@link BodyNotReplayableException} before anything is sent. The same region may read it again (the SDK does, to
 * sign or retry), as its own client would. Never copies the body. Thread-safe: one guard per call.
 */
public final class BodyGuard {
    private static final Set<String> REPLAYABLE = Set.of("File", "Bytes", "String");

    private final String operation;
    private final boolean replayable;
    private String firstRegion;

    private BodyGuard(String operation, boolean replayable) {
        this.operation = operation;
        this.replayable = replayable;
    }

    /**
     * Guards a blocking client's body.
     *
     * @param operation the S3 operation, for the error
     * @param body the caller's body
     * @return the guard
     */
    public static BodyGuard of(String operation, RequestBody body) {
        return new BodyGuard(operation, REPLAYABLE.contains(body.contentStreamProvider().name()));
    }

    /**
     * Guards a non-blocking client's body.
     *
     * @param operation the S3 operation, for the error
     * @param body the caller's body
     * @return the guard
     */
    public static BodyGuard of(String operation, AsyncRequestBody body) {
        return new BodyGuard(operation, REPLAYABLE.contains(body.body()));
    }

    /**
     * Returns the body to send to {@code region}.
     *
     * @param body the caller's body
     * @param region the region id of the attempt
     * @return the body
     * @throws BodyNotReplayableException if another region has already read a body that cannot be replayed
     */
    public RequestBody wrap(RequestBody body, String region) {
        if (replayable) {
            return body;
        }
        check(region);
        ContentStreamProvider provider = () -> {
            claim(region);
            return body.contentStreamProvider().newStream();
        };
        return body.optionalContentLength().isPresent()
                ? RequestBody.fromContentProvider(provider, body.contentLength(), body.contentType())
                : RequestBody.fromContentProvider(provider, body.contentType());
    }

    /**
     * Returns the body to send to {@code region}.
     *
     * @param body the caller's body
     * @param region the region id of the attempt
     * @return the body
     * @throws BodyNotReplayableException if another region has already read a body that cannot be replayed
     */
    public AsyncRequestBody wrap(AsyncRequestBody body, String region) {
        if (replayable) {
            return body;
        }
        check(region);
        return new AsyncRequestBody() {
            @Override
            public Optional<Long> contentLength() {
                return body.contentLength();
            }

            @Override
            public String contentType() {
                return body.contentType();
            }

            @Override
            public void subscribe(Subscriber<? super ByteBuffer> s) {
                claim(region);
                body.subscribe(s);
            }
        };
    }

    private synchronized void check(String region) {
        if (firstRegion != null && !firstRegion.equals(region)) {
            throw new BodyNotReplayableException(operation, firstRegion, region);
        }
    }

    /** Notes that {@code region} reads the body, unless another region already has. */
    private synchronized void claim(String region) {
        check(region);
        firstRegion = region;
    }
}
