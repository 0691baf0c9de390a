package dev.latitude.dynamodb.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Proves, over generated keys of one or two string, number and binary attributes whose names and values are drawn
 * from the encoding's own separator characters, that {@link ItemKeys} encodes equal DynamoDB keys (any attribute
 * order, any spelling of the same number) equally and different keys differently.
 */
class ItemKeysProperties {

    private static String encode(Map<String, AttributeValue> key) {
        return ItemKeys.encode(key, "GetItem");
    }
    private static final String CHARS = "ab1:|SNB";

    /** One key attribute in a model independent of the encoding: its type and canonical value. */
    record Attr(String name, char type, String text, BigDecimal number, byte[] bytes) {
        boolean sameValue(Attr o) {
            if (type != o.type) {
                return false;
            }
            return switch (type) {
                case 'S' -> text.equals(o.text);
                case 'N' -> number.compareTo(o.number) == 0;
                default -> Arrays.equals(bytes, o.bytes);
            };
        }

        /** The attribute value, with a number spelled in one of several equivalent ways. */
        AttributeValue value(int spelling) {
            return switch (type) {
                case 'S' -> AttributeValue.fromS(text);
                case 'N' -> AttributeValue.fromN(switch (Math.floorMod(spelling, 4)) {
                    case 0 -> number.toPlainString();
                    case 1 -> number.toString();
                    case 2 -> number.setScale(Math.max(number.scale(), 0) + 2).toPlainString();
                    default -> number.scaleByPowerOfTen(-3).toString() + "E3";
                });
                default -> AttributeValue.fromB(SdkBytes.fromByteArray(bytes));
            };
        }

        @Override
        public String toString() {
            return name + "=" + type + (type == 'S' ? text : type == 'N' ? number.toPlainString()
                    : Arrays.toString(bytes));
        }
    }

    @Provide
    Arbitrary<List<Attr>> keys() {
        Arbitrary<String> names = Arbitraries.strings().withChars(CHARS).ofMinLength(1).ofMaxLength(3);
        Arbitrary<Character> types = Arbitraries.of('S', 'N', 'B');
        Arbitrary<String> texts = Arbitraries.strings().withChars(CHARS).ofMinLength(0).ofMaxLength(4);
        Arbitrary<BigDecimal> numbers = Combinators.combine(Arbitraries.longs().between(-1200, 1200),
                Arbitraries.integers().between(-3, 3)).as((unscaled, scale) -> new BigDecimal(
                        BigInteger.valueOf(unscaled), scale));
        Arbitrary<byte[]> bytes = Arbitraries.bytes().between((byte) 48, (byte) 50).array(byte[].class)
                .ofMinSize(0).ofMaxSize(3);
        Arbitrary<Attr> attrs = Combinators.combine(names, types, texts, numbers, bytes)
                .as((name, type, text, number, b) -> new Attr(name, type, text, number, b));
        return attrs.list().ofMinSize(1).ofMaxSize(2).filter(l -> l.size() == 1 || !l.get(0).name()
                .equals(l.get(1).name()));
    }

    private static Map<String, AttributeValue> render(List<Attr> key, long seed) {
        Random random = new Random(seed);
        List<Attr> order = new ArrayList<>(key);
        Collections.shuffle(order, random);
        Map<String, AttributeValue> map = new LinkedHashMap<>();
        for (Attr a : order) {
            map.put(a.name(), a.value(random.nextInt(4)));
        }
        return map;
    }

    private static boolean sameKey(List<Attr> a, List<Attr> b) {
        if (a.size() != b.size()) {
            return false;
        }
        outer:
        for (Attr x : a) {
            for (Attr y : b) {
                if (x.name().equals(y.name())) {
                    if (!x.sameValue(y)) {
                        return false;
                    }
                    continue outer;
                }
            }
            return false;
        }
        return true;
    }

    @Property(tries = 500)
    void equalKeysEncodeEqually(@ForAll("keys") List<Attr> key, @ForAll long seed1, @ForAll long seed2) {
        String one = encode(render(key, seed1));
        String other = encode(render(key, seed2));
        assertThat(one).isNotNull().isEqualTo(other);
    }

    @Property(tries = 2000)
    void differentKeysEncodeDifferently(@ForAll("keys") List<Attr> a, @ForAll("keys") List<Attr> b,
            @ForAll long seed) {
        Assume.that(!sameKey(a, b));
        assertThat(encode(render(a, seed))).isNotEqualTo(encode(render(b, seed)));
    }

    @Property(tries = 2000)
    void encodingsAgreeExactlyWhenTheKeysAreEqual(@ForAll("smallKeys") List<Attr> a,
            @ForAll("smallKeys") List<Attr> b, @ForAll long seed) {
        // A tiny value space, so equal pairs come up often and both directions of the equivalence are exercised.
        assertThat(encode(render(a, seed)).equals(encode(render(b, seed ^ 0x5DEECE66DL))))
                .isEqualTo(sameKey(a, b));
    }

    @Provide
    Arbitrary<List<Attr>> smallKeys() {
        Arbitrary<String> names = Arbitraries.of("a", "b");
        Arbitrary<Character> types = Arbitraries.of('S', 'N', 'B');
        Arbitrary<String> texts = Arbitraries.of("", "1", "a|");
        Arbitrary<BigDecimal> numbers = Arbitraries.of(new BigDecimal("1"), new BigDecimal("1.0"),
                new BigDecimal("10"), new BigDecimal("0.1"), new BigDecimal("-1"));
        Arbitrary<byte[]> bytes = Arbitraries.of(new byte[0], new byte[] {49}, new byte[] {49, 49});
        Arbitrary<Attr> attrs = Combinators.combine(names, types, texts, numbers, bytes)
                .as((name, type, text, number, b) -> new Attr(name, type, text, number, b));
        return attrs.list().ofMinSize(1).ofMaxSize(2).filter(l -> l.size() == 1 || !l.get(0).name()
                .equals(l.get(1).name()));
    }
}
