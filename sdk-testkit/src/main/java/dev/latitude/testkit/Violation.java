package dev.latitude.testkit;

import java.util.List;

/**
 * One broken guarantee found by {@link HistoryChecker}; immutable.
 *
 * @param kind which guarantee
 * @param message what happened, in words
 * @param operations the operations involved, the offending one first
 */
public record Violation(Kind kind, String message, List<HistoryOp> operations) {

    /** The guarantees. */
    public enum Kind {
        /** A session did not see its own acknowledged write. */
        READ_YOUR_WRITES,
        /** A session saw an older version after a newer one. */
        MONOTONIC_READS,
        /** An acknowledged write is missing from a region's final state. */
        LOST_WRITE,
        /** An operation touched a region outside its data class's jurisdictions. */
        RESIDENCY
    }

    /** Copies the list. */
    public Violation {
        operations = List.copyOf(operations);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(kind.name()).append(": ").append(message);
        operations.forEach(op -> sb.append("\n    ").append(op));
        return sb.toString();
    }
}
