package dev.latitude.spi;

/**
 * A source of monotonic time in nanoseconds, replaceable in tests.
 *
 * <p>Every duration Latitude measures (attempt latency, circuit-breaker open delay, hedge delay, deadlines) is read
 * from a {@code Ticker}; tests pass a manual ticker and advance it instead of sleeping. The default is
 * {@link #system()}, backed by {@link System#nanoTime()}. Only differences between two readings are meaningful.
 */
@FunctionalInterface
public interface Ticker {

    /** Returns the current reading in nanoseconds; successive readings never decrease. */
    long read();

    /** Returns the ticker backed by {@link System#nanoTime()}. */
    static Ticker system() {
        return System::nanoTime;
    }
}
