package dev.latitude.dynamodb;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import wiremock.org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * One region faked by a WireMock server on a free 127.0.0.1 port that speaks DynamoDB's JSON 1.0 protocol: every
 * request is a POST to {@code /} whose {@code X-Amz-Target} header names the operation. By default every operation
 * answers 200 with {@code {}}; {@link #answer} and {@link #error} register answers per operation. The request journal
 * counts what reached the region, per operation.
 */
final class StubRegion implements AutoCloseable {
    static final String TARGET = "DynamoDB_20120810.";
    static final String JSON = "application/x-amz-json-1.0";

    private final String id;
    private final WireMockServer server;
    private final List<AutoCloseable> clients = new CopyOnWriteArrayList<>();

    private StubRegion(String id) {
        this.id = id;
        this.server = new WireMockServer(WireMockConfiguration.options()
                .bindAddress("127.0.0.1")
                .dynamicPort()
                // Delays run on Jetty's request threads, which stop() interrupts; nothing lingers after close.
                .asynchronousResponseEnabled(false)
                .jettyStopTimeout(0L)
                .threadPoolFactory(options -> {
                    QueuedThreadPool pool = new QueuedThreadPool(32);
                    pool.setStopTimeout(40);
                    pool.setDaemon(true);
                    return pool;
                })
                .stubRequestLoggingDisabled(true));
        server.start();
        defaults();
    }

    /** Forgets every answer registered and the request journal. */
    void reset() {
        server.resetAll();
        defaults();
    }

    static StubRegion start(String id) {
        return new StubRegion(id);
    }

    private void defaults() {
        server.stubFor(any(anyUrl()).atPriority(10).willReturn(ok("{}")));
    }

    String id() {
        return id;
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.port());
    }

    WireMockServer server() {
        return server;
    }

    /** A DynamoDB client for this region with the failover retry strategy (two attempts in all); closed with it. */
    DynamoDbClient client() {
        DynamoDbClient c = DynamoDbClient.builder()
                .endpointOverride(uri())
                .region(Region.of(id))
                .credentialsProvider(credentials())
                .overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy()))
                .build();
        clients.add(c);
        return c;
    }

    /** A non-blocking DynamoDB client for this region, configured as {@link #client()}; closed with it. */
    DynamoDbAsyncClient asyncClient() {
        DynamoDbAsyncClient c = DynamoDbAsyncClient.builder()
                .endpointOverride(uri())
                .region(Region.of(id))
                .credentialsProvider(credentials())
                .overrideConfiguration(o -> o.retryStrategy(MultiRegionDynamoDbClient.failoverRetryStrategy()))
                .build();
        clients.add(c);
        return c;
    }

    static StaticCredentialsProvider credentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "y"));
    }

    static ResponseDefinitionBuilder ok(String json) {
        return aResponse().withStatus(200).withHeader("Content-Type", JSON).withBody(json);
    }

    /** A DynamoDB error answer: the status, the error type in the body and in {@code x-amzn-ErrorType}. */
    static ResponseDefinitionBuilder errorAnswer(int status, String type, String message) {
        return aResponse().withStatus(status).withHeader("Content-Type", JSON)
                .withHeader("x-amzn-ErrorType", type + ":")
                .withBody("{\"__type\":\"com.amazonaws.dynamodb.v20120810#" + type + "\",\"message\":\"" + message
                        + "\"}");
    }

    /** Answers every request for {@code operation} (such as {@code GetItem}) with {@code response}. */
    void answer(String operation, ResponseDefinitionBuilder response) {
        answer(operation, response, 1);
    }

    /** Answers requests for {@code operation} with {@code response} at a WireMock priority (1 wins over 5). */
    void answer(String operation, ResponseDefinitionBuilder response, int priority) {
        server.stubFor(post(urlEqualTo("/")).withHeader("X-Amz-Target", equalTo(TARGET + operation))
                .atPriority(priority).willReturn(response));
    }

    /** Answers every request for {@code operation} with a DynamoDB error. */
    void error(String operation, int status, String type, String message) {
        answer(operation, errorAnswer(status, type, message));
    }

    /** Answers every request, whatever its operation, with {@code response}. */
    void answerAll(ResponseDefinitionBuilder response) {
        server.stubFor(any(anyUrl()).atPriority(1).willReturn(response));
    }

    /** Returns how many requests for {@code operation} reached this region. */
    int count(String operation) {
        return requests(operation).size();
    }

    /** Returns how many requests reached this region. */
    int count() {
        return server.getAllServeEvents().size();
    }

    /** Returns the requests for {@code operation} that reached this region, oldest first. */
    List<LoggedRequest> requests(String operation) {
        List<LoggedRequest> list = new ArrayList<>(server.findAll(postRequestedFor(urlEqualTo("/"))
                .withHeader("X-Amz-Target", equalTo(TARGET + operation))));
        list.sort((a, b) -> a.getLoggedDate().compareTo(b.getLoggedDate()));
        return list;
    }

    /** Returns the operations of every request that reached this region, oldest first. */
    List<String> operations() {
        List<ServeEvent> events = new ArrayList<>(server.getAllServeEvents());
        events.sort((a, b) -> a.getRequest().getLoggedDate().compareTo(b.getRequest().getLoggedDate()));
        List<String> ops = new ArrayList<>();
        for (ServeEvent e : events) {
            String target = e.getRequest().getHeader("X-Amz-Target");
            ops.add(target != null && target.startsWith(TARGET) ? target.substring(TARGET.length()) : target);
        }
        return ops;
    }

    /** Closes the clients {@link #client()} made so far. */
    void closeClients() {
        for (AutoCloseable c : clients) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing a client of " + id, e);
            }
        }
        clients.clear();
    }

    @Override
    public void close() {
        closeClients();
        server.stop();
    }
}
