package dev.latitude.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Many client connections held open by the test thread alone (plain sockets, no thread each): for sending a burst of
 * requests into a blackhole and seeing what becomes of them.
 */
final class RawClients implements AutoCloseable {
    /** What a connection saw when read. */
    enum Outcome {
        /** Closed or reset by the peer before any byte arrived. */
        BROKEN_WITHOUT_ANSWER,
        /** At least one byte arrived: an answer, however partial. */
        ANSWERED,
        /** Nothing arrived within the read timeout; still open. */
        SILENT
    }

    private final List<Socket> sockets = new ArrayList<>();

    private RawClients() {
    }

    /**
     * Opens {@code count} connections to 127.0.0.1:{@code port} one after the other and sends each its request.
     *
     * @param request the bytes connection {@code i} sends
     */
    static RawClients open(int port, int count, IntFunction<byte[]> request) throws IOException {
        RawClients clients = new RawClients();
        try {
            for (int i = 0; i < count; i++) {
                Socket s = new Socket();
                clients.sockets.add(s);
                s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
                s.setTcpNoDelay(true);
                s.getOutputStream().write(request.apply(i));
                s.getOutputStream().flush();
            }
        } catch (IOException | RuntimeException e) {
            clients.close();
            throw e;
        }
        return clients;
    }

    /** Returns the open connections, oldest first. */
    List<Socket> sockets() {
        return sockets;
    }

    /** Closes the first {@code count} connections, as clients that gave up do, and forgets them. */
    void abandonFirst(int count) throws IOException {
        List<Socket> first = new ArrayList<>(sockets.subList(0, count));
        sockets.subList(0, count).clear();
        for (Socket s : first) {
            s.close();
        }
    }

    /** Reads from {@code s} until it ends or {@code timeout} passes with nothing arriving. */
    static Outcome read(Socket s, Duration timeout) {
        try {
            s.setSoTimeout((int) timeout.toMillis());
            InputStream in = s.getInputStream();
            return in.read() == -1 ? Outcome.BROKEN_WITHOUT_ANSWER : Outcome.ANSWERED;
        } catch (SocketTimeoutException e) {
            return Outcome.SILENT;
        } catch (IOException e) {
            return Outcome.BROKEN_WITHOUT_ANSWER; // Reset.
        }
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        sockets.clear();
        if (first != null) {
            throw first;
        }
    }
}
