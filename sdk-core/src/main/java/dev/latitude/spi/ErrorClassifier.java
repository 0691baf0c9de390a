package dev.latitude.spi;

import dev.latitude.FailureKind;
import dev.latitude.LatitudeConfigException;
import dev.latitude.internal.DefaultErrorClassifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Predicate;

/**
 * Tells the engine what a failed attempt means, so it can decide whether to try another region.
 *
 * <p>Adapters supply one that knows their client's errors (for DynamoDB: throttling and 5xx are region-level,
 * {@code ConditionalCheckFailedException} is the caller's). Engines built directly on {@code Latitude} get
 * {@link #defaults()}, which fails over on what is clearly a region's trouble for any client; {@link #builder()}
 * adds rules for a client's own exceptions in front of it. A classifier is called on the hot path: it must be fast
 * and must not throw; if it does, the failure is treated as {@link FailureKind#AMBIGUOUS}.
 */
@FunctionalInterface
public interface ErrorClassifier {

    /**
     * Classifies {@code error}, the exception an attempt failed with (already unwrapped from
     * {@code CompletionException}/{@code ExecutionException}).
     *
     * @param error the failure
     * @return what kind of failure it is; never {@code null}
     */
    FailureKind classify(Throwable error);

    /**
     * Returns the classifier for clients the engine knows nothing about. It reads the failure and its causes (up to
     * 16 deep; {@code CompletionException}, {@code ExecutionException} and {@code UncheckedIOException} are looked
     * through), and the first row that matches anywhere in the chain decides, except that a connect failure anywhere
     * wins:
     *
     * <table>
     *   <caption>The default classification</caption>
     *   <tr><th>Failure (or a cause)</th><th>Kind</th><th>Why</th></tr>
     *   <tr><td>{@code ConnectException}, {@code UnknownHostException}, {@code NoRouteToHostException},
     *       {@code PortUnreachableException}, a connect timeout of the JDK, Apache or Netty HTTP clients, an I/O error
     *       whose message says "connection refused"</td><td>REGION_UNAVAILABLE</td>
     *       <td>nothing was sent</td></tr>
     *   <tr><td>any other {@code IOException} (reset, broken pipe, read timeout, TLS), {@code TimeoutException}
     *       </td><td>AMBIGUOUS</td><td>the request may have been applied; idempotent work moves on</td></tr>
     *   <tr><td>an {@code SQLException} with SQL state 08001 or 08004</td><td>REGION_UNAVAILABLE</td>
     *       <td>no connection was made</td></tr>
     *   <tr><td>an {@code SQLException} with another state of class 08 (connection exception)</td><td>AMBIGUOUS</td>
     *       <td>the connection broke</td></tr>
     *   <tr><td>an exception that carries an HTTP status (a public {@code statusCode()}, {@code getStatusCode()},
     *       {@code status()}, {@code getStatus()}, {@code httpStatus()}, {@code getHttpStatus()} or
     *       {@code getRawStatusCode()} returning an {@code int} or an object with {@code int value()}): 503 or 429
     *       </td><td>REGION_UNAVAILABLE</td><td>refused or throttled before processing</td></tr>
     *   <tr><td>such a status 500–599</td><td>AMBIGUOUS</td><td>the server failed while processing</td></tr>
     *   <tr><td>such a status 400–499</td><td>CALLER</td><td>the request itself was refused</td></tr>
     *   <tr><td>anything else</td><td>CALLER</td><td>nothing says another region would do better</td></tr>
     * </table>
     *
     * <p>To classify a client's own exceptions, put rules in front of it with {@link #builder()}.
     *
     * @return the shared default classifier
     */
    static ErrorClassifier defaults() {
        return DefaultErrorClassifier.INSTANCE;
    }

    /**
     * Returns what the transport says about {@code error} and its causes, by the rows of {@link #defaults()} other
     * than the last: a connect failure, another I/O failure or timeout, an SQL connection state, an HTTP status the
     * exception carries. Empty when the chain says none of these, so that an adapter's classifier can decide the
     * rest by its client's own errors (the DynamoDB classifier does so for the causes of {@code SdkClientException}).
     *
     * @param error the failure, or {@code null}
     * @return the kind, or empty when the chain holds no transport evidence
     */
    static Optional<FailureKind> fromTransport(Throwable error) {
        return Optional.ofNullable(DefaultErrorClassifier.classifyChain(error));
    }

    /**
     * Starts a classifier made of rules tried in order, then a fallback ({@link #defaults()} unless
     * {@link Builder#otherwise(ErrorClassifier)} says otherwise):
     *
     * <pre>{@code
     * ErrorClassifier classifier = ErrorClassifier.builder()
     *         .on(BackendBusyException.class, FailureKind.REGION_UNAVAILABLE)
     *         .on(e -> e instanceof ApiException api && api.code() == 409, FailureKind.CALLER)
     *         .build();
     * }</pre>
     *
     * @return a new builder
     */
    static Builder builder() {
        return new Builder();
    }

    /**
     * Builds a classifier from rules. Each rule is tried against the failure and then each of its causes (up to 16
     * deep); the first rule that matches any of them decides. When none matches, the fallback classifies. The
     * classifier built never throws: a rule that throws makes the failure {@link FailureKind#AMBIGUOUS}. Not
     * thread-safe; the classifier built is immutable and thread-safe.
     */
    final class Builder {
        private static final int MAX_CAUSE_DEPTH = 16;
        private final List<Predicate<Throwable>> matches = new ArrayList<>();
        private final List<FailureKind> kinds = new ArrayList<>();
        private ErrorClassifier fallback = defaults();

        private Builder() {
        }

        /**
         * Classifies failures of {@code type} (or caused by one) as {@code kind}.
         *
         * @param type the exception type, matched with {@code instanceof}
         * @param kind what such a failure means
         * @return this builder
         */
        public Builder on(Class<? extends Throwable> type, FailureKind kind) {
            Objects.requireNonNull(type, "type");
            return on(type::isInstance, kind);
        }

        /**
         * Classifies failures that {@code match} accepts (or whose cause it accepts) as {@code kind}.
         *
         * @param match the test; must be fast and side-effect free
         * @param kind what such a failure means
         * @return this builder
         */
        public Builder on(Predicate<Throwable> match, FailureKind kind) {
            Objects.requireNonNull(match, "match");
            if (kind == null) {
                throw new LatitudeConfigException("errorClassifier.on(..., kind)",
                        "kind is null; pass one of " + Arrays.toString(FailureKind.values()));
            }
            matches.add(match);
            kinds.add(kind);
            return this;
        }

        /**
         * Sets the classifier asked when no rule matches (default {@link ErrorClassifier#defaults()}); an adapter's
         * classifier, such as the DynamoDB one, composes the same way.
         *
         * @param fallback the fallback classifier
         * @return this builder
         */
        public Builder otherwise(ErrorClassifier fallback) {
            this.fallback = Objects.requireNonNull(fallback, "fallback");
            return this;
        }

        /**
         * Builds the classifier.
         *
         * @return the classifier
         */
        public ErrorClassifier build() {
            List<Predicate<Throwable>> m = List.copyOf(matches);
            List<FailureKind> k = List.copyOf(kinds);
            ErrorClassifier f = fallback;
            return error -> {
                try {
                    for (int r = 0; r < m.size(); r++) {
                        Throwable t = error;
                        for (int depth = 0; t != null && depth < MAX_CAUSE_DEPTH; depth++, t = t.getCause()) {
                            if (!(t instanceof CompletionException || t instanceof ExecutionException)
                                    && m.get(r).test(t)) {
                                return k.get(r);
                            }
                            if (t.getCause() == t) {
                                break;
                            }
                        }
                    }
                } catch (RuntimeException e) {
                    return FailureKind.AMBIGUOUS;
                }
                FailureKind kind = f.classify(error);
                return kind != null ? kind : FailureKind.AMBIGUOUS;
            };
        }
    }
}
