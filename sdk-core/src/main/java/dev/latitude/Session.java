package dev.latitude;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One client session's consistency state: the {@link SessionToken} of its writes, updated as calls complete.
 * Thread-safe; share one per end-user session (or per request chain).
 *
 * <p>Carry it explicitly on each {@link Operation} ({@code Operation.read("Get").session(session)}) or implicitly in
 * the OpenTelemetry {@link Context}, so it follows async code without extra parameters:
 *
 * <pre>{@code
 * Session session = Session.of(codec.decode(request.getHeader("X-Session-Token")), latitude.watermarkBounds());
 * try (Scope ignored = session.storeIn(Context.current()).makeCurrent()) {
 *     repository.save(profile);        // writes advance the session's token
 *     repository.load(profile.id());   // reads see the save, whichever region answers
 * }
 * response.setHeader("X-Session-Token", codec.encode(session.token()));
 * }</pre>
 *
 * <p>The token keeps at most {@code maxKeys} key entries (default 512); older keys fold into their class watermark.
 *
 * <p>A session made with {@link WatermarkBounds} records and observes only watermarks within them: a watermark of a
 * region outside the topology, or beyond the clock's skew bound, is treated as absent and counted by the bounds. The
 * engine applies its own bounds to every session it uses, so sessions made without bounds cannot be turned against
 * the service either; bounds keep such watermarks out of the session's token as well. {@link #toString()} shows no
 * key.
 */
public final class Session {
    private static final ContextKey<Session> KEY = ContextKey.named("dev.latitude.session");
    /** The default bound on key entries. */
    public static final int DEFAULT_MAX_KEYS = 512;

    private final AtomicReference<SessionToken> token;
    private final int maxKeys;
    private final WatermarkBounds bounds;

    private Session(SessionToken token, int maxKeys, WatermarkBounds bounds) {
        this.bounds = bounds;
        this.token = new AtomicReference<>(clamp(token).collapse(maxKeys));
        this.maxKeys = maxKeys;
    }

    /** Starts a session that has written nothing. */
    public static Session create() {
        return new Session(SessionToken.empty(), DEFAULT_MAX_KEYS, null);
    }

    /**
     * Starts a session that has written nothing and records only watermarks within {@code bounds}.
     *
     * @param bounds the deployment's bounds, such as {@link Latitude#watermarkBounds()}
     * @return the session
     */
    public static Session create(WatermarkBounds bounds) {
        return new Session(SessionToken.empty(), DEFAULT_MAX_KEYS, Objects.requireNonNull(bounds, "bounds"));
    }

    /**
     * Resumes a session from its token.
     *
     * @param token the token, such as one decoded from a request header
     * @return the session
     */
    public static Session of(SessionToken token) {
        return new Session(Objects.requireNonNull(token, "token"), DEFAULT_MAX_KEYS, null);
    }

    /**
     * Resumes a session from its token, dropping the token's watermarks outside {@code bounds}, and records and
     * observes only watermarks within them from then on.
     *
     * @param token the token, such as one decoded from a request header
     * @param bounds the deployment's bounds, such as {@link Latitude#watermarkBounds()}
     * @return the session
     */
    public static Session of(SessionToken token, WatermarkBounds bounds) {
        return new Session(Objects.requireNonNull(token, "token"), DEFAULT_MAX_KEYS,
                Objects.requireNonNull(bounds, "bounds"));
    }

    /**
     * Resumes a session from its token, keeping at most {@code maxKeys} key entries.
     *
     * @param token the token
     * @param maxKeys 0 to 100,000
     * @return the session
     * @throws LatitudeConfigException if out of range
     */
    public static Session of(SessionToken token, int maxKeys) {
        if (maxKeys < 0 || maxKeys > 100_000) {
            throw new LatitudeConfigException("session.maxKeys", maxKeys + " is outside [0, 100000]");
        }
        return new Session(Objects.requireNonNull(token, "token"), maxKeys, null);
    }

    /** Returns the session stored in {@code context}, or {@code null}. */
    public static Session fromContext(Context context) {
        return context.get(KEY);
    }

    /** Returns the session of the current OpenTelemetry context, or {@code null}. */
    public static Session current() {
        return fromContext(Context.current());
    }

    /**
     * Returns {@code context} with this session in it.
     *
     * @param context the context to extend
     * @return the new context; make it current to carry the session implicitly
     */
    public Context storeIn(Context context) {
        return context.with(KEY, this);
    }

    /** Returns the token as of now. */
    public SessionToken token() {
        return token.get();
    }

    /**
     * Records a write the session made, unless the session has bounds and the watermark is outside them (then it is
     * counted by the bounds and not recorded).
     *
     * @param dataClass the data class
     * @param key the key, or {@code null} for the class as a whole
     * @param watermark the write's watermark
     * @param region the region that took it
     */
    public void recordWrite(String dataClass, String key, long watermark, String region) {
        if (bounds != null && !bounds.admits(region, watermark)) {
            return;
        }
        token.updateAndGet(t -> t.withWrite(dataClass, key, watermark, region).collapse(maxKeys));
    }

    /**
     * Records data the session has read, so that later reads never return anything older (monotonic reads). The
     * engine calls it after a SESSION read whose result carries a watermark.
     *
     * @param dataClass the data class
     * @param key the key read, or {@code null}
     * @param watermark the watermark of the data read
     * @param region the region that answered
     */
    public void recordRead(String dataClass, String key, long watermark, String region) {
        recordWrite(dataClass, key, watermark, region);
    }

    /**
     * Merges in what another copy of this session has seen (a token from another request or service), without the
     * watermarks outside the session's bounds if it has any.
     *
     * @param other the other token
     */
    public void observe(SessionToken other) {
        SessionToken admitted = clamp(Objects.requireNonNull(other, "other"));
        token.updateAndGet(t -> t.merge(admitted).collapse(maxKeys));
    }

    private SessionToken clamp(SessionToken t) {
        return bounds == null ? t : bounds.clamp(t);
    }

    /** Describes the session's token without its keys (see {@link SessionToken#toString()}). */
    @Override
    public String toString() {
        return "Session[" + token.get() + "]";
    }
}
