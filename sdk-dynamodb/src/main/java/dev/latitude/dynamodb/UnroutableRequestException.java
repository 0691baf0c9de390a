package dev.latitude.dynamodb;

import dev.latitude.LatitudeException;

/**
 * A request {@link MultiRegionDynamoDbClient} cannot route safely, thrown before anything is sent: a PartiQL statement
 * whose table cannot be told, a batch or transaction over tables whose data policies (residency, write mode, writer
 * region, consistency) differ, so that no single plan honours all of them, or a key attribute holding a number
 * DynamoDB does not accept (not a number, more than 38 significant digits, or a magnitude outside {@code 1E-130} to
 * {@code 9.9999999999999999999999999999999999999E+125}), which Latitude refuses before computing anything from it. The
 * message says what is wrong, where, and how to fix it (quote the table name; split the batch per policy).
 *
 * <p>The message names operations, tables and attributes but quotes no statement text, literal or key value, and
 * gives the position of the problem instead; {@link dev.latitude.SensitiveData#PROPERTY} makes it quote them, for
 * debugging.
 */
public final class UnroutableRequestException extends LatitudeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param operation the DynamoDB operation, such as {@code BatchWriteItem}
     * @param problem what is wrong and how to fix it
     */
    public UnroutableRequestException(String operation, String problem) {
        super(operation + ": " + problem, null);
    }
}
