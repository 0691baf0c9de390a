package dev.latitude;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link Latitude#warmUp(Duration)} saw: the regions that answered the cheap request and how long each took,
 * and the regions that failed or did not answer in time, with why.
 *
 * @param answered region id to the time its answer took
 * @param failed region id to why it did not answer (the error, or that the warm-up's time ran out)
 */
public record WarmUpReport(Map<String, Duration> answered, Map<String, String> failed) {
    /** Copies the maps. */
    public WarmUpReport {
        answered = Map.copyOf(Objects.requireNonNull(answered, "answered"));
        failed = Map.copyOf(Objects.requireNonNull(failed, "failed"));
    }

    /** Returns whether every region answered. */
    public boolean complete() {
        return failed.isEmpty();
    }
}
