package dev.latitude;

import static dev.latitude.TokenGen.describe;
import static dev.latitude.TokenGen.modelRequirement;
import static dev.latitude.TokenGen.scopes;
import static dev.latitude.TokenGen.tokenOf;
import static dev.latitude.TokenGen.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.TokenGen.Write;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Properties of {@link SessionToken}: requirements match a model of the writes, merge is a join (commutative,
 * associative, idempotent, with the empty token as identity), and collapsing never lowers a requirement.
 */
class SessionTokenProperties {

    @Provide
    Arbitrary<List<Write>> histories() {
        return TokenGen.histories(30);
    }

    @Provide
    Arbitrary<SessionToken> tokens() {
        return TokenGen.tokens(30);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Requirements and the token's shape

    @Property(tries = 400)
    void requirementsMatchAModelOfTheWrites(@ForAll("histories") List<Write> history) {
        SessionToken t = tokenOf(history);
        for (String[] s : scopes(history)) {
            assertThat(value(t.requirement(s[0], s[1]))).as("requirement%s", describe(s))
                    .isEqualTo(modelRequirement(history, s[0], s[1]));
        }
        assertThat(t.requirement(null, "a")).isNull();
        assertThat(t.requirement(null, null)).isNull();
        assertThat(t.isEmpty()).isEqualTo(history.isEmpty());
        assertThat(t.dataClasses()).containsExactlyInAnyOrderElementsOf(
                history.stream().map(Write::dataClass).distinct().toList());
    }

    @Property(tries = 300)
    void aRequirementsRegionIsTheRegionOfAWriteWithThatWatermark(@ForAll("histories") List<Write> history) {
        SessionToken t = tokenOf(history);
        for (String[] s : scopes(history)) {
            Watermark w = t.requirement(s[0], s[1]);
            if (w != null) {
                assertThat(history).as("a write behind requirement%s = %s", describe(s), w)
                        .anySatisfy(x -> {
                            assertThat(x.dataClass()).isEqualTo(s[0]);
                            assertThat(x.watermark()).isEqualTo(w.value());
                            assertThat(x.region()).isEqualTo(w.region());
                        });
            }
        }
    }

    @Property(tries = 300)
    void theTokenDoesNotDependOnTheOrderOfTheWrites(@ForAll("histories") List<Write> history,
            @ForAll Random random) {
        List<Write> shuffled = new ArrayList<>(history);
        Collections.shuffle(shuffled, random);
        assertThat(tokenOf(shuffled)).isEqualTo(tokenOf(history));
        assertThat(tokenOf(shuffled).hashCode()).isEqualTo(tokenOf(history).hashCode());
    }

    @Property(tries = 300)
    void keyEntriesAreOnlyThoseAboveTheClassWatermark(@ForAll("tokens") SessionToken t) {
        int count = 0;
        for (String c : t.dataClasses()) {
            Watermark whole = t.classWatermark(c);
            for (Map.Entry<String, Watermark> e : t.keys(c).entrySet()) {
                assertThat(e.getValue().value()).as("key '%s' of '%s'", e.getKey(), c).isGreaterThan(value(whole));
                count++;
            }
            assertThat(whole != null || !t.keys(c).isEmpty()).as("class '%s' holds something", c).isTrue();
        }
        assertThat(t.keyCount()).isEqualTo(count);
    }

    @Property(tries = 300)
    void isKeyLevelSaysWhetherTheRequirementIsTheKeysOwn(@ForAll("tokens") SessionToken t) {
        for (String[] s : scopes(t)) {
            String c = s[0];
            String k = s[1];
            boolean keyLevel = t.isKeyLevel(c, k);
            assertThat(keyLevel).as("isKeyLevel%s", describe(s))
                    .isEqualTo(k != null && t.keys(c).containsKey(k));
            if (keyLevel) {
                assertThat(t.requirement(c, k)).isEqualTo(t.keys(c).get(k));
                assertThat(t.requirement(c, k).value()).isGreaterThan(value(t.classWatermark(c)));
            } else if (k != null) {
                assertThat(t.requirement(c, k)).as("requirement%s", describe(s)).isEqualTo(t.classWatermark(c));
            }
        }
        assertThat(t.isKeyLevel(null, "a")).isFalse();
    }

    @Property(tries = 300)
    void aWriteAboveEverythingIsKeyLevelAndAWholeClassWriteFoldsTheKeysBelowIt(@ForAll("tokens") SessionToken t,
            @ForAll("classNames") String c) {
        long top = value(t.requirement(c, null));
        Assume.that(top < Long.MAX_VALUE - 1);
        SessionToken written = t.withWrite(c, "fresh-key", top + 1, "eu-west-1");
        assertThat(written.isKeyLevel(c, "fresh-key")).isTrue();
        assertThat(written.requirement(c, "fresh-key")).isEqualTo(new Watermark(top + 1, "eu-west-1"));
        assertThat(written.requirement(c, null)).isEqualTo(new Watermark(top + 1, "eu-west-1"));

        SessionToken whole = written.withWrite(c, null, top + 1, "us-east-1");
        assertThat(whole.keys(c)).isEmpty();
        assertThat(whole.isKeyLevel(c, "fresh-key")).isFalse();
        assertThat(whole.classWatermark(c)).isEqualTo(new Watermark(top + 1, "us-east-1"));

        // a key write at or below the class watermark adds no entry
        SessionToken stale = whole.withWrite(c, "late", top + 1, "ap-southeast-2");
        assertThat(stale).isEqualTo(whole);
    }

    @Provide
    Arbitrary<String> classNames() {
        return Arbitraries.of(TokenGen.CLASSES);
    }

    @Property(tries = 200)
    void tokensAreImmutable(@ForAll("tokens") SessionToken t, @ForAll("tokens") SessionToken other) {
        String before = t.toDebugString();
        t.withWrite("orders", "a", 99, "us-east-1");
        t.merge(other);
        t.collapse(0);
        assertThat(t.toDebugString()).isEqualTo(before);
        for (String c : t.dataClasses()) {
            assertThatThrownBy(() -> t.keys(c).put("x", new Watermark(1, "r")))
                    .isInstanceOf(UnsupportedOperationException.class);
        }
        assertThatThrownBy(() -> t.dataClasses().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Merge

    @Property(tries = 300)
    void mergeIsCommutative(@ForAll("tokens") SessionToken a, @ForAll("tokens") SessionToken b) {
        assertThat(a.merge(b)).isEqualTo(b.merge(a));
        assertThat(a.merge(b).hashCode()).isEqualTo(b.merge(a).hashCode());
    }

    @Property(tries = 300)
    void mergeIsAssociative(@ForAll("tokens") SessionToken a, @ForAll("tokens") SessionToken b,
            @ForAll("tokens") SessionToken c) {
        assertThat(a.merge(b).merge(c)).isEqualTo(a.merge(b.merge(c)));
    }

    @Property(tries = 300)
    void mergeIsIdempotent(@ForAll("histories") List<Write> history, @ForAll("tokens") SessionToken b) {
        SessionToken a = tokenOf(history);
        SessionToken copy = tokenOf(history); // equal, not the same instance
        assertThat(a.merge(a)).isEqualTo(a);
        assertThat(a.merge(copy)).isEqualTo(a);
        assertThat(a.merge(b).merge(b)).isEqualTo(a.merge(b));
        assertThat(a.merge(b).merge(a)).isEqualTo(a.merge(b));
    }

    @Property(tries = 300)
    void theEmptyTokenIsTheIdentity(@ForAll("tokens") SessionToken a) {
        assertThat(a.merge(SessionToken.empty())).isEqualTo(a);
        assertThat(SessionToken.empty().merge(a)).isEqualTo(a);
        assertThat(SessionToken.empty().merge(SessionToken.empty()).isEmpty()).isTrue();
    }

    @Property(tries = 300)
    void theRequirementOfAMergeIsTheMaximumOfTheRequirements(@ForAll("tokens") SessionToken a,
            @ForAll("tokens") SessionToken b) {
        SessionToken m = a.merge(b);
        for (String[] s : scopes(a, b)) {
            assertThat(value(m.requirement(s[0], s[1]))).as("requirement%s", describe(s))
                    .isEqualTo(Math.max(value(a.requirement(s[0], s[1])), value(b.requirement(s[0], s[1]))));
        }
    }

    @Property(tries = 300)
    void mergingTokensEqualsTheTokenOfBothHistories(@ForAll("histories") List<Write> h1,
            @ForAll("histories") List<Write> h2) {
        List<Write> both = new ArrayList<>(h1);
        both.addAll(h2);
        assertThat(tokenOf(h1).merge(tokenOf(h2))).isEqualTo(tokenOf(both));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Collapse

    @Provide
    Arbitrary<SessionToken> bigTokens() {
        return TokenGen.tokens(80);
    }

    @Property(tries = 400)
    void collapseBoundsTheKeysAndNeverLowersARequirement(@ForAll("bigTokens") SessionToken full,
            @ForAll @IntRange(min = 0, max = 40) int maxKeys) {
        SessionToken collapsed = full.collapse(maxKeys);
        assertThat(collapsed.keyCount()).isLessThanOrEqualTo(maxKeys);
        assertThat(collapsed.dataClasses()).isEqualTo(full.dataClasses());
        for (String[] s : scopes(full)) {
            // every scope: kept keys, folded keys, never-written keys, whole-class reads, unknown classes
            long before = value(full.requirement(s[0], s[1]));
            long after = value(collapsed.requirement(s[0], s[1]));
            assertThat(after).as("requirement%s after collapse(%d)", describe(s), maxKeys)
                    .isGreaterThanOrEqualTo(before);
            if (s[1] == null) {
                assertThat(after).as("a whole-class requirement is unchanged").isEqualTo(before);
            }
        }
    }

    @Property(tries = 300)
    void collapseFoldsTheLowestKeysAndKeepsTheRestAsTheyWere(@ForAll("bigTokens") SessionToken full,
            @ForAll @IntRange(min = 0, max = 40) int maxKeys) {
        SessionToken collapsed = full.collapse(maxKeys);
        long highestFolded = -1;
        long lowestKept = Long.MAX_VALUE;
        for (String c : full.dataClasses()) {
            for (Map.Entry<String, Watermark> e : full.keys(c).entrySet()) {
                Watermark kept = collapsed.keys(c).get(e.getKey());
                if (kept == null) {
                    highestFolded = Math.max(highestFolded, e.getValue().value());
                } else {
                    assertThat(kept).isEqualTo(e.getValue());
                    lowestKept = Math.min(lowestKept, kept.value());
                }
            }
            assertThat(full.keys(c).keySet()).containsAll(collapsed.keys(c).keySet());
        }
        if (highestFolded >= 0 && lowestKept != Long.MAX_VALUE) {
            assertThat(lowestKept).as("only the lowest keys are folded").isGreaterThanOrEqualTo(highestFolded);
        }
    }

    @Property(tries = 300)
    void collapseOfAFittingTokenIsTheTokenAndCollapseIsIdempotent(@ForAll("bigTokens") SessionToken t,
            @ForAll @IntRange(min = 0, max = 40) int maxKeys) {
        assertThat(t.collapse(t.keyCount())).isSameAs(t);
        assertThat(t.collapse(t.keyCount() + maxKeys)).isEqualTo(t);
        SessionToken once = t.collapse(maxKeys);
        assertThat(once.collapse(maxKeys)).isEqualTo(once);
    }

    @Property(tries = 300)
    void collapseToZeroLeavesOnlyClassWatermarks(@ForAll("tokens") SessionToken t) {
        SessionToken c0 = t.collapse(0);
        assertThat(c0.keyCount()).isZero();
        for (String[] s : scopes(t)) {
            assertThat(c0.isKeyLevel(s[0], s[1])).isFalse();
            assertThat(value(c0.requirement(s[0], s[1]))).as("requirement%s", describe(s))
                    .isEqualTo(value(t.requirement(s[0], null)));
        }
    }

    @Property(tries = 200)
    void collapseThenMergeStillDominatesTheFullMerge(@ForAll("bigTokens") SessionToken a,
            @ForAll("bigTokens") SessionToken b, @ForAll @IntRange(min = 0, max = 20) int maxKeys) {
        SessionToken full = a.merge(b);
        SessionToken lossy = a.collapse(maxKeys).merge(b.collapse(maxKeys)).collapse(maxKeys);
        assertThat(lossy.keyCount()).isLessThanOrEqualTo(maxKeys);
        for (String[] s : scopes(a, b)) {
            assertThat(value(lossy.requirement(s[0], s[1]))).as("requirement%s", describe(s))
                    .isGreaterThanOrEqualTo(value(full.requirement(s[0], s[1])));
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Examples

    @Example
    void argumentErrors() {
        SessionToken t = SessionToken.empty();
        assertThatThrownBy(() -> t.collapse(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> t.withWrite(null, "k", 1, "r")).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("dataClass");
        assertThatThrownBy(() -> t.withWrite("c", "k", -1, "r")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> t.withWrite("c", "k", 1, null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("region");
    }

    @Example
    void theEmptyToken() {
        SessionToken e = SessionToken.empty();
        assertThat(e.isEmpty()).isTrue();
        assertThat(e.keyCount()).isZero();
        assertThat(e.dataClasses()).isEmpty();
        assertThat(e.requirement("orders", "a")).isNull();
        assertThat(e.requirement("orders", null)).isNull();
        assertThat(e.classWatermark("orders")).isNull();
        assertThat(e.keys("orders")).isEmpty();
        assertThat(e.collapse(0)).isSameAs(e);
    }

    @Example
    void equalWatermarksFromTwoRegionsMergeToTheRegionThatSortsFirst() {
        SessionToken a = SessionToken.empty().withWrite("orders", "a", 5, "us-east-1");
        SessionToken b = SessionToken.empty().withWrite("orders", "a", 5, "eu-west-1");
        assertThat(a.merge(b).requirement("orders", "a")).isEqualTo(new Watermark(5, "eu-west-1"));
        assertThat(b.merge(a).requirement("orders", "a")).isEqualTo(new Watermark(5, "eu-west-1"));
        assertThat(Watermark.max(null, null)).isNull();
        assertThat(Watermark.max(new Watermark(1, "b"), null)).isEqualTo(new Watermark(1, "b"));
        assertThatThrownBy(() -> new Watermark(-1, "r")).isInstanceOf(IllegalArgumentException.class);
    }

    @Example
    void collapseFoldsAcrossClassesByWatermark() {
        SessionToken t = SessionToken.empty()
                .withWrite("orders", "o1", 10, "us-east-1")
                .withWrite("orders", "o2", 30, "us-east-1")
                .withWrite("users", "u1", 20, "eu-west-1")
                .withWrite("users", "u2", 40, "eu-west-1");
        SessionToken c = t.collapse(2);
        assertThat(c.keys("orders")).containsOnlyKeys("o2");
        assertThat(c.keys("users")).containsOnlyKeys("u2");
        assertThat(c.classWatermark("orders")).isEqualTo(new Watermark(10, "us-east-1"));
        assertThat(c.classWatermark("users")).isEqualTo(new Watermark(20, "eu-west-1"));
        assertThat(c.requirement("orders", "o1").value()).isEqualTo(10);
        assertThat(c.requirement("orders", "never")).isEqualTo(new Watermark(10, "us-east-1"));
        assertThat(c.isKeyLevel("orders", "o1")).isFalse();
        assertThat(c.isKeyLevel("orders", "o2")).isTrue();
    }
}
