package dev.latitude.testkit;

import static dev.latitude.testkit.RawClients.Outcome.BROKEN_WITHOUT_ANSWER;
import static dev.latitude.testkit.RawClients.Outcome.SILENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each fault of {@link TcpFaultProxy}, seen by a plain socket client talking to a tiny echo server through the proxy.
 */
class TcpFaultProxyTest {
    /**
     * From heal's return to the first round trip on a new connection. Typically a few milliseconds; the deadline leaves
     * room for a busy two-core machine (a GC or scheduling pause) while still failing a proxy that stays stuck.
     */
    private static final Duration FIRST_ANSWER_DEADLINE = Duration.ofSeconds(2);

    private EchoServer echo;
    private TcpFaultProxy proxy;
    private final List<Socket> clients = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        echo = new EchoServer();
        proxy = TcpFaultProxy.start("echo", "127.0.0.1", echo.port());
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : clients) {
            s.close();
        }
        proxy.close();
        echo.close();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        clients.add(s);
        s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 1_000);
        s.setSoTimeout(3_000);
        s.setTcpNoDelay(true);
        return s;
    }

    private static String roundTrip(Socket s, String line) throws IOException {
        s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        return readLine(s);
    }

    private static String readLine(Socket s) throws IOException {
        StringBuilder sb = new StringBuilder();
        InputStream in = s.getInputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            sb.append((char) b);
        }
        return b == -1 && sb.length() == 0 ? null : sb.toString();
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    /** Bounded polling: checks {@code condition} every 10 ms until it holds or {@code timeout} passes. */
    static void await(Duration timeout, BooleanSupplier condition, String what) {
        if (!Polling.eventually(timeout, Duration.ofMillis(10), condition)) {
            throw new AssertionError("not within " + timeout.toMillis() + " ms: " + what);
        }
    }

    private boolean accepts() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether the peer closed or reset the connection (reading ends at once instead of timing out). */
    private static boolean closedByPeer(Socket s) {
        try {
            s.setSoTimeout(2_000);
            return s.getInputStream().read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void forwardsBothWaysInOrder() throws Exception {
        assertThat(proxy.fault()).isEqualTo(Fault.none());
        assertThat(proxy.name()).isEqualTo("echo");
        assertThat(proxy.target().getPort()).isEqualTo(echo.port());

        Socket s = connect();
        assertThat(roundTrip(s, "hello")).isEqualTo("hello");
        assertThat(roundTrip(s, "again")).isEqualTo("again");
        assertThat(proxy.connectionCount()).isEqualTo(1);

        // A payload bigger than the proxy's per-direction buffer: forwarded whole and in order, with backpressure.
        byte[] payload = new byte[3 * TcpFaultProxy.MAX_PENDING_BYTES];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 31 + i / 1000);
        }
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try {
            Future<?> sent = writer.submit(() -> {
                s.getOutputStream().write(payload);
                return null;
            });
            byte[] back = s.getInputStream().readNBytes(payload.length);
            sent.get(10, TimeUnit.SECONDS);
            assertThat(back).isEqualTo(payload);
        } finally {
            writer.shutdownNow();
        }
    }

    @Test
    void blackholeAcceptsReadsAndNeverAnswers() throws Exception {
        proxy.apply(Fault.blackhole());
        assertThat(proxy.fault()).isEqualTo(Fault.blackhole());

        Socket s = connect(); // Accepted.
        s.setSoTimeout(300);
        s.getOutputStream().write("ping\n".getBytes(StandardCharsets.UTF_8));
        long start = System.nanoTime();
        assertThatThrownBy(() -> readLine(s)).isInstanceOf(SocketTimeoutException.class);
        assertThat(millisSince(start)).isGreaterThanOrEqualTo(290);
        assertThat(echo.bytesReceived()).isZero(); // Nothing was forwarded.

        proxy.heal();
        // The blackholed connection lost its bytes, so it is closed; new connections work.
        assertThat(closedByPeer(s)).isTrue();
        assertThat(roundTrip(connect(), "after")).isEqualTo("after");
    }

    @Test
    void healForwardsAtOnceAfterAThousandBlackholedConnectionsAndNeverForwardsWhatTheySent() throws Exception {
        int count = 1_000;
        // Warm-up: the proxy's loop, the echo server and this JVM's socket path are warm before anything is measured.
        Socket warm = connect();
        assertThat(roundTrip(warm, "warm-up")).isEqualTo("warm-up");
        warm.close();
        await(Duration.ofSeconds(2), () -> proxy.connectionCount() == 0, "the warm-up connection closed");
        long forwarded = echo.bytesReceived();

        proxy.apply(Fault.blackhole());
        try (RawClients swallowed = RawClients.open(proxy.port(), count,
                i -> ("lost " + i + "\n").getBytes(StandardCharsets.UTF_8))) {
            // Every one is held open, none closed on accept: to its client the proxy is a blackhole. One thread serves
            // them all.
            await(Duration.ofSeconds(30), () -> proxy.connectionCount() == count, "all " + count + " connections held");
            assertThat(Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("latitude-tcp-proxy-echo")).count()).isEqualTo(1);
            assertThat(RawClients.read(swallowed.sockets().get(count - 1), Duration.ofMillis(200)))
                    .isEqualTo(SILENT);
            swallowed.abandonFirst(count / 2); // Clients that gave up; the other half still waits.
            await(Duration.ofSeconds(10), () -> proxy.connectionCount() == count / 2, "abandoned connections closed");

            proxy.heal();
            long start = System.nanoTime();
            String answer = roundTrip(connect(), "after");
            long millis = millisSince(start);
            System.out.printf("TcpFaultProxy: first round trip %d ms after heal, with %d connections blackholed%n",
                    millis, count);
            assertThat(answer).isEqualTo("after");
            assertThat(millis).as("ms from heal to the first round trip").isLessThan(FIRST_ANSWER_DEADLINE.toMillis());

            // The clients still waiting see their connections closed, with nothing forwarded or answered.
            for (Socket s : swallowed.sockets()) {
                assertThat(RawClients.read(s, Duration.ofSeconds(2))).isEqualTo(BROKEN_WITHOUT_ANSWER);
            }
            assertThat(echo.bytesReceived()).isEqualTo(forwarded + "after\n".length());
        }
    }

    @Test
    void beyondTheLimitTheOldestBlackholedConnectionIsClosed() throws Exception {
        try (TcpFaultProxy small = TcpFaultProxy.start("echo-small", "127.0.0.1", echo.port(), 0, 3)) {
            small.apply(Fault.blackhole());
            List<Socket> sockets = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                RawClients one = RawClients.open(small.port(), 1, n -> "lost\n".getBytes(StandardCharsets.UTF_8));
                sockets.add(one.sockets().get(0));
                clients.add(one.sockets().get(0));
                if (i >= 3) {
                    // Accepting it closed the oldest still held.
                    assertThat(RawClients.read(sockets.get(i - 3), Duration.ofSeconds(2)))
                            .isEqualTo(BROKEN_WITHOUT_ANSWER);
                } else {
                    int held = i + 1;
                    await(Duration.ofSeconds(2), () -> small.connectionCount() == held, held + " held");
                }
            }
            // The last one is added just after the oldest is closed for it.
            await(Duration.ofSeconds(2), () -> small.connectionCount() == 3, "the 3 newest held");
            for (Socket s : sockets.subList(2, 5)) {
                assertThat(RawClients.read(s, Duration.ofMillis(200))).isEqualTo(SILENT);
            }

            small.heal();
            for (Socket s : sockets.subList(2, 5)) {
                assertThat(RawClients.read(s, Duration.ofSeconds(2))).isEqualTo(BROKEN_WITHOUT_ANSWER);
            }
            assertThat(echo.bytesReceived()).isZero();
        }
    }

    @Test
    void blackholeSilencesAnOpenConnection() throws Exception {
        Socket s = connect();
        assertThat(roundTrip(s, "before")).isEqualTo("before");

        proxy.apply(Fault.blackhole());
        s.setSoTimeout(300);
        s.getOutputStream().write("lost\n".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> readLine(s)).isInstanceOf(SocketTimeoutException.class);
    }

    @Test
    void refuseClosesThePortAndHealReopensTheSamePort() throws Exception {
        int port = proxy.port();
        Socket open = connect();
        assertThat(roundTrip(open, "x")).isEqualTo("x");

        proxy.apply(Fault.refuseConnections());

        assertThatThrownBy(this::connect).isInstanceOf(ConnectException.class);
        assertThat(closedByPeer(open)).isTrue(); // Open connections are closed too, as when a server goes down.
        await(Duration.ofSeconds(2), () -> proxy.connectionCount() == 0, "connections closed");

        proxy.heal();
        assertThat(proxy.port()).isEqualTo(port);
        assertThat(roundTrip(connect(), "back")).isEqualTo("back");
    }

    @Test
    void latencyDelaysEachDirectionAndKeepsOrder() throws Exception {
        Socket s = connect();
        long start = System.nanoTime();
        assertThat(roundTrip(s, "warm")).isEqualTo("warm");
        long baseline = millisSince(start);

        Duration delay = Duration.ofMillis(500); // far above a busy machine's own delays
        proxy.apply(Fault.latency(delay));

        start = System.nanoTime();
        assertThat(roundTrip(s, "slow")).isEqualTo("slow");
        long elapsed = millisSince(start);
        // Delayed on the way in and on the way back.
        assertThat(elapsed).isGreaterThanOrEqualTo(2 * delay.toMillis()).isLessThan(2 * delay.toMillis() + 3_000);
        assertThat(elapsed).isGreaterThan(baseline);

        // Many small writes in a row come back complete and in order.
        OutputStream out = s.getOutputStream();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            out.write((i + ",").getBytes(StandardCharsets.UTF_8));
            expected.append(i).append(',');
        }
        out.write('\n');
        assertThat(readLine(s)).isEqualTo(expected.toString());

        proxy.heal();
        start = System.nanoTime();
        assertThat(roundTrip(s, "fast")).isEqualTo("fast");
        assertThat(millisSince(start)).isLessThan(2 * delay.toMillis());
    }

    @Test
    void resetSendsRstOnOpenAndNewConnections() throws Exception {
        Socket open = connect();
        assertThat(roundTrip(open, "x")).isEqualTo("x");

        proxy.apply(Fault.resetConnections());

        assertThatThrownBy(() -> open.getInputStream().read())
                .isInstanceOf(SocketException.class).hasMessageContaining("Connection reset");

        // The handshake completes and the proxy resets the connection as soon as it accepts it: the client sees the
        // reset on its first read, or already while connecting if the RST beats the end of connect().
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> connect().getInputStream().read())
                    .isInstanceOf(IOException.class).hasMessageContaining("Connection reset");
        }

        proxy.heal();
        assertThat(roundTrip(connect(), "ok")).isEqualTo("ok");
    }

    @Test
    void flappingAlternatesRefusingAndServing() throws Exception {
        proxy.apply(Fault.flapping(Duration.ofMillis(200), Duration.ofMillis(200)));
        assertThat(accepts()).isFalse(); // It starts with an outage.

        List<Boolean> samples = new ArrayList<>();
        int[] transitions = {0};
        await(Duration.ofSeconds(5), () -> {
            boolean up = accepts();
            if (!samples.isEmpty() && samples.get(samples.size() - 1) != up) {
                transitions[0]++;
            }
            samples.add(up);
            return transitions[0] >= 4;
        }, "flapping between down and up (samples: " + samples + ")");
        assertThat(samples).contains(true, false);

        proxy.heal();
        for (int i = 0; i < 5; i++) {
            assertThat(roundTrip(connect(), "steady" + i)).isEqualTo("steady" + i);
        }
    }

    @Test
    void errorRateIsAnHttpFaultAndUnsupported() throws Exception {
        assertThatThrownBy(() -> proxy.apply(Fault.errorRate(0.5, 503, "unavailable")))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("HTTP error faults need an HTTP front")
                .hasMessageContaining("FakeRegion");
        assertThat(proxy.fault()).isEqualTo(Fault.none());
        assertThat(roundTrip(connect(), "still")).isEqualTo("still");
    }

    @Test
    void anUnreachableTargetClosesTheClientConnection() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        try (TcpFaultProxy toNothing = TcpFaultProxy.start("nothing", "127.0.0.1", deadPort)) {
            Socket s = new Socket();
            clients.add(s);
            s.connect(new InetSocketAddress("127.0.0.1", toNothing.port()), 1_000);
            assertThat(closedByPeer(s)).isTrue();
        }
    }

    @Test
    void closeFreesThePortStopsTheThreadAndClosesConnections() throws Exception {
        int port = proxy.port();
        Socket open = connect();
        assertThat(roundTrip(open, "x")).isEqualTo("x");

        proxy.close();

        assertThat(proxy.thread().isAlive()).isFalse();
        assertThat(closedByPeer(open)).isTrue();
        assertThatThrownBy(this::connect).isInstanceOf(ConnectException.class);
        try (ServerSocket reuse = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertThat(reuse.getLocalPort()).isEqualTo(port);
        }
        assertThatThrownBy(() -> proxy.apply(Fault.blackhole()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        proxy.close(); // Again: harmless.
    }

    /** Echoes every byte back; counts what it received. */
    private static final class EchoServer implements AutoCloseable {
        private final ServerSocket server;
        private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "echo");
            t.setDaemon(true);
            return t;
        });
        private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
        private final AtomicLong received = new AtomicLong();

        EchoServer() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            pool.submit(this::acceptLoop);
        }

        int port() {
            return server.getLocalPort();
        }

        long bytesReceived() {
            return received.get();
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    sockets.add(s);
                    pool.submit(() -> echo(s));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void echo(Socket s) {
            byte[] buf = new byte[8192];
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) != -1) {
                    received.addAndGet(n);
                    out.write(buf, 0, n);
                }
            } catch (IOException ignored) {
                // The client went away.
            } finally {
                sockets.remove(s);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
            pool.shutdownNow();
        }
    }
}
