package dev.latitude.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One region's latency: an EWMA for routing and a percentile over a sliding window for hedging.
 *
 * <p>{@link #record(long, long)} is wait-free for the histogram (HdrHistogram {@link Recorder}) and a CAS loop for
 * the EWMA. The percentile is recomputed at most once per refresh interval by whichever thread asks first; others
 * read the cached value. The window is two halves: samples older than one to two half-windows are dropped.
 * All times come from the caller (the engine's ticker).
 */
public final class LatencyTracker {
    private static final long MAX_MICROS = TimeUnit.MINUTES.toMicros(10);
    private static final long UNKNOWN = -1;

    private final double alpha;
    private final double percentile;
    private final long minSamples;
    private final long refreshNanos;
    private final long halfWindowNanos;
    private final AtomicLong ewmaBits = new AtomicLong(Double.doubleToRawLongBits(Double.NaN));
    private final Recorder recorder = new Recorder(1, MAX_MICROS, 2);
    private final AtomicBoolean refreshing = new AtomicBoolean();

    // Guarded by 'refreshing'.
    private Histogram interval;
    private Histogram current = new Histogram(1, MAX_MICROS, 2);
    private Histogram previous = new Histogram(1, MAX_MICROS, 2);
    private final Histogram merged = new Histogram(1, MAX_MICROS, 2);
    private long halfStartNanos;

    private volatile long cachedPercentileNanos = UNKNOWN;
    private volatile long refreshedAtNanos;

    /**
     * Creates a tracker.
     *
     * @param alpha EWMA weight of a new sample, in (0, 1]
     * @param percentile the percentile to track, in (0, 100)
     * @param minSamples samples needed in the window before the percentile is known
     * @param refreshNanos how often the percentile is recomputed
     * @param windowNanos how far back samples count
     * @param nowNanos the current ticker reading
     */
    public LatencyTracker(double alpha, double percentile, long minSamples, long refreshNanos, long windowNanos,
            long nowNanos) {
        this.alpha = alpha;
        this.percentile = percentile;
        this.minSamples = minSamples;
        this.refreshNanos = refreshNanos;
        this.halfWindowNanos = Math.max(1, windowNanos / 2);
        this.halfStartNanos = nowNanos;
        this.refreshedAtNanos = nowNanos;
    }

    /**
     * Records one observed round trip.
     *
     * @param latencyNanos the latency
     * @param nowNanos the current ticker reading
     */
    public void record(long latencyNanos, long nowNanos) {
        updateEwma(latencyNanos);
        recorder.recordValue(Math.max(1, Math.min(MAX_MICROS, TimeUnit.NANOSECONDS.toMicros(latencyNanos))));
        if (nowNanos - refreshedAtNanos >= refreshNanos) {
            refresh(nowNanos);
        }
    }

    /**
     * Feeds the EWMA only (for probe round trips, which say how far the region is but are not call latencies).
     *
     * @param latencyNanos the latency
     */
    public void updateEwma(long latencyNanos) {
        long sample = Math.max(0, latencyNanos);
        while (true) {
            long bits = ewmaBits.get();
            double old = Double.longBitsToDouble(bits);
            double next = Double.isNaN(old) ? sample : old + alpha * (sample - old);
            if (ewmaBits.compareAndSet(bits, Double.doubleToRawLongBits(next))) {
                return;
            }
        }
    }

    /** Returns the EWMA in nanoseconds, or -1 before the first sample. */
    public long ewmaNanos() {
        double v = Double.longBitsToDouble(ewmaBits.get());
        return Double.isNaN(v) ? UNKNOWN : (long) v;
    }

    /**
     * Returns the tracked percentile in nanoseconds, or -1 while fewer than the minimum samples are in the window.
     *
     * @param nowNanos the current ticker reading
     * @return the percentile or -1
     */
    public long percentileNanos(long nowNanos) {
        if (nowNanos - refreshedAtNanos >= refreshNanos) {
            refresh(nowNanos);
        }
        return cachedPercentileNanos;
    }

    private void refresh(long nowNanos) {
        if (!refreshing.compareAndSet(false, true)) {
            return;
        }
        try {
            interval = recorder.getIntervalHistogram(interval);
            // Samples not yet collected may be as old as the last refresh: they join the current half before any
            // rotation, so they age out with it instead of being counted as new.
            current.add(interval);
            long sinceRotation = nowNanos - halfStartNanos;
            if (sinceRotation >= halfWindowNanos) {
                Histogram recycled = previous;
                previous = current;
                current = recycled;
                current.reset();
                halfStartNanos = nowNanos;
                if (sinceRotation >= 2 * halfWindowNanos) {
                    previous.reset(); // nothing was rotated for a whole window: all of it is too old
                }
            }
            merged.reset();
            merged.add(previous);
            merged.add(current);
            cachedPercentileNanos = merged.getTotalCount() < minSamples ? UNKNOWN
                    : TimeUnit.MICROSECONDS.toNanos(merged.getValueAtPercentile(percentile));
            refreshedAtNanos = nowNanos;
        } finally {
            refreshing.set(false);
        }
    }
}
