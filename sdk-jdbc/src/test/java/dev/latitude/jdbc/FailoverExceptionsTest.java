package dev.latitude.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.jdbc.support.SQLExceptionSubclassTranslator;
import org.springframework.jdbc.support.SQLStateSQLExceptionTranslator;

/**
 * The typed failover errors carry standard SQLStates and messages that name the regions and say what to do, and both of
 * Spring's generic translators turn them into the exceptions its retry and error handling expect.
 */
class FailoverExceptionsTest {
    private final SQLExceptionSubclassTranslator bySubclass = new SQLExceptionSubclassTranslator();
    private final SQLStateSQLExceptionTranslator byState = new SQLStateSQLExceptionTranslator();

    @Test
    void failedOver_isTransient_retry() {
        FailedOverException e = new FailedOverException("eu-west-1", "eu-central-1", new SQLException("reset"));
        assertThat(e.getSQLState()).isEqualTo("08S02");
        assertThat(e.getMessage()).contains("eu-west-1", "eu-central-1", "retry");
        assertThat(e.fromRegion()).isEqualTo("eu-west-1");
        assertThat(e.toRegion()).isEqualTo("eu-central-1");
        assertThat(bySubclass.translate("query", "SELECT 1", e)).isInstanceOf(TransientDataAccessResourceException.class);
        assertThat(byState.translate("query", "SELECT 1", e)).isInstanceOf(DataAccessResourceFailureException.class);
    }

    @Test
    void commitOutcomeUnknown_isRecoverable_notTransient() {
        CommitOutcomeUnknownException e = new CommitOutcomeUnknownException("us-east-1", "us-west-2", 4711, null);
        assertThat(e.getSQLState()).isEqualTo("08007");
        assertThat(e.getMessage()).contains("us-east-1", "us-west-2", "4711", "check whether");
        assertThat(e.transactionId()).isEqualTo(4711);
        DataAccessException translated = bySubclass.translate("commit", null, e);
        assertThat(translated).isInstanceOf(RecoverableDataAccessException.class);
        assertThat(new CommitOutcomeUnknownException("us-east-1", null, -1, null).getMessage())
                .contains("no writer could be found", "(no id yet)");
    }

    @Test
    void splitBrain_namesEveryWriter_andIsNotTransient() {
        SplitBrainException e = new SplitBrainException(List.of("us-east-1", "us-west-2"));
        assertThat(e.getSQLState()).isEqualTo("08004");
        assertThat(e.getMessage()).contains("us-east-1 and us-west-2", "split brain");
        assertThat(e.writerRegions()).containsExactly("us-east-1", "us-west-2");
        assertThat(bySubclass.translate("update", null, e)).isInstanceOf(DataAccessResourceFailureException.class)
                .isNotInstanceOf(TransientDataAccessResourceException.class);
    }

    @Test
    void noWriter_isTransient_andSaysWhatEachRegionAnswered() {
        Map<String, String> answers = new LinkedHashMap<>();
        answers.put("us-east-1", "unreachable: connection refused");
        answers.put("us-west-2", "replica");
        NoWriterException e = new NoWriterException(answers);
        assertThat(e.getSQLState()).isEqualTo("08001");
        assertThat(e.getMessage()).contains("region us-east-1: unreachable: connection refused; region us-west-2: replica",
                "retry");
        assertThat(e.answers().keySet()).containsExactly("us-east-1", "us-west-2");
        assertThat(bySubclass.translate("update", null, e)).isInstanceOf(TransientDataAccessResourceException.class);
    }

    @Test
    void writerIdentity_comparesSystemAndTimeline() {
        WriterIdentity a = new WriterIdentity(-5, 1); // system identifiers use all 64 bits
        assertThat(a.sameSystem(new WriterIdentity(-5, 2))).isTrue();
        assertThat(a).isNotEqualTo(new WriterIdentity(-5, 2));
        assertThat(a.sameSystem(null)).isFalse();
        assertThat(a.toString()).isEqualTo("system " + Long.toUnsignedString(-5) + " timeline 1");
        assertThatThrownBy(() -> new WriterIdentity(1, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeline");
    }
}
