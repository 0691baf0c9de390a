package dev.latitude;

import java.util.List;

/**
 * A call through the engine failed in a way that is Latitude's to report; carries every attempt made.
 *
 * @see RegionsUnavailableException
 * @see AmbiguousWriteException
 */
public abstract class LatitudeCallException extends LatitudeException {
    private static final long serialVersionUID = 1L;
    private final String operation;
    private final transient List<AttemptRecord> attempts;

    /**
     * Creates an exception.
     *
     * @param operation the name of the operation that failed
     * @param message what happened
     * @param attempts every attempt made, in start order
     * @param cause the last attempt's failure, or {@code null}
     */
    protected LatitudeCallException(String operation, String message, List<AttemptRecord> attempts, Throwable cause) {
        super(message, cause);
        this.operation = operation;
        this.attempts = List.copyOf(attempts);
    }

    /** Returns the name of the operation, such as {@code GetItem}. */
    public String operation() {
        return operation;
    }

    /** Returns every attempt made, in the order they started, each with its region and why it failed. */
    public List<AttemptRecord> attempts() {
        return attempts;
    }

    static String describe(List<AttemptRecord> attempts) {
        if (attempts.isEmpty()) {
            return "no attempt was made";
        }
        StringBuilder sb = new StringBuilder();
        for (AttemptRecord a : attempts) {
            sb.append(sb.length() == 0 ? "" : "; ").append(a);
        }
        return sb.toString();
    }
}
