package dev.latitude;

/**
 * A setting passed to a Latitude builder is invalid; thrown by the setter or by {@code build()}.
 *
 * <p>The message names the setting, the value given and how to fix it, for example:
 * {@code topology.localRegion: 'eu-west-9' is not one of the regions [us-east-1, eu-west-1]; add it with region(...) or
 * pick one of those}.
 */
public final class LatitudeConfigException extends LatitudeException {
    private static final long serialVersionUID = 1L;
    private final String setting;

    /**
     * Creates an exception.
     *
     * @param setting the setting that is wrong, such as {@code topology.localRegion}
     * @param problem what is wrong with its value and how to fix it
     */
    public LatitudeConfigException(String setting, String problem) {
        super(setting + ": " + problem, null);
        this.setting = setting;
    }

    /**
     * Writes a duration the way messages about settings show it: {@code -300 ms}, {@code 1.5 s}, {@code 10 min},
     * rather than {@code Duration}'s {@code PT-0.3S}.
     *
     * @param d the duration, or {@code null}
     * @return the text; {@code "null"} for {@code null}
     */
    public static String format(java.time.Duration d) {
        if (d == null) {
            return "null";
        }
        long nanos;
        try {
            nanos = d.toNanos();
        } catch (ArithmeticException tooLong) {
            return d.toDays() + " days";
        }
        long abs = Math.abs(nanos);
        if (nanos == 0) {
            return "0 ms";
        }
        if (abs < 1_000_000L && nanos % 1_000 == 0) {
            return nanos / 1_000 + " µs";
        }
        if (abs < 1_000_000L) {
            return nanos + " ns";
        }
        if (abs < 1_000_000_000L) {
            return trim(nanos / 1e6) + " ms";
        }
        if (abs < 60_000_000_000L) {
            return trim(nanos / 1e9) + " s";
        }
        if (abs < 3_600_000_000_000L) {
            return trim(nanos / 6e10) + " min";
        }
        return trim(nanos / 3.6e12) + " h";
    }

    private static String trim(double value) {
        String text = String.format(java.util.Locale.ROOT, "%.3f", value);
        text = text.replaceAll("0+$", "");
        return text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
    }

    /** Returns the name of the setting that is wrong, such as {@code topology.localRegion}. */
    public String setting() {
        return setting;
    }
}
