package dev.latitude.jdbc.internal;

import java.util.Locale;

/** Names a unit of work by its first statement's SQL verb, for spans ({@code db.operation.name}) and errors. */
public final class SqlVerbs {
    /** The name of a unit of work that took its connection without a statement (metadata, a savepoint). */
    public static final String CONNECT = "CONNECT";
    private static final int MAX_VERB = 32;
    private static final String[] COMMON_VERBS = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "SHOW", "VALUES",
        "TABLE"};

    private SqlVerbs() {
    }

    /**
     * Returns whether a statement with this verb may change data, so that the writer's position must be recorded for
     * the session after it commits. Conservative: only {@code SELECT}, {@code SHOW}, {@code VALUES}, {@code TABLE} and
     * {@link #CONNECT} count as reads; a {@code SELECT} that writes through a function (or {@code SELECT ... INTO})
     * is not seen, so such work should run in a read-write transaction that also makes a plain write, or record its
     * position itself.
     *
     * @param verb a verb from {@link #verb(String)}
     * @return whether it may write
     */
    public static boolean mayWrite(String verb) {
        switch (verb) {
            case "SELECT", "SHOW", "VALUES", "TABLE", CONNECT:
                return false;
            default:
                return true;
        }
    }

    /**
     * Returns the first keyword of {@code sql} in upper case, skipping white space, comments and opening parentheses:
     * {@code SELECT}, {@code INSERT}, {@code WITH}, {@code CALL}, ...
     *
     * @param sql a statement, or {@code null}
     * @return its verb; {@link #CONNECT} for {@code null}, {@code SQL} when it starts with no keyword
     */
    public static String verb(String sql) {
        if (sql == null) {
            return CONNECT;
        }
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c) || c == '(') {
                i++;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else {
                break;
            }
        }
        int start = i;
        while (i < n && i - start < MAX_VERB && Character.isLetter(sql.charAt(i))) {
            i++;
        }
        if (i == start) {
            return "SQL";
        }
        // The common verbs are returned as constants, found without copying the SQL, so that spans and caches share
        // one string each (whose hash is computed once) and a statement's verb costs no allocation.
        int length = i - start;
        for (String common : COMMON_VERBS) {
            if (common.length() == length && sql.regionMatches(true, start, common, 0, length)) {
                return common;
            }
        }
        return sql.substring(start, i).toUpperCase(Locale.ROOT);
    }
}
