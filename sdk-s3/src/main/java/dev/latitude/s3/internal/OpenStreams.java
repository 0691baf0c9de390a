package dev.latitude.s3.internal;

import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.core.ResponseInputStream;

/**
 * The response streams one GetObject call opened, one per region attempt. Only the winner's stream reaches the
 * caller; every other one (a stale replica's, a slow attempt's that lost to a hedge, one that arrives after the call
 * ended) is aborted, so no connection is left holding an unread body. Thread-safe.
 */
public final class OpenStreams {
    private final List<ResponseInputStream<?>> open = new ArrayList<>(2);
    private boolean settled;
    private Object winner;

    /**
     * Records a stream an attempt opened; aborts it at once if the call has already been settled for another one.
     *
     * @param stream the stream
     * @param <S> the stream type
     * @return the stream
     */
    public <S extends ResponseInputStream<?>> S opened(S stream) {
        boolean abort;
        synchronized (this) {
            abort = settled && stream != winner;
            if (!abort) {
                open.add(stream);
            }
        }
        if (abort) {
            stream.abort();
        }
        return stream;
    }

    /**
     * Settles the call: aborts every stream but {@code kept}, now and when one arrives later.
     *
     * @param kept the stream handed to the caller, or {@code null} if the call failed
     */
    public void settle(Object kept) {
        List<ResponseInputStream<?>> losers = new ArrayList<>(2);
        synchronized (this) {
            settled = true;
            winner = kept;
            for (ResponseInputStream<?> s : open) {
                if (s != kept) {
                    losers.add(s);
                }
            }
            open.clear();
        }
        losers.forEach(ResponseInputStream::abort);
    }
}
