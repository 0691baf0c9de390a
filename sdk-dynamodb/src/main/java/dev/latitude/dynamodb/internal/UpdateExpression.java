package dev.latitude.dynamodb.internal;

import dev.latitude.SensitiveData;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A parsed DynamoDB {@code UpdateExpression}: its clauses ({@code SET}, {@code REMOVE}, {@code ADD}, {@code DELETE},
 * keywords in any case), their actions, the paths they write and the paths their values read. Expression attribute
 * names ({@code #n}) are resolved through the request's {@code ExpressionAttributeNames}; a name missing from the map
 * is kept as written. Internal: not part of Latitude's API.
 *
 * <p>Whatever the text, parsing ends in an {@code UpdateExpression} or a {@link MalformedExpressionException}: list
 * indexes must fit in an {@code int} and functions nest at most {@value #MAX_NESTING} deep. The exception says what is
 * wrong and at which offset, but quotes nothing of the expression unless {@link SensitiveData#PROPERTY} asks for it.
 */
public final class UpdateExpression {
    /** How deep function calls may nest ({@code list_append(if_not_exists(a, :e), :v)} is two deep). */
    static final int MAX_NESTING = 32;

    /** A clause keyword. */
    public enum ClauseKind {
        /** {@code SET path = value, ...} */
        SET,
        /** {@code REMOVE path, ...} */
        REMOVE,
        /** {@code ADD path value, ...} */
        ADD,
        /** {@code DELETE path value, ...} */
        DELETE
    }

    /**
     * A document path such as {@code a.#b[2]}.
     *
     * @param elements the resolved attribute names, and list indexes written {@code [n]}
     * @param text the path as written
     */
    public record Path(List<String> elements, String text) {
        /** Returns the top-level attribute name (resolved). */
        public String attribute() {
            return elements.get(0);
        }

        /** Returns whether any element is a list index. */
        public boolean indexed() {
            return elements.stream().anyMatch(e -> e.startsWith("["));
        }

        /** Returns the resolved path, such as {@code a.b[2]}. */
        public String resolved() {
            StringBuilder sb = new StringBuilder();
            for (String e : elements) {
                if (sb.length() > 0 && !e.startsWith("[")) {
                    sb.append('.');
                }
                sb.append(e);
            }
            return sb.toString();
        }
    }

    /**
     * One action of a clause.
     *
     * @param target the path written
     * @param reads the paths the action's value reads (SET right-hand sides)
     * @param functions the functions the value calls, lower case
     */
    public record Action(Path target, List<Path> reads, List<String> functions) {
    }

    /**
     * One clause.
     *
     * @param kind the keyword
     * @param actions its actions
     * @param end the offset in the expression just after the clause's last action
     */
    public record Clause(ClauseKind kind, List<Action> actions, int end) {
    }

    private final String text;
    private final List<Clause> clauses;

    private UpdateExpression(String text, List<Clause> clauses) {
        this.text = text;
        this.clauses = Collections.unmodifiableList(clauses);
    }

    /**
     * Parses {@code expression}.
     *
     * @param expression the update expression
     * @param names the expression attribute names, or {@code null}
     * @return the parsed expression
     * @throws MalformedExpressionException if it is not a well-formed update expression
     */
    public static UpdateExpression parse(String expression, Map<String, String> names) {
        Objects.requireNonNull(expression, "expression");
        return new Parser(expression, names == null ? Map.of() : names).parse();
    }

    /** Returns the expression as written. */
    public String text() {
        return text;
    }

    /** Returns the clauses in the order written. */
    public List<Clause> clauses() {
        return clauses;
    }

    /** Returns the first clause of {@code kind}, or {@code null}. */
    public Clause clause(ClauseKind kind) {
        for (Clause c : clauses) {
            if (c.kind() == kind) {
                return c;
            }
        }
        return null;
    }

    private enum T { WORD, NAME, VALUE, PUNCT, END }

    private record Token(T type, String text, int start, int end) {
    }

    private static final class Parser {
        private final String src;
        private final Map<String, String> names;
        private final List<Token> tokens = new ArrayList<>();
        private int pos;
        /** How many function calls the parser is inside. */
        private int depth;

        Parser(String src, Map<String, String> names) {
            this.src = src;
            this.names = names;
            tokenize();
        }

        private void tokenize() {
            int i = 0;
            int n = src.length();
            while (i < n) {
                char c = src.charAt(i);
                if (Character.isWhitespace(c)) {
                    i++;
                } else if (c == '#' || c == ':') {
                    int j = i + 1;
                    while (j < n && isWordChar(src.charAt(j))) {
                        j++;
                    }
                    if (j == i + 1) {
                        throw error("'" + c + "' not followed by a name", i, null);
                    }
                    tokens.add(new Token(c == '#' ? T.NAME : T.VALUE, src.substring(i, j), i, j));
                    i = j;
                } else if (isWordChar(c)) {
                    int j = i;
                    while (j < n && isWordChar(src.charAt(j))) {
                        j++;
                    }
                    tokens.add(new Token(T.WORD, src.substring(i, j), i, j));
                    i = j;
                } else if ("=+-(),.[]".indexOf(c) >= 0) {
                    tokens.add(new Token(T.PUNCT, String.valueOf(c), i, i + 1));
                    i++;
                } else {
                    throw error("unexpected character", i, String.valueOf(c));
                }
            }
            tokens.add(new Token(T.END, "", n, n));
        }

        private static boolean isWordChar(char c) {
            return c == '_' || (c < 128 && Character.isLetterOrDigit(c));
        }

        /**
         * The exception for a problem at offset {@code at}: {@code what} names it without quoting the expression;
         * {@code found}, the text found there (or {@code null}), and the expression are added only when
         * {@link SensitiveData#PROPERTY} asks for values.
         */
        private MalformedExpressionException error(String what, int at, String found) {
            String message = "Malformed UpdateExpression at offset " + at + " of " + src.length() + " (" + what + ")";
            if (SensitiveData.shown()) {
                message += (found == null ? "" : ", found '" + found + "'") + ": " + src;
            }
            return new MalformedExpressionException(message);
        }

        /** What kind of token {@code t} is, for messages that do not quote it. */
        private static String kindOf(Token t) {
            return switch (t.type()) {
                case WORD -> "a word";
                case NAME -> "an attribute name placeholder";
                case VALUE -> "a value placeholder";
                case PUNCT -> "'" + t.text() + "'";
                case END -> "the end";
            };
        }

        private Token peek() {
            return tokens.get(pos);
        }

        private Token next() {
            return tokens.get(pos++);
        }

        private boolean isPunct(Token t, String p) {
            return t.type() == T.PUNCT && t.text().equals(p);
        }

        private Token expectPunct(String p) {
            Token t = next();
            if (!isPunct(t, p)) {
                throw error("expected '" + p + "' but found " + kindOf(t), t.start(), t.text());
            }
            return t;
        }

        private static ClauseKind keyword(Token t) {
            if (t.type() != T.WORD) {
                return null;
            }
            switch (t.text().toUpperCase(Locale.ROOT)) {
                case "SET": return ClauseKind.SET;
                case "REMOVE": return ClauseKind.REMOVE;
                case "ADD": return ClauseKind.ADD;
                case "DELETE": return ClauseKind.DELETE;
                default: return null;
            }
        }

        UpdateExpression parse() {
            List<Clause> clauses = new ArrayList<>();
            if (peek().type() == T.END) {
                throw error("empty expression", 0, null);
            }
            while (peek().type() != T.END) {
                Token kw = next();
                ClauseKind kind = keyword(kw);
                if (kind == null) {
                    throw error("expected SET, REMOVE, ADD or DELETE but found " + kindOf(kw), kw.start(), kw.text());
                }
                for (Clause c : clauses) {
                    if (c.kind() == kind) {
                        throw error(kind + " clause appears twice", kw.start(), null);
                    }
                }
                List<Action> actions = new ArrayList<>();
                int end;
                while (true) {
                    actions.add(action(kind));
                    end = tokens.get(pos - 1).end();
                    if (isPunct(peek(), ",")) {
                        next();
                        continue;
                    }
                    break;
                }
                if (peek().type() != T.END && keyword(peek()) == null) {
                    throw error("unexpected " + kindOf(peek()), peek().start(), peek().text());
                }
                clauses.add(new Clause(kind, List.copyOf(actions), end));
            }
            return new UpdateExpression(src, clauses);
        }

        private Action action(ClauseKind kind) {
            Path target = path();
            List<Path> reads = new ArrayList<>();
            List<String> functions = new ArrayList<>();
            switch (kind) {
                case SET -> {
                    expectPunct("=");
                    value(reads, functions);
                }
                case ADD, DELETE -> operand(reads, functions);
                case REMOVE -> { }
                default -> throw new IllegalStateException();
            }
            return new Action(target, List.copyOf(reads), List.copyOf(functions));
        }

        private void value(List<Path> reads, List<String> functions) {
            operand(reads, functions);
            if (isPunct(peek(), "+") || isPunct(peek(), "-")) {
                next();
                operand(reads, functions);
            }
        }

        private void operand(List<Path> reads, List<String> functions) {
            Token t = peek();
            if (t.type() == T.VALUE) {
                next();
                return;
            }
            if (t.type() == T.WORD && keyword(t) == null && isPunct(tokens.get(pos + 1), "(")) {
                if (++depth > MAX_NESTING) {
                    throw error("functions nested more than " + MAX_NESTING + " deep", t.start(), null);
                }
                next();
                next();
                functions.add(t.text().toLowerCase(Locale.ROOT));
                value(reads, functions);
                while (isPunct(peek(), ",")) {
                    next();
                    value(reads, functions);
                }
                expectPunct(")");
                depth--;
                return;
            }
            if (t.type() == T.NAME || (t.type() == T.WORD && keyword(t) == null)) {
                reads.add(path());
                return;
            }
            throw error("expected a value, path or function but found " + kindOf(t), t.start(), t.text());
        }

        private Path path() {
            Token first = next();
            List<String> elements = new ArrayList<>();
            elements.add(element(first));
            int end = first.end();
            while (true) {
                Token t = peek();
                if (isPunct(t, ".")) {
                    next();
                    Token e = next();
                    elements.add(element(e));
                    end = e.end();
                } else if (isPunct(t, "[")) {
                    next();
                    Token index = next();
                    if (index.type() != T.WORD || !index.text().chars().allMatch(Character::isDigit)) {
                        throw error("expected a list index but found " + kindOf(index), index.start(), index.text());
                    }
                    int value;
                    try {
                        value = Integer.parseInt(index.text());
                    } catch (NumberFormatException e) {
                        throw error("list index out of range", index.start(), index.text());
                    }
                    end = expectPunct("]").end();
                    elements.add("[" + value + "]");
                } else {
                    break;
                }
            }
            return new Path(List.copyOf(elements), src.substring(first.start(), end));
        }

        private String element(Token t) {
            if (t.type() == T.NAME) {
                return names.getOrDefault(t.text(), t.text());
            }
            if (t.type() == T.WORD && keyword(t) == null && !Character.isDigit(t.text().charAt(0))) {
                return t.text();
            }
            throw error("expected an attribute name but found " + kindOf(t), t.start(), t.text());
        }
    }

    /** An update expression this parser cannot read; the service may still accept it, or reject it itself. */
    public static final class MalformedExpressionException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        MalformedExpressionException(String message) {
            super(message);
        }
    }
}
