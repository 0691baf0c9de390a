package dev.latitude;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A mapped future whose cancellation reaches its source. */
class FuturesTest {

    @Test
    void propagateCancellation_dependentCancelled_sourceCancelled() {
        CompletableFuture<String> source = new CompletableFuture<>();
        CompletableFuture<Integer> mapped = Futures.propagateCancellation(source.thenApply(String::length), source);
        assertThat(mapped.cancel(true)).isTrue();
        assertThat(source).isCancelled();
    }

    @Test
    void propagateCancellation_dependentTimesOut_sourceCancelled() {
        CompletableFuture<String> source = new CompletableFuture<>();
        CompletableFuture<Integer> mapped = Futures.propagateCancellation(source.thenApply(String::length), source);
        mapped.orTimeout(1, TimeUnit.MILLISECONDS);
        assertThat(mapped).failsWithin(30, TimeUnit.SECONDS);
        assertThat(source).isCancelled();
    }

    @Test
    void propagateCancellation_sourceCompletes_dependentGetsTheMappedValue() {
        CompletableFuture<String> source = new CompletableFuture<>();
        CompletableFuture<Integer> mapped = Futures.propagateCancellation(source.thenApply(String::length), source);
        source.complete("four");
        assertThat(mapped).isCompletedWithValue(4);
        assertThat(source).isCompletedWithValue("four");
    }

    @Test
    void propagateCancellation_mappingThrows_sourceKeepsItsValue() {
        CompletableFuture<String> source = new CompletableFuture<>();
        CompletableFuture<Integer> mapped = Futures.propagateCancellation(source.thenApply(s -> {
            throw new IllegalStateException("mapping failed on purpose");
        }), source);
        source.complete("value");
        assertThat(mapped).isCompletedExceptionally();
        assertThat(source).isCompletedWithValue("value");
    }
}
