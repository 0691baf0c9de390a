package dev.latitude.dynamodb.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;

/**
 * The primary-key attribute names of each table, so that the key of a written item can be tracked by the session
 * token. Names given up front are used as they are; others are looked up once per table (DescribeTable in the home
 * region) and cached. A failed lookup is remembered for a short while, so a region outage does not turn every write
 * into a DescribeTable; meanwhile, and while a lookup is under way, the write is tracked for the table as a whole,
 * which is safe.
 */
public final class KeySchemas {
    private static final Logger LOG = LoggerFactory.getLogger(KeySchemas.class);
    private final Map<String, List<String>> given;
    private final Function<String, CompletableFuture<List<KeySchemaElement>>> describe;
    private final Duration wait;
    private final Cache<String, List<String>> found = Caffeine.newBuilder().maximumSize(10_000).build();
    private final Cache<String, Boolean> failed;
    private final ConcurrentHashMap<String, CompletableFuture<List<String>>> loading = new ConcurrentHashMap<>();

    /**
     * Creates the schemas.
     *
     * @param given key attribute names by table, known up front
     * @param describe starts a lookup of a table's key schema
     * @param wait how long a caller waits for a lookup it started (zero: never waits, the non-blocking client)
     * @param retryAfter how long a failed lookup is not repeated
     */
    public KeySchemas(Map<String, List<String>> given,
            Function<String, CompletableFuture<List<KeySchemaElement>>> describe, Duration wait, Duration retryAfter) {
        this.given = Map.copyOf(given);
        this.describe = describe;
        this.wait = wait;
        this.failed = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(retryAfter).build();
    }

    /**
     * Returns the key string of {@code item} in {@code table}, or {@code null} if the table's key schema is not known
     * (yet) or the item lacks a key attribute.
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
        if (names != null) {
            return names;
        }
        names = found.getIfPresent(table);
        if (names != null || failed.getIfPresent(table) != null) {
            return names;
        }
        // The first caller starts the lookup outside the map's locks (the blocking client's lookup blocks); later
        // callers share it.
        CompletableFuture<List<String>> mine = new CompletableFuture<>();
        CompletableFuture<List<String>> lookup = loading.putIfAbsent(table, mine);
        if (lookup == null) {
            lookup = mine;
            load(table).whenComplete((loaded, error) -> {
                if (error == null) {
                    mine.complete(loaded);
                } else {
                    mine.completeExceptionally(error);
                }
            });
        }
        try {
            return wait.isZero() ? lookup.getNow(null) : lookup.get(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            return null;
        } finally {
            if (lookup.isDone()) {
                loading.remove(table, lookup);
            }
        }
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
