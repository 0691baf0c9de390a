package dev.latitude.dynamodb;

import dev.latitude.LatitudeException;

/**
 * A request {@link MultiRegionDynamoDbClient} cannot route safely, thrown before anything is sent: a PartiQL statement
 * whose table cannot be told, or a batch or transaction over tables whose data policies (residency, write mode,
 * writer region, consistency) differ, so that no single plan honours all of them. The message says how to fix it
 * (quote the table name; split the batch per policy).
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
