package dev.latitude;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * What one session has written, per scope: for each data class the highest {@link Watermark} of its writes there,
 * and for recently written keys the highest watermark per key. Immutable; every operation returns a new token.
 *
 * <p>A read of key {@code k} in data class {@code c} must see at least {@link #requirement(String, String)}: the
 * later of the class watermark and the key's. Keeping a key costs space; {@link #collapse(int)} folds the oldest
 * keys into their class's watermark, which only ever raises requirements (a read may go to the writer more often,
 * a stale read never gets through). Keys whose watermark is not above their class's are dropped as redundant, so
 * equal histories give equal tokens.
 *
 * <p>{@link #merge(SessionToken)} takes the maximum per scope; it is commutative, associative and idempotent. The
 * text form for headers and cookies is made by {@link SessionTokenCodec}; it never carries keys in clear.
 *
 * <p>A token is <em>verified</em> unless some of it was decoded from a text whose signature was not checked (an
 * unsigned token accepted during a rollout, see {@link SessionTokenCodec.Builder#acceptUnsigned(boolean)}). Every
 * token derived from an unverified one (by a write, a merge, a collapse) stays unverified, and a codec never signs an
 * unverified token: it encodes it unsigned, so a strict codec refuses it later.
 *
 * <p>{@link #toString()} shows no key (keys are often personal data: e-mail addresses, user ids); only data class
 * names, counts, regions and watermarks. {@link #toDebugString()} shows the keys, for debugging only.
 */
public final class SessionToken {
    private static final SessionToken EMPTY = new SessionToken(new TreeMap<>(), true);

    /** The watermarks of one data class. {@code whole} may be null; keys hold only entries above it. */
    record ClassEntry(Watermark whole, Map<String, Watermark> keys) {
    }

    private final TreeMap<String, ClassEntry> classes;
    private final boolean verified;

    private SessionToken(TreeMap<String, ClassEntry> classes, boolean verified) {
        this.classes = classes;
        this.verified = verified;
    }

    /** Returns the token of a session that has written nothing. */
    public static SessionToken empty() {
        return EMPTY;
    }

    /**
     * Returns this token plus one write.
     *
     * @param dataClass the data class written
     * @param key the key written, or {@code null} for a write to the class as a whole
     * @param watermark the write's watermark, zero or more
     * @param region the region that took the write
     * @return the new token
     */
    public SessionToken withWrite(String dataClass, String key, long watermark, String region) {
        Objects.requireNonNull(dataClass, "dataClass");
        Watermark w = new Watermark(watermark, region);
        ClassEntry e = classes.get(dataClass);
        if (e != null && covers(e, key, w)) {
            return this; // already covered (a repeated read of the same version): the result would be equal
        }
        TreeMap<String, ClassEntry> copy = new TreeMap<>(classes);
        Watermark whole = e == null ? null : e.whole();
        Map<String, Watermark> keys = e == null ? new TreeMap<>() : new TreeMap<>(e.keys());
        if (key == null) {
            whole = Watermark.max(whole, w);
        } else {
            keys.merge(key, w, Watermark::max);
        }
        copy.put(dataClass, normalize(whole, keys));
        return new SessionToken(copy, verified);
    }

    /**
     * Returns the per-scope maximum of this token and {@code other}.
     *
     * @param other another token of the same session (from another request, service or device)
     * @return the merged token
     */
    public SessionToken merge(SessionToken other) {
        if (other == this) {
            return this;
        }
        boolean both = verified && other.verified;
        if (other.classes.isEmpty()) {
            return both == verified ? this : unverified();
        }
        if (classes.isEmpty()) {
            return both == other.verified ? other : other.unverified();
        }
        TreeMap<String, ClassEntry> copy = new TreeMap<>(classes);
        other.classes.forEach((name, theirs) -> {
            ClassEntry mine = copy.get(name);
            if (mine == null) {
                copy.put(name, theirs);
                return;
            }
            Map<String, Watermark> keys = new TreeMap<>(mine.keys());
            theirs.keys().forEach((k, w) -> keys.merge(k, w, Watermark::max));
            copy.put(name, normalize(Watermark.max(mine.whole(), theirs.whole()), keys));
        });
        return new SessionToken(copy, both);
    }

    /**
     * Returns the token with at most {@code maxKeys} key entries in all: the keys with the lowest watermarks are
     * folded into their class's watermark.
     *
     * @param maxKeys zero or more
     * @return the collapsed token (this one if it already fits)
     */
    public SessionToken collapse(int maxKeys) {
        if (maxKeys < 0) {
            throw new IllegalArgumentException("maxKeys must be zero or more, got " + maxKeys);
        }
        int total = keyCount();
        if (total <= maxKeys) {
            return this;
        }
        List<String[]> all = new ArrayList<>(total); // {class, key}
        classes.forEach((c, e) -> e.keys().keySet().forEach(k -> all.add(new String[] {c, k})));
        all.sort(Comparator.comparingLong((String[] ck) -> classes.get(ck[0]).keys().get(ck[1]).value())
                .thenComparing(ck -> ck[0]).thenComparing(ck -> ck[1]));
        TreeMap<String, Watermark> wholes = new TreeMap<>();
        TreeMap<String, Map<String, Watermark>> keys = new TreeMap<>();
        classes.forEach((c, e) -> {
            wholes.put(c, e.whole());
            keys.put(c, new TreeMap<>(e.keys()));
        });
        for (int i = 0; i < total - maxKeys; i++) {
            String[] ck = all.get(i);
            Watermark w = keys.get(ck[0]).remove(ck[1]);
            wholes.put(ck[0], Watermark.max(wholes.get(ck[0]), w));
        }
        TreeMap<String, ClassEntry> copy = new TreeMap<>();
        classes.keySet().forEach(c -> copy.put(c, normalize(wholes.get(c), keys.get(c))));
        return new SessionToken(copy, verified);
    }

    /**
     * Returns the token with the keys that {@code fold} selects folded into their class watermark (always safe: it
     * only raises requirements). The codec uses it for keys it cannot encode.
     */
    SessionToken foldKeys(java.util.function.BiPredicate<String, String> fold) {
        boolean any = false;
        for (Map.Entry<String, ClassEntry> e : classes.entrySet()) {
            for (String k : e.getValue().keys().keySet()) {
                any |= fold.test(e.getKey(), k);
            }
        }
        if (!any) {
            return this;
        }
        TreeMap<String, ClassEntry> copy = new TreeMap<>();
        boolean changed = false;
        for (Map.Entry<String, ClassEntry> e : classes.entrySet()) {
            Watermark whole = e.getValue().whole();
            Map<String, Watermark> keys = new TreeMap<>();
            for (Map.Entry<String, Watermark> k : e.getValue().keys().entrySet()) {
                if (fold.test(e.getKey(), k.getKey())) {
                    whole = Watermark.max(whole, k.getValue());
                    changed = true;
                } else {
                    keys.put(k.getKey(), k.getValue());
                }
            }
            copy.put(e.getKey(), normalize(whole, keys));
        }
        return changed ? new SessionToken(copy, verified) : this;
    }

    /**
     * Returns the token without the watermarks {@code keep} refuses: a key entry dropped leaves the key to its class
     * watermark, a class watermark dropped leaves the class to its key entries (see {@link WatermarkBounds}).
     */
    SessionToken retain(java.util.function.Predicate<Watermark> keep) {
        TreeMap<String, ClassEntry> copy = new TreeMap<>();
        boolean changed = false;
        for (Map.Entry<String, ClassEntry> e : classes.entrySet()) {
            Watermark whole = e.getValue().whole();
            if (whole != null && !keep.test(whole)) {
                whole = null;
                changed = true;
            }
            Map<String, Watermark> keys = new TreeMap<>();
            for (Map.Entry<String, Watermark> k : e.getValue().keys().entrySet()) {
                if (keep.test(k.getValue())) {
                    keys.put(k.getKey(), k.getValue());
                } else {
                    changed = true;
                }
            }
            if (whole != null || !keys.isEmpty()) {
                copy.put(e.getKey(), normalize(whole, keys));
            }
        }
        if (!changed) {
            return this;
        }
        return copy.isEmpty() && verified ? EMPTY : new SessionToken(copy, verified);
    }

    /** Returns this token marked unverified (this one if it already is). */
    SessionToken unverified() {
        return verified ? new SessionToken(classes, false) : this;
    }

    /**
     * Returns whether every part of this token was built in this process or decoded from a text whose signature was
     * checked; {@code false} once anything came from an unsigned text. Codecs never sign an unverified token.
     *
     * @return whether the token is verified
     */
    public boolean isVerified() {
        return verified;
    }

    /** Whether recording {@code w} for {@code key} would leave {@code e} as it is. */
    private static boolean covers(ClassEntry e, String key, Watermark w) {
        Watermark whole = e.whole();
        if (key == null) {
            return whole != null && Watermark.max(whole, w) == whole;
        }
        Watermark current = e.keys().get(key);
        if (current != null) {
            return Watermark.max(current, w) == current;
        }
        return whole != null && w.value() <= whole.value();
    }

    private static ClassEntry normalize(Watermark whole, Map<String, Watermark> keys) {
        TreeMap<String, Watermark> kept = new TreeMap<>();
        keys.forEach((k, w) -> {
            if (whole == null || w.value() > whole.value()) {
                kept.put(k, w);
            }
        });
        return new ClassEntry(whole, Collections.unmodifiableMap(kept));
    }

    /**
     * Returns what a read of {@code key} in {@code dataClass} must have seen: the later of the class watermark and
     * the key's, or {@code null} if this session wrote nothing there.
     *
     * @param dataClass the data class
     * @param key the key, or {@code null} for a read of the class as a whole (a query or scan)
     * @return the requirement or {@code null}
     */
    public Watermark requirement(String dataClass, String key) {
        ClassEntry e = dataClass == null ? null : classes.get(dataClass);
        if (e == null) {
            return null;
        }
        if (key == null) {
            Watermark max = e.whole();
            for (Watermark w : e.keys().values()) {
                max = Watermark.max(max, w);
            }
            return max;
        }
        return Watermark.max(e.whole(), e.keys().get(key));
    }

    /**
     * Returns whether {@link #requirement(String, String)} comes from the key's own entry, so that an answer can be
     * checked against it by the key's write stamp. When it comes from the class watermark (the key was collapsed, or
     * the write was to the class as a whole), only a replica known to have applied everything up to it will do.
     *
     * @param dataClass the data class
     * @param key the key, or {@code null}
     * @return whether the requirement is the key's own
     */
    public boolean isKeyLevel(String dataClass, String key) {
        ClassEntry e = dataClass == null || key == null ? null : classes.get(dataClass);
        return e != null && e.keys().containsKey(key);
    }

    /** Returns the class watermark of {@code dataClass}, or {@code null}. */
    public Watermark classWatermark(String dataClass) {
        ClassEntry e = classes.get(dataClass);
        return e == null ? null : e.whole();
    }

    /** Returns the data classes with any watermark. */
    public Set<String> dataClasses() {
        return Collections.unmodifiableSet(classes.keySet());
    }

    /** Returns the key entries of {@code dataClass}: key to watermark, only those above the class watermark. */
    public Map<String, Watermark> keys(String dataClass) {
        ClassEntry e = classes.get(dataClass);
        return e == null ? Map.of() : e.keys();
    }

    /** Returns how many key entries the token holds in all. */
    public int keyCount() {
        int n = 0;
        for (ClassEntry e : classes.values()) {
            n += e.keys().size();
        }
        return n;
    }

    /** Returns whether the session has written nothing. */
    public boolean isEmpty() {
        return classes.isEmpty();
    }

    /** Returns the entries in name order, for the codec. */
    Map<String, ClassEntry> entries() {
        return Collections.unmodifiableMap(classes);
    }

    /** Builds a token from decoded entries; the codec checks them. */
    static SessionToken of(TreeMap<String, ClassEntry> entries, boolean verified) {
        TreeMap<String, ClassEntry> copy = new TreeMap<>();
        entries.forEach((c, e) -> copy.put(c, normalize(e.whole(), e.keys())));
        return copy.isEmpty() && verified ? EMPTY : new SessionToken(copy, verified);
    }

    /** Tokens are equal when they hold the same watermarks for the same scopes and are both verified or both not. */
    @Override
    public boolean equals(Object o) {
        return o instanceof SessionToken && ((SessionToken) o).classes.equals(classes)
                && ((SessionToken) o).verified == verified;
    }

    @Override
    public int hashCode() {
        return classes.hashCode() * 31 + Boolean.hashCode(verified);
    }

    /**
     * Describes the token without its keys: per data class the class watermark and how many keys it tracks, with the
     * range of their watermarks and their regions, such as
     * {@code SessionToken[profiles={whole=4711@eu-west-1, keys=3 (4712..4800 @ [eu-west-1])}]}.
     */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("SessionToken[");
        String sep = "";
        for (Map.Entry<String, ClassEntry> e : classes.entrySet()) {
            b.append(sep).append(e.getKey()).append("={whole=");
            Watermark whole = e.getValue().whole();
            b.append(whole == null ? "none" : whole.value() + "@" + whole.region());
            Map<String, Watermark> keys = e.getValue().keys();
            b.append(", keys=").append(keys.size());
            if (!keys.isEmpty()) {
                long min = Long.MAX_VALUE;
                long max = 0;
                java.util.TreeSet<String> regions = new java.util.TreeSet<>();
                for (Watermark w : keys.values()) {
                    min = Math.min(min, w.value());
                    max = Math.max(max, w.value());
                    regions.add(w.region());
                }
                b.append(" (").append(min).append("..").append(max).append(" @ ").append(regions).append(')');
            }
            b.append('}');
            sep = ", ";
        }
        return b.append(verified ? "" : sep.isEmpty() ? "unverified" : ", unverified").append(']').toString();
    }

    /**
     * Describes the token with its keys in clear. For debugging only: keys are often personal data, so this text must
     * not reach logs, traces or error reports in production ({@link #toString()} is the safe form).
     *
     * @return every scope and watermark
     */
    public String toDebugString() {
        return "SessionToken" + classes + (verified ? "" : " (unverified)");
    }
}
