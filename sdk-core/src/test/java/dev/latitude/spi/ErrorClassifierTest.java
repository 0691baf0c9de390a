package dev.latitude.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.FailureKind;
import dev.latitude.LatitudeConfigException;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class ErrorClassifierTest {
    private final ErrorClassifier defaults = ErrorClassifier.defaults();

    /** An HTTP client's exception that carries its status as an int, as many do. */
    static final class HttpStatusException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        HttpStatusException(int status) {
            super("HTTP " + status);
            this.status = status;
        }

        public int statusCode() {
            return status;
        }
    }

    /** A status object with {@code int value()}, the way Spring's {@code HttpStatusCode} is shaped. */
    public static final class StatusCode {
        private final int value;

        StatusCode(int value) {
            this.value = value;
        }

        public int value() {
            return value;
        }
    }

    /** An exception that carries a status object. */
    public static final class RestClientError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final StatusCode status;

        RestClientError(int status) {
            super("rest " + status);
            this.status = new StatusCode(status);
        }

        public StatusCode getStatusCode() {
            return status;
        }
    }

    @Test
    void connectFailuresAreTheRegions() {
        assertThat(defaults.classify(new ConnectException("refused"))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(defaults.classify(new UnknownHostException("dynamodb.eu-west-9"))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(defaults.classify(new HttpConnectTimeoutException("connect timed out")))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(defaults.classify(new SocketException("Connection refused (Connection refused)")))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
    }

    @Test
    void wrappersAreLookedThrough() {
        // The shape a hand-made HTTP client wrapper usually throws: an unchecked wrapper around the I/O failure.
        assertThat(defaults.classify(new UncheckedIOException(new ConnectException("refused"))))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(defaults.classify(new RuntimeException("call failed", new IOException("Connection reset"))))
                .isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(defaults.classify(new CompletionException(new ExecutionException(new ConnectException("x")))))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
        // A connect failure deeper in the chain wins over an I/O failure above it.
        assertThat(defaults.classify(new IOException("request failed", new ConnectException("refused"))))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
    }

    @Test
    void failuresAfterSendingAreAmbiguous() {
        assertThat(defaults.classify(new SocketException("Connection reset"))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(defaults.classify(new SocketTimeoutException("Read timed out"))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(defaults.classify(new HttpTimeoutException("request timed out"))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(defaults.classify(new EOFException())).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(defaults.classify(new TimeoutException())).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(defaults.classify(new UncheckedIOException(new SocketException("Broken pipe"))))
                .isEqualTo(FailureKind.AMBIGUOUS);
    }

    @Test
    void httpStatusesTheExceptionCarries() {
        assertThat(defaults.classify(new HttpStatusException(503))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(defaults.classify(new HttpStatusException(429))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(defaults.classify(new HttpStatusException(500))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(defaults.classify(new HttpStatusException(502))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(defaults.classify(new HttpStatusException(404))).isEqualTo(FailureKind.CALLER);
        assertThat(defaults.classify(new RestClientError(503))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(defaults.classify(new RestClientError(409))).isEqualTo(FailureKind.CALLER);
        assertThat(defaults.classify(new RuntimeException("wrapped", new HttpStatusException(503))))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
    }

    @Test
    void sqlConnectionStates() {
        assertThat(defaults.classify(new SQLTransientConnectionException("no connection", "08001")))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(defaults.classify(new SQLException("connection lost", "08006"))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(defaults.classify(new SQLException("duplicate key", "23505"))).isEqualTo(FailureKind.CALLER);
    }

    @Test
    void everythingElseIsTheCallers() {
        assertThat(defaults.classify(new IllegalArgumentException("bad key"))).isEqualTo(FailureKind.CALLER);
        assertThat(defaults.classify(new RuntimeException())).isEqualTo(FailureKind.CALLER);
        assertThat(defaults.classify(null)).isEqualTo(FailureKind.CALLER);
    }

    @Test
    void aCyclicCauseChainEnds() {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);
        assertThat(defaults.classify(a)).isEqualTo(FailureKind.CALLER);
    }

    @Test
    void fromTransportIsEmptyWithoutEvidence() {
        assertThat(ErrorClassifier.fromTransport(new IllegalStateException("no"))).isEmpty();
        assertThat(ErrorClassifier.fromTransport(new IllegalStateException("x", new ConnectException("r"))))
                .contains(FailureKind.REGION_UNAVAILABLE);
        assertThat(ErrorClassifier.fromTransport(null)).isEmpty();
    }

    @Test
    void rulesComeFirstThenTheFallback() {
        class BackendBusy extends RuntimeException {
            private static final long serialVersionUID = 1L;
        }
        ErrorClassifier classifier = ErrorClassifier.builder()
                .on(BackendBusy.class, FailureKind.REGION_UNAVAILABLE)
                .on(e -> e instanceof HttpStatusException h && h.statusCode() == 503, FailureKind.CALLER)
                .build();
        assertThat(classifier.classify(new BackendBusy())).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        // A rule matches a cause too.
        assertThat(classifier.classify(new RuntimeException("x", new BackendBusy())))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
        // A rule overrides what the defaults would say.
        assertThat(classifier.classify(new HttpStatusException(503))).isEqualTo(FailureKind.CALLER);
        // No rule: the defaults.
        assertThat(classifier.classify(new ConnectException("refused"))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(new IllegalStateException())).isEqualTo(FailureKind.CALLER);
    }

    @Test
    void otherwiseReplacesTheFallback() {
        ErrorClassifier classifier = ErrorClassifier.builder()
                .on(IllegalStateException.class, FailureKind.AMBIGUOUS)
                .otherwise(e -> FailureKind.REGION_UNAVAILABLE)
                .build();
        assertThat(classifier.classify(new IllegalStateException())).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(new IllegalArgumentException())).isEqualTo(FailureKind.REGION_UNAVAILABLE);
    }

    @Test
    void aRuleThatThrowsMakesTheFailureAmbiguous() {
        ErrorClassifier classifier = ErrorClassifier.builder().on(e -> {
            throw new IllegalStateException("broken rule");
        }, FailureKind.CALLER).build();
        assertThat(classifier.classify(new RuntimeException())).isEqualTo(FailureKind.AMBIGUOUS);
    }

    @Test
    void aMissingKindIsAConfigError() {
        assertThatThrownBy(() -> ErrorClassifier.builder().on(RuntimeException.class, null))
                .isInstanceOf(LatitudeConfigException.class)
                .hasMessageContaining("kind is null")
                .hasMessageContaining("REGION_UNAVAILABLE");
    }
}
