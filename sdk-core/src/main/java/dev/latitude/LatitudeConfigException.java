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

    /** Returns the name of the setting that is wrong, such as {@code topology.localRegion}. */
    public String setting() {
        return setting;
    }
}
