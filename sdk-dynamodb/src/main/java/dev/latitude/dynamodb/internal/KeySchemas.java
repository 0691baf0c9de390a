package dev.latitude.dynamodb.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;

/**
 * The primary-key attribute names of each table, so that the key of a written item can be tracked by the session
 * token. Names given up front are used as they are; others are looked up once per table (DescribeTable in the home
 * region) and cached. A failed lookup is remembered for a short while, so a region outage does not turn every write
 * into a DescribeTable; meanwhile the write is tracked for the table as a whole, which is safe.
 */
public final class KeySchemas {
    private static final Logger LOG = LoggerFactory.getLogger(KeySchemas.class);
    private final Map<String, List<String>> given;
    private final Function<String, List<KeySchemaElement>> describe;
    private final Cache<String, List<String>> found = Caffeine.newBuilder().maximumSize(10_000).build();
    private final Cache<String, Boolean> failed;

    /**
     * Creates the schemas.
     *
     * @param given key attribute names by table, known up front
     * @param describe looks up a table's key schema; may throw
     * @param retryAfter how long a failed lookup is not repeated
     */
    public KeySchemas(Map<String, List<String>> given, Function<String, List<KeySchemaElement>> describe,
            Duration retryAfter) {
        this.given = Map.copyOf(given);
        this.describe = describe;
        this.failed = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(retryAfter).build();
    }

    /**
     * Returns the key string of {@code item} in {@code table}, or {@code null} if the table's key schema is not known
     * (yet) or the item lacks a key attribute.
     *
     * @param table the table
     * @param item the item, with its key attributes
     * @return the key string, or {@code null}
     */
    public String keyOf(String table, Map<String, AttributeValue> item) {
        List<String> names = namesOf(table);
        if (names == null || item == null) {
            return null;
        }
        Map<String, AttributeValue> key = new HashMap<>(4);
        for (String n : names) {
            AttributeValue v = item.get(n);
            if (v == null) {
                return null;
            }
            key.put(n, v);
        }
        return ItemKeys.encode(key);
    }

    private List<String> namesOf(String table) {
        List<String> names = given.get(table);
        if (names != null) {
            return names;
        }
        names = found.getIfPresent(table);
        if (names != null || failed.getIfPresent(table) != null) {
            return names;
        }
        try {
            List<String> loaded = new ArrayList<>(2);
            for (KeySchemaElement e : describe.apply(table)) {
                loaded.add(e.attributeName());
            }
            if (loaded.isEmpty()) {
                throw new IllegalStateException("DescribeTable returned no key schema");
            }
            names = List.copyOf(loaded);
            found.put(table, names);
            return names;
        } catch (RuntimeException e) {
            failed.put(table, Boolean.TRUE);
            LOG.warn("Could not look up the key schema of table '{}' ({}); its writes are tracked for the table as a"
                    + " whole until it can be, which sends this session's reads of it to regions known to have them."
                    + " Give the key schema to the builder (keySchema) to avoid the lookup", table, e.toString());
            return null;
        }
    }
}
