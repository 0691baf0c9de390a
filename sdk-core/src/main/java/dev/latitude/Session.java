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
 * Session session = Session.of(codec.decode(request.getHeader("X-Session-Token")));
 * try (Scope ignored = session.storeIn(Context.current()).makeCurrent()) {
 *     repository.save(profile);        // writes advance the session's token
 *     repository.load(profile.id());   // reads see the save, whichever region answers
 * }
 * response.setHeader("X-Session-Token", codec.encode(session.token()));
 * }</pre>
 *
 * <p>The token keeps at most {@code maxKeys} key entries (default 512); older keys fold into their class watermark.
 */
public final class Session {
    private static final ContextKey<Session> KEY = ContextKey.named("dev.latitude.session");
    /** The default bound on key entries. */
    public static final int DEFAULT_MAX_KEYS = 512;

    private final AtomicReference<SessionToken> token;
    private final int maxKeys;

    private Session(SessionToken token, int maxKeys) {
        this.token = new AtomicReference<>(token.collapse(maxKeys));
        this.maxKeys = maxKeys;
    }

    /** Starts a session that has written nothing. */
    public static Session create() {
        return new Session(SessionToken.empty(), DEFAULT_MAX_KEYS);
    }

    /**
     * Resumes a session from its token.
     *
     * @param token the token, such as one decoded from a request header
     * @return the session
     */
    public static Session of(SessionToken token) {
        return new Session(Objects.requireNonNull(token, "token"), DEFAULT_MAX_KEYS);
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
        return new Session(Objects.requireNonNull(token, "token"), maxKeys);
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
     * Records a write the session made.
     *
     * @param dataClass the data class
     * @param key the key, or {@code null} for the class as a whole
     * @param watermark the write's watermark
     * @param region the region that took it
     */
    public void recordWrite(String dataClass, String key, long watermark, String region) {
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
     * Merges in what another copy of this session has seen (a token from another request or service).
     *
     * @param other the other token
     */
    public void observe(SessionToken other) {
        Objects.requireNonNull(other, "other");
        token.updateAndGet(t -> t.merge(other).collapse(maxKeys));
    }

    @Override
    public String toString() {
        return "Session[" + token.get() + "]";
    }
}
