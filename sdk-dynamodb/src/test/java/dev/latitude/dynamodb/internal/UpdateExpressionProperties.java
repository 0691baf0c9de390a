package dev.latitude.dynamodb.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.latitude.SensitiveData;
import dev.latitude.dynamodb.internal.UpdateExpression.ClauseKind;
import dev.latitude.dynamodb.internal.UpdateExpression.MalformedExpressionException;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the {@link UpdateExpression} parser: random characters, random sequences of the grammar's tokens (huge list
 * indexes, deep nesting and a planted personal value among them) and expressions generated from the grammar. Every
 * text is either parsed or refused with {@link MalformedExpressionException}, never another exception, and a refusal's
 * message quotes nothing of the text unless {@link SensitiveData#PROPERTY} asks for it.
 */
class UpdateExpressionProperties {
    private static final String SECRET = "alice";
    private static final Map<String, String> NAMES = Map.of("#n", "name", "#l", "list");

    private static void parsesOrIsMalformed(String text) {
        Throwable t = catchThrowable(() -> UpdateExpression.parse(text, NAMES));
        if (t != null) {
            assertThat(t).as(text).isExactlyInstanceOf(MalformedExpressionException.class);
            assertThat(t.getMessage()).as(text).doesNotContain(SECRET).startsWith("Malformed UpdateExpression at offset");
        }
    }

    @Property(tries = 2000)
    void anyCharactersParseOrAreMalformed(@ForAll("characters") String text) {
        parsesOrIsMalformed(text);
    }

    @Provide
    Arbitrary<String> characters() {
        return Arbitraries.strings().withChars("SETREMOVADsetremovad#:=+-(),.[]0123456789 _\u00e9@'\"\t")
                .ofMaxLength(40);
    }

    @Property(tries = 3000)
    void anyTokenSequenceParsesOrIsMalformed(@ForAll("tokenSequences") String text) {
        parsesOrIsMalformed(text);
    }

    @Provide
    Arbitrary<String> tokenSequences() {
        Arbitrary<String> token = Arbitraries.of("SET", "REMOVE", "ADD", "DELETE", "set", "a", "b", "#n", "#l", "#x",
                ":v", ":w", "=", "+", "-", "(", ")", ",", ".", "[", "]", "0", "7", "99999999999", "2147483647",
                "2147483648", "if_not_exists", "list_append", "size", SECRET, "#", ":", "1a", "@");
        return token.list().ofMaxSize(25).map(l -> String.join(" ", l));
    }

    @Property(tries = 1000)
    void grammaticalExpressionsParse(@ForAll("expressions") String text) {
        assertThat(UpdateExpression.parse(text, NAMES).clauses()).isNotEmpty();
    }

    /** Expressions of DynamoDB's update grammar: each clause at most once, in any order. */
    @Provide
    Arbitrary<String> expressions() {
        Arbitrary<String> path = Combinators.combine(Arbitraries.of("a", "#n", "b_2", SECRET),
                Arbitraries.of("", ".c", "[0]", "[12].#l", ".d[2147483647]"))
                .as((head, tail) -> head + tail);
        Arbitrary<String> operand = Arbitraries.oneOf(Arbitraries.of(":v", ":w"), path,
                Combinators.combine(path, Arbitraries.of(":v", ":w")).as((p, v) -> "if_not_exists(" + p + ", " + v
                        + ")"),
                Combinators.combine(path, path).as((p, q) -> "list_append(" + p + ", " + q + ")"));
        Arbitrary<String> value = Arbitraries.oneOf(operand, Combinators.combine(operand, Arbitraries.of(" + ", " - "),
                operand).as((x, op, y) -> x + op + y));
        Arbitrary<String> set = Combinators.combine(path, value).as((p, v) -> p + " = " + v).list().ofMinSize(1)
                .ofMaxSize(3).map(l -> "SET " + String.join(", ", l));
        Arbitrary<String> remove = path.list().ofMinSize(1).ofMaxSize(3).map(l -> "REMOVE " + String.join(", ", l));
        Arbitrary<String> add = path.map(p -> p + " :v").list().ofMinSize(1).ofMaxSize(2)
                .map(l -> "ADD " + String.join(", ", l));
        Arbitrary<String> delete = path.map(p -> p + " :w").list().ofMinSize(1).ofMaxSize(2)
                .map(l -> "delete " + String.join(", ", l));
        return Arbitraries.subsetOf(List.of(0, 1, 2, 3)).ofMinSize(1).flatMap(kinds -> {
            List<Arbitrary<String>> clauses = kinds.stream().map(k -> List.of(set, remove, add, delete).get(k))
                    .toList();
            return Combinators.combine(clauses).as(parts -> String.join(" ", parts));
        });
    }

    @Example
    void aListIndexPastAnIntIsMalformed() {
        assertThatThrownBy(() -> UpdateExpression.parse("SET a[99999999999] = :v", null))
                .isExactlyInstanceOf(MalformedExpressionException.class).hasMessageContaining("list index out of range")
                .hasMessageContaining("offset 6").hasMessageNotContaining("99999999999");
        assertThat(UpdateExpression.parse("SET a[2147483647] = :v", null).clause(ClauseKind.SET).actions().get(0)
                .target().resolved()).isEqualTo("a[2147483647]");
    }

    @Example
    void deepNestingIsMalformedRatherThanOverflowingTheStack() {
        int depth = 100_000;
        String deep = "SET a = " + "f(".repeat(depth) + ":v" + ")".repeat(depth);
        assertThatThrownBy(() -> UpdateExpression.parse(deep, null))
                .isExactlyInstanceOf(MalformedExpressionException.class).hasMessageContaining("nested more than");
        String allowed = "SET a = " + "f(".repeat(UpdateExpression.MAX_NESTING) + ":v"
                + ")".repeat(UpdateExpression.MAX_NESTING);
        assertThat(UpdateExpression.parse(allowed, null).clauses()).hasSize(1);
    }

    @Example
    void theOptInQuotesWhatWasFoundAndTheExpression() {
        String text = "SET a = 12345 " + SECRET;
        assertThatThrownBy(() -> UpdateExpression.parse(text, null)).hasMessageNotContaining(SECRET)
                .hasMessageNotContaining("12345").hasMessageContaining("expected an attribute name but found a word");
        System.setProperty(SensitiveData.PROPERTY, "true");
        try {
            assertThatThrownBy(() -> UpdateExpression.parse(text, null)).hasMessageContaining("found '12345'")
                    .hasMessageContaining(text);
        } finally {
            System.clearProperty(SensitiveData.PROPERTY);
        }
    }
}
