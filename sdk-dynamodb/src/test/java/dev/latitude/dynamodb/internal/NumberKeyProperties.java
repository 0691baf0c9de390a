package dev.latitude.dynamodb.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.latitude.dynamodb.UnroutableRequestException;
import java.math.BigDecimal;
import java.math.BigInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Proves, over generated numbers, that {@link ItemKeys#canonicalNumber} keeps the normalization it had when it was
 * {@code new BigDecimal(n).stripTrailingZeros().toPlainString()} for every number DynamoDB accepts, spelled in any of
 * the ways DynamoDB reads (signs, leading and trailing zeros, a point anywhere, exponents in either case with leading
 * zeros, non-ASCII decimal digits), that it accepts exactly what BigDecimal reads within DynamoDB's limits, and that it
 * refuses hostile numbers (exponents in the billions, thousands of digits) with {@link UnroutableRequestException}
 * without computing them: a test that built them would run out of memory.
 */
class NumberKeyProperties {
    private static final String OP = "GetItem";

    /** A DynamoDB number: up to 38 significant digits, leading digit's exponent within [-130, 125], either sign. */
    record Value(boolean negative, String digits, int exponent) {
        BigDecimal decimal() {
            BigDecimal unscaled = new BigDecimal(new BigInteger(digits));
            BigDecimal v = unscaled.scaleByPowerOfTen(exponent - digits.length() + 1);
            return negative ? v.negate() : v;
        }
    }

    @Provide
    Arbitrary<Value> values() {
        Arbitrary<String> digits = Combinators.combine(Arbitraries.integers().between(1, 9),
                Arbitraries.strings().withChars("0123456789").ofMaxLength(37))
                .as((first, rest) -> first + rest);
        Arbitrary<Integer> exponents = Arbitraries.oneOf(Arbitraries.integers().between(-130, 125),
                Arbitraries.of(-130, -129, 124, 125, -1, 0, 1));
        Arbitrary<Value> nonZero = Combinators.combine(Arbitraries.of(true, false), digits, exponents)
                .as(Value::new);
        return Arbitraries.frequencyOf(Tuple.of(9, nonZero),
                Tuple.of(1, Arbitraries.of(true, false).map(n -> new Value(n, "0", 0))));
    }

    /**
     * How to spell a value: where the point goes, padding zeros, exponent style, digit alphabet, and whether a point
     * at either end stays bare ({@code .5}, {@code 5.}).
     */
    record Spelling(int shift, int leadingZeros, int trailingZeros, boolean plus, boolean lowerE, int exponentZeros,
            boolean explicitExponentSign, boolean unicodeDigits, boolean barePoint) {
    }

    @Provide
    Arbitrary<Spelling> spellings() {
        return Combinators.combine(Arbitraries.integers().between(-200, 200), Arbitraries.integers().between(0, 6),
                Arbitraries.integers().between(0, 6), Arbitraries.of(true, false), Arbitraries.of(true, false),
                Arbitraries.integers().between(0, 12), Arbitraries.of(true, false),
                Arbitraries.integers().between(0, 11))
                .as((shift, leading, trailing, plus, lowerE, exponentZeros, exponentSign, style) -> new Spelling(
                        shift, leading, trailing, plus, lowerE, exponentZeros, exponentSign, style < 2,
                        style % 2 == 0));
    }

    /**
     * Spells {@code v}: its digits with the point placed {@code shift} places off the plain position (the exponent
     * makes up for it), padded with zeros that do not change the value.
     */
    static String spell(Value v, Spelling s) {
        String mantissa = "0".repeat(s.leadingZeros()) + v.digits() + "0".repeat(s.trailingZeros());
        // With the point after p characters the mantissa is digits × 10^(p - leadingZeros - digits), so the
        // exponent is what brings that back to digits × 10^(exponent - digits + 1).
        int pointAt = Math.floorMod(s.shift(), mantissa.length() + 1);
        long exponent = (long) v.exponent() + 1 - (pointAt - s.leadingZeros());
        String body = mantissa.substring(0, pointAt) + "." + mantissa.substring(pointAt);
        if (body.startsWith(".") && !s.barePoint()) {
            body = "0" + body;
        }
        if (body.endsWith(".") && !s.barePoint()) {
            body = body.substring(0, body.length() - 1);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(v.negative() ? "-" : s.plus() ? "+" : "");
        sb.append(s.unicodeDigits() ? toArabicIndic(body) : body);
        if (exponent != 0 || s.exponentZeros() > 0) {
            sb.append(s.lowerE() ? 'e' : 'E');
            sb.append(exponent < 0 ? "-" : s.explicitExponentSign() ? "+" : "");
            sb.append("0".repeat(s.exponentZeros())).append(Math.abs(exponent));
        }
        return sb.toString();
    }

    private static String toArabicIndic(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            sb.append(c >= '0' && c <= '9' ? (char) ('\u0660' + (c - '0')) : c);
        }
        return sb.toString();
    }

    /** What ItemKeys did before it checked limits; only called on numbers whose plain text is short. */
    private static String before(String n) {
        return new BigDecimal(n.strip()).stripTrailingZeros().toPlainString();
    }

    @Property(tries = 3000)
    void everySpellingOfAValidNumberNormalizesAsBefore(@ForAll("values") Value v, @ForAll("spellings") Spelling s) {
        String spelled = spell(v, s);
        assertThat(new BigDecimal(spelled).compareTo(v.decimal())).as(spelled).isZero();
        assertThat(ItemKeys.canonicalNumber("pk", spelled, OP)).as(spelled).isEqualTo(before(spelled))
                .isEqualTo(v.decimal().stripTrailingZeros().toPlainString());
    }

    @Property(tries = 2000)
    void twoSpellingsNormalizeEquallyExactlyWhenTheNumbersAreEqual(@ForAll("smallValues") Value a,
            @ForAll("spellings") Spelling sa, @ForAll("smallValues") Value b, @ForAll("spellings") Spelling sb) {
        boolean equal = a.decimal().compareTo(b.decimal()) == 0;
        assertThat(ItemKeys.canonicalNumber("pk", spell(a, sa), OP)
                .equals(ItemKeys.canonicalNumber("pk", spell(b, sb), OP))).isEqualTo(equal);
    }

    /** Few distinct values, so equal pairs come up often. */
    @Provide
    Arbitrary<Value> smallValues() {
        return Combinators.combine(Arbitraries.of(true, false), Arbitraries.of("1", "12", "5", "0"),
                Arbitraries.integers().between(-2, 2)).as(Value::new);
    }

    @Property(tries = 5000)
    void anyTextIsAcceptedExactlyWhenBigDecimalReadsItWithinDynamoDbsLimits(@ForAll("texts") String n) {
        String expected = oracle(n);
        Throwable refusal = catchThrowable(() -> ItemKeys.canonicalNumber("pk", n, OP));
        if (expected == null) {
            assertThat(refusal).as(n).isInstanceOf(UnroutableRequestException.class);
        } else {
            assertThat(refusal).as(n).isNull();
            assertThat(ItemKeys.canonicalNumber("pk", n, OP)).as(n).isEqualTo(expected);
        }
    }

    /**
     * Short texts from the characters of numbers (and a few that are not), biased towards exponents: whether
     * DynamoDB would take them is told by {@link #oracle}.
     */
    @Provide
    Arbitrary<String> texts() {
        Arbitrary<String> random = Arbitraries.strings().withChars("0123456789+-.eE \u0663x").ofMaxLength(14);
        Arbitrary<String> numberLike = Combinators.combine(Arbitraries.of("", "-", "+"),
                Arbitraries.strings().withChars("0123456789").ofMaxLength(45), Arbitraries.of("", ".", "0."),
                Arbitraries.strings().withChars("0123456789").ofMaxLength(45), Arbitraries.of("", "e", "E-", "E+"),
                Arbitraries.strings().withChars("0123456789").ofMaxLength(12))
                .as((sign, a, point, b, e, x) -> sign + a + point + b + e + x);
        return Arbitraries.oneOf(random, numberLike);
    }

    /**
     * DynamoDB's verdict as BigDecimal gives it (DynamoDB reads numbers as BigDecimal does) plus its documented
     * limits: the normalized text, or {@code null} if refused. The checks come before any plain text is built.
     */
    private static String oracle(String n) {
        BigDecimal d;
        try {
            d = new BigDecimal(n);
        } catch (NumberFormatException e) {
            return null;
        }
        if (d.signum() == 0) {
            return "0";
        }
        BigDecimal stripped;
        try {
            stripped = d.stripTrailingZeros();
        } catch (ArithmeticException e) {
            return null; // the scale overflowed: far outside DynamoDB's range
        }
        long adjusted = (long) stripped.precision() - stripped.scale() - 1;
        if (stripped.precision() > 38 || adjusted > 125 || adjusted < -130) {
            return null;
        }
        return stripped.toPlainString();
    }

    @Property(tries = 300)
    void hostileNumbersAreRefusedWithoutBeingComputed(@ForAll("hostile") String n) {
        Throwable refusal = catchThrowable(() -> ItemKeys.canonicalNumber("pk", n, OP));
        assertThat(refusal).isInstanceOf(UnroutableRequestException.class);
        assertThat(refusal.getMessage()).contains("'pk'").doesNotContain(n);
    }

    /**
     * Numbers DynamoDB refuses whose computation would be costly: exponents from past the limit to past what an int
     * holds, mantissas of thousands of digits, magnitudes far below the smallest.
     */
    @Provide
    Arbitrary<String> hostile() {
        Arbitrary<String> hugeExponent = Combinators.combine(Arbitraries.of("1", "-9", "1.5", "123456789"),
                Arbitraries.of("E", "e+", "E+0000"), Arbitraries.longs().between(200, Long.MAX_VALUE))
                .as((m, e, x) -> m + e + x);
        Arbitrary<String> tinyExponent = Combinators.combine(Arbitraries.of("1", "-9", "0.5"),
                Arbitraries.longs().between(200, Long.MAX_VALUE)).as((m, x) -> m + "E-" + x);
        Arbitrary<String> manyDigits = Combinators.combine(Arbitraries.integers().between(39, 20_000),
                Arbitraries.of("", "E+50", "E-2000")).as((k, e) -> "1" + "0".repeat(k - 2) + "7" + e);
        Arbitrary<String> tinyPlain = Arbitraries.integers().between(131, 50_000)
                .map(k -> "0." + "0".repeat(k) + "1");
        Arbitrary<String> hugePlain = Arbitraries.integers().between(126, 50_000).map(k -> "9" + "0".repeat(k));
        return Arbitraries.oneOf(hugeExponent, tinyExponent, manyDigits, tinyPlain, hugePlain);
    }
}
