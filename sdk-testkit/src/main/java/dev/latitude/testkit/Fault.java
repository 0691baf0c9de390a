package dev.latitude.testkit;

import java.time.Duration;
import java.util.Objects;

/**
 * A fault a fake region or fault proxy can be put in; immutable. One fault is active at a time per target;
 * {@link #none()} is the healthy state.
 *
 * <ul>
 *   <li>{@link #blackhole()}: accepts connections and requests, never answers. The requests (or bytes) it swallows
 *       hold no thread, and when the blackhole ends (healed, replaced by another fault, or the target closed) their
 *       connections are closed: a swallowed request is never answered, not even late, and a healed target serves
 *       the next request at once however many it swallowed.</li>
 *   <li>{@link #refuseConnections()}: the port is closed; connecting fails at once.</li>
 *   <li>{@link #latency(Duration)}: answers normally, later by the given amount.</li>
 *   <li>{@link #errorRate(double, int, String)}: that share of requests gets the given HTTP status and body (HTTP
 *       targets only).</li>
 *   <li>{@link #resetConnections()}: connections are reset (TCP RST) as requests arrive.</li>
 *   <li>{@link #flapping(Duration, Duration)}: alternates between refusing connections and healthy.</li>
 * </ul>
 */
public final class Fault {
    /** The kinds of fault. */
    public enum Kind {
        /** Healthy. */
        NONE,
        /** Accept, never answer. */
        BLACKHOLE,
        /** Port closed. */
        REFUSE,
        /** Added latency. */
        LATENCY,
        /** A share of requests get an error status. */
        ERROR_RATE,
        /** Connections reset. */
        RESET,
        /** Down and up in turn. */
        FLAPPING
    }

    private static final Fault NONE = new Fault(Kind.NONE, Duration.ZERO, Duration.ZERO, 0, 0, null);
    private static final Fault BLACKHOLE = new Fault(Kind.BLACKHOLE, Duration.ZERO, Duration.ZERO, 0, 0, null);
    private static final Fault REFUSE = new Fault(Kind.REFUSE, Duration.ZERO, Duration.ZERO, 0, 0, null);
    private static final Fault RESET = new Fault(Kind.RESET, Duration.ZERO, Duration.ZERO, 0, 0, null);

    private final Kind kind;
    private final Duration first;
    private final Duration second;
    private final double rate;
    private final int status;
    private final String body;

    private Fault(Kind kind, Duration first, Duration second, double rate, int status, String body) {
        this.kind = kind;
        this.first = first;
        this.second = second;
        this.rate = rate;
        this.status = status;
        this.body = body;
    }

    /** Returns the healthy state. */
    public static Fault none() {
        return NONE;
    }

    /**
     * Returns the fault that accepts connections and requests and never answers them; ending it closes the connections
     * of what it swallowed, unanswered.
     */
    public static Fault blackhole() {
        return BLACKHOLE;
    }

    /** Returns the fault that refuses connections. */
    public static Fault refuseConnections() {
        return REFUSE;
    }

    /** Returns the fault that resets connections. */
    public static Fault resetConnections() {
        return RESET;
    }

    /**
     * Returns the fault that adds {@code extra} to every answer.
     *
     * @param extra zero or more
     * @return the fault
     */
    public static Fault latency(Duration extra) {
        if (extra == null || extra.isNegative()) {
            throw new IllegalArgumentException("latency must be zero or more, got " + extra);
        }
        return new Fault(Kind.LATENCY, extra, Duration.ZERO, 0, 0, null);
    }

    /**
     * Returns the fault that answers a share of requests with an error.
     *
     * @param rate the share, in (0, 1]
     * @param status the HTTP status, 400 to 599 (500, 503, or 400 with a throttling body)
     * @param body the response body, such as a DynamoDB error document
     * @return the fault
     */
    public static Fault errorRate(double rate, int status, String body) {
        if (!(rate > 0 && rate <= 1)) {
            throw new IllegalArgumentException("error rate must be in (0, 1], got " + rate);
        }
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("error status must be 400..599, got " + status);
        }
        return new Fault(Kind.ERROR_RATE, Duration.ZERO, Duration.ZERO, rate, status, Objects.requireNonNull(body, "body"));
    }

    /**
     * Returns the fault that refuses connections for {@code down}, then serves for {@code up}, and so on.
     *
     * @param down how long each outage lasts, at least 1 ms
     * @param up how long each healthy spell lasts, at least 1 ms
     * @return the fault
     */
    public static Fault flapping(Duration down, Duration up) {
        if (down == null || up == null || down.toMillis() < 1 || up.toMillis() < 1) {
            throw new IllegalArgumentException("flapping periods must be at least 1 ms, got " + down + " / " + up);
        }
        return new Fault(Kind.FLAPPING, down, up, 0, 0, null);
    }

    /** Returns the kind. */
    public Kind kind() {
        return kind;
    }

    /** Returns the added latency of a {@link Kind#LATENCY} fault, or the outage length of {@link Kind#FLAPPING}. */
    public Duration duration() {
        return first;
    }

    /** Returns the healthy spell of a {@link Kind#FLAPPING} fault. */
    public Duration upDuration() {
        return second;
    }

    /** Returns the share of requests failed by an {@link Kind#ERROR_RATE} fault. */
    public double rate() {
        return rate;
    }

    /** Returns the HTTP status of an {@link Kind#ERROR_RATE} fault. */
    public int status() {
        return status;
    }

    /** Returns the body of an {@link Kind#ERROR_RATE} fault, or {@code null}. */
    public String body() {
        return body;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Fault)) {
            return false;
        }
        Fault f = (Fault) o;
        return kind == f.kind && first.equals(f.first) && second.equals(f.second) && rate == f.rate
                && status == f.status && Objects.equals(body, f.body);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, first, second, rate, status, body);
    }

    @Override
    public String toString() {
        switch (kind) {
            case LATENCY:
                return "latency(+" + first.toMillis() + "ms)";
            case ERROR_RATE:
                return "errorRate(" + rate + ", " + status + ")";
            case FLAPPING:
                return "flapping(down " + first.toMillis() + "ms, up " + second.toMillis() + "ms)";
            default:
                return kind.name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
