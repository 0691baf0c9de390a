package dev.latitude.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Naming units of work by their first statement, and which verbs count as reads. */
class SqlVerbsTest {

    @Test
    void verb_skipsWhiteSpaceCommentsAndParentheses() {
        assertThat(SqlVerbs.verb("select 1")).isEqualTo("SELECT");
        assertThat(SqlVerbs.verb("  \n\t-- a comment\n/* another */ (SELECT 1) UNION (SELECT 2)")).isEqualTo("SELECT");
        assertThat(SqlVerbs.verb("insert into t values (1)")).isEqualTo("INSERT");
        assertThat(SqlVerbs.verb("With x AS (DELETE FROM t RETURNING *) SELECT * FROM x")).isEqualTo("WITH");
        assertThat(SqlVerbs.verb("vacuum")).isEqualTo("VACUUM");
    }

    @Test
    void verb_ofACommonVerb_isOneSharedConstant() {
        // Shared, so that the data source's caches keyed by verb hash it once.
        assertThat(SqlVerbs.verb("select v from kv")).isSameAs(SqlVerbs.verb("SELECT 1"));
        assertThat(SqlVerbs.verb("Update t set v = 1")).isSameAs("UPDATE");
        assertThat(SqlVerbs.verb("selectx")).isEqualTo("SELECTX");
    }

    @Test
    void verb_ofNothing_orNoKeyword() {
        assertThat(SqlVerbs.verb(null)).isEqualTo(SqlVerbs.CONNECT);
        assertThat(SqlVerbs.verb("")).isEqualTo("SQL");
        assertThat(SqlVerbs.verb("-- only a comment")).isEqualTo("SQL");
        assertThat(SqlVerbs.verb("/* unterminated")).isEqualTo("SQL");
        assertThat(SqlVerbs.verb("{call f()}")).isEqualTo("SQL");
    }

    @Test
    void mayWrite_isFalseOnlyForPlainReads() {
        assertThat(SqlVerbs.mayWrite("SELECT")).isFalse();
        assertThat(SqlVerbs.mayWrite("SHOW")).isFalse();
        assertThat(SqlVerbs.mayWrite("VALUES")).isFalse();
        assertThat(SqlVerbs.mayWrite("TABLE")).isFalse();
        assertThat(SqlVerbs.mayWrite(SqlVerbs.CONNECT)).isFalse();
        // A CTE may hide a write, and anything unknown may write: both are treated as writes.
        assertThat(SqlVerbs.mayWrite("WITH")).isTrue();
        assertThat(SqlVerbs.mayWrite("UPDATE")).isTrue();
        assertThat(SqlVerbs.mayWrite("SQL")).isTrue();
    }
}
