package dev.latitude.dynamodb;

import dev.latitude.ConsistencyLevel;
import dev.latitude.Session;

/**
 * Latitude's settings for the requests of a client view ({@link MultiRegionDynamoDbClient#withConsistency}) or of
 * one request ({@link LatitudeRequest}): a read consistency level in place of the table's, and a session in place of
 * the context's. Either may be {@code null} (not set).
 *
 * @param consistency the consistency level reads use, or {@code null} for the table's data policy
 * @param session the session the calls read and record in, or {@code null} for {@link Session#current()}
 */
record RequestOptions(ConsistencyLevel consistency, Session session) {
    /** Nothing set. */
    static final RequestOptions NONE = new RequestOptions(null, null);

    /** Returns these options with what {@code more} sets put over them. */
    RequestOptions mergedWith(RequestOptions more) {
        if (more.consistency == null && more.session == null) {
            return this;
        }
        return new RequestOptions(more.consistency != null ? more.consistency : consistency,
                more.session != null ? more.session : session);
    }

    /** Returns the session set, else the one of the current context, or {@code null}. */
    Session sessionOrCurrent() {
        return session != null ? session : Session.current();
    }
}
