package dev.latitude.internal;

import dev.latitude.FailureKind;
import dev.latitude.spi.ErrorClassifier;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * The classifier behind {@link ErrorClassifier#defaults()}: what is clearly a region's trouble for any client, judged
 * from the exception's cause chain. See {@link ErrorClassifier#defaults()} for the table.
 */
public final class DefaultErrorClassifier implements ErrorClassifier {
    /** The shared instance. */
    public static final DefaultErrorClassifier INSTANCE = new DefaultErrorClassifier();

    private static final int MAX_CAUSE_DEPTH = 16;
    /** Connect timeouts of the common HTTP clients, by name so that none of them is a dependency. */
    private static final Set<String> CONNECT_TIMEOUTS = Set.of(
            "java.net.http.HttpConnectTimeoutException",
            "org.apache.http.conn.ConnectTimeoutException",
            "org.apache.hc.client5.http.ConnectTimeoutException",
            "io.netty.channel.ConnectTimeoutException");
    /** No-argument accessors of an HTTP status that exceptions of common clients carry. */
    private static final List<String> STATUS_ACCESSORS = List.of(
            "statusCode", "getStatusCode", "status", "getStatus", "httpStatus", "getHttpStatus", "getRawStatusCode");
    /** How each exception class gives its HTTP status, found once per class; {@code null}: it does not. */
    private static final ClassValue<Method> STATUS = new ClassValue<>() {
        @Override
        protected Method computeValue(Class<?> type) {
            return statusAccessor(type);
        }
    };

    private DefaultErrorClassifier() {
    }

    @Override
    public FailureKind classify(Throwable error) {
        try {
            FailureKind kind = classifyChain(error);
            return kind != null ? kind : FailureKind.CALLER;
        } catch (RuntimeException | StackOverflowError e) {
            return FailureKind.AMBIGUOUS;
        }
    }

    /**
     * Classifies {@code first} and its causes by what the network and the server said: a connect failure, a timeout
     * or other I/O failure, an HTTP status the exception carries, an SQL connection state. Returns {@code null} when
     * the chain says none of these ({@link ErrorClassifier#fromTransport(Throwable)} is the public form).
     *
     * @param first the failure, or {@code null}
     * @return the kind, or {@code null} when the chain holds no network or server evidence
     */
    public static FailureKind classifyChain(Throwable first) {
        FailureKind found = null;
        Throwable t = first;
        for (int i = 0; t != null && i < MAX_CAUSE_DEPTH; i++) {
            FailureKind kind = classifyOne(t);
            if (kind == FailureKind.REGION_UNAVAILABLE) {
                return kind;
            }
            if (found == null) {
                found = kind;
            }
            Throwable cause = t.getCause();
            if (cause == t) {
                break;
            }
            t = cause;
        }
        return found;
    }

    private static FailureKind classifyOne(Throwable t) {
        if (t instanceof CompletionException || t instanceof ExecutionException || t instanceof UncheckedIOException) {
            return null; // wrappers: their cause decides
        }
        if (isConnectFailure(t)) {
            return FailureKind.REGION_UNAVAILABLE;
        }
        if (t instanceof IOException || t instanceof TimeoutException || t instanceof InterruptedIOException) {
            return FailureKind.AMBIGUOUS;
        }
        if (t instanceof SQLException sql) {
            return classifySqlState(sql.getSQLState());
        }
        int status = httpStatus(t);
        if (status == 503 || status == 429) {
            return FailureKind.REGION_UNAVAILABLE;
        }
        if (status >= 500 && status <= 599) {
            return FailureKind.AMBIGUOUS;
        }
        if (status >= 400 && status <= 499) {
            return FailureKind.CALLER;
        }
        return null;
    }

    /** SQL state class 08 is a connection exception; 08001 and 08004 mean no connection was made. */
    private static FailureKind classifySqlState(String state) {
        if (state == null || !state.startsWith("08")) {
            return null;
        }
        return state.equals("08001") || state.equals("08004") ? FailureKind.REGION_UNAVAILABLE : FailureKind.AMBIGUOUS;
    }

    private static boolean isConnectFailure(Throwable t) {
        if (t instanceof ConnectException || t instanceof UnknownHostException || t instanceof NoRouteToHostException
                || t instanceof PortUnreachableException) {
            return true;
        }
        for (Class<?> c = t.getClass(); c != null && c != Throwable.class; c = c.getSuperclass()) {
            if (CONNECT_TIMEOUTS.contains(c.getName())) {
                return true;
            }
        }
        if (t instanceof IOException) {
            String msg = t.getMessage();
            return msg != null && msg.toLowerCase(Locale.ROOT).contains("connection refused");
        }
        return false;
    }

    /** The HTTP status {@code t} carries (an {@code int}, or an object with {@code int value()}), or -1. */
    private static int httpStatus(Throwable t) {
        Method accessor = STATUS.get(t.getClass());
        if (accessor == null) {
            return -1;
        }
        try {
            Object value = accessor.invoke(t);
            if (value != null && !(value instanceof Integer)) {
                Method valueMethod = value.getClass().getMethod("value");
                valueMethod.trySetAccessible();
                value = valueMethod.invoke(value);
            }
            return value instanceof Integer i ? i : -1;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }

    private static Method statusAccessor(Class<?> type) {
        for (String name : STATUS_ACCESSORS) {
            Method method;
            try {
                method = type.getMethod(name);
            } catch (NoSuchMethodException e) {
                continue;
            }
            Class<?> returns = method.getReturnType();
            boolean intLike = returns == int.class || returns == Integer.class;
            boolean statusObject = !returns.isPrimitive() && hasIntValue(returns);
            // Exceptions of non-public classes (or in closed modules) need access; without it they give no status.
            if ((intLike || statusObject) && method.trySetAccessible()) {
                return method;
            }
        }
        return null;
    }

    private static boolean hasIntValue(Class<?> type) {
        try {
            return type.getMethod("value").getReturnType() == int.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "ErrorClassifier.defaults()";
    }
}
