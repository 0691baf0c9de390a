package dev.latitude;

/** What a failed attempt means for the rest of the call. */
public enum FailureKind {
    /**
     * The region could not serve and the request was certainly not applied (connection refused, throttled,
     * 503 before processing). Any operation may move on to the next region; the region's health is charged.
     */
    REGION_UNAVAILABLE,
    /**
     * The region failed and the request may or may not have been applied (timeout after sending, connection
     * reset while waiting, 500). Idempotent operations move on to the next region; a non-idempotent write is
     * never retried elsewhere and the call fails with {@link AmbiguousWriteException}. The region's health is charged.
     */
    AMBIGUOUS,
    /**
     * The request itself was refused (validation, a failed condition, access denied). The error is returned to
     * the caller as it is, no other region is tried, and the region's health is not charged.
     */
    CALLER,
    /**
     * The attempt ran past its per-attempt timeout and never answered: another region answered first, or the call's
     * deadline passed. Past the timeout an attempt is not cancelled while it may still win (slow is not dead): the next
     * region's attempt starts beside it when the call may go elsewhere, and otherwise it keeps its chance until the
     * deadline. Treated like {@link #AMBIGUOUS}: a write cut this way ends in {@link AmbiguousWriteException}.
     */
    TIMEOUT,
    /**
     * The attempt was not sent because the region's circuit breaker refused a permit (half-open, trial calls
     * in flight); the next region is tried and health is not charged.
     */
    CIRCUIT_OPEN,
    /**
     * The attempt was not sent because the region already holds its maximum of attempts whose work has not ended (the
     * per-region bulkhead, {@code Latitude.Builder#maxConcurrentAttempts}): a region that hangs holds at most its share
     * of threads and connections. The next region is tried and health is not charged.
     */
    BULKHEAD_FULL,
    /**
     * The region answered, but with data older than the session has written or read (checked against the session
     * token); the engine escalates to the region that took the write. Health is not charged: the region is fine, it
     * is only behind.
     */
    STALE_READ
}
