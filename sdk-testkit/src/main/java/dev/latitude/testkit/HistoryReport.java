package dev.latitude.testkit;

import java.util.List;

/**
 * The verdict of {@link HistoryChecker#check(History)}; immutable.
 *
 * @param operations how many operations were checked
 * @param violations every violation found, by kind then first operation
 */
public record HistoryReport(int operations, List<Violation> violations) {

    /** Copies the list. */
    public HistoryReport {
        violations = List.copyOf(violations);
    }

    /** Returns whether no guarantee was broken. */
    public boolean clean() {
        return violations.isEmpty();
    }

    /** Returns how many violations are of {@code kind}. */
    public long count(Violation.Kind kind) {
        return violations.stream().filter(v -> v.kind() == kind).count();
    }

    /**
     * Throws if any guarantee was broken.
     *
     * @throws AssertionError listing every violation and the operations involved
     */
    public void assertClean() {
        if (!clean()) {
            throw new AssertionError(this);
        }
    }

    @Override
    public String toString() {
        if (clean()) {
            return operations + " operations, no violations";
        }
        StringBuilder sb = new StringBuilder(operations + " operations, " + violations.size() + " violations:");
        violations.forEach(v -> sb.append("\n  ").append(v));
        return sb.toString();
    }
}
