package dev.latitude.testkit;

import dev.latitude.FailureKind;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.spi.ErrorClassifier;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain HTTP client that calls {@link FakeRegion}s through a {@link Latitude} engine: each attempt is a GET to the
 * region the engine chose, and the answer is the id of the region that served it.
 *
 * <p>{@link #errorClassifier()} maps HTTP outcomes the way a real adapter would: connection refused, 429 and 503
 * are {@link FailureKind#REGION_UNAVAILABLE} (not processed), other 5xx, resets and I/O errors are
 * {@link FailureKind#AMBIGUOUS}, and 4xx are {@link FailureKind#CALLER}.
 *
 * <p>Each attempt is a blocking {@code HttpClient.send} on the client's own pooled daemon threads
 * ({@code fake-region-client-N}), not {@code HttpClient.sendAsync}: the JDK hands every {@code sendAsync} response to
 * {@code CompletableFuture}'s default async pool, which on a machine with two CPUs or fewer starts a new thread per
 * task; under load on a cold JVM that alone kept calls at a p50 of 400-900 ms for their first five seconds (see
 * docs/BENCHMARKS.md, failover cold pass). An attempt the engine abandons is left to finish (or to time out after
 * 60 s in a blackhole) rather than aborted: aborting closes its HTTP/1.1 connection and the next request pays a new one.
 */
public final class FakeRegionClient {
    private final Latitude latitude;
    private final Map<String, URI> endpoints;
    private static final AtomicInteger THREAD_IDS = new AtomicInteger();
    /** Bounds how long a request into a blackhole holds its thread after the engine stopped waiting for it. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    private final ExecutorService threads;
    private final HttpClient http;

    /**
     * Creates a client.
     *
     * @param latitude the engine (built with {@link #errorClassifier()})
     * @param endpoints each region id's base URI
     */
    public FakeRegionClient(Latitude latitude, Map<String, URI> endpoints) {
        this.latitude = Objects.requireNonNull(latitude, "latitude");
        this.endpoints = Map.copyOf(endpoints);
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-region-client-" + THREAD_IDS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1)
                .executor(threads).build();
    }

    /**
     * Returns the classifier for the failures this client produces: {@link ErrorClassifier#defaults()}, which reads
     * the status of {@link HttpStatusException} (503 and 429 the region's, other 5xx ambiguous, 4xx the caller's) and
     * the client's I/O failures (connect failures the region's, timeouts and resets ambiguous).
     *
     * @return the classifier
     */
    public static ErrorClassifier errorClassifier() {
        return ErrorClassifier.defaults();
    }

    /**
     * GETs {@code path} through the engine.
     *
     * @param operation the operation (read or write, idempotent or not)
     * @param path the path, such as {@code /items/42}
     * @return the id of the region that answered
     */
    public CompletableFuture<String> get(Operation operation, String path) {
        return latitude.executeAsync(operation, region -> {
            URI base = endpoints.get(region.id());
            if (base == null) {
                return CompletableFuture.failedFuture(new IllegalStateException("no endpoint for region " + region.id()));
            }
            HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT).GET().build();
            return CompletableFuture.supplyAsync(() -> {
                HttpResponse<String> r;
                try {
                    r = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    throw new CompletionException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CompletionException(e);
                }
                if (r.statusCode() != 200) {
                    throw new HttpStatusException(region.id(), r.statusCode());
                }
                return r.body();
            }, threads);
        });
    }

    /** An HTTP answer other than 200 from a fake region. */
    public static final class HttpStatusException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        HttpStatusException(String region, int status) {
            super(region + " answered HTTP " + status);
            this.status = status;
        }

        /** Returns the HTTP status. */
        public int status() {
            return status;
        }
    }
}
