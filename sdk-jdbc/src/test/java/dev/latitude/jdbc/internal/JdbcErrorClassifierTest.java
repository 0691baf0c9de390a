package dev.latitude.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.FailureKind;
import java.io.IOException;
import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** How JDBC failures are classified for the engine, by SQLState and exception type. */
class JdbcErrorClassifierTest {
    private final JdbcErrorClassifier classifier = JdbcErrorClassifier.create();

    private FailureKind state(String sqlState) {
        return classifier.classify(new SQLException("x", sqlState));
    }

    @Test
    void nothingSent_isRegionUnavailable() {
        assertThat(state("08001")).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(state("08004")).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(state("57P03")).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(state("25006")).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(new SQLTransientConnectionException("pool timeout", "08001")))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(new SQLException("refused", "08006", new ConnectException("refused"))))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
    }

    @Test
    void connectionLostWhileRunning_isAmbiguous() {
        assertThat(state("08006")).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(state("57P01")).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(new SQLTimeoutException("slow"))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(new CompletionException(new IOException("reset"))))
                .isEqualTo(FailureKind.AMBIGUOUS);
    }

    @Test
    void theStatementsOwnErrors_areTheCallers() {
        assertThat(state("42601")).isEqualTo(FailureKind.CALLER);
        assertThat(state("23505")).isEqualTo(FailureKind.CALLER);
        assertThat(state("40001")).isEqualTo(FailureKind.CALLER);
        assertThat(state(null)).isEqualTo(FailureKind.CALLER);
        assertThat(classifier.classify(new IllegalStateException())).isEqualTo(FailureKind.CALLER);
    }
}
