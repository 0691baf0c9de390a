package dev.latitude.dynamodb.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Tells what a PartiQL statement for DynamoDB does, which table it touches and which top-level attributes it writes,
 * reading it the way DynamoDB's PartiQL lexer does, so that it is routed like the equivalent API call. Anything the
 * reader is not sure of is refused ({@link UnreadableStatementException}) rather than routed by a guess.
 *
 * <p>Lexical rules (those of DynamoDB's PartiQL):
 * <ul>
 *   <li>whitespace is space, tab, CR, LF, VT and FF only; other Unicode spaces are refused (DynamoDB refuses them);</li>
 *   <li>{@code --} starts a comment up to CR or LF; {@code /*} starts one up to the first {@code *}{@code /} (they do
 *       not nest; an unclosed one is refused);</li>
 *   <li>an unquoted identifier is ASCII letters, digits, {@code _} and {@code $}, not starting with a digit, keywords
 *       in any case ({@code -} is an operator, so {@code eu-users} is not one name); a quoted identifier is
 *       {@code "..."} with {@code ""} for a quote; a string literal is {@code '...'} with {@code ''}; nothing in either
 *       is taken for a keyword or a comment;</li>
 *   <li>Ion literals ({@code `...`}) and characters PartiQL does not allow outside quotes are refused.</li>
 * </ul>
 *
 * <p>Statement forms: {@code SELECT ... FROM t [WHERE|ORDER ...]} (optionally wrapped in {@code EXISTS(...)}),
 * {@code INSERT INTO t VALUE {...}}, {@code UPDATE t SET|REMOVE ...} and
 * {@code DELETE FROM t WHERE ...}, where {@code t} is a table name, optionally followed by {@code .index}. Refused:
 * another statement form, a table reference that is anything else, a nested SELECT or a second FROM, INTO, INSERT,
 * UPDATE or DELETE, unbalanced brackets, more than one statement, an assignment or REMOVE whose target is not a
 * name, an inserted item whose keys are not string literals.
 */
public final class PartiQl {
    /** The statement form. */
    public enum Kind {
        /** {@code SELECT}, possibly within {@code EXISTS(...)}. */
        SELECT,
        /** {@code INSERT INTO}. */
        INSERT,
        /** {@code UPDATE}. */
        UPDATE,
        /** {@code DELETE FROM}. */
        DELETE
    }

    /** Words that never follow the table reference in a statement the reader accepts. */
    private static final Set<String> FORBIDDEN_AFTER_TABLE = Set.of("SELECT", "FROM", "INTO", "INSERT", "UPDATE",
            "DELETE");

    private final String statement;
    private final Kind kind;
    private final String table;
    private final List<Name> written;
    private final int stampAt;
    private final boolean emptyItem;

    private PartiQl(String statement, Kind kind, String table, List<Name> written, int stampAt, boolean emptyItem) {
        this.statement = statement;
        this.kind = kind;
        this.table = table;
        this.written = List.copyOf(written);
        this.stampAt = stampAt;
        this.emptyItem = emptyItem;
    }

    /** Returns the statement form. */
    public Kind kind() {
        return kind;
    }

    /** Returns whether the statement is a SELECT. */
    public boolean read() {
        return kind == Kind.SELECT;
    }

    /** Returns the table the statement touches (without an index suffix). */
    public String table() {
        return table;
    }

    /**
     * Tells whether the statement writes (or removes) the top-level attribute {@code attribute}: an UPDATE's SET or
     * REMOVE target whose first name is it, or a key of an INSERT's item. An unquoted name matches in any case (the
     * reader does not rely on how DynamoDB matches unquoted names).
     *
     * @param attribute the attribute name
     * @return whether the statement writes it
     */
    public boolean writes(String attribute) {
        for (Name n : written) {
            if (n.exact() ? n.text().equals(attribute) : n.text().equalsIgnoreCase(attribute)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Returns the statement made to also write {@code attribute} from a parameter that comes before all of the
     * statement's own (the stamp), or {@code null} for a statement that writes no attributes (SELECT, DELETE). An
     * UPDATE gets {@code SET "attribute" = ?} as its first clause (DynamoDB accepts several SET and REMOVE clauses);
     * an INSERT gets {@code 'attribute': ?} as the first entry of its item. No parameter of the statement comes before
     * the place of either, so the new parameter is the first.
     *
     * @param attribute a top-level attribute name without quotes of either kind
     * @return the statement to send, or {@code null}
     */
    public String withFirstParameterWriting(String attribute) {
        if (stampAt < 0) {
            return null;
        }
        String assignment = kind == Kind.UPDATE ? " SET \"" + attribute + "\" = ?"
                : "'" + attribute + "': ?" + (emptyItem ? "" : ", ");
        return statement.substring(0, stampAt) + assignment + statement.substring(stampAt);
    }

    /**
     * Reads {@code statement}.
     *
     * @param statement the PartiQL statement
     * @return what it does
     * @throws UnreadableStatementException if it is none of DynamoDB's statement forms, or the reader is not sure
     */
    public static PartiQl parse(String statement) {
        if (statement == null) {
            throw new UnreadableStatementException("there is no statement", 0);
        }
        return new Parser(statement, new Lexer(statement).tokens()).statement();
    }

    @Override
    public String toString() {
        return "PartiQl[" + kind + " " + table + "]"; // no literal of the statement: it may hold personal data
    }

    /**
     * A statement the reader refuses: the reason and where, never the statement's text (it may hold personal data).
     */
    public static final class UnreadableStatementException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final String reason;
        private final int position;

        UnreadableStatementException(String reason, int position) {
            super(reason + " at character " + (position + 1), null, false, false);
            this.reason = reason;
            this.position = position;
        }

        /** Returns why the statement is refused. */
        public String reason() {
            return reason;
        }

        /** Returns the position (counted from 1) of the character the reason is about. */
        public int position() {
            return position + 1;
        }
    }

    /** A name the statement writes; {@code exact} unless it was unquoted. */
    private record Name(String text, boolean exact) {
    }

    private enum Type { WORD, QUOTED, STRING, NUMBER, PUNCT, EOF }

    /** A token: its type, its text (a quoted one unescaped; a word as written), its start and its end. */
    private record Token(Type type, String text, int start, int end) {
        boolean is(Type t, String s) {
            return type == t && (t == Type.WORD ? text.equalsIgnoreCase(s) : text.equals(s));
        }

        boolean word(String s) {
            return is(Type.WORD, s);
        }

        boolean punct(String s) {
            return is(Type.PUNCT, s);
        }

        boolean name() {
            return (type == Type.WORD || type == Type.QUOTED) && !text.isEmpty();
        }
    }

    /** DynamoDB's PartiQL lexer, as far as routing needs it. */
    private static final class Lexer {
        private static final String SPACE = " \t\n\r\u000B\u000C";
        /** Operators, brackets and the parameter mark. */
        private static final String PUNCT = "()[]{},.;:*=<>!+-/|%@?";
        private final String s;
        private final List<Token> tokens = new ArrayList<>();
        private int i;

        Lexer(String s) {
            this.s = s;
        }

        List<Token> tokens() {
            int n = s.length();
            while (i < n) {
                char c = s.charAt(i);
                char next = i + 1 < n ? s.charAt(i + 1) : 0;
                if (SPACE.indexOf(c) >= 0) {
                    i++;
                } else if (c == '-' && next == '-') {
                    while (i < n && s.charAt(i) != '\n' && s.charAt(i) != '\r') {
                        i++;
                    }
                } else if (c == '/' && next == '*') {
                    int end = s.indexOf("*/", i + 2);
                    if (end < 0) {
                        throw new UnreadableStatementException("a /* comment is not closed", i);
                    }
                    i = end + 2;
                } else if (c == '"' || c == '\'') {
                    int start = i;
                    String text = quoted(c);
                    tokens.add(new Token(c == '"' ? Type.QUOTED : Type.STRING, text, start, i));
                } else if (c == '`') {
                    throw new UnreadableStatementException("an Ion literal (backquoted) is not read by the router", i);
                } else if (identStart(c)) {
                    int start = i;
                    while (i < n && (identStart(s.charAt(i)) || digit(s.charAt(i)))) {
                        i++;
                    }
                    tokens.add(new Token(Type.WORD, s.substring(start, i), start, i));
                } else if (digit(c)) {
                    tokens.add(number());
                } else if (PUNCT.indexOf(c) >= 0) {
                    tokens.add(new Token(Type.PUNCT, String.valueOf(c), i, ++i));
                } else if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
                    throw new UnreadableStatementException("whitespace other than space, tab, CR, LF, VT or FF"
                            + " (PartiQL does not allow it)", i);
                } else {
                    throw new UnreadableStatementException("a character PartiQL does not allow outside quotes", i);
                }
            }
            tokens.add(new Token(Type.EOF, "", n, n));
            return tokens;
        }

        private static boolean identStart(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
        }

        private static boolean digit(char c) {
            return c >= '0' && c <= '9';
        }

        /** Reads a number: digits, an optional fraction, an optional exponent. */
        private Token number() {
            int start = i;
            int n = s.length();
            while (i < n && digit(s.charAt(i))) {
                i++;
            }
            if (i < n && s.charAt(i) == '.') {
                i++;
                while (i < n && digit(s.charAt(i))) {
                    i++;
                }
            }
            if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
                int e = i + 1;
                if (e < n && (s.charAt(e) == '+' || s.charAt(e) == '-')) {
                    e++;
                }
                if (e < n && digit(s.charAt(e))) {
                    i = e;
                    while (i < n && digit(s.charAt(i))) {
                        i++;
                    }
                }
            }
            return new Token(Type.NUMBER, s.substring(start, i), start, i);
        }

        /** Reads the text of a quoted token starting at {@code i} (a doubled quote stands for one). */
        private String quoted(char quote) {
            int start = i;
            StringBuilder sb = new StringBuilder();
            i++;
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c != quote) {
                    sb.append(c);
                } else if (i < s.length() && s.charAt(i) == quote) {
                    sb.append(quote);
                    i++;
                } else {
                    return sb.toString();
                }
            }
            throw new UnreadableStatementException(quote == '"' ? "a quoted name is not closed"
                    : "a string literal is not closed", start);
        }
    }

    /** Reads the statement forms from the tokens. */
    private static final class Parser {
        private final String statement;
        private final List<Token> t;
        private int p;
        /** The position just after the opening brace of an INSERT's item. */
        private int itemStart = -1;
        /** Whether an INSERT's item is {@code {}}. */
        private boolean emptyItem;

        Parser(String statement, List<Token> tokens) {
            this.statement = statement;
            this.t = tokens;
        }

        private Token at(int k) {
            return t.get(Math.min(k, t.size() - 1));
        }

        private static UnreadableStatementException refuse(String reason, Token at) {
            return new UnreadableStatementException(reason, at.start());
        }

        PartiQl statement() {
            boolean exists = false;
            if (at(p).word("EXISTS")) {
                exists = true;
                p++;
                if (!at(p).punct("(")) {
                    throw refuse("EXISTS is not followed by (", at(p));
                }
                p++;
            }
            Token first = at(p);
            Kind kind;
            if (first.word("SELECT")) {
                kind = Kind.SELECT;
                p++;
                skipSelectList();
            } else if (exists) {
                throw refuse("EXISTS(...) holds something other than a SELECT", first);
            } else if (first.word("INSERT")) {
                kind = Kind.INSERT;
                expectWord(++p, "INTO");
                p++;
            } else if (first.word("UPDATE")) {
                kind = Kind.UPDATE;
                p++;
            } else if (first.word("DELETE")) {
                kind = Kind.DELETE;
                expectWord(++p, "FROM");
                p++;
            } else {
                throw refuse("not one of DynamoDB's PartiQL statements (SELECT, INSERT, UPDATE, DELETE)", first);
            }
            String table = tableReference();
            int tableEnd = at(p - 1).end();
            Token follow = at(p);
            boolean follows = switch (kind) {
                case SELECT -> follow.word("WHERE") || follow.word("ORDER") || follow.type() == Type.EOF
                        || follow.punct(";") || (exists && follow.punct(")"));
                case INSERT -> follow.word("VALUE");
                case UPDATE -> follow.word("SET") || follow.word("REMOVE");
                case DELETE -> follow.word("WHERE");
            };
            if (!follows) {
                throw refuse("the table name is followed by something the router does not read", follow);
            }
            List<Name> written = new ArrayList<>();
            rest(kind, exists, written);
            int stampAt = switch (kind) {
                case UPDATE -> tableEnd;
                case INSERT -> itemStart;
                default -> -1;
            };
            return new PartiQl(statement, kind, table, written, stampAt, emptyItem);
        }

        private void expectWord(int k, String word) {
            if (!at(k).word(word)) {
                throw refuse("expected " + word, at(k));
            }
        }

        /** Skips a SELECT list up to and including its FROM, which must be outside brackets. */
        private void skipSelectList() {
            int depth = 0;
            while (true) {
                Token k = at(p);
                if (k.type() == Type.EOF) {
                    throw refuse("the SELECT has no FROM", k);
                } else if (k.word("SELECT")) {
                    throw refuse("a nested SELECT is not read by the router", k);
                } else if (k.word("FROM")) {
                    if (depth != 0) {
                        throw refuse("FROM within brackets is not read by the router", k);
                    }
                    p++;
                    return;
                } else if (opens(k)) {
                    depth++;
                } else if (closes(k) && --depth < 0) {
                    throw refuse("unbalanced brackets", k);
                }
                p++;
            }
        }

        /** Reads {@code name} or {@code name.index}; returns the table name. */
        private String tableReference() {
            Token name = at(p);
            if (!name.name()) {
                throw refuse("the table name is missing or is not a name", name);
            }
            p++;
            if (at(p).punct(".")) {
                if (!at(p + 1).name()) {
                    throw refuse("the index name is missing or is not a name", at(p + 1));
                }
                p += 2;
            }
            return name.text();
        }

        /**
         * Reads the rest of the statement: brackets balanced, one statement, no second statement keyword; collects
         * the names an UPDATE's SET and REMOVE clauses write and the keys of an INSERT's item.
         */
        private void rest(Kind kind, boolean exists, List<Name> written) {
            int depth = 0;
            boolean closedExists = false;
            boolean inAssignments = false; // within an UPDATE's SET or REMOVE clause
            boolean expectTarget = false;
            boolean expectKey = false;
            int itemDepth = -1; // the depth inside an INSERT's item braces
            if (kind == Kind.INSERT) {
                p++; // VALUE
                Token item = at(p);
                if (!item.punct("{")) {
                    throw refuse("the inserted item is not {...} (DynamoDB takes no other form)", item);
                }
                itemStart = item.end();
                emptyItem = at(p + 1).punct("}");
                p++;
                depth = 1;
                itemDepth = 1;
                expectKey = true;
            }
            for (; ; p++) {
                Token k = at(p);
                if (k.type() == Type.EOF) {
                    if (depth != 0 || (exists && !closedExists)) {
                        throw refuse("unbalanced brackets", k);
                    }
                    return;
                }
                if (closedExists && !k.punct(";")) {
                    throw refuse("something follows EXISTS(...)", k);
                }
                if (k.type() == Type.WORD && FORBIDDEN_AFTER_TABLE.contains(k.text().toUpperCase(Locale.ROOT))) {
                    throw refuse("a second statement or a nested one is not read by the router", k);
                }
                if (k.punct(";")) {
                    if (at(p + 1).type() != Type.EOF) {
                        throw refuse("more than one statement", k);
                    }
                    continue;
                }
                if (expectTarget) {
                    if (!k.name()) {
                        throw refuse("an attribute the statement writes is not a name", k);
                    }
                    written.add(new Name(k.text(), k.type() == Type.QUOTED));
                    expectTarget = false;
                    continue;
                }
                if (expectKey) {
                    if (k.punct("}") && depth == 1) {
                        expectKey = false; // an empty item, or a trailing comma the service judges
                    } else {
                        if (k.type() != Type.STRING) {
                            throw refuse("a key of the inserted item is not a string literal", k);
                        }
                        written.add(new Name(k.text(), true));
                        expectKey = false;
                        continue;
                    }
                }
                if (kind == Kind.UPDATE && depth == 0 && k.type() == Type.WORD) {
                    if (k.word("SET") || k.word("REMOVE")) {
                        inAssignments = true;
                        expectTarget = true;
                    } else if (k.word("WHERE") || k.word("RETURNING")) {
                        inAssignments = false;
                    }
                } else if (opens(k)) {
                    depth++;
                } else if (closes(k)) {
                    depth--;
                    if (depth < 0) {
                        if (!exists || closedExists || !k.punct(")")) {
                            throw refuse("unbalanced brackets", k);
                        }
                        closedExists = true;
                        depth = 0;
                    }
                } else if (k.punct(",")) {
                    if (inAssignments && depth == 0) {
                        expectTarget = true;
                    } else if (itemDepth == depth && kind == Kind.INSERT) {
                        expectKey = true;
                    }
                }
            }
        }

        private static boolean opens(Token k) {
            return k.punct("(") || k.punct("[") || k.punct("{");
        }

        private static boolean closes(Token k) {
            return k.punct(")") || k.punct("]") || k.punct("}");
        }
    }
}
