package dev.latitude;

/** The state of a region's circuit breaker. */
public enum CircuitState {
    /** Calls flow; failures are counted. */
    CLOSED,
    /** The region failed too often: it is planned only behind every other region until the open delay passes. */
    OPEN,
    /** The open delay passed (or a probe succeeded): a few trial calls decide whether to close or reopen. */
    HALF_OPEN
}
