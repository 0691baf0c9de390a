package dev.latitude.s3;

import dev.latitude.LatitudeException;

/**
 * A write whose request body had already been sent to one region failed there, and the body cannot be read a second
 * time (a {@code RequestBody} from an input stream or a custom provider), so Latitude did not send it to another
 * region. The object may or may not have been written in the first region. Bodies from bytes, strings and files
 * ({@code RequestBody.fromBytes}, {@code fromString}, {@code fromFile}) can be replayed and are never refused this
 * way; give one of those to let a write of a bidirectionally replicated bucket move to another region.
 */
public final class BodyNotReplayableException extends LatitudeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param operation the S3 operation, such as {@code PutObject}
     * @param firstRegion the region the body was sent to
     * @param nextRegion the region the write would have moved to
     */
    public BodyNotReplayableException(String operation, String firstRegion, String nextRegion) {
        super(operation + ": the request body was already sent to " + firstRegion + " and cannot be read again, so the"
                + " write was not retried in " + nextRegion + "; the object may or may not exist in " + firstRegion
                + ". Give a replayable body (RequestBody.fromBytes, fromString or fromFile) to let writes move"
                + " between regions", null);
    }
}
