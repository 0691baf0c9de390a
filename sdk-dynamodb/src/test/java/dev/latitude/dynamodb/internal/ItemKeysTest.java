package dev.latitude.dynamodb.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Proves that {@link ItemKeys} encodes a primary key independently of map order, treats numbers as DynamoDB does
 * ({@code 1.50} is {@code 1.5}), keeps types apart ({@code S "1"} is not {@code N 1}), handles binary keys and refuses
 * (answers {@code null} for) anything that cannot be a primary key.
 */
class ItemKeysTest {
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
        String ab = ItemKeys.encode(ordered("pk", s("user#1"), "sk", n("7")));
        String ba = ItemKeys.encode(ordered("sk", n("7"), "pk", s("user#1")));
        assertThat(ab).isNotNull().isEqualTo(ba);
        assertThat(ItemKeys.encode(Map.of("pk", s("user#1"), "sk", n("7")))).isEqualTo(ab);
    }

    @Test
    void numbersAreNormalised() {
        assertThat(ItemKeys.encode(Map.of("pk", n("1.50")))).isEqualTo(ItemKeys.encode(Map.of("pk", n("1.5"))));
        assertThat(ItemKeys.encode(Map.of("pk", n("100")))).isEqualTo(ItemKeys.encode(Map.of("pk", n("1E2"))))
                .isEqualTo(ItemKeys.encode(Map.of("pk", n("100.000"))));
        assertThat(ItemKeys.encode(Map.of("pk", n("0.0")))).isEqualTo(ItemKeys.encode(Map.of("pk", n("0"))))
                .isEqualTo(ItemKeys.encode(Map.of("pk", n("-0"))));
        assertThat(ItemKeys.encode(Map.of("pk", n(" 42 ")))).isEqualTo(ItemKeys.encode(Map.of("pk", n("42"))));
        assertThat(ItemKeys.encode(Map.of("pk", n("1.5")))).isNotEqualTo(ItemKeys.encode(Map.of("pk", n("15"))));
        assertThat(ItemKeys.encode(Map.of("pk", n("-1")))).isNotEqualTo(ItemKeys.encode(Map.of("pk", n("1"))));
    }

    @Test
    void typesAreKeptApart() {
        String string = ItemKeys.encode(Map.of("pk", s("1")));
        String number = ItemKeys.encode(Map.of("pk", n("1")));
        String binary = ItemKeys.encode(Map.of("pk", b('1')));
        assertThat(string).isNotNull();
        assertThat(number).isNotNull();
        assertThat(binary).isNotNull();
        assertThat(string).isNotEqualTo(number).isNotEqualTo(binary);
        assertThat(number).isNotEqualTo(binary);
        // A string holding what another key's encoding looks like stays a different key.
        assertThat(ItemKeys.encode(Map.of("pk", s(ItemKeys.encode(Map.of("pk", n("1"))))))).isNotEqualTo(number);
    }

    @Test
    void binaryKeysEncodeByTheirBytes() {
        assertThat(ItemKeys.encode(Map.of("pk", b(0, 1, 255)))).isNotNull()
                .isEqualTo(ItemKeys.encode(Map.of("pk", b(0, 1, 255))))
                .isNotEqualTo(ItemKeys.encode(Map.of("pk", b(0, 1, 254))))
                .isNotEqualTo(ItemKeys.encode(Map.of("pk", b(0, 1))));
        assertThat(ItemKeys.encode(ordered("pk", b(9), "sk", s("a"))))
                .isEqualTo(ItemKeys.encode(ordered("sk", s("a"), "pk", b(9))));
    }

    @Test
    void namesAndValuesCannotBleedIntoEachOther() {
        // Separators inside names or values must not make two different keys look alike.
        assertThat(ItemKeys.encode(ordered("a", s("x|1:b"), "c", s("y"))))
                .isNotEqualTo(ItemKeys.encode(ordered("a", s("x"), "1:bc", s("y"))));
        assertThat(ItemKeys.encode(Map.of("pk", s("a|b")))).isNotEqualTo(ItemKeys.encode(ordered("pk", s("a"),
                "b", s(""))));
        assertThat(ItemKeys.encode(Map.of("pk", s("x")))).isNotEqualTo(ItemKeys.encode(Map.of("pK", s("x"))));
        assertThat(ItemKeys.encode(ordered("pk", s("x"), "sk", s("y"))))
                .isNotEqualTo(ItemKeys.encode(ordered("pk", s("y"), "sk", s("x"))));
    }

    @Test
    void anythingThatCannotBeAPrimaryKeyIsNull() {
        assertThat(ItemKeys.encode(null)).isNull();
        assertThat(ItemKeys.encode(Map.of())).isNull();
        assertThat(ItemKeys.encode(Map.of("a", s("1"), "b", s("2"), "c", s("3")))).isNull();
        assertThat(ItemKeys.encode(Map.of("pk", AttributeValue.fromBool(true)))).isNull();
        assertThat(ItemKeys.encode(Map.of("pk", AttributeValue.fromNul(true)))).isNull();
        assertThat(ItemKeys.encode(Map.of("pk", AttributeValue.fromSs(java.util.List.of("a"))))).isNull();
        assertThat(ItemKeys.encode(Map.of("pk", AttributeValue.fromM(Map.of("x", s("y")))))).isNull();
        assertThat(ItemKeys.encode(Map.of("pk", n("not a number")))).isNull();
        assertThat(ItemKeys.encode(ordered("pk", s("ok"), "sk", AttributeValue.fromBool(false)))).isNull();
        Map<String, AttributeValue> nullValue = new HashMap<>();
        nullValue.put("pk", null);
        assertThat(ItemKeys.encode(nullValue)).isNull();
        Map<String, AttributeValue> nullName = new HashMap<>();
        nullName.put(null, s("x"));
        assertThat(ItemKeys.encode(nullName)).isNull();
    }
}
