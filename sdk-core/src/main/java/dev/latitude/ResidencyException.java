package dev.latitude;

import java.util.List;
import java.util.Set;

/**
 * A call on data with a residency could not be served by any region inside its jurisdictions (all down, or all
 * failed), and was not sent anywhere else: residency is never relaxed, not even in a failover.
 */
public final class ResidencyException extends LatitudeCallException {
    private static final long serialVersionUID = 1L;
    private final String dataClass;
    private final Set<String> jurisdictions;

    /**
     * Creates an exception.
     *
     * @param operation the operation name
     * @param dataClass the data class
     * @param jurisdictions where it may live
     * @param attempts every attempt made (all inside the jurisdictions)
     * @param cause the last failure, or {@code null}
     */
    public ResidencyException(String operation, String dataClass, Set<String> jurisdictions,
            List<AttemptRecord> attempts, Throwable cause) {
        super(operation, operation + ": no region in " + jurisdictions + " could serve data class '" + dataClass
                + "', and its residency forbids every other region; attempts: " + describe(attempts), attempts, cause);
        this.dataClass = dataClass;
        this.jurisdictions = Set.copyOf(jurisdictions);
    }

    /** Returns the data class. */
    public String dataClass() {
        return dataClass;
    }

    /** Returns the jurisdictions the data may live in. */
    public Set<String> jurisdictions() {
        return jurisdictions;
    }
}
