package dev.latitude.dynamodb.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Proves that {@link PartiQl} tells reads from writes and finds the table of each of DynamoDB's PartiQL statement
 * forms (quoted and plain names, {@code ""} escapes, index suffixes, EXISTS, any keyword case), and answers
 * {@code null} for anything else, so such a statement is refused rather than routed by a wrong table.
 */
class PartiQlTest {

    static Stream<Arguments> statements() {
        return Stream.of(
                Arguments.of("SELECT * FROM \"orders\" WHERE pk = ?", true, "orders"),
                Arguments.of("SELECT a, b FROM orders WHERE pk = 'x'", true, "orders"),
                Arguments.of("select * from \"orders\" where pk = ?", true, "orders"),
                Arguments.of("SeLeCt * FrOm Orders", true, "Orders"),
                Arguments.of("  \n\tSELECT *\nFROM\n\"orders\"\nWHERE pk = ?", true, "orders"),
                Arguments.of("SELECT * FROM \"orders\"", true, "orders"),
                Arguments.of("SELECT * FROM \"orders\";", true, "orders"),
                Arguments.of("SELECT * FROM \"orders\".\"byCustomer\" WHERE customer = ?", true, "orders"),
                Arguments.of("SELECT * FROM orders.byCustomer WHERE customer = ?", true, "orders"),
                Arguments.of("SELECT * FROM \"my.table-2024_v1\".\"gsi-1\" WHERE x = ?", true, "my.table-2024_v1"),
                Arguments.of("SELECT * FROM \"we\"\"ird\" WHERE pk = ?", true, "we\"ird"),
                Arguments.of("SELECT * FROM \"\"\"\" WHERE pk = ?", true, "\""),
                Arguments.of("SELECT from_date, \"FROM\" FROM \"events\" WHERE note = 'FROM other'", true, "events"),
                Arguments.of("EXISTS(SELECT * FROM \"orders\" WHERE pk = 'a')", true, "orders"),
                Arguments.of("exists ( select * from \"orders\" where pk = 'a' )", true, "orders"),
                Arguments.of("INSERT INTO \"orders\" VALUE {'pk': 'a', 'v': 1}", false, "orders"),
                Arguments.of("insert into orders value {'pk': 'a'}", false, "orders"),
                Arguments.of("INSERT INTO \"we\"\"ird\" VALUE {'pk': 'a'}", false, "we\"ird"),
                Arguments.of("UPDATE \"orders\" SET v = 1 WHERE pk = 'a'", false, "orders"),
                Arguments.of("update orders set v = 1 where pk = 'a'", false, "orders"),
                Arguments.of("UPDATE \"orders\" REMOVE v WHERE pk = 'a' RETURNING ALL OLD *", false, "orders"),
                Arguments.of("DELETE FROM \"orders\" WHERE pk = 'a'", false, "orders"),
                Arguments.of("delete from Orders where pk = 'a'", false, "Orders"),
                Arguments.of("DELETE FROM \"orders\".\"byCustomer\" WHERE pk = 'a'", false, "orders"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("statements")
    void findsWhatTheStatementDoesAndItsTable(String statement, boolean read, String table) {
        assertThat(PartiQl.parse(statement)).isEqualTo(new PartiQl(read, table));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @NullAndEmptySource
    @ValueSource(strings = {
        "   ",
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
        "SELECT * FROM \"\" WHERE pk = 'a'",
        "SELECT * FROM \"orders\"WHERE pk = 'a'",
        "WITH x AS (SELECT * FROM \"orders\") SELECT * FROM x",
    })
    void answersNullForAnythingElse(String statement) {
        assertThat(PartiQl.parse(statement)).isNull();
    }

    /**
     * A double-quoted attribute name may hold any characters, "FROM" and spaces included; the table is what follows
     * the FROM keyword, not a word inside a quoted name. Otherwise the statement is routed by another table's data
     * policy (its residency included).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "SELECT \"moved from eu to us\" FROM \"orders\" WHERE pk = ?",
        "SELECT \"x FROM y z\", pk FROM \"orders\" WHERE pk = ?",
    })
    void aQuotedAttributeNameHoldingFromDoesNotNameTheTable(String statement) {
        assertThat(PartiQl.parse(statement)).isEqualTo(new PartiQl(true, "orders"));
    }
}
