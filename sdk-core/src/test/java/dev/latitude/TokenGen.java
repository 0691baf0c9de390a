package dev.latitude;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * Generators of session-token histories for the property tests, and a reference model of what a history requires.
 * Names, keys, regions and watermark values come from small pools so that histories collide often (the same key
 * written twice, equal watermarks from different regions, key writes at or below the class watermark).
 */
final class TokenGen {
    static final List<String> CLASSES = List.of("orders", "users", "carts", "", "données");
    static final List<String> KEYS = List.of("a", "b", "c", "d", "e", "user:42", "", "日本", "k😀");
    static final List<String> REGIONS = List.of("us-east-1", "eu-west-1", "ap-southeast-2");
    /** Keys and a class never written by any generated history, to ask requirements of. */
    static final String UNWRITTEN_KEY = "never-written";
    static final String UNWRITTEN_CLASS = "never-written-class";

    private TokenGen() {
    }

    /** One write of a history: {@code key} null is a write to the data class as a whole. */
    record Write(String dataClass, String key, long watermark, String region) {
        SessionToken applyTo(SessionToken t) {
            return t.withWrite(dataClass, key, watermark, region);
        }
    }

    /** Watermarks: mostly tiny values (many collisions), sometimes HLC-like timestamps. */
    static Arbitrary<Long> watermarks() {
        return Arbitraries.<Long>frequencyOf(
                Tuple.of(6, Arbitraries.longs().between(0, 12)),
                Tuple.of(2, Arbitraries.longs().between(1_700_000_000_000L, 1_700_000_000_050L)
                        .map(ms -> HybridLogicalClock.timestamp(ms, 0))),
                Tuple.of(1, Arbitraries.of(0L, Long.MAX_VALUE, HybridLogicalClock.timestamp(1_700_000_000_000L, 3))));
    }

    static Arbitrary<Write> writes() {
        Arbitrary<String> key = Arbitraries.<String>frequencyOf(
                Tuple.of(6, Arbitraries.of(KEYS)),
                Tuple.of(2, Arbitraries.just(null)),
                Tuple.of(1, Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(6)));
        return Combinators.combine(Arbitraries.of(CLASSES), key, watermarks(),
                Arbitraries.of(REGIONS)).as(Write::new);
    }

    static Arbitrary<List<Write>> histories(int maxWrites) {
        return writes().list().ofMaxSize(maxWrites);
    }

    static SessionToken tokenOf(List<Write> history) {
        SessionToken t = SessionToken.empty();
        for (Write w : history) {
            t = w.applyTo(t);
        }
        return t;
    }

    static Arbitrary<SessionToken> tokens(int maxWrites) {
        return histories(maxWrites).map(TokenGen::tokenOf);
    }

    /**
     * The value a read of {@code (dataClass, key)} must see after {@code history}, computed from the writes alone: the
     * largest watermark of the writes to that key or to the class as a whole; for {@code key} null, of every write to
     * the class. -1 if none.
     */
    static long modelRequirement(List<Write> history, String dataClass, String key) {
        long max = -1;
        for (Write w : history) {
            if (w.dataClass().equals(dataClass) && (key == null || w.key() == null || w.key().equals(key))) {
                max = Math.max(max, w.watermark());
            }
        }
        return max;
    }

    /** The value of a requirement, -1 for none. */
    static long value(Watermark w) {
        return w == null ? -1 : w.value();
    }

    /**
     * Every (class, key) scope worth asking about for these tokens: each class they hold plus one never written, and
     * for each class every key of any token plus a never-written key and {@code null} (a query of the whole class).
     */
    static List<String[]> scopes(SessionToken... tokens) {
        Set<String> classes = new LinkedHashSet<>(CLASSES);
        Set<String> keys = new LinkedHashSet<>(KEYS);
        for (SessionToken t : tokens) {
            classes.addAll(t.dataClasses());
            for (String c : t.dataClasses()) {
                keys.addAll(t.keys(c).keySet());
            }
        }
        classes.add(UNWRITTEN_CLASS);
        keys.add(UNWRITTEN_KEY);
        List<String[]> out = new ArrayList<>();
        for (String c : classes) {
            out.add(new String[] {c, null});
            for (String k : keys) {
                out.add(new String[] {c, k});
            }
        }
        return out;
    }

    /** Every scope the writes of {@code history} touched, plus never-written ones. */
    static List<String[]> scopes(List<Write> history) {
        List<String[]> out = scopes();
        Set<String> seen = new LinkedHashSet<>();
        for (Write w : history) {
            if (w.key() != null && seen.add(w.dataClass() + "\u0000" + w.key())) {
                out.add(new String[] {w.dataClass(), w.key()});
            }
        }
        return out;
    }

    static String describe(String[] scope) {
        return "(" + scope[0] + ", " + (scope[1] == null ? "null" : "'" + scope[1] + "'") + ")";
    }

    static boolean sameScope(String[] a, String[] b) {
        return a[0].equals(b[0]) && Objects.equals(a[1], b[1]);
    }
}
