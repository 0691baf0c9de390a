package dev.latitude;

/**
 * Reads the watermark of a call's result, so the engine can keep a session consistent: for a write, the watermark
 * the write produced (the HLC stamp written on the item, the commit LSN), which advances the session token; for a
 * read, the watermark of the data returned (the item's write stamp), which is checked against the session's
 * requirement and, if older, makes the engine escalate to the region that took the write.
 *
 * <p>Adapters supply it per call (see {@link Latitude#executeAsync(Operation, AsyncRegionCall, ResultWatermark)}). It
 * runs on the hot path: it must be fast and must not throw.
 *
 * @param <T> the result type
 */
@FunctionalInterface
public interface ResultWatermark<T> {
    /** The value for "this result carries no watermark" (an item that does not exist, an unstamped item). */
    long NONE = -1;

    /**
     * Returns the watermark of {@code result}.
     *
     * @param result a successful result
     * @return its watermark, zero or more, or {@link #NONE}
     */
    long of(T result);
}
