package dev.latitude.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClientBuilder;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * One emulated DynamoDB region: a DynamoDB Local 3.x server started in this JVM, in memory, with telemetry off, on a
 * free port of 127.0.0.1.
 *
 * <p>The server is created with {@code ServerRunner.createServerFromCommandLineArgs("-inMemory", "-sharedDb", "-port",
 * port, "-disableTelemetry")}. {@code -sharedDb} makes every client see the same tables whatever its credentials and
 * region name (without it DynamoDB Local keeps one database per access key and region, and a client configured
 * differently from the testkit's would see none of its tables). DynamoDB Local has no option for the address it
 * listens on and binds every interface; before starting it, this class reaches its Jetty server and sets the connector
 * to {@code 127.0.0.1} and an ephemeral port, so no other host can reach it and no free-port race exists. Should a
 * future DynamoDB Local hide that server, the region falls back to a free port on every interface and logs a warning.
 *
 * <p>sqlite4java's native library is located by {@link Sqlite4JavaNatives#ensureConfigured()} before the first server
 * starts.
 *
 * <pre>{@code
 * try (DynamoDbLocalRegion region = DynamoDbLocalRegion.start("eu-west-1");
 *      DynamoDbClient ddb = region.newClient()) {
 *     ddb.listTables();
 * }
 * }</pre>
 */
public final class DynamoDbLocalRegion implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DynamoDbLocalRegion.class);
    private static final String LOOPBACK = "127.0.0.1";
    private static final AwsCredentialsProvider CREDENTIALS =
            StaticCredentialsProvider.create(AwsBasicCredentials.create("latitudelocal", "latitudelocal"));
    private static final int FALLBACK_ATTEMPTS = 5;

    private final String id;
    private final DynamoDBProxyServer server;
    private final Server jetty;
    private final int port;
    private final URI endpoint;
    private final Duration startupTime;
    private DynamoDbClient sharedClient;
    private boolean closed;

    private DynamoDbLocalRegion(String id, DynamoDBProxyServer server, Server jetty, int port, Duration startupTime) {
        this.id = id;
        this.server = server;
        this.jetty = jetty;
        this.port = port;
        this.endpoint = URI.create("http://" + LOOPBACK + ":" + port);
        this.startupTime = startupTime;
    }

    /**
     * Starts a region's server.
     *
     * @param id the region name clients use for it, such as {@code eu-west-1} (any non-blank text)
     * @return the running region
     * @throws IllegalArgumentException if {@code id} is blank
     * @throws IllegalStateException if the server cannot start, saying why
     */
    public static DynamoDbLocalRegion start(String id) {
        Objects.requireNonNull(id, "id");
        if (id.isBlank()) {
            throw new IllegalArgumentException("a region id must not be blank");
        }
        Sqlite4JavaNatives.ensureConfigured();
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= FALLBACK_ATTEMPTS; attempt++) {
            long startNanos = System.nanoTime();
            int placeholderPort = freePort();
            DynamoDBProxyServer server = create(id, placeholderPort);
            Server jetty = jettyOf(server);
            if (jetty != null) {
                jetty.setStopTimeout(0);
                for (Connector c : jetty.getConnectors()) {
                    if (c instanceof ServerConnector sc) {
                        sc.setHost(LOOPBACK);
                        sc.setPort(0);
                    }
                }
            }
            try {
                server.start();
            } catch (Exception e) {
                stopQuietly(server);
                throw new IllegalStateException("DynamoDB Local for region " + id + " failed to start: " + e, e);
            }
            int port = jetty != null ? localPort(jetty) : placeholderPort;
            boolean up = jetty != null ? jetty.isStarted() && port > 0 : accepts(port);
            if (up) {
                Duration took = Duration.ofNanos(System.nanoTime() - startNanos);
                LOG.debug("DynamoDB Local region {} listening on {}:{} after {} ms", id, LOOPBACK, port, took.toMillis());
                return new DynamoDbLocalRegion(id, server, jetty, port, took);
            }
            stopQuietly(server);
            last = new IllegalStateException("DynamoDB Local for region " + id + " did not start listening on port "
                    + port + " (DynamoDB Local prints the cause on standard error and carries on; another process "
                    + "may have taken the port)");
            if (jetty != null) {
                break;
            }
        }
        throw last;
    }

    private static DynamoDBProxyServer create(String id, int port) {
        String[] args = {"-inMemory", "-sharedDb", "-port", Integer.toString(port), "-disableTelemetry"};
        try {
            return ServerRunner.createServerFromCommandLineArgs(args);
        } catch (Exception | LinkageError e) {
            throw new IllegalStateException("could not create DynamoDB Local for region " + id + " with "
                    + String.join(" ", args) + ": " + e + "; the testkit is built against DynamoDBLocal 3.1.0", e);
        }
    }

    /** DynamoDB Local's Jetty server, read from its private field; null (with a warning) if that is not possible. */
    private static Server jettyOf(DynamoDBProxyServer server) {
        try {
            Field f = DynamoDBProxyServer.class.getDeclaredField("server");
            f.setAccessible(true);
            Object value = f.get(server);
            if (value instanceof Server s) {
                return s;
            }
            LOG.warn("DynamoDB Local's server field holds a {}, not a Jetty Server; binding every interface",
                    value == null ? "null" : value.getClass().getName());
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("cannot reach DynamoDB Local's Jetty server ({}); it will listen on every interface, not only "
                    + LOOPBACK, e.toString());
        }
        return null;
    }

    private static int localPort(Server jetty) {
        for (Connector c : jetty.getConnectors()) {
            if (c instanceof ServerConnector sc && sc.getLocalPort() > 0) {
                return sc.getLocalPort();
            }
        }
        return -1;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + LOOPBACK + " for DynamoDB Local", e);
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(LOOPBACK, port), 1_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void stopQuietly(DynamoDBProxyServer server) {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.debug("stopping a DynamoDB Local that failed to start", e);
        }
    }

    /** Returns the region id, as given to {@link #start(String)}. */
    public String id() {
        return id;
    }

    /** Returns the port the server listens on. */
    public int port() {
        return port;
    }

    /** Returns the server's endpoint, {@code http://127.0.0.1:<port>}, for {@code endpointOverride}. */
    public URI endpoint() {
        return endpoint;
    }

    /** Returns how long creating and starting the server took (the first in a JVM also loads DynamoDB Local's classes). */
    public Duration startupTime() {
        return startupTime;
    }

    /**
     * Returns the dummy static credentials the clients of this class use. DynamoDB Local accepts any key made of letters
     * and digits only ({@code latitudelocal} here); a key with other characters is refused as invalid.
     */
    public static AwsCredentialsProvider credentials() {
        return CREDENTIALS;
    }

    /**
     * Creates a DynamoDB client for this region: its endpoint, the region id as the signing region, dummy static
     * credentials and the URL-connection HTTP client. The caller closes it.
     *
     * @return a new client
     */
    public DynamoDbClient newClient() {
        return newClient(b -> { });
    }

    /** Points a sync client builder at this region's server: endpoint, region, dummy credentials, HTTP client. */
    private <B extends software.amazon.awssdk.awscore.client.builder.AwsClientBuilder<B, ?>
            & software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder<B, ?>> B pointedHere(B builder) {
        return builder.endpointOverride(endpoint)
                .region(Region.of(id))
                .credentialsProvider(CREDENTIALS)
                .httpClientBuilder(UrlConnectionHttpClient.builder());
    }

    /**
     * Creates a DynamoDB client as {@link #newClient()} does, then lets {@code customizer} change the builder (timeouts,
     * interceptors, another HTTP client) before it is built. The caller closes it.
     *
     * @param customizer changes to the builder
     * @return a new client
     */
    public DynamoDbClient newClient(Consumer<DynamoDbClientBuilder> customizer) {
        DynamoDbClientBuilder builder = pointedHere(DynamoDbClient.builder());
        customizer.accept(builder);
        return builder.build();
    }

    /**
     * Creates a DynamoDB Streams client for this region, configured as {@link #newClient()}. The caller closes it.
     *
     * @param customizer changes to the builder
     * @return a new client
     */
    public DynamoDbStreamsClient newStreamsClient(Consumer<DynamoDbStreamsClientBuilder> customizer) {
        DynamoDbStreamsClientBuilder builder = pointedHere(DynamoDbStreamsClient.builder());
        customizer.accept(builder);
        return builder.build();
    }

    /**
     * Returns a client shared by every caller of this method, created on first use and closed by {@link #close()}; do
     * not close it yourself.
     *
     * @return the shared client
     * @throws IllegalStateException if the region is closed
     */
    public synchronized DynamoDbClient client() {
        if (closed) {
            throw new IllegalStateException("region " + id + " is closed; start a new DynamoDbLocalRegion");
        }
        if (sharedClient == null) {
            sharedClient = newClient();
        }
        return sharedClient;
    }

    /** Closes the shared client and stops the server, dropping its data. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (sharedClient != null) {
            sharedClient.close();
        }
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping DynamoDB Local for region " + id + " failed: " + e, e);
        }
    }

    @Override
    public String toString() {
        return "DynamoDbLocalRegion[" + id + " at " + endpoint + (jetty == null ? ", all interfaces" : "") + "]";
    }
}
