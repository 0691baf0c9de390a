package dev.latitude.dynamodb.internal;

import java.math.BigDecimal;
import java.util.Base64;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Turns a DynamoDB primary key into the key string a session token tracks. The encoding is unambiguous (type tags and
 * lengths), independent of map order, and equal for equal keys: numbers are normalized ({@code 1.50} and {@code 1.5}
 * are the same DynamoDB number).
 */
public final class ItemKeys {
    private ItemKeys() {
    }

    /**
     * Encodes {@code key}, the primary key attributes of an item.
     *
     * @param key the key attributes
     * @return the key string, or {@code null} if the key is empty or has a value that cannot be a key attribute
     */
    public static String encode(Map<String, AttributeValue> key) {
        if (key == null || key.isEmpty() || key.size() > 2) {
            return null;
        }
        if (key.size() == 1) {
            Map.Entry<String, AttributeValue> e = key.entrySet().iterator().next();
            StringBuilder sb = new StringBuilder(32);
            return append(sb, e.getKey(), e.getValue()) ? sb.toString() : null;
        }
        var it = key.entrySet().iterator();
        Map.Entry<String, AttributeValue> a = it.next();
        Map.Entry<String, AttributeValue> b = it.next();
        if (a.getKey().compareTo(b.getKey()) > 0) {
            Map.Entry<String, AttributeValue> t = a;
            a = b;
            b = t;
        }
        StringBuilder sb = new StringBuilder(48);
        return append(sb, a.getKey(), a.getValue()) && append(sb.append('|'), b.getKey(), b.getValue())
                ? sb.toString() : null;
    }

    private static boolean append(StringBuilder sb, String name, AttributeValue v) {
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
            try {
                text = new BigDecimal(v.n().strip()).stripTrailingZeros().toPlainString();
            } catch (NumberFormatException e) {
                return false;
            }
        } else if (v.b() != null) {
            tag = 'B';
            text = Base64.getEncoder().encodeToString(v.b().asByteArrayUnsafe());
        } else {
            return false;
        }
        sb.append(name.length()).append(':').append(name).append(tag).append(text.length()).append(':').append(text);
        return true;
    }
}
