package dev.latitude.s3.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The response bodies one GetObject call opened, one per region attempt. Only the winner's reaches the caller; every
 * other one (a stale replica's, a slow attempt's that lost to a hedge, one that arrives after the call ended) is
 * aborted, so no connection is left holding an unread body. Thread-safe.
 *
 * @param <S> the body type (a blocking stream, or a publisher)
 */
public final class OpenStreams<S> {
    private final Consumer<S> abort;
    private final List<S> open = new ArrayList<>(2);
    private boolean settled;
    private S winner;

    /**
     * Creates the registry of one call.
     *
     * @param abort how a body that will not be read is given up
     */
    public OpenStreams(Consumer<S> abort) {
        this.abort = abort;
    }

    /**
     * Records a body an attempt opened; aborts it at once if the call has already been settled for another one.
     *
     * @param body the body
     * @return the body
     */
    public S opened(S body) {
        boolean late;
        synchronized (this) {
            late = settled && body != winner;
            if (!late) {
                open.add(body);
            }
        }
        if (late) {
            abort.accept(body);
        }
        return body;
    }

    /**
     * Settles the call: aborts every body but {@code kept}, now and when one arrives later.
     *
     * @param kept the body handed to the caller, or {@code null} if the call failed
     */
    public void settle(S kept) {
        List<S> losers = new ArrayList<>(2);
        synchronized (this) {
            settled = true;
            winner = kept;
            for (S s : open) {
                if (s != kept) {
                    losers.add(s);
                }
            }
            open.clear();
        }
        losers.forEach(abort);
    }
}
