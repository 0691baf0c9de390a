package dev.latitude;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

/**
 * Keeps cancellation working across a mapping step. {@code source.thenApply(f)} returns a new future whose
 * {@code cancel} only completes that new future: {@code source} (a call in the engine, a request in a client) keeps
 * running. Adapters that hand the caller a mapped future, and {@link AsyncRegionCall}s that map a client's future,
 * link the two with {@link #propagateCancellation}:
 *
 * <pre>{@code
 * CompletableFuture<Answer> answer = latitude.executeAsync(op, call);
 * return Futures.propagateCancellation(answer.thenApply(Answer::response), answer);
 * }</pre>
 */
public final class Futures {
    private Futures() {
    }

    /**
     * Makes {@code dependent} cancel {@code source} when it completes while {@code source} is still running: when its
     * holder cancels it, or completes it some other way ({@code orTimeout}, {@code completeOnTimeout},
     * {@code complete}). Once {@code source} has completed, nothing is cancelled.
     *
     * @param dependent a future computed from {@code source}; returned as it is
     * @param source the future whose work {@code dependent} waits for
     * @param <T> the dependent's result type
     * @return {@code dependent}
     */
    public static <T> CompletableFuture<T> propagateCancellation(CompletableFuture<T> dependent, Future<?> source) {
        dependent.whenComplete((value, error) -> {
            // Completing normally, the dependent runs after its source: only its holder can complete it earlier.
            if (!source.isDone()) {
                source.cancel(true);
            }
        });
        return dependent;
    }
}
