package dev.latitude.dynamodb.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.latitude.dynamodb.internal.PartiQl.Kind;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Proves that {@link PartiQl} reads a statement the way DynamoDB's PartiQL lexer does: it tells reads from writes and
 * finds the table of each statement form (quoted and plain names, {@code ""} escapes, index suffixes, EXISTS, any
 * keyword case), skips {@code --} and {@code /* *}{@code /} comments and never takes text inside comments, quoted
 * names or string literals for keywords or names; anything else it refuses with a reason and a position, never with
 * the statement's text. Also which attributes a write writes (the stamp attribute check).
 */
class PartiQlTest {
    private static final String TS = "_lat_ts";

    static Stream<Arguments> statements() {
        return Stream.of(
                Arguments.of("SELECT * FROM \"orders\" WHERE pk = ?", Kind.SELECT, "orders"),
                Arguments.of("SELECT a, b FROM orders WHERE pk = 'x'", Kind.SELECT, "orders"),
                Arguments.of("select * from \"orders\" where pk = ?", Kind.SELECT, "orders"),
                Arguments.of("SeLeCt * FrOm Orders", Kind.SELECT, "Orders"),
                Arguments.of("  \n\tSELECT *\nFROM\n\"orders\"\nWHERE pk = ?", Kind.SELECT, "orders"),
                Arguments.of("SELECT * FROM \"orders\"", Kind.SELECT, "orders"),
                Arguments.of("SELECT * FROM \"orders\";", Kind.SELECT, "orders"),
                Arguments.of("SELECT * FROM \"orders\" WHERE pk = 'a' ;  ", Kind.SELECT, "orders"),
                Arguments.of("SELECT * FROM \"orders\".\"byCustomer\" WHERE customer = ?", Kind.SELECT, "orders"),
                Arguments.of("SELECT * FROM orders.byCustomer WHERE customer = ?", Kind.SELECT, "orders"),
                Arguments.of("SELECT * FROM \"my.table-2024_v1\".\"gsi-1\" WHERE x = ?", Kind.SELECT,
                        "my.table-2024_v1"),
                Arguments.of("SELECT * FROM \"we\"\"ird\" WHERE pk = ?", Kind.SELECT, "we\"ird"),
                Arguments.of("SELECT * FROM \"\"\"\" WHERE pk = ?", Kind.SELECT, "\""),
                Arguments.of("SELECT from_date, \"FROM\" FROM \"events\" WHERE note = 'FROM other'", Kind.SELECT,
                        "events"),
                Arguments.of("SELECT * FROM \"orders\" WHERE pk = 'a' ORDER BY sk DESC", Kind.SELECT, "orders"),
                Arguments.of("SELECT size(v), v[0] FROM \"orders\" WHERE pk = 'a'", Kind.SELECT, "orders"),
                Arguments.of("SELECT * FROM t$1 WHERE pk = 'a'", Kind.SELECT, "t$1"),
                Arguments.of("EXISTS(SELECT * FROM \"orders\" WHERE pk = 'a')", Kind.SELECT, "orders"),
                Arguments.of("exists ( select * from \"orders\" where pk = 'a' )", Kind.SELECT, "orders"),
                Arguments.of("EXISTS(SELECT * FROM \"orders\")", Kind.SELECT, "orders"),
                Arguments.of("EXISTS /* c */ (SELECT * FROM \"orders\" WHERE pk = 'a') ;", Kind.SELECT, "orders"),
                Arguments.of("INSERT INTO \"orders\" VALUE {'pk': 'a', 'v': 1}", Kind.INSERT, "orders"),
                Arguments.of("insert into orders value {'pk': 'a'}", Kind.INSERT, "orders"),
                Arguments.of("INSERT INTO \"we\"\"ird\" VALUE {'pk': 'a'}", Kind.INSERT, "we\"ird"),
                Arguments.of("UPDATE \"orders\" SET v = 1 WHERE pk = 'a'", Kind.UPDATE, "orders"),
                Arguments.of("update orders set v = 1 where pk = 'a'", Kind.UPDATE, "orders"),
                Arguments.of("UPDATE \"orders\" REMOVE v WHERE pk = 'a' RETURNING ALL OLD *", Kind.UPDATE, "orders"),
                Arguments.of("DELETE FROM \"orders\" WHERE pk = 'a'", Kind.DELETE, "orders"),
                Arguments.of("delete from Orders where pk = 'a'", Kind.DELETE, "Orders"),
                Arguments.of("DELETE FROM \"orders\".\"byCustomer\" WHERE pk = 'a'", Kind.DELETE, "orders"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("statements")
    void findsWhatTheStatementDoesAndItsTable(String statement, Kind kind, String table) {
        PartiQl read = PartiQl.parse(statement);
        assertThat(read.kind()).isEqualTo(kind);
        assertThat(read.read()).isEqualTo(kind == Kind.SELECT);
        assertThat(read.table()).isEqualTo(table);
    }

    /**
     * Comments are skipped where DynamoDB skips them, and text inside them, inside quoted names and inside string
     * literals never names the table. The first rows are the review's findings: a comment made the reader route by
     * another table (or by a data class named {@code --}) while DynamoDB executed against {@code eu_users}.
     */
    static Stream<Arguments> commentsAndQuotes() {
        return Stream.of(
                Arguments.of("SELECT /* FROM \"public_t\" */ * FROM \"eu_users\"", "eu_users"),
                Arguments.of("UPDATE -- c\n\"eu_users\" SET v = 1 WHERE pk = 'a'", "eu_users"),
                Arguments.of("DELETE FROM --c\n\"eu_users\" WHERE pk = 'a'", "eu_users"),
                Arguments.of("INSERT INTO --c\n\"eu_users\" VALUE {'pk': 'a'}", "eu_users"),
                Arguments.of("INSERT INTO --c\reu_users VALUE {'pk': 'a'}", "eu_users"),
                Arguments.of("UPDATE/**/eu_users/**/SET v = 1 WHERE pk = 'a'", "eu_users"),
                Arguments.of("select/**/*/**/from/**/\"eu_users\"", "eu_users"),
                Arguments.of("SELECT * FROM \"eu_users\" -- FROM \"public_t\"", "eu_users"),
                Arguments.of("SELECT * FROM \"eu_users\" /* ; SELECT * FROM \"public_t\" */", "eu_users"),
                Arguments.of("SELECT * FROM \"eu_users\" WHERE pk = '-- FROM \"public_t\"'", "eu_users"),
                Arguments.of("SELECT * FROM \"eu_users\" WHERE pk = 'it''s /* not a comment'", "eu_users"),
                Arguments.of("SELECT \"--\", \"/*\" FROM \"eu_users\" WHERE pk = '*/'", "eu_users"),
                Arguments.of("SELECT * FROM \"eu--users\" WHERE pk = 'a'", "eu--users"),
                Arguments.of("SELECT * FROM \"eu/*users*/\" WHERE pk = 'a'", "eu/*users*/"),
                Arguments.of("SELECT * /*/ FROM \"public_t\" */ FROM \"eu_users\"", "eu_users"),
                Arguments.of("SELECT * /**/ FROM \"eu_users\" /* x **/", "eu_users"),
                Arguments.of("SELECT \"x FROM y\", 'FROM z' FROM \"eu_users\"", "eu_users"),
                Arguments.of("DELETE FROM \"eu_users\" WHERE pk = 'a' -- ; DELETE FROM \"public_t\"", "eu_users"),
                Arguments.of("SELECT\u000B*\u000CFROM\r\n\"eu_users\"\t", "eu_users"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commentsAndQuotes")
    void commentsAndQuotedTextNeverNameTheTable(String statement, String table) {
        assertThat(PartiQl.parse(statement).table()).isEqualTo(table);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @NullAndEmptySource
    @ValueSource(strings = {
        "   ",
        "-- only a comment",
        "hello world",
        "SELECT 1",
        "SELECT * FROM",
        "SELECT * FROM ;",
        "SELECT * WHERE pk = 'a'",
        "INSERT \"orders\" VALUE {'pk': 'a'}",
        "INSERT INTO",
        "UPDATE",
        "DELETE \"orders\" WHERE pk = 'a'",
        "DELETE FROM",
        "DROP TABLE orders",
        "CREATE TABLE orders",
        "\"orders\"",
        "SELECT * FROM \"unterminated WHERE pk = 'a'",
        "SELECT * FROM \"orders\" WHERE pk = 'unterminated",
        "SELECT * FROM \"\" WHERE pk = 'a'",
        "WITH x AS (SELECT * FROM \"orders\") SELECT * FROM x",
        // comments: unterminated, nested (they do not nest in PartiQL: the rest is read as code)
        "SELECT * FROM /* \"eu_users\"",
        "SELECT * FROM \"eu_users\" /* unterminated",
        "SELECT * FROM /* a /* b */ c */ \"eu_users\"",
        "UPDATE -- comment without a line end \"eu_users\" SET v = 1",
        // names PartiQL does not read as one name
        "SELECT * FROM eu-users WHERE pk = 'a'",
        "UPDATE eu-users SET v = 1 WHERE pk = 'a'",
        "DELETE FROM eu.users.x WHERE pk = 'a'",
        "SELECT * FROM \"a\"[0]",
        "SELECT * FROM 'eu_users'",
        "SELECT * FROM ?",
        "SELECT * FROM @eu_users",
        "SELECT * FROM \"orders\"WHERE pk = 'a' AND x = \"y",
        "SELECT * FROM caf\u00e9",
        "SELECT * FROM `eu_users`",
        "SELECT * FROM \"a\" WHERE v = `{a: 1}`",
        // whitespace DynamoDB does not accept
        "SELECT * FROM\u00A0\"eu_users\"",
        "SELECT\u2003* FROM \"eu_users\"",
        "UPDATE\u0085\"eu_users\" SET v = 1 WHERE pk = 'a'",
        // more than one table, statement or nesting
        "SELECT * FROM \"a\", \"b\"",
        "SELECT * FROM \"a\" JOIN \"b\" ON x = y",
        "SELECT * FROM \"a\" AS x",
        "SELECT * FROM \"a\" \"b\"",
        "SELECT (SELECT * FROM \"b\") FROM \"a\"",
        "SELECT v FROM \"a\" WHERE pk IN (SELECT pk FROM \"b\")",
        "SELECT * FROM \"a\"; DELETE FROM \"b\" WHERE pk = 'a'",
        "SELECT * FROM \"a\" WHERE pk = 'a'; ;",
        "SELECT * FROM \"a\" WHERE (pk = 'a'",
        "SELECT * FROM \"a\" WHERE pk = 'a')",
        "SELECT (x FROM \"a\"",
        "EXISTS(SELECT * FROM \"a\") OR 1 = 1",
        "EXISTS(SELECT * FROM \"a\"",
        "EXISTS SELECT * FROM \"a\"",
        "EXISTS(DELETE FROM \"a\" WHERE pk = 'a')",
        "INSERT INTO \"a\" SELECT * FROM \"b\"",
        "INSERT INTO \"a\" VALUES ('x')",
        "INSERT INTO \"a\" VALUE {\"pk\": 'a'}",
        "INSERT INTO \"a\" VALUE {'pk': 'a', ?: 1}",
        "INSERT INTO \"a\" VALUE ?",
        "UPDATE \"a\" SET ? = 1 WHERE pk = 'a'",
        "UPDATE \"a\" SET v = 1, 'x' = 2 WHERE pk = 'a'",
        "UPDATE \"a\" WHERE pk = 'a'",
        "DELETE FROM \"a\" RETURNING ALL OLD *",
    })
    void refusesAnythingElse(String statement) {
        assertThatThrownBy(() -> PartiQl.parse(statement)).isInstanceOf(PartiQl.UnreadableStatementException.class);
    }

    @Test
    void aRefusalNamesTheReasonAndAPositionButNeverTheStatementsText() {
        PartiQl.UnreadableStatementException e = catchThrowableOfType(
                () -> PartiQl.parse("SELECT * FROM \"eu_users\" WHERE email = 'alice@example.com"),
                PartiQl.UnreadableStatementException.class);
        assertThat(e.reason()).isEqualTo("a string literal is not closed");
        assertThat(e.position()).isEqualTo(40);
        assertThat(e.getMessage()).isEqualTo("a string literal is not closed at character 40")
                .doesNotContain("alice").doesNotContain("eu_users");

        e = catchThrowableOfType(() -> PartiQl.parse("SELECT * FROM eu-users"),
                PartiQl.UnreadableStatementException.class);
        assertThat(e.position()).isEqualTo(17); // the '-' after "eu"
        assertThat(e.getMessage()).doesNotContain("eu");
    }

    static Stream<Arguments> stampWrites() {
        return Stream.of(
                Arguments.of("UPDATE \"t\" SET \"_lat_ts\" = 5 WHERE pk = 'a'", true),
                Arguments.of("UPDATE \"t\" SET _lat_ts = 5 WHERE pk = 'a'", true),
                Arguments.of("UPDATE \"t\" SET a = 1, _LAT_TS = ? WHERE pk = 'a'", true),
                Arguments.of("UPDATE \"t\" SET a = 1 SET \"_lat_ts\" = 2 WHERE pk = 'a'", true),
                Arguments.of("UPDATE \"t\" SET a = list_append(a, [1, 2]), /* c */ \"_lat_ts\" = 1 WHERE pk = 'a'",
                        true),
                Arguments.of("UPDATE \"t\" REMOVE \"_lat_ts\" WHERE pk = 'a'", true),
                Arguments.of("UPDATE \"t\" REMOVE a, _lat_ts WHERE pk = 'a'", true),
                Arguments.of("UPDATE \"t\" SET \"_lat_ts\"[0] = 1 WHERE pk = 'a'", true),
                Arguments.of("UPDATE \"t\" SET a = 1 WHERE pk = 'a' SET \"_lat_ts\" = 1", true),
                Arguments.of("INSERT INTO \"t\" VALUE {'pk': 'a', '_lat_ts': 1}", true),
                Arguments.of("INSERT INTO \"t\" VALUE {'_lat_ts': 1, 'pk': 'a'}", true),
                Arguments.of("UPDATE \"t\" SET a = \"_lat_ts\" WHERE pk = 'a'", false),
                Arguments.of("UPDATE \"t\" SET a = 1 WHERE pk = 'a' AND \"_lat_ts\" < 5", false),
                Arguments.of("UPDATE \"t\" SET \"m\".\"_lat_ts\" = 1 WHERE pk = 'a'", false),
                Arguments.of("UPDATE \"t\" SET \"_LAT_TS\" = 1 WHERE pk = 'a'", false),
                Arguments.of("UPDATE \"t\" SET a = '_lat_ts' WHERE pk = 'a' -- \"_lat_ts\" = 1", false),
                Arguments.of("INSERT INTO \"t\" VALUE {'pk': 'a', 'm': {'_lat_ts': 1}}", false),
                Arguments.of("INSERT INTO \"t\" VALUE {'pk': '_lat_ts', 'l': [1, '_lat_ts']}", false),
                Arguments.of("INSERT INTO \"t\" VALUE {'pk': 'a', '_LAT_TS': 1}", false),
                Arguments.of("DELETE FROM \"t\" WHERE pk = 'a' AND \"_lat_ts\" = 1", false),
                Arguments.of("SELECT \"_lat_ts\" FROM \"t\" WHERE pk = 'a'", false));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("stampWrites")
    void tellsWhetherAStatementWritesTheStampAttribute(String statement, boolean writes) {
        assertThat(PartiQl.parse(statement).writes(TS)).isEqualTo(writes);
    }

    static Stream<Arguments> stampedStatements() {
        return Stream.of(
                Arguments.of("UPDATE \"t\" SET v = ? WHERE pk = ?",
                        "UPDATE \"t\" SET \"_lat_ts\" = ? SET v = ? WHERE pk = ?"),
                Arguments.of("update t.i remove v where pk = 'a'",
                        "update t.i SET \"_lat_ts\" = ? remove v where pk = 'a'"),
                Arguments.of("UPDATE -- c\n\"t\"-- d\nSET v = 1 WHERE pk = 'a'",
                        "UPDATE -- c\n\"t\" SET \"_lat_ts\" = ?-- d\nSET v = 1 WHERE pk = 'a'"),
                Arguments.of("INSERT INTO \"t\" VALUE {'pk': ?, 'v': 1}",
                        "INSERT INTO \"t\" VALUE {'_lat_ts': ?, 'pk': ?, 'v': 1}"),
                Arguments.of("INSERT INTO \"t\" VALUE {/* c */ 'pk': 'a'}",
                        "INSERT INTO \"t\" VALUE {'_lat_ts': ?, /* c */ 'pk': 'a'}"),
                Arguments.of("INSERT INTO \"t\" VALUE { }", "INSERT INTO \"t\" VALUE {'_lat_ts': ? }"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stampedStatements")
    void aWriteIsMadeToWriteTheStampFromAFirstParameter(String statement, String stamped) {
        assertThat(PartiQl.parse(statement).withFirstParameterWriting(TS)).isEqualTo(stamped);
        PartiQl again = PartiQl.parse(stamped);
        assertThat(again.table()).isEqualTo(PartiQl.parse(statement).table());
        assertThat(again.writes(TS)).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SELECT * FROM \"t\" WHERE pk = ?", "DELETE FROM \"t\" WHERE pk = ?",
        "EXISTS(SELECT * FROM \"t\" WHERE pk = 'a' AND v = 1)"})
    void readsAndDeletesWriteNoStamp(String statement) {
        assertThat(PartiQl.parse(statement).withFirstParameterWriting(TS)).isNull();
    }

    @Test
    void describesItselfWithoutTheStatementsText() {
        assertThat(PartiQl.parse("SELECT * FROM \"t\" WHERE email = 'alice@example.com'"))
                .hasToString("PartiQl[SELECT t]");
    }
}
