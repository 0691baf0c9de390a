package dev.latitude;

/**
 * A timestamp from another process was further ahead of this host's clock than the configured maximum skew, so the
 * hybrid logical clock did not follow it. Either a host's clock is wrong (check NTP / chrony on both) or the skew
 * bound is too tight for the fleet.
 */
public final class ClockSkewException extends LatitudeException {
    private static final long serialVersionUID = 1L;
    private final long aheadMillis;
    private final long maxSkewMillis;

    /**
     * Creates an exception.
     *
     * @param aheadMillis how far ahead the remote timestamp was
     * @param maxSkewMillis the configured bound
     */
    public ClockSkewException(long aheadMillis, long maxSkewMillis) {
        super("a remote timestamp is " + aheadMillis + " ms ahead of the local clock, beyond the maximum skew of "
                + maxSkewMillis + " ms; fix the clock of the host that produced it, or raise the bound", null);
        this.aheadMillis = aheadMillis;
        this.maxSkewMillis = maxSkewMillis;
    }

    /** Returns how far ahead of the local wall clock the remote timestamp was, in milliseconds. */
    public long aheadMillis() {
        return aheadMillis;
    }

    /** Returns the configured maximum skew in milliseconds. */
    public long maxSkewMillis() {
        return maxSkewMillis;
    }
}
