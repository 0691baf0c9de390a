package dev.latitude.dynamodb.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tells what a PartiQL statement for DynamoDB does and which table it touches, so that it can be routed like the
 * equivalent API call. DynamoDB's PartiQL has four statement forms: {@code SELECT ... FROM t}, {@code INSERT INTO t},
 * {@code UPDATE t} and {@code DELETE FROM t}; a table name is a double-quoted or plain identifier, optionally
 * followed by {@code ."index"}.
 *
 * @param read whether the statement is a SELECT
 * @param table the table name
 */
public record PartiQl(boolean read, String table) {
    private static final String NAME = "(?:\"((?:[^\"]|\"\")+)\"|([A-Za-z0-9_\\-]+))(?:\\.\"[^\"]*\"|\\.[A-Za-z0-9_\\-]+)?";
    private static final Pattern SELECT = Pattern.compile(
            "(?is)^\\s*(?:EXISTS\\s*\\(\\s*)?SELECT\\b.*?\\bFROM\\s+" + NAME + "(?=\\s|$|\\)|;)");
    private static final Pattern INSERT = Pattern.compile("(?is)^\\s*INSERT\\s+INTO\\s+" + NAME + "(?=\\s|$)");
    private static final Pattern UPDATE = Pattern.compile("(?is)^\\s*UPDATE\\s+" + NAME + "(?=\\s|$)");
    private static final Pattern DELETE = Pattern.compile("(?is)^\\s*DELETE\\s+FROM\\s+" + NAME + "(?=\\s|$)");

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
        Matcher m = SELECT.matcher(statement);
        if (m.find()) {
            return of(true, m);
        }
        for (Pattern p : new Pattern[] {INSERT, UPDATE, DELETE}) {
            m = p.matcher(statement);
            if (m.find()) {
                return of(false, m);
            }
        }
        return null;
    }

    private static PartiQl of(boolean read, Matcher m) {
        String table = m.group(1) != null ? m.group(1).replace("\"\"", "\"") : m.group(2);
        return new PartiQl(read, table);
    }
}
