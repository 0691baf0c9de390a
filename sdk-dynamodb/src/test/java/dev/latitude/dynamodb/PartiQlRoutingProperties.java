package dev.latitude.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.HybridLogicalClock;
import dev.latitude.RegionSpec;
import dev.latitude.dynamodb.internal.KeySchemas;
import dev.latitude.testkit.DynamoDbLocalRegion;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.ExecuteStatementRequest;
import software.amazon.awssdk.services.dynamodb.model.ExecuteStatementResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * Proves, with DynamoDB Local 3.1.0 as the oracle, that the table a PartiQL statement is routed by is the table
 * DynamoDB executes it against, or the statement is refused. Statements come from a small grammar of DynamoDB's four
 * forms with whitespace (Unicode spaces included), {@code --} and {@code /* *}{@code /} comments (unterminated and
 * "nested" ones included, holding other table names, quotes and keywords) placed between any two tokens, keywords in
 * any case, quoted and unquoted table names (with {@code -}, {@code .}, mixed case), and string literals and quoted
 * names holding comment markers. Each statement is routed by the client's router and what the client would send (a
 * write stamped, see {@link WriteStamper}) is executed on the server (the statement as it is, if refused); the
 * server's effect tells the table: the item a SELECT returns names its table; an INSERT, UPDATE or DELETE touches an
 * item only one table can have. Also that every executed write the router accepted wrote the stamp.
 */
class PartiQlRoutingProperties {
    private static final List<String> TABLES = List.of("eu_users", "public_t", "t-1", "a.b", "Mixed_Case");
    private static final AtomicLong MARKERS = new AtomicLong();

    private static DynamoDbLocalRegion server;
    private static DynamoDbRouter router;

    @BeforeContainer
    static void start() {
        server = DynamoDbLocalRegion.start("eu-west-1");
        DynamoDbClient c = server.client();
        for (String t : TABLES) {
            c.createTable(b -> b.tableName(t).billingMode(BillingMode.PAY_PER_REQUEST)
                    .keySchema(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build())
                    .attributeDefinitions(AttributeDefinition.builder().attributeName("pk")
                            .attributeType(ScalarAttributeType.S).build()));
            c.putItem(p -> p.tableName(t).item(Map.of("pk", s("k"), "tbl", s(t))));
        }
        router = new DynamoDbRouter(DataPolicies.builder()
                .exact("eu_users", DataPolicy.builder().residency("EU").build()).build(),
                HybridLogicalClock.create(Clock.systemUTC(), Duration.ofMillis(500)), WriteStamper.DEFAULT_ATTRIBUTE, Set.of(),
                new KeySchemas(Map.of(), t -> CompletableFuture.completedFuture(List.of()), Duration.ofSeconds(30)));
    }

    @AfterContainer
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    /**
     * A generated statement: its form (SELECT, INSERT, UPDATE, DELETE) and its text, with one parameter: the key
     * {@code k} for a SELECT, otherwise a marker fresh for each try (the inserted key, the value set, the key deleted).
     */
    record Statement(String form, String text) {
        @Override
        public String toString() {
            return form + ": " + text.replace("\n", "\\n").replace("\r", "\\r");
        }
    }

    @Property(tries = 200, seed = "20261130")
    void theRoutedTableIsTheExecutedTableOrTheStatementIsRefused(@ForAll("statements") Statement statement) {
        String marker = "m" + MARKERS.incrementAndGet();
        Check check = check(statement, marker);
        String routed = check.routed();
        String executed = check.executed();
        Statistics.collect(routed != null ? "routed" : "refused", executed != null ? "executed" : "failed");
        if (executed != null && routed != null) {
            assertThat(routed).as("the table %s is routed by, for %s", routed, statement).isEqualTo(executed);
        }
        Statistics.coverage(c -> c.check("routed", "executed").percentage(p -> p >= 10));
    }

    /**
     * The review's findings and the cases that decide how names are matched (unquoted names in another case than the
     * table's), each checked against the server the same way.
     */
    @Example
    void craftedStatementsAreRoutedByTheExecutedTableOrRefused() {
        List<Statement> crafted = List.of(
                new Statement("SELECT", "SELECT /* FROM \"public_t\" */ * FROM \"eu_users\" WHERE pk = ?"),
                new Statement("UPDATE", "UPDATE -- c\n\"eu_users\" SET v = ? WHERE pk = 'k'"),
                new Statement("DELETE", "DELETE FROM --c\n\"eu_users\" WHERE pk = ?"),
                new Statement("INSERT", "INSERT INTO --c\n\"eu_users\" VALUE {'pk': ?}"),
                new Statement("SELECT", "SELECT * FROM mixed_case WHERE pk = ?"),
                new Statement("SELECT", "SELECT * FROM MIXED_CASE WHERE pk = ?"),
                new Statement("SELECT", "SELECT * FROM Mixed_Case WHERE pk = ?"),
                new Statement("SELECT", "SELECT * FROM EU_USERS WHERE pk = ?"),
                new Statement("UPDATE", "UPDATE mixed_case SET v = ? WHERE pk = 'k'"),
                new Statement("SELECT", "SELECT * FROM \"a\".\"b\" WHERE pk = ?"),
                new Statement("SELECT", "SELECT * FROM a.b WHERE pk = ?"),
                new Statement("SELECT", "SELECT * FROM t-1 WHERE pk = ?"));
        List<String> executedAndRouted = new ArrayList<>();
        for (Statement st : crafted) {
            Check check = check(st, "m" + MARKERS.incrementAndGet());
            String routed = check.routed();
            String executed = check.executed();
            if (executed != null && routed != null) {
                assertThat(routed).as("the table %s is routed by, for %s", routed, st).isEqualTo(executed);
                executedAndRouted.add(st.text());
            }
        }
        assertThat(executedAndRouted).as("the review's four statements run on eu_users and are routed by it")
                .hasSizeGreaterThanOrEqualTo(4);
    }

    /**
     * The table a statement is routed by ({@code null} if refused) and the table the server executed it against
     * ({@code null} if the server refused it).
     */
    record Check(String routed, String executed) {
    }

    /**
     * Routes the statement and executes on the server what the client would send (the stamped statement), or the
     * statement itself if the router refused it.
     */
    private static Check check(Statement statement, String marker) {
        ExecuteStatementRequest request = ExecuteStatementRequest.builder().statement(statement.text())
                .parameters(statement.form().equals("SELECT") ? s("k") : s(marker)).build();
        try {
            Routed<ExecuteStatementRequest, ExecuteStatementResponse> routed = router.executeStatement(request);
            return new Check(routed.operation.dataClass(), execute(statement,
                    routed.requestFor(RegionSpec.builder("eu-west-1").build()), marker));
        } catch (UnroutableRequestException e) {
            return new Check(null, execute(statement, request, marker));
        }
    }

    /** Executes a request on the server; returns the table it acted on, or null if the server refused it. */
    private static String execute(Statement statement, ExecuteStatementRequest request, String marker) {
        DynamoDbClient c = server.client();
        if (statement.form().equals("DELETE")) {
            for (String t : TABLES) {
                c.putItem(p -> p.tableName(t).item(Map.of("pk", s(marker))));
            }
        }
        ExecuteStatementResponse response;
        try {
            response = c.executeStatement(request);
        } catch (DynamoDbException e) {
            return null;
        }
        List<String> touched = new ArrayList<>();
        switch (statement.form()) {
            case "SELECT" -> response.items().forEach(i -> touched.add(i.get("tbl").s()));
            case "INSERT" -> TABLES.stream().filter(t -> item(c, t, marker) != null).forEach(touched::add);
            case "UPDATE" -> TABLES.stream().filter(t -> {
                Map<String, AttributeValue> item = item(c, t, "k");
                return item != null && item.containsKey("v") && marker.equals(item.get("v").s());
            }).forEach(touched::add);
            default -> TABLES.stream().filter(t -> item(c, t, marker) == null).forEach(touched::add);
        }
        assertThat(touched).as("tables %s executed against", statement).hasSize(1);
        boolean stamped = !request.statement().equals(statement.text());
        if (stamped) {
            Map<String, AttributeValue> item = item(c, touched.get(0), statement.form().equals("INSERT") ? marker : "k");
            assertThat(item).as("the item %s wrote", statement).containsEntry(WriteStamper.DEFAULT_ATTRIBUTE,
                    request.parameters().get(0));
        }
        return touched.get(0);
    }

    private static Map<String, AttributeValue> item(DynamoDbClient c, String table, String pk) {
        var r = c.getItem(g -> g.tableName(table).key(Map.of("pk", s(pk))).consistentRead(true));
        return r.hasItem() && !r.item().isEmpty() ? r.item() : null;
    }

    // ------------------------------------------------------------------------------------------ the grammar

    @Provide
    Arbitrary<Statement> statements() {
        return Arbitraries.oneOf(select(), insert(), update(), delete());
    }

    private static Arbitrary<String> gap() {
        Arbitrary<String> piece = Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.of(" ", "\n", "\t", "\r\n", "\u000B", "\u000C", "")),
                Tuple.of(1, Arbitraries.of("\u00A0", "\u2003", "\u0085")),
                Tuple.of(4, Arbitraries.of("/* FROM \"public_t\" */", "/**/", "/* -- */", "/* ' */", "/* \" */", "/*/ x */",
                        "/* a /* b */", "/* a /* b */ public_t */", "/* unterminated", "/* ; DELETE FROM public_t */")),
                Tuple.of(4, Arbitraries.of("-- FROM \"public_t\"\n", "--\n", "--c\r", "-- /*\n", "--x ",
                        "-- ' \"\n")));
        Arbitrary<Integer> pieces = Arbitraries.frequency(Tuple.of(6, 0), Tuple.of(3, 1), Tuple.of(1, 2));
        return Combinators.combine(piece, piece, pieces)
                .as((a, b, n) -> n == 0 ? " " : n == 1 ? a : a + b);
    }

    private static Arbitrary<String> keyword(String word) {
        return Arbitraries.of(word, word.toLowerCase(Locale.ROOT),
                word.charAt(0) + word.substring(1).toLowerCase(Locale.ROOT));
    }

    private static Arbitrary<String> table() {
        return Arbitraries.of("\"eu_users\"", "eu_users", "EU_USERS", "\"public_t\"", "public_t", "\"t-1\"", "t-1",
                "\"a.b\"", "a.b", "\"Mixed_Case\"", "Mixed_Case", "mixed_case", "\"mixed_case\"",
                "\"eu_users\".\"byX\"", "\"public_t--\"", "eu_users--x");
    }

    private static Arbitrary<String> literal() {
        return Arbitraries.of("'-- FROM \"public_t\"'", "'/* x'", "'it''s'", "'*/ FROM \"public_t\"'", "'\"eu_users\"'",
                "''", "'; DELETE FROM public_t'");
    }

    /** Joins the parts with a generated gap between each two (and before and after). */
    private static Arbitrary<String> joined(List<Arbitrary<String>> parts) {
        List<Arbitrary<String>> all = new ArrayList<>();
        all.add(gap());
        for (Arbitrary<String> p : parts) {
            all.add(p);
            all.add(gap());
        }
        return Combinators.combine(all).as(list -> String.join("", list));
    }

    private static Arbitrary<String> word(String text) {
        return Arbitraries.just(text);
    }

    private static Arbitrary<Statement> select() {
        Arbitrary<String> projection = Arbitraries.of("*", "tbl", "\"tbl\"", "tbl, \"FROM public_t\"",
                "tbl, \"--x\"", "\"/*\", tbl");
        Arbitrary<String> tail = Arbitraries.oneOf(Arbitraries.just(""),
                literal().map(l -> " OR pk = " + l), Arbitraries.just(";"));
        return joined(List.of(keyword("SELECT"), projection, keyword("FROM"), table(), keyword("WHERE"), word("pk"),
                word("="), word("?"), tail)).map(t -> new Statement("SELECT", t));
    }

    private static Arbitrary<Statement> insert() {
        return joined(List.of(keyword("INSERT"), keyword("INTO"), table(), keyword("VALUE"),
                literal().map(l -> "{'pk': ?, 'note': " + l + "}"))).map(t -> new Statement("INSERT", t));
    }

    private static Arbitrary<Statement> update() {
        return joined(List.of(keyword("UPDATE"), table(), keyword("SET"), word("v"), word("="), word("?"),
                literal().map(l -> ", note = " + l), keyword("WHERE"), word("pk"), word("="), word("'k'")))
                .map(t -> new Statement("UPDATE", t));
    }

    private static Arbitrary<Statement> delete() {
        return joined(List.of(keyword("DELETE"), keyword("FROM"), table(), keyword("WHERE"), word("pk"), word("="),
                word("?"))).map(t -> new Statement("DELETE", t));
    }
}
