package dev.latitude.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.core.Options;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import wiremock.org.eclipse.jetty.util.thread.QueuedThreadPool;
import wiremock.org.eclipse.jetty.util.thread.ThreadPool;

/**
 * One fake region: an HTTP server on 127.0.0.1 (WireMock, on a free port) that answers every request with its
 * region id after a latency, and whose faults can be switched at runtime.
 *
 * <p>Faults ({@link #apply(Fault)}, or the shortcuts): {@link #blackhole()} (accepts, never answers),
 * {@link #refuseConnections()} (port closed), {@link #addLatency(Duration)}, {@link #failWith(int)} (every request gets
 * that status), {@link Fault#errorRate(double, int, String)} (a random share of requests gets the status and body),
 * {@link Fault#flapping(Duration, Duration)} (refuses connections for the down spell first, then serves for the up
 * spell, and so on, on a timer the region owns), {@link #resetConnections()} (TCP reset), and {@link #heal()} to undo
 * any of them. Each call replaces the previous fault and stops any flapping; {@link #close()} stops it too. Requests
 * in flight when the port closes (refusing, a flapping outage, close) fail at once with a closed connection. The
 * request journal ({@link #requestCount()}) says how many requests reached the region, faulty or not.
 *
 * <p><b>Blackhole and heal.</b> A blackholed region reads each request's headers and holds the request without an
 * answer and without a thread (the request is suspended, not slept on), so however many it swallows, it serves the
 * moment it is healed. When the blackhole ends ({@link #heal()}, any other fault, or {@link #close()}), the
 * connection of every request it swallowed is closed (an HTTP/2 stream is reset) before that call returns: a
 * swallowed request is never answered, not even late, and its client, if still waiting, sees a broken connection as
 * after a real network outage (some HTTP clients then retry an idempotent request once; the retry is a new request,
 * served). At most {@value #MAX_SWALLOWED_REQUESTS} swallowed requests are held at a time; beyond that the oldest is
 * dropped the same way. Swallowed requests count in {@link #requestCount()} but never reach a proxied backend.
 *
 * <p>Latency is a {@link LatencyModel}, sampled for every request, so jitter and heavy tails apply per request;
 * {@link #start(String, Duration)} uses a fixed one. Error-rate decisions use a random generator that the
 * {@linkplain Builder#faultSeed(long) fault seed} makes reproducible: with a seed, each {@code apply} of an
 * error-rate fault starts the same sequence of decisions, so sequential requests fail the same way on every run.
 *
 * <p><b>Proxy mode</b> ({@link #proxy(String, URI, Duration)}, {@link Builder#proxyTo(URI)}): instead of answering
 * with its id, the region forwards every request to a real backend (such as DynamoDB Local) and returns the backend's
 * answer, after the backend's own time plus the region's latency. The Host header is passed through unchanged, so
 * signed requests still verify. Faults act in front of the backend: a blackholed, reset or failed request never
 * reaches it.
 *
 * <pre>{@code
 * try (FakeRegion region = FakeRegion.start("eu-west-1", Duration.ofMillis(20))) {
 *     region.blackhole();
 *     // ... calls to region.uri() now hang ...
 *     region.heal();
 * }
 * }</pre>
 */
public final class FakeRegion implements FaultTarget, AutoCloseable {
    /**
     * The most requests a blackholed region holds unanswered at a time; when one more arrives, the oldest is dropped
     * (its connection closed), as its client has most likely given up by then.
     */
    public static final int MAX_SWALLOWED_REQUESTS = 2048;

    private static final int CONTAINER_THREADS = 64;
    private static final int BASE_PRIORITY = 10;
    private static final Duration FLAP_RETRY = Duration.ofMillis(20);
    private static final Duration POOL_STOP_TIMEOUT = Duration.ofMillis(40);

    private final String id;
    private final LatencyModel latencyModel;
    private final LatencyModel.Sampler latency;
    private final URI backend;
    private final Long faultSeed;
    private final FaultTransformer transformer;
    private final SwallowedRequests swallowed;
    private final int port;

    private WireMockServer server;
    /** The thread pool of the current server (for tests of this class). */
    private volatile QueuedThreadPool pool;
    private boolean serving;
    private boolean closed;
    private Fault fault = Fault.none();
    /**
     * What the transformer does to each request: the fault, or none while a flapping region is up or while blackholed
     * (blackholed requests are held by {@link SwallowedRequests} before WireMock sees them).
     */
    private volatile Fault httpFault = Fault.none();
    private volatile Random faultRandom = new Random();

    private ScheduledExecutorService timer;
    private ScheduledFuture<?> flap;
    private long flapGeneration;

    private FakeRegion(Builder b) {
        this.id = b.id;
        this.latencyModel = b.latency;
        this.latency = b.latency.sampler();
        this.backend = b.backend;
        this.faultSeed = b.faultSeed;
        this.transformer = new FaultTransformer();
        this.swallowed = new SwallowedRequests(id, b.swallowLimit);
        this.server = newServer(0);
        server.start();
        this.port = server.port();
        this.serving = true;
        serveNormally();
    }

    private WireMockServer newServer(int onPort) {
        WireMockConfiguration options = WireMockConfiguration.options()
                .bindAddress("127.0.0.1")
                // Delays run on Jetty's request threads (not WireMock's asynchronous scheduler, whose pending
                // responses outlive stop() and keep a JVM alive): stop() interrupts them, so nothing lingers.
                // Blackholed requests hold no thread: SwallowedRequests suspends them in front of WireMock.
                .asynchronousResponseEnabled(false)
                .containerThreads(CONTAINER_THREADS)
                .jettyStopTimeout(0L)
                .threadPoolFactory(this::threadPool)
                .httpServerFactory(swallowed.serverFactory())
                .stubRequestLoggingDisabled(true)
                .extensions(transformer);
        if (backend != null) {
            options.preserveHostHeader(true);
        }
        return new WireMockServer(onPort == 0 ? options.dynamicPort() : options.port(onPort));
    }

    /**
     * Jetty's default pool waits half of a 5 s stop timeout for threads still sleeping in a delay (a slow request)
     * before interrupting them, which made every stop with a request in flight take 2.5 s. Jetty stops
     * the connectors before the pool, so by the time these threads are interrupted their connections are closed and
     * nothing more reaches the client. Daemon threads never keep a JVM alive; their names start with
     * {@code latitude-fake-region-<id>}.
     */
    private ThreadPool threadPool(Options options) {
        QueuedThreadPool pool = new QueuedThreadPool(options.containerThreads());
        pool.setName("latitude-fake-region-" + id);
        pool.setStopTimeout(POOL_STOP_TIMEOUT.toMillis());
        pool.setDaemon(true);
        this.pool = pool;
        return pool;
    }

    /**
     * Starts a region on a free loopback port.
     *
     * @param id the region id it answers with
     * @param baseLatency how long it takes to answer when healthy
     * @return the running region
     */
    public static FakeRegion start(String id, Duration baseLatency) {
        return builder(id).baseLatency(baseLatency).start();
    }

    /**
     * Starts a region whose latency follows {@code latency}, sampled per request.
     *
     * @param id the region id it answers with
     * @param latency the latency model
     * @return the running region
     */
    public static FakeRegion start(String id, LatencyModel latency) {
        return builder(id).latency(latency).start();
    }

    /**
     * Starts a region in proxy mode: it forwards every request to {@code backend} and answers with the backend's
     * answer, {@code baseLatency} later; faults apply in front of the backend.
     *
     * @param id the region id
     * @param backend the backend's base URI, such as {@code http://127.0.0.1:8000}
     * @param baseLatency the latency added to the backend's
     * @return the running region
     */
    public static FakeRegion proxy(String id, URI backend, Duration baseLatency) {
        return builder(id).proxyTo(backend).baseLatency(baseLatency).start();
    }

    /**
     * Returns a builder for a region with options: a latency model, proxy mode, a fault seed.
     *
     * @param id the region id
     * @return the builder
     */
    public static Builder builder(String id) {
        return new Builder(id);
    }

    private void serveNormally() {
        ResponseDefinitionBuilder normal = backend != null
                ? aResponse().proxiedFrom(stripTrailingSlash(backend.toString()))
                : aResponse().withStatus(200).withHeader("Content-Type", "text/plain").withBody(id);
        server.stubFor(any(anyUrl()).atPriority(BASE_PRIORITY).willReturn(normal));
    }

    private static String stripTrailingSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    /** Returns the region id. */
    public String id() {
        return id;
    }

    /** Returns the base URI, such as {@code http://127.0.0.1:41234}. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Returns the port. */
    public int port() {
        return port;
    }

    /** Returns the healthy latency: the base of the {@linkplain #latencyModel() latency model}. */
    public Duration baseLatency() {
        return latencyModel.base();
    }

    /** Returns the latency model sampled for each request. */
    public LatencyModel latencyModel() {
        return latencyModel;
    }

    /** Returns the backend of a region in proxy mode, or {@code null}. */
    public URI backend() {
        return backend;
    }

    /** Returns whether this region forwards requests to a backend. */
    public boolean isProxy() {
        return backend != null;
    }

    /**
     * Returns whether the port is open right now: false while refusing connections, in the down spell of a flapping
     * fault, and once closed.
     */
    public synchronized boolean isAcceptingConnections() {
        return serving;
    }

    @Override
    public String name() {
        return id;
    }

    @Override
    public synchronized Fault fault() {
        return fault;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Healing a closed region does nothing; any other fault on a closed region throws
     * {@link IllegalStateException}.
     */
    @Override
    public synchronized void apply(Fault f) {
        Objects.requireNonNull(f, "fault");
        if (closed) {
            if (f.kind() == Fault.Kind.NONE) {
                return;
            }
            throw new IllegalStateException("fake region " + id + " is closed; start a new one to apply " + f);
        }
        stopFlapping();
        if (f.kind() != Fault.Kind.BLACKHOLE) {
            swallowed.close(); // Breaks the connections of the requests a blackhole swallowed; they are never answered.
        }
        switch (f.kind()) {
            case BLACKHOLE:
                httpFault = Fault.none(); // For requests that got in just before; SwallowedRequests holds the rest.
                startServing();
                swallowed.open();
                break;
            case NONE:
            case LATENCY:
            case RESET:
            case ERROR_RATE:
                if (f.kind() == Fault.Kind.ERROR_RATE) {
                    faultRandom = faultSeed == null ? new Random() : new Random(faultSeed);
                }
                httpFault = f;
                startServing();
                break;
            case REFUSE:
                httpFault = Fault.none();
                stopServing();
                break;
            case FLAPPING:
                httpFault = Fault.none();
                stopServing();
                flap = timer().schedule(flipper(++flapGeneration, true), f.duration().toNanos(), TimeUnit.NANOSECONDS);
                break;
            default:
                throw new UnsupportedOperationException(f + " is not supported by FakeRegion");
        }
        this.fault = f;
    }

    private Runnable flipper(long generation, boolean goingUp) {
        return () -> {
            synchronized (FakeRegion.this) {
                if (closed || generation != flapGeneration || fault.kind() != Fault.Kind.FLAPPING) {
                    return;
                }
                Duration next;
                boolean flipped = true;
                try {
                    if (goingUp) {
                        startServing();
                        next = fault.upDuration();
                    } else {
                        stopServing();
                        next = fault.duration();
                    }
                } catch (RuntimeException e) {
                    // The port could not be reopened at once (it may linger briefly after a stop): try again soon.
                    flipped = false;
                    next = FLAP_RETRY;
                }
                boolean nextUp = flipped ? !goingUp : goingUp;
                flap = timer().schedule(flipper(generation, nextUp), next.toNanos(), TimeUnit.NANOSECONDS);
            }
        };
    }

    private void stopFlapping() {
        flapGeneration++;
        if (flap != null) {
            flap.cancel(false);
            flap = null;
        }
    }

    private ScheduledExecutorService timer() {
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "fake-region-" + id + "-flapping");
                t.setDaemon(true);
                return t;
            });
        }
        return timer;
    }

    /**
     * Accepts connections and requests but never answers; the next fault or {@link #heal()} breaks the connections of
     * the requests it swallowed (see {@link Fault#blackhole()}).
     */
    public void blackhole() {
        apply(Fault.blackhole());
    }

    /**
     * Answers normally but {@code extra} later.
     *
     * @param extra the added latency
     */
    public void addLatency(Duration extra) {
        apply(Fault.latency(extra));
    }

    /**
     * Answers every request with {@code status} after the base latency (503 for an outage, 429 for throttling).
     *
     * @param status an HTTP status code
     */
    public void failWith(int status) {
        apply(Fault.errorRate(1.0, status, id + " failing with " + status));
    }

    /** Resets every connection as a request arrives. */
    public void resetConnections() {
        apply(Fault.resetConnections());
    }

    /** Closes the port: connections are refused until {@link #heal()}. */
    public void refuseConnections() {
        apply(Fault.refuseConnections());
    }

    private void startServing() {
        if (!serving) {
            WireMockServer restarted = newServer(port);
            try {
                restarted.start();
            } catch (RuntimeException e) {
                try {
                    restarted.stop();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            server = restarted;
            swallowed.resetCount(); // The journal starts afresh with the new server.
            serveNormally();
            serving = true;
        }
    }

    private void stopServing() {
        if (serving) {
            server.stop();
            serving = false;
        }
    }

    /**
     * Returns how many requests reached this region since it started, since {@link #resetRequests()}, or since it
     * stopped refusing connections (the journal starts afresh then).
     */
    public synchronized int requestCount() {
        return serving ? server.getAllServeEvents().size() + swallowed.swallowedCount() : 0;
    }

    /** Clears the request journal. */
    public synchronized void resetRequests() {
        if (serving) {
            server.resetRequests();
            swallowed.resetCount();
        }
    }

    /** For tests of this class: how many blackholed requests are held unanswered right now. */
    int heldRequests() {
        return swallowed.heldCount();
    }

    /** For tests of this class: the thread pool of the running server. */
    QueuedThreadPool serverThreadPool() {
        return pool;
    }

    /**
     * Stops the server and any flapping timer, and frees the port; requests in flight, blackholed ones included, see
     * their connections closed. Idempotent.
     */
    @Override
    public synchronized void close() {
        closed = true;
        stopFlapping();
        swallowed.close();
        if (timer != null) {
            timer.shutdownNow();
        }
        stopServing();
    }

    @Override
    public String toString() {
        return "FakeRegion[" + id + " at " + uri() + (backend != null ? " -> " + backend : "") + ", " + fault + "]";
    }

    /** Turns each matched request into the answer the current fault and latency call for. */
    private final class FaultTransformer implements ResponseDefinitionTransformerV2 {
        private final String name = "latitude-fake-region-" + id.toLowerCase(Locale.ROOT) + "-"
                + Integer.toHexString(System.identityHashCode(FakeRegion.this));

        @Override
        public String getName() {
            return name;
        }

        @Override
        public ResponseDefinition transform(ServeEvent serveEvent) {
            ResponseDefinition normal = serveEvent.getResponseDefinition();
            Fault f = httpFault;
            switch (f.kind()) {
                case RESET:
                    return aResponse().withFault(com.github.tomakehurst.wiremock.http.Fault.CONNECTION_RESET_BY_PEER)
                            .build();
                case LATENCY:
                    return delayed(normal, f.duration());
                case ERROR_RATE:
                    if (f.rate() >= 1 || faultRandom.nextDouble() < f.rate()) {
                        return aResponse().withStatus(f.status()).withBody(f.body())
                                .withFixedDelay(millis(latency.next())).build();
                    }
                    return delayed(normal, Duration.ZERO);
                default:
                    return delayed(normal, Duration.ZERO);
            }
        }

        private ResponseDefinition delayed(ResponseDefinition normal, Duration extra) {
            return ResponseDefinitionBuilder.like(normal).withFixedDelay(millis(latency.next().plus(extra))).build();
        }

        private int millis(Duration d) {
            return (int) Math.min(Integer.MAX_VALUE, Math.round(d.toNanos() / 1e6));
        }
    }

    /**
     * Options for a {@link FakeRegion}: its latency, proxy mode, and the seed of its error-rate decisions.
     *
     * <pre>{@code
     * FakeRegion region = FakeRegion.builder("eu-west-1")
     *         .latency(LatencyModel.fixed(Duration.ofMillis(20)).withJitter(0.1).withSeed(1))
     *         .faultSeed(42)
     *         .start();
     * }</pre>
     */
    public static final class Builder {
        private final String id;
        private LatencyModel latency = LatencyModel.fixed(Duration.ZERO);
        private URI backend;
        private Long faultSeed;
        private int swallowLimit = MAX_SWALLOWED_REQUESTS;

        private Builder(String id) {
            if (id == null || id.isBlank()) {
                throw new IllegalArgumentException("region id must be non-blank, got '" + id
                        + "'; use an id such as eu-west-1");
            }
            this.id = id;
        }

        /**
         * Sets a fixed healthy latency (default zero).
         *
         * @param baseLatency zero or more
         * @return this builder
         */
        public Builder baseLatency(Duration baseLatency) {
            if (baseLatency == null || baseLatency.isNegative()) {
                throw new IllegalArgumentException("baseLatency must be zero or more, got " + baseLatency);
            }
            this.latency = LatencyModel.fixed(baseLatency);
            return this;
        }

        /**
         * Sets the latency model, sampled for each request.
         *
         * @param model the model
         * @return this builder
         */
        public Builder latency(LatencyModel model) {
            if (model == null) {
                throw new IllegalArgumentException("latency model must not be null; use LatencyModel.fixed(Duration.ZERO)"
                        + " for an instant answer");
            }
            this.latency = model;
            return this;
        }

        /**
         * Puts the region in proxy mode: every request is forwarded to {@code backendUri}.
         *
         * @param backendUri an absolute http or https URI with a host, such as {@code http://127.0.0.1:8000}
         * @return this builder
         */
        public Builder proxyTo(URI backendUri) {
            if (backendUri == null || backendUri.getHost() == null || backendUri.getScheme() == null
                    || !(backendUri.getScheme().equals("http") || backendUri.getScheme().equals("https"))) {
                throw new IllegalArgumentException("backend must be an absolute http(s) URI with a host, got "
                        + backendUri + "; use e.g. URI.create(\"http://127.0.0.1:8000\")");
            }
            if (backendUri.getRawQuery() != null || backendUri.getRawFragment() != null) {
                throw new IllegalArgumentException("backend must have no query or fragment, got " + backendUri
                        + "; give only scheme, host, port and optionally a base path");
            }
            this.backend = backendUri;
            return this;
        }

        /**
         * Seeds the random decisions of error-rate faults, so a test sees the same requests fail on every run.
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder faultSeed(long seed) {
            this.faultSeed = seed;
            return this;
        }

        /** For tests of this class: a lower limit than {@link #MAX_SWALLOWED_REQUESTS}, to see the oldest dropped. */
        Builder swallowLimit(int limit) {
            if (limit < 1 || limit > MAX_SWALLOWED_REQUESTS) {
                throw new IllegalArgumentException("swallow limit must be 1.." + MAX_SWALLOWED_REQUESTS + ", got "
                        + limit);
            }
            this.swallowLimit = limit;
            return this;
        }

        /** Starts the region on a free loopback port. */
        public FakeRegion start() {
            return new FakeRegion(this);
        }
    }
}
