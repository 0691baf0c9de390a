package dev.latitude.spi;

import dev.latitude.FailureKind;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * Classifies network failures by their cause chain, for {@link ErrorClassifier}s of HTTP-based clients: whether the
 * connection failed before the request was sent (safe to send elsewhere) or after it may have been sent.
 *
 * <pre>{@code
 * FailureKind kind = IoFailures.classify(sdkClientException.getCause());
 * if (kind == null) { ... no I/O failure in the chain ... }
 * }</pre>
 */
public final class IoFailures {
    private static final int MAX_CAUSE_DEPTH = 16;

    private IoFailures() {
    }

    /**
     * Classifies the first I/O failure in {@code first}'s cause chain (at most 16 deep).
     *
     * @param first the head of the chain, or {@code null}
     * @return {@link FailureKind#REGION_UNAVAILABLE} for a connection that failed before the request was sent
     *     ({@code ConnectException}, {@code UnknownHostException}, {@code NoRouteToHostException},
     *     {@code PortUnreachableException}, a connect timeout of the JDK, Apache or Netty clients, an I/O error saying
     *     "connection refused"); {@link FailureKind#AMBIGUOUS} for any other {@code IOException} or
     *     {@code TimeoutException} (reset, read timeout, broken pipe); {@code null} if the chain holds neither
     */
    public static FailureKind classify(Throwable first) {
        boolean sawIo = false;
        Throwable t = first;
        for (int i = 0; t != null && i < MAX_CAUSE_DEPTH; i++, t = t.getCause()) {
            if (isConnectFailure(t)) {
                return FailureKind.REGION_UNAVAILABLE;
            }
            if (t instanceof IOException || t instanceof TimeoutException || t instanceof InterruptedIOException) {
                sawIo = true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return sawIo ? FailureKind.AMBIGUOUS : null;
    }

    private static boolean isConnectFailure(Throwable t) {
        if (t instanceof ConnectException || t instanceof UnknownHostException || t instanceof NoRouteToHostException
                || t instanceof PortUnreachableException) {
            return true;
        }
        String cls = t.getClass().getName();
        if (cls.equals("java.net.http.HttpConnectTimeoutException")
                || cls.equals("org.apache.http.conn.ConnectTimeoutException")
                || cls.equals("org.apache.hc.client5.http.ConnectTimeoutException")
                || cls.equals("io.netty.channel.ConnectTimeoutException")) {
            return true;
        }
        if (t instanceof IOException) {
            String msg = t.getMessage();
            return msg != null && msg.toLowerCase(Locale.ROOT).contains("connection refused");
        }
        return false;
    }
}
