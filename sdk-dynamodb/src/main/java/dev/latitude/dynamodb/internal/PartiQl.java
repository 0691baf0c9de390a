package dev.latitude.dynamodb.internal;

import java.util.Locale;

/**
 * Tells what a PartiQL statement for DynamoDB does and which table it touches, so that it can be routed like the
 * equivalent API call. DynamoDB's PartiQL has four statement forms: {@code SELECT ... FROM t}, {@code INSERT INTO t},
 * {@code UPDATE t} and {@code DELETE FROM t} (a SELECT may be wrapped in {@code EXISTS(...)}); a table name is a
 * double-quoted identifier ({@code ""} for a quote inside) or a plain one, optionally followed by {@code ."index"}.
 * The statement is read as tokens, so words inside quoted names and string literals are never taken for keywords.
 *
 * @param read whether the statement is a SELECT
 * @param table the table name
 */
public record PartiQl(boolean read, String table) {

    /**
     * Parses {@code statement}.
     *
     * @param statement the PartiQL statement
     * @return what it does, or {@code null} if it is none of DynamoDB's statement forms
     */
    public static PartiQl parse(String statement) {
        if (statement == null) {
            return null;
        }
        Lexer lx = new Lexer(statement);
        String first = lx.keyword();
        if ("EXISTS".equals(first) && lx.symbol('(')) {
            first = lx.keyword();
        }
        if (first == null) {
            return null;
        }
        switch (first) {
            case "SELECT":
                return lx.skipToKeyword("FROM") ? table(true, lx) : null;
            case "INSERT":
                return "INTO".equals(lx.keyword()) ? table(false, lx) : null;
            case "UPDATE":
                return table(false, lx);
            case "DELETE":
                return "FROM".equals(lx.keyword()) ? table(false, lx) : null;
            default:
                return null;
        }
    }

    private static PartiQl table(boolean read, Lexer lx) {
        String name = lx.identifier();
        return name == null || name.isEmpty() ? null : new PartiQl(read, name);
    }

    /** A minimal PartiQL tokenizer: keywords, identifiers, quoted names and string literals. */
    private static final class Lexer {
        private final String s;
        private int i;

        Lexer(String s) {
            this.s = s;
        }

        private void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private static boolean isWordChar(char c) {
            return Character.isLetterOrDigit(c) || c == '_' || c == '-';
        }

        /** Reads a bare word as an upper-case keyword, or returns {@code null} if the next token is not one. */
        String keyword() {
            skipSpace();
            int start = i;
            while (i < s.length() && isWordChar(s.charAt(i))) {
                i++;
            }
            return i == start ? null : s.substring(start, i).toUpperCase(Locale.ROOT);
        }

        boolean symbol(char c) {
            skipSpace();
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        /** Skips tokens up to and including the bare keyword {@code word}; quoted text is skipped whole. */
        boolean skipToKeyword(String word) {
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == '"' || c == '\'') {
                    if (quoted(c) == null) {
                        return false;
                    }
                } else if (isWordChar(c)) {
                    String k = keyword();
                    if (word.equals(k)) {
                        return true;
                    }
                } else {
                    i++;
                }
            }
            return false;
        }

        /** Reads the text of a quoted token starting at {@code i} (a doubled quote stands for one), or null. */
        private String quoted(char quote) {
            StringBuilder sb = new StringBuilder();
            i++;
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c == quote) {
                    if (i < s.length() && s.charAt(i) == quote) {
                        sb.append(quote);
                        i++;
                    } else {
                        return sb.toString();
                    }
                } else {
                    sb.append(c);
                }
            }
            return null; // unterminated
        }

        /** Reads a table name: a quoted or bare identifier; an index suffix is read and dropped. */
        String identifier() {
            skipSpace();
            if (i >= s.length()) {
                return null;
            }
            String name;
            if (s.charAt(i) == '"') {
                name = quoted('"');
            } else {
                int start = i;
                while (i < s.length() && isWordChar(s.charAt(i))) {
                    i++;
                }
                name = i == start ? null : s.substring(start, i);
            }
            if (name == null) {
                return null;
            }
            if (i < s.length() && s.charAt(i) == '.') {
                i++;
                if (i < s.length() && s.charAt(i) == '"') {
                    if (quoted('"') == null) {
                        return null;
                    }
                } else if (keyword() == null) {
                    return null;
                }
            }
            if (i < s.length() && !Character.isWhitespace(s.charAt(i)) && s.charAt(i) != ';' && s.charAt(i) != ')') {
                return null; // something glued to the name: not a name we understand
            }
            return name;
        }
    }
}
