package dev.latitude.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * One fake region: an HTTP server on 127.0.0.1 (WireMock, on a free port) that answers every request with its
 * region id after a base latency, and whose faults can be switched at runtime.
 *
 * <p>Faults ({@link #apply(Fault)}, or the shortcuts): {@link #blackhole()} (accepts, never answers),
 * {@link #refuseConnections()} (port closed), {@link #addLatency(Duration)}, {@link #failWith(int)} (every request gets
 * that status), {@link #resetConnections()} (TCP reset), and {@link #heal()} to undo any of them. Each call replaces the
 * previous fault. The request journal
 * ({@link #requestCount()}) says how many requests reached the region, faulty or not.
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
    /** Long enough to outlast any test or demo, short enough that a forgotten request is eventually released. */
    private static final Duration BLACKHOLE = Duration.ofMinutes(5);
    private static final int BASE_PRIORITY = 10;
    private static final int FAULT_PRIORITY = 1;

    private final String id;
    private final Duration baseLatency;
    private WireMockServer server;
    private final int port;
    private StubMapping faultStub;
    private boolean refusing;
    private Fault fault = Fault.none();

    private FakeRegion(String id, Duration baseLatency) {
        this.id = id;
        this.baseLatency = baseLatency;
        this.server = newServer(0);
        server.start();
        this.port = server.port();
        serveNormally();
    }

    private static WireMockServer newServer(int port) {
        WireMockConfiguration options = WireMockConfiguration.options()
                .bindAddress("127.0.0.1")
                // Delays run on Jetty's request threads (not WireMock's asynchronous scheduler, whose pending
                // responses outlive stop() and keep a JVM alive): stop() interrupts them, so nothing lingers.
                .asynchronousResponseEnabled(false)
                .containerThreads(64)
                .jettyStopTimeout(0L)
                .stubRequestLoggingDisabled(true);
        return new WireMockServer(port == 0 ? options.dynamicPort() : options.port(port));
    }

    /**
     * Starts a region on a free loopback port.
     *
     * @param id the region id it answers with
     * @param baseLatency how long it takes to answer when healthy
     * @return the running region
     */
    public static FakeRegion start(String id, Duration baseLatency) {
        Objects.requireNonNull(id, "id");
        if (baseLatency == null || baseLatency.isNegative()) {
            throw new IllegalArgumentException("baseLatency must be zero or more, got " + baseLatency);
        }
        return new FakeRegion(id, baseLatency);
    }

    private void serveNormally() {
        server.stubFor(any(anyUrl()).atPriority(BASE_PRIORITY).willReturn(ok(Duration.ZERO)));
    }

    private ResponseDefinitionBuilder ok(Duration extra) {
        return aResponse().withStatus(200).withHeader("Content-Type", "text/plain").withBody(id)
                .withFixedDelay((int) baseLatency.plus(extra).toMillis());
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

    /** Returns the healthy latency. */
    public Duration baseLatency() {
        return baseLatency;
    }

    @Override
    public String name() {
        return id;
    }

    @Override
    public synchronized Fault fault() {
        return fault;
    }

    @Override
    public synchronized void apply(Fault f) {
        switch (f.kind()) {
            case NONE:
                clearFault();
                if (refusing) {
                    restartOnSamePort();
                    refusing = false;
                }
                break;
            case BLACKHOLE:
                setFault(aResponse().withStatus(200).withBody(id).withFixedDelay((int) BLACKHOLE.toMillis()));
                break;
            case REFUSE:
                clearFault();
                if (!refusing) {
                    server.stop();
                    refusing = true;
                }
                break;
            case LATENCY:
                setFault(ok(f.duration()));
                break;
            case RESET:
                setFault(aResponse().withFault(com.github.tomakehurst.wiremock.http.Fault.CONNECTION_RESET_BY_PEER));
                break;
            case ERROR_RATE:
                if (f.rate() < 1) {
                    throw new UnsupportedOperationException("an error rate below 1 is not supported by FakeRegion yet;"
                            + " use Fault.errorRate(1.0, status, body)");
                }
                setFault(aResponse().withStatus(f.status()).withBody(f.body())
                        .withFixedDelay((int) baseLatency.toMillis()));
                break;
            default:
                throw new UnsupportedOperationException(f + " is not supported by FakeRegion yet");
        }
        this.fault = f;
    }

    /** Accepts connections and requests but never answers. */
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

    private void restartOnSamePort() {
        server = newServer(port);
        server.start();
        serveNormally();
    }

    private void setFault(ResponseDefinitionBuilder response) {
        if (refusing) {
            restartOnSamePort();
            refusing = false;
        }
        clearFault();
        faultStub = server.stubFor(any(anyUrl()).atPriority(FAULT_PRIORITY).willReturn(response));
    }

    private void clearFault() {
        if (faultStub != null && !refusing) {
            server.removeStub(faultStub);
        }
        faultStub = null;
    }

    /**
     * Returns how many requests reached this region since it started, since {@link #resetRequests()}, or since it
     * stopped refusing connections (the journal starts afresh then).
     */
    public int requestCount() {
        return refusing ? 0 : server.getAllServeEvents().size();
    }

    /** Clears the request journal. */
    public void resetRequests() {
        if (!refusing) {
            server.resetRequests();
        }
    }

    /** Stops the server and frees the port. */
    @Override
    public synchronized void close() {
        if (!refusing) {
            server.stop();
        }
        refusing = true;
    }
}
