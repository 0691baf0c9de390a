package dev.latitude.dynamodb.internal;

import dev.latitude.SensitiveData;
import dev.latitude.dynamodb.UnroutableRequestException;
import java.util.Base64;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Turns a DynamoDB primary key into the key string a session token tracks. The encoding is unambiguous (type tags and
 * lengths), independent of map order, and equal for equal keys: numbers are normalized ({@code 1.50} and {@code 1.5}
 * are the same DynamoDB number).
 *
 * <p>A number is checked against DynamoDB's rules in one pass over its text, before anything is computed from it: the
 * syntax DynamoDB reads (an optional sign, decimal digits with an optional point, an optional exponent), at most
 * {@value #MAX_DIGITS} significant digits, and a magnitude from {@code 1E-130} to
 * {@code 9.9999999999999999999999999999999999999E+125}, either sign (or zero). A number that breaks them is refused
 * with {@link UnroutableRequestException}, naming the attribute and the rule, never the value (unless
 * {@link SensitiveData#PROPERTY} asks for values): DynamoDB would refuse it too, and a spelling such as
 * {@code 1E+999999999} must not make the client build a billion-digit number. The normalized text is that of
 * {@code new BigDecimal(n).stripTrailingZeros().toPlainString()}, built from the significant digits alone.
 */
public final class ItemKeys {
    /** The most significant digits a DynamoDB number may have. */
    static final int MAX_DIGITS = 38;
    /** The exponent of the largest magnitude's leading digit ({@code 9.99...E+125}). */
    static final int MAX_EXPONENT = 125;
    /** The exponent of the smallest magnitude ({@code 1E-130}). */
    static final int MIN_EXPONENT = -130;
    private static final String RANGE = "1E-130 to 9.9999999999999999999999999999999999999E+125, either sign";

    private ItemKeys() {
    }

    /**
     * Encodes {@code key}, the primary key attributes of an item.
     *
     * @param key the key attributes
     * @param operation the DynamoDB operation the key is for, named when a number is refused
     * @return the key string, or {@code null} if the key is empty or has a value that cannot be a key attribute
     * @throws UnroutableRequestException if a number attribute is not a number DynamoDB accepts
     */
    public static String encode(Map<String, AttributeValue> key, String operation) {
        if (key == null || key.isEmpty() || key.size() > 2) {
            return null;
        }
        if (key.size() == 1) {
            Map.Entry<String, AttributeValue> e = key.entrySet().iterator().next();
            StringBuilder sb = new StringBuilder(32);
            return append(sb, e.getKey(), e.getValue(), operation) ? sb.toString() : null;
        }
        var it = key.entrySet().iterator();
        Map.Entry<String, AttributeValue> a = it.next();
        Map.Entry<String, AttributeValue> b = it.next();
        if (a.getKey() == null || b.getKey() == null) {
            return null;
        }
        if (a.getKey().compareTo(b.getKey()) > 0) {
            Map.Entry<String, AttributeValue> t = a;
            a = b;
            b = t;
        }
        StringBuilder sb = new StringBuilder(48);
        return append(sb, a.getKey(), a.getValue(), operation)
                && append(sb.append('|'), b.getKey(), b.getValue(), operation) ? sb.toString() : null;
    }

    private static boolean append(StringBuilder sb, String name, AttributeValue v, String operation) {
        if (name == null || v == null) {
            return false;
        }
        String text;
        char tag;
        if (v.s() != null) {
            tag = 'S';
            text = v.s();
        } else if (v.n() != null) {
            tag = 'N';
            text = canonicalNumber(name, v.n(), operation);
        } else if (v.b() != null) {
            tag = 'B';
            text = Base64.getEncoder().encodeToString(v.b().asByteArrayUnsafe());
        } else {
            return false;
        }
        sb.append(name.length()).append(':').append(name).append(tag).append(text.length()).append(':').append(text);
        return true;
    }

    /**
     * Returns the normalized text of the DynamoDB number {@code n}: no exponent, no leading or trailing zeros, no
     * {@code +}, {@code 0} for any zero (as {@code BigDecimal.stripTrailingZeros().toPlainString()} gives). Reads
     * {@code n} once; what it allocates is bounded by DynamoDB's limits, whatever {@code n} says.
     *
     * @param attribute the attribute holding the number, named when it is refused
     * @param n the number as written
     * @param operation the DynamoDB operation, named when it is refused
     * @return the normalized text
     * @throws UnroutableRequestException if {@code n} is not a number DynamoDB accepts
     */
    static String canonicalNumber(String attribute, String n, String operation) {
        int len = n.length();
        int i = 0;
        boolean negative = false;
        if (i < len && (n.charAt(i) == '+' || n.charAt(i) == '-')) {
            negative = n.charAt(i) == '-';
            i++;
        }
        // The significant digits (first to last non-zero), kept only while there are few enough to be valid.
        char[] digits = new char[MAX_DIGITS];
        int significant = 0; // digits from the first non-zero one to the last seen, zeros included
        int pendingZeros = 0; // zeros seen since the last non-zero digit
        long seen = 0; // digits seen in all
        long firstNonZero = -1; // its index among all digits
        long point = -1; // how many digits came before the point, or -1 if none
        for (; i < len; i++) {
            char c = n.charAt(i);
            if (c == '.') {
                if (point >= 0) {
                    throw refused(operation, attribute, n, "it has two decimal points", i);
                }
                point = seen;
                continue;
            }
            // BigDecimal's reading, which DynamoDB shares: any Unicode decimal digit is a digit.
            int d = Character.digit(c, 10);
            if (d < 0) {
                break;
            }
            seen++;
            if (d == 0) {
                if (firstNonZero >= 0) {
                    pendingZeros++;
                }
                continue;
            }
            if (firstNonZero < 0) {
                firstNonZero = seen - 1;
            }
            if (significant + pendingZeros + 1 > MAX_DIGITS) {
                throw refused(operation, attribute, n, "it has more than " + MAX_DIGITS
                        + " significant digits, DynamoDB's limit", i);
            }
            while (pendingZeros > 0) {
                digits[significant++] = '0';
                pendingZeros--;
            }
            digits[significant++] = (char) ('0' + d);
        }
        if (seen == 0) {
            throw refused(operation, attribute, n, i < len ? "it has a character that is not part of a number"
                    : "it has no digits", i);
        }
        long fractionDigits = point < 0 ? 0 : seen - point;
        long exponent = 0;
        if (i < len) {
            char c = n.charAt(i);
            if (c != 'e' && c != 'E') {
                throw refused(operation, attribute, n, "it has a character that is not part of a number", i);
            }
            exponent = exponent(attribute, n, i + 1, operation);
        }
        // BigDecimal, and DynamoDB with it, refuses a number whose scale does not fit in an int, zero included.
        long scale = fractionDigits - exponent;
        if (scale != (int) scale) {
            throw refused(operation, attribute, n, "its exponent is out of range", i);
        }
        if (firstNonZero < 0) {
            return "0";
        }
        // The leading digit's power of ten.
        long adjusted = (point < 0 ? seen : point) - firstNonZero - 1 + exponent;
        if (adjusted > MAX_EXPONENT || adjusted < MIN_EXPONENT) {
            throw refused(operation, attribute, n, "its magnitude is outside DynamoDB's range (" + RANGE + ")", i);
        }
        return plain(negative, digits, significant, (int) adjusted);
    }

    /** Reads the exponent after the {@code e} at {@code start - 1}, as BigDecimal does (at most 10 digits after zeros). */
    private static long exponent(String attribute, String n, int start, String operation) {
        int len = n.length();
        int i = start;
        boolean negative = false;
        if (i < len && (n.charAt(i) == '+' || n.charAt(i) == '-')) {
            negative = n.charAt(i) == '-';
            i++;
        }
        if (i == len) {
            throw refused(operation, attribute, n, "its exponent has no digits", i);
        }
        long value = 0;
        int nonZeroDigits = 0;
        for (; i < len; i++) {
            char c = n.charAt(i);
            int d = Character.digit(c, 10);
            if (d < 0) {
                throw refused(operation, attribute, n, "it has a character that is not part of a number", i);
            }
            if (value == 0 && d == 0) {
                continue;
            }
            if (++nonZeroDigits > 10) {
                throw refused(operation, attribute, n, "its exponent is out of range", i);
            }
            value = value * 10 + d;
        }
        long signed = negative ? -value : value;
        if (signed != (int) signed) {
            throw refused(operation, attribute, n, "its exponent is out of range", i);
        }
        return signed;
    }

    /** Writes {@code digits[0..count)} × 10^(adjusted - count + 1) without an exponent. */
    private static String plain(boolean negative, char[] digits, int count, int adjusted) {
        StringBuilder sb = new StringBuilder(count + Math.abs(adjusted) + 3);
        if (negative) {
            sb.append('-');
        }
        if (adjusted < 0) {
            sb.append("0.");
            for (int z = -adjusted - 1; z > 0; z--) {
                sb.append('0');
            }
            sb.append(digits, 0, count);
        } else if (adjusted + 1 >= count) {
            sb.append(digits, 0, count);
            for (int z = adjusted + 1 - count; z > 0; z--) {
                sb.append('0');
            }
        } else {
            sb.append(digits, 0, adjusted + 1).append('.').append(digits, adjusted + 1, count - adjusted - 1);
        }
        return sb.toString();
    }

    private static UnroutableRequestException refused(String operation, String attribute, String n, String rule,
            int at) {
        String value = SensitiveData.shown()
                ? " ('" + (n.length() <= 80 ? n : n.substring(0, 77) + "...") + "')" : "";
        return new UnroutableRequestException(operation, "key attribute '" + attribute + "' is not a number DynamoDB"
                + " accepts" + value + ": " + rule + " (at character " + at + " of " + n.length() + "). The request"
                + " was not sent");
    }
}
