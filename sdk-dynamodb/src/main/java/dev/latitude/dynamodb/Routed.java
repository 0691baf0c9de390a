package dev.latitude.dynamodb;

import dev.latitude.Futures;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.ResultWatermark;
import io.opentelemetry.api.trace.Span;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiFunction;
import java.util.function.Function;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/**
 * One DynamoDB request prepared for the engine, the same for the blocking and the non-blocking client: the operation
 * to plan, the request to send to each region (a region that took the session's write may get a
 * {@code ConsistentRead} copy), how to read a response's watermark, and what to do with the response once a region
 * has answered (strip an attribute added for verification, record a batch's writes in the session). A guarded write
 * also says what a failed attempt means ({@link Recovery}): both clients run each attempt through {@link #call} or
 * {@link #callAsync}, so the engine sees a guard failure that means success as a success, in that attempt.
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
    private final Recovery<S> recovery;
    private final long recoveredWatermark;
    /** Run as each attempt starts, in the attempt's context (a key-schema lookup the write needs), or null. */
    private final Runnable onAttempt;

    private Routed(Operation operation, Q request, String consistentRegion, Q consistentRequest,
            ResultWatermark<S> watermark, BiFunction<S, String, S> finish, Recovery<S> recovery,
            long recoveredWatermark, Runnable onAttempt) {
        this.operation = operation;
        this.request = request;
        this.consistentRegion = consistentRegion;
        this.consistentRequest = consistentRequest;
        this.watermark = watermark;
        this.finish = finish;
        this.recovery = recovery;
        this.recoveredWatermark = recoveredWatermark;
        this.onAttempt = onAttempt;
    }

    /** A request sent as it is to whichever region the plan picks. */
    static <Q, S> Routed<Q, S> of(Operation operation, Q request) {
        return new Routed<>(operation, request, null, null, null, null, null, ResultWatermark.NONE, null);
    }

    /** A request whose response carries a watermark (a write's stamp, a read item's stamp). */
    static <Q, S> Routed<Q, S> of(Operation operation, Q request, ResultWatermark<S> watermark) {
        return new Routed<>(operation, request, null, null, watermark, null, null, ResultWatermark.NONE, null);
    }

    /** Returns a copy that sends {@code consistent} instead of the request to {@code region}. */
    Routed<Q, S> consistentIn(String region, Q consistent) {
        return new Routed<>(operation, request, region, consistent, watermark, finish, recovery, recoveredWatermark,
                onAttempt);
    }

    /** Returns a copy that passes each response and the region that gave it through {@code then}. */
    Routed<Q, S> then(BiFunction<S, String, S> then) {
        return new Routed<>(operation, request, consistentRegion, consistentRequest, watermark, then, recovery,
                recoveredWatermark, onAttempt);
    }

    /**
     * Returns a copy whose failed attempts go through {@code recovery}; a response it makes has the watermark
     * {@code watermark} (the write's own stamp) instead of the one the watermark function would read.
     */
    Routed<Q, S> recovering(Recovery<S> recovery, long watermark) {
        return new Routed<>(operation, request, consistentRegion, consistentRequest, this.watermark, finish, recovery,
                watermark, onAttempt);
    }

    /**
     * Returns a copy that runs {@code action} as each attempt starts, in the attempt's OpenTelemetry context, so that
     * what it sends (a key-schema lookup) is traced as a child of the call; {@code null} leaves this one as it is.
     * The action must return at once and be harmless to repeat.
     */
    Routed<Q, S> onAttempt(Runnable action) {
        return action == null ? this : new Routed<>(operation, request, consistentRegion, consistentRequest, watermark,
                finish, recovery, recoveredWatermark, action);
    }

    /** Whether failed attempts go through a recovery (the request is a guarded write). */
    boolean recovers() {
        return recovery != null;
    }

    /**
     * Runs one blocking attempt in {@code region}: sends the region's request with {@code send}; a service error goes
     * through the recovery, which may turn it into the response it means.
     *
     * @param region the attempt's region
     * @param send sends a request to that region's client
     * @return the answer
     */
    Answer<S> call(RegionSpec region, Function<Q, S> send) {
        attemptStarts();
        if (recovery == null) {
            return new Answer<>(send.apply(requestFor(region)), region.id());
        }
        Span span = Span.current(); // the engine's span of the call, current while the attempt starts
        try {
            return new Answer<>(send.apply(requestFor(region)), region.id());
        } catch (AwsServiceException e) {
            return new Answer<>(recovery.recover(e, region.id(), span), region.id(), true);
        }
    }

    /**
     * Starts one non-blocking attempt in {@code region}, as {@link #call} does; cancelling the returned future cancels
     * the request.
     *
     * @param region the attempt's region
     * @param send sends a request to that region's client
     * @return the future answer
     */
    CompletableFuture<Answer<S>> callAsync(RegionSpec region, Function<Q, CompletableFuture<S>> send) {
        String id = region.id();
        attemptStarts();
        CompletableFuture<S> sent = send.apply(requestFor(region));
        CompletableFuture<Answer<S>> answer;
        if (recovery == null) {
            answer = sent.thenApply(s -> new Answer<>(s, id));
        } else {
            Span span = Span.current(); // the engine's span of the call; not current where the response arrives
            answer = sent.handle((s, e) -> {
                if (e == null) {
                    return new Answer<>(s, id);
                }
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (cause instanceof AwsServiceException ase) {
                    return new Answer<>(recovery.recover(ase, id, span), id, true);
                }
                throw e instanceof CompletionException ce ? ce : new CompletionException(e);
            });
        }
        // When the engine gives up on this attempt it cancels the answer: abort the request itself.
        return Futures.propagateCancellation(answer, sent);
    }

    private void attemptStarts() {
        if (onAttempt != null) {
            onAttempt.run();
        }
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
        long recovered = recoveredWatermark;
        return w == null ? null : a -> a.recovered() ? recovered : w.of(a.response());
    }

    /** Returns the response the caller gets from an answer. */
    S finish(Answer<S> answer) {
        return finish(answer.response(), answer.region());
    }

    /**
     * What a failed attempt of a guarded write means (see {@link WriteGuard}).
     *
     * @param <S> the response type
     */
    @FunctionalInterface
    interface Recovery<S> {
        /**
         * Returns the response the failure stands for, or throws what the attempt failed with (possibly a copy without
         * what only the guard asked for). Runs on the attempt's thread or the region client's; must be fast.
         *
         * @param failure the service error the attempt failed with
         * @param region the attempt's region
         * @param span the engine's span of the call (for events)
         * @return the response
         */
        S recover(AwsServiceException failure, String region, Span span);
    }

    /**
     * A response and the region that gave it.
     *
     * @param response the response
     * @param region the region id
     * @param recovered whether the response was made from a failed attempt by the {@link Recovery}
     * @param <S> the response type
     */
    record Answer<S>(S response, String region, boolean recovered) {
        Answer(S response, String region) {
            this(response, region, false);
        }
    }
}
