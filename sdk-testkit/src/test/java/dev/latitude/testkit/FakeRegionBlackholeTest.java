package dev.latitude.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static dev.latitude.testkit.RawClients.Outcome.BROKEN_WITHOUT_ANSWER;
import static dev.latitude.testkit.RawClients.Outcome.SILENT;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import wiremock.org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * A blackholed {@link FakeRegion} swallows requests without a thread each, a healed one serves at once however many it
 * swallowed, and a swallowed request is never answered: its connection is broken when the blackhole ends.
 */
class FakeRegionBlackholeTest {
    private static final int SWALLOWED = 1_000;
    /**
     * From heal's return to the answer of the next request, on a new connection. Typically 10 to 30 ms; the deadline
     * leaves room for a busy two-core machine (a GC or scheduling pause) and is still far below what a stuck region
     * costs: a region whose blackhole slept on a server thread per request made the next request wait for minutes once
     * more requests were swallowed than it had threads.
     */
    private static final Duration FIRST_ANSWER_DEADLINE = Duration.ofSeconds(2);

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

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    private static HttpRequest get(URI uri) {
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build();
    }

    private static HttpResponse<String> send(HttpClient http, URI uri) throws IOException, InterruptedException {
        return http.send(get(uri), HttpResponse.BodyHandlers.ofString());
    }

    private static byte[] rawGet(String path) {
        return ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    /** Live threads of the region's server: their names start with the region's. */
    private static long serverThreads(String regionId) {
        String prefix = "latitude-fake-region-" + regionId + "-";
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
    }

    private static void awaitHeld(FakeRegion region, int held) {
        boolean allHeld = Polling.eventually(Duration.ofSeconds(30), Duration.ofMillis(10),
                () -> region.heldRequests() == held);
        assertThat(allHeld).as("%s holds %d swallowed requests, expected %d", region, region.heldRequests(), held)
                .isTrue();
    }

    @Test
    void heal_afterClientsGaveUpOnSwallowedRequests_doesNotThrowAndServes() throws Exception {
        FakeRegion region = closing(FakeRegion.start("us-east-1", Duration.ZERO));
        // The JDK client's default (HTTP/2 over cleartext, upgraded): a stream it gives up on is reset, which ends
        // the exchange on the server while the blackhole still holds it.
        HttpClient http = HttpClient.newHttpClient();
        URI uri = region.uri();
        assertThat(send(http, uri.resolve("/warm")).statusCode()).isEqualTo(200);
        region.blackhole();
        List<CompletableFuture<HttpResponse<String>>> gaveUp = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            gaveUp.add(http.sendAsync(HttpRequest.newBuilder(uri.resolve("/given-up/" + i))
                    .timeout(Duration.ofMillis(50)).GET().build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : gaveUp) {
            try {
                f.get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(HttpTimeoutException.class);
            }
        }

        region.heal();

        assertThat(send(http, uri.resolve("/after-heal")).statusCode()).isEqualTo(200);
    }

    @Test
    void heal_afterAThousandSwallowedRequests_answersTheNextRequestAtOnceAndNeverTheSwallowedOnes() throws Exception {
        String id = "blackhole-1000";
        FakeRegion region = closing(FakeRegion.start(id, Duration.ZERO));
        URI uri = region.uri();
        // Warm-up: the server, this JVM's HTTP client and the loopback path are warm before anything is measured.
        assertThat(send(client(), uri.resolve("/warm-up")).body()).isEqualTo(id);
        QueuedThreadPool pool = region.serverThreadPool();
        int jettyOwnBusy = pool.getBusyThreads(); // Acceptors and selectors, busy for the server's life.

        region.blackhole();
        RawClients swallowed = closing(RawClients.open(region.port(), SWALLOWED, i -> rawGet("/swallowed/" + i)));
        awaitHeld(region, SWALLOWED);
        // No thread waits for a swallowed request: busy threads fall back to Jetty's own, and the pool stays bounded.
        boolean threadsReleased = Polling.eventually(Duration.ofSeconds(10), Duration.ofMillis(10),
                () -> pool.getBusyThreads() <= jettyOwnBusy);
        long threads = serverThreads(id);
        System.out.printf("FakeRegion blackhole: %d requests held; server threads %d (pool %d of at most %d), busy %d"
                + " (Jetty's own: %d)%n", region.heldRequests(), threads, pool.getThreads(), pool.getMaxThreads(),
                pool.getBusyThreads(), jettyOwnBusy);
        assertThat(threadsReleased).as("busy threads %d, Jetty's own %d", pool.getBusyThreads(), jettyOwnBusy).isTrue();
        assertThat(threads).isLessThanOrEqualTo(pool.getMaxThreads());
        assertThat(RawClients.read(swallowed.sockets().get(SWALLOWED - 1), Duration.ofMillis(200))).isEqualTo(SILENT);
        swallowed.abandonFirst(SWALLOWED / 2); // Clients that gave up; the other half still waits.

        HttpClient fresh = client(); // Created beforehand: what is measured is the server, on a new connection.
        long healStart = System.nanoTime();
        region.heal();
        long healMillis = millisSince(healStart);
        long start = System.nanoTime();
        HttpResponse<String> after = send(fresh, uri.resolve("/after-heal"));
        long millis = millisSince(start);
        System.out.printf("FakeRegion: heal took %d ms, first answer %d ms after heal, with %d requests swallowed%n",
                healMillis, millis, SWALLOWED);
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(after.body()).isEqualTo(id);
        assertThat(millis).as("ms from heal to the first answer").isLessThan(FIRST_ANSWER_DEADLINE.toMillis());

        // The clients still waiting see their connections broken before any byte of an answer.
        assertThat(region.heldRequests()).isZero();
        for (Socket s : swallowed.sockets()) {
            assertThat(RawClients.read(s, Duration.ofSeconds(2))).isEqualTo(BROKEN_WITHOUT_ANSWER);
        }
        assertThat(region.requestCount()).isEqualTo(1 + SWALLOWED + 1);
    }

    @Test
    void anotherFaultBreaksTheSwallowedConnectionsAndAWaitingClientSeesAnIoErrorNotAnAnswer() throws Exception {
        FakeRegion region = closing(FakeRegion.start("eu-west-1", Duration.ZERO));
        HttpClient http = client();
        assertThat(send(http, region.uri()).statusCode()).isEqualTo(200);

        region.blackhole();
        // A POST: java.net.http retries a GET once when its connection closes before an answer (as if the server had
        // dropped an idle connection), and that new request, sent after the blackhole, is answered.
        CompletableFuture<HttpResponse<String>> waiting = http.sendAsync(HttpRequest.newBuilder(region.uri())
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        CompletableFuture<HttpResponse<String>> waitingOnHttp2 = HttpClient.newBuilder().build()
                .sendAsync(get(region.uri().resolve("/h2c")), HttpResponse.BodyHandlers.ofString());
        RawClients raw = closing(RawClients.open(region.port(), 3, i -> rawGet("/raw/" + i)));
        awaitHeld(region, 5);
        assertThat(waiting).isNotDone();

        region.addLatency(Duration.ofMillis(10)); // Any other fault ends the blackhole as heal does.
        assertThat(region.heldRequests()).isZero();
        for (Socket s : raw.sockets()) {
            assertThat(RawClients.read(s, Duration.ofSeconds(2))).isEqualTo(BROKEN_WITHOUT_ANSWER);
        }
        assertBrokenWithoutAnswer(waiting);
        assertBrokenWithoutAnswer(waitingOnHttp2);
        assertThat(send(http, region.uri().resolve("/slow")).statusCode()).isEqualTo(200);
        assertThat(region.requestCount()).isEqualTo(1 + 5 + 1);
    }

    private static void assertBrokenWithoutAnswer(CompletableFuture<HttpResponse<String>> waiting) throws Exception {
        try {
            HttpResponse<String> answer = waiting.get(5, TimeUnit.SECONDS);
            throw new AssertionError("a swallowed request was answered: " + answer.statusCode() + " " + answer.body());
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(IOException.class).isNotInstanceOf(HttpTimeoutException.class);
        }
    }

    @Test
    void closeWithSwallowedRequestsInFlightReturnsPromptlyAndBreaksTheirConnections() throws Exception {
        FakeRegion region = closing(FakeRegion.start("eu-west-1", Duration.ZERO));
        region.blackhole();
        RawClients raw = closing(RawClients.open(region.port(), 200, i -> rawGet("/raw/" + i)));
        awaitHeld(region, 200);

        long start = System.nanoTime();
        region.close();
        long millis = millisSince(start);
        assertThat(millis).as("ms to close with 200 swallowed requests").isLessThan(2_000);
        assertThat(region.isAcceptingConnections()).isFalse();
        for (Socket s : raw.sockets()) {
            assertThat(RawClients.read(s, Duration.ofSeconds(2))).isEqualTo(BROKEN_WITHOUT_ANSWER);
        }
    }

    @Test
    void beyondTheLimitTheOldestSwallowedRequestIsDropped() throws Exception {
        FakeRegion region = closing(FakeRegion.builder("eu-west-1").swallowLimit(3).start());
        region.blackhole();
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sockets.add(closing(RawClients.open(region.port(), 1, n -> rawGet("/one-by-one"))).sockets().get(0));
            int arrived = i + 1;
            assertThat(Polling.eventually(Duration.ofSeconds(10), Duration.ofMillis(5),
                    () -> region.requestCount() == arrived)).as("request %d arrived", arrived).isTrue();
        }
        assertThat(region.heldRequests()).isEqualTo(3);
        // The two oldest were dropped to make room, broken without an answer; the three newest still wait.
        assertThat(RawClients.read(sockets.get(0), Duration.ofSeconds(2))).isEqualTo(BROKEN_WITHOUT_ANSWER);
        assertThat(RawClients.read(sockets.get(1), Duration.ofSeconds(2))).isEqualTo(BROKEN_WITHOUT_ANSWER);
        for (Socket s : sockets.subList(2, 5)) {
            assertThat(RawClients.read(s, Duration.ofMillis(200))).isEqualTo(SILENT);
        }

        region.heal();
        for (Socket s : sockets.subList(2, 5)) {
            assertThat(RawClients.read(s, Duration.ofSeconds(2))).isEqualTo(BROKEN_WITHOUT_ANSWER);
        }
        assertThat(region.requestCount()).isEqualTo(5);
    }

    @Test
    void inProxyModeASwallowedRequestNeverReachesTheBackendNotEvenAfterHeal() throws Exception {
        WireMockServer backend = new WireMockServer(WireMockConfiguration.options().bindAddress("127.0.0.1")
                .dynamicPort().stubRequestLoggingDisabled(true));
        backend.start();
        closing(backend::stop);
        backend.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody("backend")));
        FakeRegion region = closing(FakeRegion.proxy("eu-west-1", URI.create("http://127.0.0.1:" + backend.port()),
                Duration.ZERO));

        region.blackhole();
        RawClients raw = closing(RawClients.open(region.port(), 2, i -> rawGet("/items/" + i)));
        awaitHeld(region, 2);
        region.heal();
        for (Socket s : raw.sockets()) {
            assertThat(RawClients.read(s, Duration.ofSeconds(2))).isEqualTo(BROKEN_WITHOUT_ANSWER);
        }
        backend.verify(0, anyRequestedFor(anyUrl()));
        assertThat(send(client(), region.uri().resolve("/items/3")).body()).isEqualTo("backend");
        backend.verify(1, anyRequestedFor(anyUrl()));
    }
}
