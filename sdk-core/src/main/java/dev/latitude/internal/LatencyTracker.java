package dev.latitude.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One region's latency: a clipped EWMA for routing, and a percentile and the median over a sliding window for hedging.
 *
 * <p>The routing estimate follows a region's typical latency, not its tail. Each sample is clipped to
 * {@value #CLIP_FACTOR} times the current estimate before it enters the EWMA: one 300 ms outlier among 3 ms answers
 * moves the estimate by about 1 ms instead of 60 ms, so a region that is fast 95 % of the time stays first (its tail is
 * hedging's business). A region that really became slower still gets there: while every sample is slow, the estimate
 * grows by up to {@code 1 + alpha * (CLIP_FACTOR - 1)} per sample (1.4 at the default alpha 0.2): from 3 ms, samples of
 * 60 ms take it past 45 ms in 11 samples where the plain EWMA took 6 (samples are never clipped below 1 ms, so an
 * estimate near zero can still grow). The first sample is clipped too, against the estimate the region had before it
 * was measured (its distance, or zero for the local region): a cold start's first answers (connections, JIT,
 * caches) are as likely to be outliers as any, and one of them must not send a booting client away from its own
 * region for good, since a region that gets no traffic never corrects its estimate.
 *
 * <p>Finagle's peak-EWMA does the opposite (it jumps to every peak and decays with time), which suits spreading load
 * over equal replicas but would hand the ranking to outliers here; a windowed median would resist them too but react
 * only once half the window is slow. Failures and timeouts never reach the estimate (the breaker judges them).
 *
 * <p>{@link #record(long, long)} is wait-free for the histogram (HdrHistogram {@link Recorder}) and a CAS loop for
 * the EWMA. The percentile is recomputed at most once per refresh interval by whichever thread asks first; others
 * read the cached value. The window is two halves that rotate every half window; a half is dropped once its newest
 * sample is older than the whole window.
 * All times come from the caller (the engine's ticker).
 */
public final class LatencyTracker {
    private static final long MAX_MICROS = TimeUnit.MINUTES.toMicros(10);
    private static final long UNKNOWN = -1;
    /** A sample counts for at most this multiple of the current estimate. */
    static final int CLIP_FACTOR = 3;
    /** A hedge waits for at least this multiple of the median. */
    static final int HEDGE_MEDIAN_MULTIPLE = 2;
    /** Samples are never clipped below this, so that an estimate of (nearly) zero can grow. */
    private static final double MIN_CLIP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final double alpha;
    private final double priorNanos;
    private final double percentile;
    private final long minSamples;
    private final long refreshNanos;
    private final long halfWindowNanos;
    private final long windowNanos;
    private final AtomicLong ewmaBits = new AtomicLong(Double.doubleToRawLongBits(Double.NaN));
    private final Recorder recorder = new Recorder(1, MAX_MICROS, 2);
    private final AtomicBoolean refreshing = new AtomicBoolean();
    /** The latest time a sample was recorded at, so that uncollected samples can be aged. */
    private final AtomicLong newestRecordNanos = new AtomicLong(Long.MIN_VALUE);

    // Guarded by 'refreshing'.
    private Histogram interval;
    private Histogram current = new Histogram(1, MAX_MICROS, 2);
    private Histogram previous = new Histogram(1, MAX_MICROS, 2);
    private final Histogram merged = new Histogram(1, MAX_MICROS, 2);
    private long halfStartNanos;
    private long currentNewestNanos = Long.MIN_VALUE;
    private long previousNewestNanos = Long.MIN_VALUE;

    private volatile long cachedPercentileNanos = UNKNOWN;
    private volatile long cachedMedianNanos = UNKNOWN;
    private volatile long refreshedAtNanos;

    /**
     * Creates a tracker.
     *
     * @param alpha EWMA weight of a new sample, in (0, 1]
     * @param priorNanos the latency assumed before the first sample, against which that sample is clipped
     * @param percentile the percentile to track, in (0, 100)
     * @param minSamples samples needed in the window before the percentile is known
     * @param refreshNanos how often the percentile is recomputed
     * @param windowNanos how far back samples count
     * @param nowNanos the current ticker reading
     */
    public LatencyTracker(double alpha, long priorNanos, double percentile, long minSamples, long refreshNanos,
            long windowNanos, long nowNanos) {
        this.alpha = alpha;
        this.priorNanos = Math.max(0, priorNanos);
        this.percentile = percentile;
        this.minSamples = minSamples;
        this.refreshNanos = refreshNanos;
        this.halfWindowNanos = Math.max(1, windowNanos / 2);
        this.windowNanos = Math.max(2, windowNanos);
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
        if (newestRecordNanos.get() < nowNanos) {
            newestRecordNanos.accumulateAndGet(nowNanos, Math::max);
        }
        if (nowNanos - refreshedAtNanos >= refreshNanos) {
            refresh(nowNanos);
        }
    }

    /**
     * Feeds the EWMA only (for probe round trips, which say how far the region is but are not call latencies). The
     * first sample sets the estimate, later ones move it by alpha; each counts for at most {@value #CLIP_FACTOR} times
     * the current estimate (the prior for the first), and never less than 1 ms.
     *
     * @param latencyNanos the latency
     */
    public void updateEwma(long latencyNanos) {
        long sample = Math.max(0, latencyNanos);
        while (true) {
            long bits = ewmaBits.get();
            double old = Double.longBitsToDouble(bits);
            boolean first = Double.isNaN(old);
            double clipped = Math.min(sample, Math.max(MIN_CLIP_NANOS, CLIP_FACTOR * (first ? priorNanos : old)));
            double next = first ? clipped : old + alpha * (clipped - old);
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

    /**
     * Returns the median of the window in nanoseconds, or -1 while fewer than the minimum samples are in the window.
     *
     * @param nowNanos the current ticker reading
     * @return the median or -1
     */
    public long medianNanos(long nowNanos) {
        if (nowNanos - refreshedAtNanos >= refreshNanos) {
            refresh(nowNanos);
        }
        return cachedMedianNanos;
    }

    /**
     * Returns how long to wait for an answer before hedging: the tracked percentile, or {@value #HEDGE_MEDIAN_MULTIPLE}
     * times the median if that is later; -1 while fewer than the minimum samples are in the window. A region whose
     * latencies sit close together has its percentile barely above its median, and a hedge there would mostly catch
     * ordinary requests; the multiple of the median keeps hedges for requests that are really late.
     *
     * @param nowNanos the current ticker reading
     * @return the hedge delay or -1
     */
    public long hedgeDelayNanos(long nowNanos) {
        long p = percentileNanos(nowNanos);
        return p < 0 ? UNKNOWN : Math.max(p, HEDGE_MEDIAN_MULTIPLE * medianNanos(nowNanos));
    }

    private void refresh(long readNanos) {
        if (!refreshing.compareAndSet(false, true)) {
            return;
        }
        try {
            // A thread may arrive with a reading older than the last refresh's (it was descheduled after reading the
            // ticker): time never goes backwards here.
            long nowNanos = Math.max(readNanos, Math.max(refreshedAtNanos, halfStartNanos));
            interval = recorder.getIntervalHistogram(interval);
            if (nowNanos - halfStartNanos >= halfWindowNanos) {
                Histogram recycled = previous;
                previous = current;
                previousNewestNanos = currentNewestNanos;
                current = recycled;
                current.reset();
                currentNewestNanos = Long.MIN_VALUE;
                halfStartNanos = nowNanos;
            }
            if (interval.getTotalCount() > 0) {
                current.add(interval);
                currentNewestNanos = Math.max(currentNewestNanos, newestRecordNanos.get());
            }
            // A half is dropped once even its newest sample is older than the window, however long it went
            // uncollected (a refresh can be delayed, or nothing was recorded for a while).
            if (nowNanos - previousNewestNanos >= windowNanos) {
                previous.reset();
                previousNewestNanos = Long.MIN_VALUE;
            }
            if (nowNanos - currentNewestNanos >= windowNanos) {
                current.reset();
                currentNewestNanos = Long.MIN_VALUE;
            }
            merged.reset();
            merged.add(previous);
            merged.add(current);
            boolean known = merged.getTotalCount() >= minSamples;
            cachedPercentileNanos = known ? TimeUnit.MICROSECONDS.toNanos(merged.getValueAtPercentile(percentile))
                    : UNKNOWN;
            cachedMedianNanos = known ? TimeUnit.MICROSECONDS.toNanos(merged.getValueAtPercentile(50)) : UNKNOWN;
            refreshedAtNanos = nowNanos;
        } finally {
            refreshing.set(false);
        }
    }
}
