package dev.latitude.testing;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Clock} whose time the test sets: it moves only by {@link #set(long)} and {@link #advance(long)}, forwards or
 * backwards (as NTP steps a host's clock). Thread-safe. Its zone is UTC.
 */
public final class MutableClock extends Clock {
    private final AtomicLong millis;

    /** Creates a clock reading {@code epochMillis}. */
    public MutableClock(long epochMillis) {
        this.millis = new AtomicLong(epochMillis);
    }

    /** Sets the time, in milliseconds since the epoch. */
    public void set(long epochMillis) {
        millis.set(epochMillis);
    }

    /** Moves the time by {@code deltaMillis}, which may be negative; returns the new time. */
    public long advance(long deltaMillis) {
        return millis.addAndGet(deltaMillis);
    }

    @Override
    public long millis() {
        return millis.get();
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        if (ZoneOffset.UTC.equals(zone)) {
            return this;
        }
        throw new UnsupportedOperationException("MutableClock is UTC only");
    }

    @Override
    public String toString() {
        return "MutableClock[" + millis.get() + "]";
    }
}
