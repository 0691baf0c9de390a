package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each fault of {@link FakeRegion} does what it says, seen from a plain {@link HttpClient}.
 *
 * <p>Every request uses a fresh client, so no pooled connection from an earlier request hides or changes a fault.
 */
class FakeRegionTest {
    private static final Duration BASE = Duration.ofMillis(50);

    private FakeRegion region;

    @BeforeEach
    void start() {
        region = FakeRegion.start("eu-west-1", BASE);
    }

    @AfterEach
    void stop() {
        region.close();
    }

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    }

    private HttpResponse<String> get(String path, Duration timeout) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(region.uri().resolve(path)).timeout(timeout).GET().build();
        return client().send(request, HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return get(path, Duration.ofSeconds(5));
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    @Test
    void healthyRegionAnswersWithItsIdAfterTheBaseLatency() throws Exception {
        assertThat(region.id()).isEqualTo("eu-west-1");
        assertThat(region.baseLatency()).isEqualTo(BASE);
        assertThat(region.uri()).isEqualTo(URI.create("http://127.0.0.1:" + region.port()));

        long start = System.nanoTime();
        HttpResponse<String> r = get("/items/42");
        long elapsed = millisSince(start);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("eu-west-1");
        assertThat(elapsed).isGreaterThanOrEqualTo(BASE.toMillis()).isLessThan(2_000);
    }

    @Test
    void blackholeAcceptsButNeverAnswers() throws Exception {
        region.blackhole();

        long start = System.nanoTime();
        assertThatThrownBy(() -> get("/items/1", Duration.ofMillis(300))).isInstanceOf(HttpTimeoutException.class);
        assertThat(millisSince(start)).isGreaterThanOrEqualTo(300).isLessThan(3_000);
        // The request did reach the region: it was accepted, just never answered.
        assertThat(region.requestCount()).isEqualTo(1);
    }

    @Test
    void refuseConnectionsClosesThePortAndHealReopensTheSamePort() throws Exception {
        int port = region.port();
        assertThat(get("/before").statusCode()).isEqualTo(200);

        region.refuseConnections();
        assertThatThrownBy(() -> get("/refused")).isInstanceOf(ConnectException.class);
        assertThat(region.requestCount()).isZero();
        region.refuseConnections(); // a second call changes nothing
        assertThatThrownBy(() -> get("/refused")).isInstanceOf(ConnectException.class);

        region.heal();
        assertThat(region.port()).isEqualTo(port);
        assertThat(region.uri()).isEqualTo(URI.create("http://127.0.0.1:" + port));
        HttpResponse<String> r = get("/after");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("eu-west-1");
        // The journal starts afresh once the port is back.
        assertThat(region.requestCount()).isEqualTo(1);
    }

    @Test
    void aFaultAfterRefusingReopensThePort() throws Exception {
        region.refuseConnections();
        region.failWith(503);
        assertThat(get("/x").statusCode()).isEqualTo(503);
        region.heal();
        assertThat(get("/x").statusCode()).isEqualTo(200);
    }

    @Test
    void addLatencyDelaysTheAnswer() throws Exception {
        Duration extra = Duration.ofSeconds(1); // far above a busy machine's own delays, so the two cases cannot mix
        region.addLatency(extra);

        long start = System.nanoTime();
        HttpResponse<String> r = get("/slow");
        long elapsed = millisSince(start);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("eu-west-1");
        assertThat(elapsed).isGreaterThanOrEqualTo(BASE.plus(extra).toMillis());

        region.heal();
        start = System.nanoTime();
        assertThat(get("/fast").statusCode()).isEqualTo(200);
        assertThat(millisSince(start)).isLessThan(BASE.plus(extra).toMillis());
    }

    @Test
    void failWithAnswersTheStatus() throws Exception {
        region.failWith(503);
        HttpResponse<String> r = get("/down");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("eu-west-1");

        region.failWith(429); // replaces the previous fault
        assertThat(get("/throttled").statusCode()).isEqualTo(429);

        region.heal();
        assertThat(get("/ok").statusCode()).isEqualTo(200);
    }

    @Test
    void resetConnectionsFailsWithAnIoExceptionThatIsNotATimeoutOrARefusal() throws Exception {
        region.resetConnections();

        assertThatThrownBy(() -> get("/reset", Duration.ofSeconds(3)))
                .isInstanceOf(IOException.class)
                .isNotInstanceOf(HttpTimeoutException.class)
                .isNotInstanceOf(ConnectException.class);
        assertThat(region.requestCount()).isGreaterThanOrEqualTo(1);

        region.heal();
        assertThat(get("/ok").statusCode()).isEqualTo(200);
    }

    @Test
    void requestCountCountsRequestsAndResetRequestsClearsIt() throws Exception {
        assertThat(region.requestCount()).isZero();
        for (int i = 0; i < 3; i++) {
            assertThat(get("/n/" + i).statusCode()).isEqualTo(200);
        }
        assertThat(region.requestCount()).isEqualTo(3);

        region.failWith(503); // faulty requests count too
        assertThat(get("/n/3").statusCode()).isEqualTo(503);
        assertThat(region.requestCount()).isEqualTo(4);

        region.resetRequests();
        assertThat(region.requestCount()).isZero();
        get("/n/4");
        assertThat(region.requestCount()).isEqualTo(1);
    }

    @Test
    void closedRegionRefusesConnections() throws Exception {
        region.close();
        assertThatThrownBy(() -> get("/closed")).isInstanceOf(ConnectException.class);
        region.close(); // idempotent
    }

    @Test
    void fakeRegionsStartsEveryRegionAndHealsAndClosesThemTogether() throws Exception {
        try (FakeRegions lab = FakeRegions.start(Map.of("us-east-1", Duration.ZERO))) {
            FakeRegion r = lab.region("us-east-1");
            assertThat(lab.endpoints()).containsEntry("us-east-1", r.uri());
            assertThat(lab.regions()).containsExactly(r);
            r.failWith(503);
            lab.healAll();
            HttpResponse<String> resp = client().send(HttpRequest.newBuilder(r.uri().resolve("/x")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(resp.statusCode()).isEqualTo(200);
            assertThat(resp.body()).isEqualTo("us-east-1");
            assertThatThrownBy(() -> lab.region("nowhere")).isInstanceOf(java.util.NoSuchElementException.class);
        }
    }
}
