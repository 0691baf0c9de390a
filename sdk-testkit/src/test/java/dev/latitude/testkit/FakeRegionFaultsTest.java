package dev.latitude.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The fault kinds {@link FakeRegion} added to the original set: a random error rate, flapping, and proxy mode with
 * faults in front of a real backend.
 */
class FakeRegionFaultsTest {
    private static final String THROTTLED = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ThrottlingException\","
            + "\"message\":\"Rate exceeded\"}";

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T c) {
        toClose.add(c);
        return c;
    }

    /**
     * The request timeout for requests that must be answered: a deadline a busy machine never reaches, not a speed
     * target (requests meant to time out set their own).
     */
    private static final Duration ANSWER = Duration.ofSeconds(30);

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    private static HttpResponse<String> send(HttpClient http, URI uri, Duration timeout)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** One request on a fresh client (no pooled connection): "200", "503", ... or "refused" / the exception name. */
    private static String outcome(URI uri) {
        try {
            // Short: a request caught mid-flip may hang until the spell ends; it counts as neither outcome.
            return String.valueOf(send(client(), uri, Duration.ofSeconds(3)).statusCode());
        } catch (ConnectException e) {
            return "refused";
        } catch (IOException e) {
            return e.getClass().getSimpleName();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------- error rate

    @Test
    void errorRateFailsAboutThatShareOfRequestsWithTheExactStatusAndBodyReproduciblyWithASeed() throws Exception {
        FakeRegion region = closing(FakeRegion.builder("us-east-1").faultSeed(42).start());
        HttpClient http = client();
        URI uri = region.uri().resolve("/items");

        region.apply(Fault.errorRate(0.3, 400, THROTTLED));
        assertThat(region.fault()).isEqualTo(Fault.errorRate(0.3, 400, THROTTLED));
        StringBuilder pattern = new StringBuilder();
        int failed = 0;
        for (int i = 0; i < 400; i++) {
            HttpResponse<String> r = send(http, uri, ANSWER);
            if (r.statusCode() == 400) {
                assertThat(r.body()).isEqualTo(THROTTLED);
                failed++;
                pattern.append('x');
            } else {
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("us-east-1");
                pattern.append('.');
            }
        }
        assertThat(failed).as("failed of 400 at rate 0.3").isBetween(92, 148);
        assertThat(region.requestCount()).isEqualTo(400);

        // Applying it again with the same seed replays the same decisions.
        region.apply(Fault.errorRate(0.3, 400, THROTTLED));
        StringBuilder again = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            again.append(send(http, uri, ANSWER).statusCode() == 400 ? 'x' : '.');
        }
        assertThat(again.toString()).isEqualTo(pattern.toString());

        region.heal();
        for (int i = 0; i < 20; i++) {
            assertThat(send(http, uri, ANSWER).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void failedRequestsOfAnErrorRateStillTakeTheBaseLatency() throws Exception {
        FakeRegion region = closing(FakeRegion.builder("eu-west-1").baseLatency(Duration.ofMillis(40)).start());
        region.apply(Fault.errorRate(1.0, 503, "down"));
        long start = System.nanoTime();
        HttpResponse<String> r = send(client(), region.uri(), ANSWER);
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).isEqualTo("down");
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(40);
    }

    // ---------------------------------------------------------------------------------------------- flapping

    @Test
    void flappingAlternatesRefusedAndHealthyUntilHealed() {
        FakeRegion region = closing(FakeRegion.start("us-west-2", Duration.ZERO));
        URI uri = region.uri().resolve("/flap");
        // Spells long enough that a request on a busy machine still lands inside one.
        Fault flapping = Fault.flapping(Duration.ofMillis(300), Duration.ofMillis(300));

        region.apply(flapping);
        assertThat(region.fault()).isEqualTo(flapping);
        assertThat(region.isAcceptingConnections()).isFalse(); // starts with an outage

        // Record transitions only: refused -> 200 -> refused -> 200 shows at least two full flips each way.
        List<String> transitions = new ArrayList<>();
        // A request caught mid-flip may fail otherwise (a reset, a timeout): only clear outcomes are transitions.
        boolean sawBothTwice = Polling.eventually(Duration.ofSeconds(15), Duration.ofMillis(10), () -> {
            String o = outcome(uri);
            boolean clear = o.equals("refused") || o.equals("200");
            if (clear && (transitions.isEmpty() || !transitions.get(transitions.size() - 1).equals(o))) {
                transitions.add(o);
            }
            return transitions.size() >= 4;
        });
        assertThat(sawBothTwice).as("transitions seen: %s", transitions).isTrue();
        // Consecutive duplicates are not recorded, so four entries are two refused and two served spells,
        // alternating (the first may be either: a busy machine can send the first request after the first spell).
        assertThat(transitions).as("refused and served spells alternate and recur").hasSize(4)
                .containsOnly("refused", "200");
        assertThat(region.fault()).isEqualTo(flapping); // the fault stays flapping while up and down

        region.heal();
        assertThat(region.fault()).isEqualTo(Fault.none());
        assertThat(region.isAcceptingConnections()).isTrue();
        // Healthy for longer than two full cycles: the timer no longer flips it. (Sampled a few times at least; on a
        // busy machine one request may take a good part of a second.)
        int checks = Polling.throughout(Duration.ofMillis(1500), Duration.ofMillis(15),
                () -> assertThat(outcome(uri)).isEqualTo("200"));
        assertThat(checks).isGreaterThanOrEqualTo(2);
    }

    @Test
    void anotherFaultStopsFlappingAndCloseStopsTheTimer() {
        FakeRegion region = closing(FakeRegion.start("us-west-2", Duration.ZERO));
        URI uri = region.uri().resolve("/flap");
        region.apply(Fault.flapping(Duration.ofMillis(50), Duration.ofMillis(50)));
        assertThat(Polling.eventually(Duration.ofSeconds(2), Duration.ofMillis(5), region::isAcceptingConnections))
                .isTrue();

        region.failWith(503); // replaces flapping: the port stays open and every request fails
        Polling.throughout(Duration.ofMillis(250), Duration.ofMillis(15),
                () -> assertThat(outcome(uri)).isEqualTo("503"));

        region.apply(Fault.flapping(Duration.ofMillis(50), Duration.ofMillis(50)));
        assertThat(Polling.eventually(Duration.ofSeconds(2), Duration.ofMillis(5), region::isAcceptingConnections))
                .isTrue();
        region.close();
        // Closed for good: the flapping timer does not reopen the port.
        Polling.throughout(Duration.ofMillis(250), Duration.ofMillis(15),
                () -> assertThat(outcome(uri)).isEqualTo("refused"));
        assertThat(region.isAcceptingConnections()).isFalse();

        region.heal(); // healing a closed region does nothing
        assertThat(outcome(uri)).isEqualTo("refused");
        assertThatThrownBy(() -> region.apply(Fault.blackhole()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    // ---------------------------------------------------------------------------------------------- proxy mode

    private WireMockServer backend() {
        WireMockServer backend = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1")
                .dynamicPort().stubRequestLoggingDisabled(true));
        backend.start();
        toClose.add(backend::stop);
        backend.stubFor(get(urlEqualTo("/items/42")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withHeader("X-Backend", "local")
                .withBody("{\"id\":42}")));
        backend.stubFor(post(urlEqualTo("/")).willReturn(aResponse().withStatus(200).withBody("{\"ok\":true}")));
        backend.stubFor(any(anyUrl()).atPriority(10).willReturn(aResponse().withStatus(404).withBody("no such item")));
        return backend;
    }

    @Test
    void proxyModeForwardsEveryRequestToTheBackendAfterTheBaseLatency() throws Exception {
        WireMockServer backend = backend();
        URI backendUri = URI.create("http://127.0.0.1:" + backend.port());
        FakeRegion region = closing(FakeRegion.proxy("eu-west-1", backendUri, Duration.ofMillis(30)));
        assertThat(region.isProxy()).isTrue();
        assertThat(region.backend()).isEqualTo(backendUri);
        HttpClient http = client();

        long start = System.nanoTime();
        HttpResponse<String> r = send(http, region.uri().resolve("/items/42"), ANSWER);
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(30);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"id\":42}");
        assertThat(r.headers().firstValue("X-Backend")).hasValue("local");

        assertThat(send(http, region.uri().resolve("/items/7"), ANSWER).statusCode()).isEqualTo(404);

        // A DynamoDB-style POST: body, headers and the client's Host header reach the backend unchanged.
        String body = "{\"TableName\":\"items\",\"Key\":{\"id\":{\"S\":\"42\"}}}";
        HttpResponse<String> posted = http.send(HttpRequest.newBuilder(region.uri().resolve("/"))
                .header("Content-Type", "application/x-amz-json-1.0")
                .header("X-Amz-Target", "DynamoDB_20120810.GetItem")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).isEqualTo(200);
        assertThat(posted.body()).isEqualTo("{\"ok\":true}");
        backend.verify(1, postRequestedFor(urlEqualTo("/"))
                .withHeader("X-Amz-Target", equalTo("DynamoDB_20120810.GetItem"))
                .withHeader("Host", equalTo("127.0.0.1:" + region.port()))
                .withRequestBody(equalTo(body)));
        assertThat(region.requestCount()).isEqualTo(3);
    }

    @Test
    void faultsApplyInFrontOfTheBackend() throws Exception {
        WireMockServer backend = backend();
        FakeRegion region = closing(FakeRegion.builder("ap-northeast-1")
                .proxyTo(URI.create("http://127.0.0.1:" + backend.port() + "/")).faultSeed(7).start());
        URI uri = region.uri().resolve("/items/42");
        HttpClient http = client();

        region.failWith(503);
        HttpResponse<String> failed = send(http, uri, ANSWER);
        assertThat(failed.statusCode()).isEqualTo(503);
        assertThat(failed.body()).isEqualTo("ap-northeast-1 failing with 503");

        region.blackhole();
        assertThatThrownBy(() -> send(client(), uri, Duration.ofMillis(200))).isInstanceOf(HttpTimeoutException.class);

        region.resetConnections();
        assertThatThrownBy(() -> send(client(), uri, ANSWER)).isInstanceOf(IOException.class)
                .isNotInstanceOf(ConnectException.class).isNotInstanceOf(HttpTimeoutException.class);

        region.refuseConnections();
        assertThatThrownBy(() -> send(client(), uri, ANSWER)).isInstanceOf(ConnectException.class);
        // None of the faulty requests reached the backend.
        backend.verify(0, anyRequestedFor(anyUrl()));

        region.addLatency(Duration.ofMillis(100));
        long start = System.nanoTime();
        HttpResponse<String> slow = send(client(), uri, ANSWER);
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(100);
        assertThat(slow.body()).isEqualTo("{\"id\":42}");

        region.apply(Fault.errorRate(0.5, 500, "boom"));
        int served = 0;
        for (int i = 0; i < 40; i++) {
            HttpResponse<String> r = send(http, uri, ANSWER);
            if (r.statusCode() == 200) {
                assertThat(r.body()).isEqualTo("{\"id\":42}");
                served++;
            } else {
                assertThat(r.statusCode()).isEqualTo(500);
                assertThat(r.body()).isEqualTo("boom");
            }
        }
        assertThat(served).isBetween(8, 32);
        // Only the slow request and the requests let through reached the backend.
        backend.verify(1 + served, anyRequestedFor(anyUrl()));

        region.heal();
        assertThat(send(http, uri, ANSWER).body()).isEqualTo("{\"id\":42}");
    }

    @Test
    void builderRejectsBadBackendsAndIds() {
        assertThatThrownBy(() -> FakeRegion.builder("x").proxyTo(URI.create("ftp://127.0.0.1:21")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ftp://127.0.0.1:21")
                .hasMessageContaining("http");
        assertThatThrownBy(() -> FakeRegion.builder("x").proxyTo(URI.create("/relative")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/relative");
        assertThatThrownBy(() -> FakeRegion.proxy("x", null, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
        assertThatThrownBy(() -> FakeRegion.builder(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("non-blank");
        assertThatThrownBy(() -> FakeRegion.start("x", Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT-0.001S");
    }
}
