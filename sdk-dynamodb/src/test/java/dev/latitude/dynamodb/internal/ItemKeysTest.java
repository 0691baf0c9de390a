package dev.latitude.dynamodb.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.SensitiveData;
import dev.latitude.dynamodb.UnroutableRequestException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Proves that {@link ItemKeys} encodes a primary key independently of map order, treats numbers as DynamoDB does
 * ({@code 1.50} is {@code 1.5}), keeps types apart ({@code S "1"} is not {@code N 1}), handles binary keys, answers
 * {@code null} for anything that cannot be a primary key, and refuses a number DynamoDB would refuse with
 * {@link UnroutableRequestException}, naming the attribute and the rule but not the value (unless asked to).
 */
class ItemKeysTest {

    private static String encode(Map<String, AttributeValue> key) {
        return ItemKeys.encode(key, "GetItem");
    }
    private static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    private static AttributeValue n(String v) {
        return AttributeValue.fromN(v);
    }

    private static AttributeValue b(int... bytes) {
        byte[] a = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            a[i] = (byte) bytes[i];
        }
        return AttributeValue.fromB(SdkBytes.fromByteArray(a));
    }

    private static Map<String, AttributeValue> ordered(String k1, AttributeValue v1, String k2, AttributeValue v2) {
        Map<String, AttributeValue> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }

    @Test
    void aKeyOfTwoAttributesEncodesTheSameInEitherOrder() {
        String ab = encode(ordered("pk", s("user#1"), "sk", n("7")));
        String ba = encode(ordered("sk", n("7"), "pk", s("user#1")));
        assertThat(ab).isNotNull().isEqualTo(ba);
        assertThat(encode(Map.of("pk", s("user#1"), "sk", n("7")))).isEqualTo(ab);
    }

    @Test
    void numbersAreNormalised() {
        assertThat(encode(Map.of("pk", n("1.50")))).isEqualTo(encode(Map.of("pk", n("1.5"))));
        assertThat(encode(Map.of("pk", n("100")))).isEqualTo(encode(Map.of("pk", n("1E2"))))
                .isEqualTo(encode(Map.of("pk", n("100.000"))));
        assertThat(encode(Map.of("pk", n("0.0")))).isEqualTo(encode(Map.of("pk", n("0"))))
                .isEqualTo(encode(Map.of("pk", n("-0"))));
        assertThat(encode(Map.of("pk", n("+42")))).isEqualTo(encode(Map.of("pk", n("42"))))
                .isEqualTo(encode(Map.of("pk", n("0042.00")))).isEqualTo(encode(Map.of("pk", n("4.2e1"))));
        // DynamoDB reads any Unicode decimal digit, as BigDecimal does.
        assertThat(encode(Map.of("pk", n("\u0664\u0662")))).isEqualTo(encode(Map.of("pk", n("42"))));
        assertThat(encode(Map.of("pk", n("1.5")))).isNotEqualTo(encode(Map.of("pk", n("15"))));
        assertThat(encode(Map.of("pk", n("-1")))).isNotEqualTo(encode(Map.of("pk", n("1"))));
    }

    @Test
    void typesAreKeptApart() {
        String string = encode(Map.of("pk", s("1")));
        String number = encode(Map.of("pk", n("1")));
        String binary = encode(Map.of("pk", b('1')));
        assertThat(string).isNotNull();
        assertThat(number).isNotNull();
        assertThat(binary).isNotNull();
        assertThat(string).isNotEqualTo(number).isNotEqualTo(binary);
        assertThat(number).isNotEqualTo(binary);
        // A string holding what another key's encoding looks like stays a different key.
        assertThat(encode(Map.of("pk", s(encode(Map.of("pk", n("1"))))))).isNotEqualTo(number);
    }

    @Test
    void binaryKeysEncodeByTheirBytes() {
        assertThat(encode(Map.of("pk", b(0, 1, 255)))).isNotNull()
                .isEqualTo(encode(Map.of("pk", b(0, 1, 255))))
                .isNotEqualTo(encode(Map.of("pk", b(0, 1, 254))))
                .isNotEqualTo(encode(Map.of("pk", b(0, 1))));
        assertThat(encode(ordered("pk", b(9), "sk", s("a"))))
                .isEqualTo(encode(ordered("sk", s("a"), "pk", b(9))));
    }

    @Test
    void namesAndValuesCannotBleedIntoEachOther() {
        // Separators inside names or values must not make two different keys look alike.
        assertThat(encode(ordered("a", s("x|1:b"), "c", s("y"))))
                .isNotEqualTo(encode(ordered("a", s("x"), "1:bc", s("y"))));
        assertThat(encode(Map.of("pk", s("a|b")))).isNotEqualTo(encode(ordered("pk", s("a"),
                "b", s(""))));
        assertThat(encode(Map.of("pk", s("x")))).isNotEqualTo(encode(Map.of("pK", s("x"))));
        assertThat(encode(ordered("pk", s("x"), "sk", s("y"))))
                .isNotEqualTo(encode(ordered("pk", s("y"), "sk", s("x"))));
    }

    @Test
    void anythingThatCannotBeAPrimaryKeyIsNull() {
        assertThat(encode(null)).isNull();
        assertThat(encode(Map.of())).isNull();
        assertThat(encode(Map.of("a", s("1"), "b", s("2"), "c", s("3")))).isNull();
        assertThat(encode(Map.of("pk", AttributeValue.fromBool(true)))).isNull();
        assertThat(encode(Map.of("pk", AttributeValue.fromNul(true)))).isNull();
        assertThat(encode(Map.of("pk", AttributeValue.fromSs(java.util.List.of("a"))))).isNull();
        assertThat(encode(Map.of("pk", AttributeValue.fromM(Map.of("x", s("y")))))).isNull();
        assertThat(encode(ordered("pk", s("ok"), "sk", AttributeValue.fromBool(false)))).isNull();
        Map<String, AttributeValue> nullValue = new HashMap<>();
        nullValue.put("pk", null);
        assertThat(encode(nullValue)).isNull();
        Map<String, AttributeValue> nullName = new HashMap<>();
        nullName.put(null, s("x"));
        assertThat(encode(nullName)).isNull();
    }

    @Test
    void numbersAtDynamoDbsLimitsAreAccepted() {
        assertThat(ItemKeys.canonicalNumber("pk", "1E-130", "GetItem")).isEqualTo("0." + "0".repeat(129) + "1");
        assertThat(ItemKeys.canonicalNumber("pk", "-1E-130", "GetItem")).isEqualTo("-0." + "0".repeat(129) + "1");
        assertThat(ItemKeys.canonicalNumber("pk", "9.9999999999999999999999999999999999999E+125", "GetItem"))
                .isEqualTo("9".repeat(38) + "0".repeat(88));
        assertThat(ItemKeys.canonicalNumber("pk", "1" + "0".repeat(60) + "E-60", "GetItem")).isEqualTo("1");
        assertThat(ItemKeys.canonicalNumber("pk", "0." + "0".repeat(500) + "1E+501", "GetItem")).isEqualTo("1");
        assertThat(ItemKeys.canonicalNumber("pk", "1E0000000000000000000000005", "GetItem")).isEqualTo("100000");
        assertThat(ItemKeys.canonicalNumber("pk", "0E+2147483647", "GetItem")).isEqualTo("0");
        assertThat(ItemKeys.canonicalNumber("pk", "-0.000e-5", "GetItem")).isEqualTo("0");
        assertThat(ItemKeys.canonicalNumber("pk", "1234567890123456789012345678901234567.8", "GetItem"))
                .isEqualTo("1234567890123456789012345678901234567.8");
    }

    @Test
    void numbersDynamoDbRefusesAreRefusedNamingTheAttributeAndTheRuleButNotTheValue() {
        assertRefused("1E+999999999", "magnitude");
        assertRefused("1E+2147483647", "magnitude");
        assertRefused("-1E+126", "magnitude");
        assertRefused("1E-131", "magnitude");
        assertRefused("0.1E-130", "magnitude");
        assertRefused("1E-2147483648", "exponent is out of range");
        assertRefused("0E+2147483648", "exponent is out of range");
        assertRefused("1E+99999999999999999999", "exponent is out of range");
        assertRefused("123456789012345678901234567890123456789", "38 significant digits");
        assertRefused("1234567890123456789012345678901234567.89", "38 significant digits");
        assertRefused("1" + "0".repeat(1_000_000) + "1", "38 significant digits");
        assertRefused(" 42", "not part of a number");
        assertRefused("42 ", "not part of a number");
        assertRefused("0x10", "not part of a number");
        assertRefused("NaN", "not part of a number");
        assertRefused("", "no digits");
        assertRefused("-", "no digits");
        assertRefused("1e", "exponent has no digits");
        assertRefused("1.2.3", "two decimal points");
    }

    private static void assertRefused(String number, String rule) {
        assertThatThrownBy(() -> encode(ordered("pk", s("alice@example.com"), "sk", n(number))))
                .isInstanceOf(UnroutableRequestException.class)
                .hasMessageContaining("GetItem").hasMessageContaining("'sk'").hasMessageContaining(rule)
                .hasMessageNotContaining("alice")
                .satisfies(e -> {
                    if (number.length() > 2) {
                        assertThat(e.getMessage()).doesNotContain(number);
                    }
                });
    }

    @Test
    void theOptInQuotesTheRefusedNumber() {
        System.setProperty(SensitiveData.PROPERTY, "true");
        try {
            assertThatThrownBy(() -> encode(Map.of("pk", n("1E+999999999"))))
                    .isInstanceOf(UnroutableRequestException.class).hasMessageContaining("'1E+999999999'");
        } finally {
            System.clearProperty(SensitiveData.PROPERTY);
        }
    }
}
