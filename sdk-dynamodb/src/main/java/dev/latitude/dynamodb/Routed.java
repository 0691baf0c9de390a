package dev.latitude.dynamodb;

import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.ResultWatermark;
import java.util.function.BiFunction;

/**
 * One DynamoDB request prepared for the engine, the same for the blocking and the non-blocking client: the operation
 * to plan, the request to send to each region (a region that took the session's write may get a
 * {@code ConsistentRead} copy), how to read a response's watermark, and what to do with the response once a region
 * has answered (strip an attribute added for verification, record a batch's writes in the session).
 *
 * @param <Q> the request type
 * @param <S> the response type
 */
final class Routed<Q, S> {
    final Operation operation;
    private final Q request;
    private final Q consistentRequest;
    private final String consistentRegion;
    private final ResultWatermark<S> watermark;
    private final BiFunction<S, String, S> finish;

    private Routed(Operation operation, Q request, String consistentRegion, Q consistentRequest,
            ResultWatermark<S> watermark, BiFunction<S, String, S> finish) {
        this.operation = operation;
        this.request = request;
        this.consistentRegion = consistentRegion;
        this.consistentRequest = consistentRequest;
        this.watermark = watermark;
        this.finish = finish;
    }

    /** A request sent as it is to whichever region the plan picks. */
    static <Q, S> Routed<Q, S> of(Operation operation, Q request) {
        return new Routed<>(operation, request, null, null, null, null);
    }

    /** A request whose response carries a watermark (a write's stamp, a read item's stamp). */
    static <Q, S> Routed<Q, S> of(Operation operation, Q request, ResultWatermark<S> watermark) {
        return new Routed<>(operation, request, null, null, watermark, null);
    }

    /** Returns a copy that sends {@code consistent} instead of the request to {@code region}. */
    Routed<Q, S> consistentIn(String region, Q consistent) {
        return new Routed<>(operation, request, region, consistent, watermark, finish);
    }

    /** Returns a copy that passes each response and the region that gave it through {@code then}. */
    Routed<Q, S> then(BiFunction<S, String, S> then) {
        return new Routed<>(operation, request, consistentRegion, consistentRequest, watermark, then);
    }

    /** Returns the request to send to {@code region}. */
    Q requestFor(RegionSpec region) {
        return consistentRegion != null && consistentRegion.equals(region.id()) ? consistentRequest : request;
    }

    /** Returns how to read a response's watermark, or {@code null} if responses carry none. */
    ResultWatermark<S> watermark() {
        return watermark;
    }

    /** Returns the response the caller gets, given the one {@code region} gave. */
    S finish(S response, String region) {
        return finish == null ? response : finish.apply(response, region);
    }

    /** Reads the watermark of an {@link Answer}'s response, or returns {@code null} if responses carry none. */
    ResultWatermark<Answer<S>> answerWatermark() {
        ResultWatermark<S> w = watermark;
        return w == null ? null : a -> w.of(a.response());
    }

    /** Returns the response the caller gets from an answer. */
    S finish(Answer<S> answer) {
        return finish(answer.response(), answer.region());
    }

    /**
     * A response and the region that gave it.
     *
     * @param response the response
     * @param region the region id
     * @param <S> the response type
     */
    record Answer<S>(S response, String region) {
    }
}
