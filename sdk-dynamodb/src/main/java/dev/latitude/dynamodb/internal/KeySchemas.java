package dev.latitude.dynamodb.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;

/**
 * The primary-key attribute names of each table, so that the key of a written item can be tracked by the session
 * token. Names given up front are used as they are; others are looked up once per table (a DescribeTable) and cached.
 * No write waits for a lookup: the router starts it from the first attempt of a write that needs it
 * ({@link #lookUpIfUnknown}), so the DescribeTable runs beside that write and is traced as its child, and the write
 * is tracked for the table as a whole, which is safe. A failed lookup is remembered for a short while, so a region
 * outage does not turn every write into a DescribeTable.
 */
public final class KeySchemas {
    private static final Logger LOG = LoggerFactory.getLogger(KeySchemas.class);
    private final Map<String, List<String>> given;
    private final Function<String, CompletableFuture<List<KeySchemaElement>>> describe;
    private final Cache<String, List<String>> found = Caffeine.newBuilder().maximumSize(10_000).build();
    private final Cache<String, Boolean> failed;
    /** Tables whose lookup is under way. */
    private final Set<String> loading = ConcurrentHashMap.newKeySet();

    /**
     * Creates the schemas.
     *
     * @param given key attribute names by table, known up front
     * @param describe starts a lookup of a table's key schema; must not block (it runs on a write's attempt)
     * @param retryAfter how long a failed lookup is not repeated
     */
    public KeySchemas(Map<String, List<String>> given,
            Function<String, CompletableFuture<List<KeySchemaElement>>> describe, Duration retryAfter) {
        this.given = Map.copyOf(given);
        this.describe = describe;
        this.failed = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(retryAfter).build();
    }

    /**
     * Returns the key string of {@code item} in {@code table}, or {@code null} if the table's key schema is not known
     * (yet: see {@link #lookUpIfUnknown}) or the item lacks a key attribute. Never starts a lookup.
     *
     * @param table the table
     * @param item the item, with its key attributes
     * @param operation the DynamoDB operation writing the item, named if a key number is refused
     * @return the key string, or {@code null}
     * @throws dev.latitude.dynamodb.UnroutableRequestException if a key attribute holds a number DynamoDB does not
     *         accept
     */
    public String keyOf(String table, Map<String, AttributeValue> item, String operation) {
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
        return ItemKeys.encode(key, operation);
    }

    private List<String> namesOf(String table) {
        List<String> names = given.get(table);
        return names != null ? names : found.getIfPresent(table);
    }

    /**
     * Starts the lookup of {@code table}'s key schema unless it is known, under way, or failed within the retry
     * interval. Returns at once; the lookup runs in the current OpenTelemetry context (a write's attempt).
     *
     * @param table the table
     */
    public void lookUpIfUnknown(String table) {
        if (!needsLookUp(table)) {
            return;
        }
        if (!loading.add(table)) {
            return; // another write started it
        }
        // The outcome is cached by load(); removing the table afterwards lets a failed lookup be retried later.
        load(table).whenComplete((loaded, error) -> loading.remove(table));
    }

    /** Whether {@code table}'s key schema is neither known nor being looked up nor recently failed. */
    public boolean needsLookUp(String table) {
        return namesOf(table) == null && failed.getIfPresent(table) == null && !loading.contains(table);
    }

    private CompletableFuture<List<String>> load(String table) {
        CompletableFuture<List<KeySchemaElement>> started;
        try {
            started = describe.apply(table);
        } catch (RuntimeException e) {
            started = CompletableFuture.failedFuture(e);
        }
        return started.thenApply(schema -> {
            List<String> loaded = new ArrayList<>(2);
            for (KeySchemaElement e : schema) {
                loaded.add(e.attributeName());
            }
            if (loaded.isEmpty()) {
                throw new IllegalStateException("DescribeTable returned no key schema");
            }
            return List.copyOf(loaded);
        }).whenComplete((names, error) -> {
            if (names != null) {
                found.put(table, names);
            } else {
                failed.put(table, Boolean.TRUE);
                LOG.warn("Could not look up the key schema of table '{}' ({}); its writes are tracked for the table"
                        + " as a whole until it can be, which sends this session's reads of it to regions known to"
                        + " have them. Give the key schema to the builder (keySchema) to avoid the lookup", table,
                        error.toString());
            }
        });
    }
}
