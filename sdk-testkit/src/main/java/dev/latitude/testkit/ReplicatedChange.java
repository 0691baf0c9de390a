package dev.latitude.testkit;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * One change that {@link ReplicationEmulator} delivered (or tried to) to one destination region, as its listeners see
 * it.
 *
 * @param table the table name
 * @param key the item's key attributes
 * @param kind a write or a delete
 * @param source the region the change was made in
 * @param destination the region it was delivered to
 * @param timestamp its last-writer-wins timestamp
 * @param outcome what happened at the destination
 * @param delay from reading the change off the source's stream to finishing the write at the destination
 */
public record ReplicatedChange(
        String table,
        Map<String, AttributeValue> key,
        Kind kind,
        String source,
        String destination,
        BigDecimal timestamp,
        Outcome outcome,
        Duration delay) {

    /** The kind of change. */
    public enum Kind {
        /** An item was written (put or update): the whole new image is replicated. */
        PUT,
        /** An item was deleted. */
        DELETE
    }

    /** What a delivery did at its destination. */
    public enum Outcome {
        /** The destination took the change. */
        APPLIED,
        /** The destination already had a newer version (or a newer delete) and kept it: last writer wins. */
        SUPERSEDED,
        /** The write to the destination failed; the emulator logged it and moved on. */
        FAILED
    }

    /** Copies the key map. */
    public ReplicatedChange {
        key = Map.copyOf(key);
    }
}
