package dev.latitude;

import java.util.concurrent.CompletionStage;

/**
 * One non-blocking attempt of a call in one region, for {@link Latitude#executeAsync(Operation, AsyncRegionCall)}.
 *
 * <p>It must return quickly (start the request and return its stage); the engine may invoke it from its timer
 * thread when it falls back or hedges. When the engine gives up on an attempt it calls
 * {@code toCompletableFuture().cancel(true)} on the returned stage; a call that returns a stage mapped from the
 * client's future ({@code thenApply}) should link the two with {@link Futures#propagateCancellation}, or the request
 * itself keeps running.
 *
 * @param <T> the result type
 */
@FunctionalInterface
public interface AsyncRegionCall<T> {

    /**
     * Starts the call against {@code region}.
     *
     * @param region the region chosen for this attempt
     * @return a stage that completes with the result or the failure; never {@code null}
     */
    CompletionStage<T> call(RegionSpec region);
}
