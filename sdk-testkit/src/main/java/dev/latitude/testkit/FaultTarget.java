package dev.latitude.testkit;

/**
 * Something whose faults can be switched at runtime: a {@link FakeRegion} (HTTP) or a TCP fault proxy in front of a
 * real server. Each {@link #apply(Fault)} replaces the previous fault; {@link #heal()} is {@code apply(Fault.none())}.
 */
public interface FaultTarget {

    /** Returns a name for reports, such as the region id. */
    String name();

    /**
     * Puts the target in {@code fault}, replacing any other.
     *
     * @param fault the fault
     * @throws UnsupportedOperationException if this target cannot produce that kind of fault (an HTTP error rate on a
     *     plain TCP proxy), with the reason
     */
    void apply(Fault fault);

    /** Returns the fault in force. */
    Fault fault();

    /** Removes any fault. */
    default void heal() {
        apply(Fault.none());
    }
}
