package dev.latitude;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A recording fake region call: each attempt records its region and gets a future the test completes (or leaves
 * hanging), in the order the engine started them.
 */
final class RecordingCall implements AsyncRegionCall<String> {
    private final List<String> regions = new ArrayList<>();
    private final List<CompletableFuture<String>> futures = new ArrayList<>();

    @Override
    public synchronized CompletableFuture<String> call(RegionSpec region) {
        regions.add(region.id());
        CompletableFuture<String> f = new CompletableFuture<>();
        futures.add(f);
        return f;
    }

    /** Returns the future handed to the {@code i}-th attempt (0-based, in start order). */
    synchronized CompletableFuture<String> attempt(int i) {
        return futures.get(i);
    }

    /** Returns the regions of the attempts started so far, in start order. */
    synchronized List<String> regions() {
        return List.copyOf(regions);
    }

    /** Returns the failure of a call that completed exceptionally, unwrapped. */
    static Throwable failure(CompletableFuture<?> f) {
        assertThat(f).isCompletedExceptionally();
        try {
            f.getNow(null);
            throw new AssertionError("not failed");
        } catch (CompletionException | CancellationException e) {
            return e.getCause() != null ? e.getCause() : e;
        }
    }

    /** Returns the circuit state of {@code region} as {@link Latitude#status()} reports it. */
    static CircuitState circuit(Latitude latitude, String region) {
        return status(latitude, region).circuit();
    }

    /** Returns the status of {@code region}. */
    static RegionStatus status(Latitude latitude, String region) {
        return latitude.status().get(latitude.topology().indexOf(region));
    }
}
