package dev.latitude;

/**
 * A session token's text could not be accepted. The token is rejected whole: it never crashes the caller and never
 * weakens consistency by being half-read. Treat it like a missing token (start a new session) or return 400 to the
 * client, depending on where it came from.
 */
public final class InvalidSessionTokenException extends LatitudeException {
    private static final long serialVersionUID = 1L;

    /** Why a token was rejected. */
    public enum Reason {
        /** Not a token of any version, or its content is damaged or truncated. */
        MALFORMED,
        /** A token of a format version this SDK does not read. */
        UNSUPPORTED_VERSION,
        /** Longer than the codec's maximum encoded length. */
        OVERSIZED,
        /** The codec requires signed tokens and this one is not signed. */
        UNSIGNED,
        /** Signed with a key id the codec does not know (rotated out, or forged). */
        UNKNOWN_KEY,
        /** The signature does not match the content: forged or altered. */
        BAD_SIGNATURE,
        /** Past its expiry time ({@link SessionTokenCodec.Builder#timeToLive(java.time.Duration)}). */
        EXPIRED,
        /** Issued further in the future than the clock skew allows: a host's clock is wrong, or it is forged. */
        NOT_YET_VALID,
        /** Issued for another audience (another service sharing a key, or another deployment). */
        WRONG_AUDIENCE
    }

    private final Reason reason;

    /**
     * Creates an exception.
     *
     * @param reason why the token was rejected
     * @param message the details
     */
    public InvalidSessionTokenException(Reason reason, String message) {
        super("invalid session token (" + reason + "): " + message, null);
        this.reason = reason;
    }

    /** Returns why the token was rejected. */
    public Reason reason() {
        return reason;
    }
}
