package dev.latitude.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (a database node, a broker), whose {@link Fault faults} can be
 * switched at runtime. Clients connect to {@link #port()}; the proxy forwards bytes both ways to the target.
 *
 * <p>Faults, each replacing the previous one ({@link #heal()} undoes any):
 *
 * <ul>
 *   <li>{@link Fault#none()}: forwards.</li>
 *   <li>{@link Fault#blackhole()}: connections are accepted and bytes read from either side are discarded; nothing is
 *       forwarded or answered. Connections that lost bytes this way (and those accepted during the blackhole, which
 *       have no upstream) are closed when the blackhole ends, before {@link #apply(Fault)} returns: their byte streams
 *       are broken, and nothing sent into the blackhole is ever forwarded, not even late. However many connections it
 *       swallowed, a healed proxy forwards new ones at once.</li>
 *   <li>{@link Fault#refuseConnections()}: the listening socket and every open connection are closed, so connecting
 *       fails at once with "connection refused"; healing listens again on the same port.</li>
 *   <li>{@link Fault#latency(Duration)}: every forwarded byte is delivered that much later, in each direction, in
 *       order; a request/response round trip so takes twice the amount longer.</li>
 *   <li>{@link Fault#resetConnections()}: open connections are reset (TCP RST) at once, and new ones as soon as they
 *       are accepted.</li>
 *   <li>{@link Fault#flapping(Duration, Duration)}: refuses connections (as above) for the down period, then forwards
 *       for the up period, and so on, starting with an outage.</li>
 *   <li>{@link Fault#errorRate(double, int, String)}: not supported (an HTTP fault); {@link #apply(Fault)} throws
 *       {@link UnsupportedOperationException}.</li>
 * </ul>
 *
 * <p>Resources are bounded: one thread per proxy (non-blocking I/O), at most {@value #MAX_CONNECTIONS} forwarding
 * connections (more are closed on accept), at most {@value #MAX_PENDING_BYTES} bytes held per direction per connection
 * (reading pauses beyond that), and at most {@value #MAX_BLACKHOLED_CONNECTIONS} connections accepted during a
 * blackhole, which hold no upstream and no bytes (when one more arrives, the oldest of them is closed, as its client
 * has most likely given up, so new connections still meet a blackhole rather than a closed connection).
 * {@link #apply(Fault)} returns once the fault is in force. {@link #close()} frees the port, closes every connection
 * and stops the thread.
 *
 * <pre>{@code
 * try (TcpFaultProxy proxy = TcpFaultProxy.start("db-eu", "127.0.0.1", 5432)) {
 *     // clients use 127.0.0.1:proxy.port()
 *     proxy.apply(Fault.blackhole());
 *     // ... queries through the proxy hang ...
 *     proxy.heal();
 * }
 * }</pre>
 */
public final class TcpFaultProxy implements FaultTarget, AutoCloseable {
    /**
     * The most forwarding connections open through one proxy at a time; further ones are closed as soon as accepted.
     * Connections accepted during a blackhole count against {@link #MAX_BLACKHOLED_CONNECTIONS} instead.
     */
    public static final int MAX_CONNECTIONS = 256;
    /**
     * The most connections accepted during a blackhole held open at a time (they have no upstream and hold no bytes);
     * when one more arrives, the oldest of them is closed.
     */
    public static final int MAX_BLACKHOLED_CONNECTIONS = 2048;
    /** The most bytes held per direction of one connection (delayed or waiting for a slow reader). */
    public static final int MAX_PENDING_BYTES = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(TcpFaultProxy.class);
    private static final int READ_BUFFER = 16 * 1024;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);

    private final String name;
    private final InetSocketAddress target;
    private final InetSocketAddress listenAddress;
    private final int blackholeLimit;
    private final Selector selector;
    private final Thread loopThread;
    private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BUFFER);

    // Owned by the loop thread.
    private final Set<Conn> conns = new LinkedHashSet<>();
    /** The connections accepted during the blackhole, oldest first: a subset of conns, without upstream. */
    private final Set<Conn> swallowed = new LinkedHashSet<>();
    private ServerSocketChannel server;
    private boolean flapDown;
    private long nextFlapNanos;

    private volatile Fault fault = Fault.none();
    private volatile int connectionCount;
    private volatile boolean closing;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    private TcpFaultProxy(String name, InetSocketAddress target, int port, int blackholeLimit) throws IOException {
        this.name = name;
        this.target = target;
        this.blackholeLimit = blackholeLimit;
        this.selector = Selector.open();
        try {
            this.server = listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            selector.close();
            throw e;
        }
        this.listenAddress = new InetSocketAddress(InetAddress.getLoopbackAddress(),
                ((InetSocketAddress) server.getLocalAddress()).getPort());
        this.loopThread = new Thread(this::loop, "latitude-tcp-proxy-" + name);
        loopThread.setDaemon(true);
        loopThread.start();
    }

    /**
     * Starts a proxy on a free port of 127.0.0.1 that forwards to {@code targetHost:targetPort}.
     *
     * @param name a name for reports and the thread, such as the node or region id
     * @param targetHost the host to forward to
     * @param targetPort the port to forward to
     * @return the running, healthy proxy
     * @throws UncheckedIOException if no port could be opened
     */
    public static TcpFaultProxy start(String name, String targetHost, int targetPort) {
        return start(name, targetHost, targetPort, 0);
    }

    /**
     * Starts a proxy on the given port of 127.0.0.1 (0 for a free one) that forwards to {@code targetHost:targetPort}.
     *
     * @param name a name for reports and the thread, such as the node or region id
     * @param targetHost the host to forward to
     * @param targetPort the port to forward to
     * @param listenPort the port to listen on, or 0 for a free one
     * @return the running, healthy proxy
     * @throws UncheckedIOException if the port could not be opened
     */
    public static TcpFaultProxy start(String name, String targetHost, int targetPort, int listenPort) {
        return start(name, targetHost, targetPort, listenPort, MAX_BLACKHOLED_CONNECTIONS);
    }

    /** For tests of this class: a lower limit than {@link #MAX_BLACKHOLED_CONNECTIONS}, to see the oldest closed. */
    static TcpFaultProxy start(String name, String targetHost, int targetPort, int listenPort, int blackholeLimit) {
        if (blackholeLimit < 1 || blackholeLimit > MAX_BLACKHOLED_CONNECTIONS) {
            throw new IllegalArgumentException("blackholeLimit must be 1.." + MAX_BLACKHOLED_CONNECTIONS + ", got "
                    + blackholeLimit);
        }
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(targetHost, "targetHost");
        if (targetPort < 1 || targetPort > 65535) {
            throw new IllegalArgumentException("targetPort must be 1..65535, got " + targetPort);
        }
        if (listenPort < 0 || listenPort > 65535) {
            throw new IllegalArgumentException("listenPort must be 0..65535, got " + listenPort);
        }
        try {
            return new TcpFaultProxy(name, new InetSocketAddress(targetHost, targetPort), listenPort, blackholeLimit);
        } catch (IOException e) {
            throw new UncheckedIOException("TCP fault proxy '" + name + "' could not listen on 127.0.0.1:" + listenPort
                    + " (" + e.getMessage() + "); pass port 0 for a free port", e);
        }
    }

    private ServerSocketChannel listen(InetSocketAddress address) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(address, 128);
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_ACCEPT);
            return channel;
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return name;
    }

    /** Returns the port clients connect to; it stays the same across faults. */
    public int port() {
        return listenAddress.getPort();
    }

    /** Returns the host clients connect to: {@code 127.0.0.1}. */
    public String host() {
        return listenAddress.getAddress().getHostAddress();
    }

    /** Returns the address bytes are forwarded to. */
    public InetSocketAddress target() {
        return target;
    }

    /** Returns how many client connections are open through the proxy. */
    public int connectionCount() {
        return connectionCount;
    }

    @Override
    public Fault fault() {
        return fault;
    }

    /**
     * Puts the proxy in {@code f}, replacing any other fault; returns once it is in force (a refusing proxy's port is
     * closed, a healed one listens again).
     *
     * @param f the fault
     * @throws UnsupportedOperationException for {@link Fault.Kind#ERROR_RATE}, an HTTP fault
     * @throws IllegalStateException if the proxy is closed, or the port could not be opened again on healing
     */
    @Override
    public void apply(Fault f) {
        Objects.requireNonNull(f, "fault");
        if (f.kind() == Fault.Kind.ERROR_RATE) {
            throw new UnsupportedOperationException("TCP fault proxy '" + name + "' cannot produce " + f
                    + ": HTTP error faults need an HTTP front (FakeRegion.proxy, a FakeRegion in front of the service);"
                    + " a TCP proxy only sees bytes. Use blackhole, refuseConnections, latency, resetConnections or"
                    + " flapping here");
        }
        run(() -> applyInLoop(f), "apply " + f);
    }

    private void run(Runnable command, String what) {
        if (closing) {
            throw new IllegalStateException("TCP fault proxy '" + name + "' is closed; cannot " + what);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        commands.add(() -> {
            try {
                command.run();
                done.complete(null);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        selector.wakeup();
        try {
            done.get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException ? (RuntimeException) cause
                    : new IllegalStateException("TCP fault proxy '" + name + "' could not " + what, cause);
        } catch (TimeoutException e) {
            throw new IllegalStateException("TCP fault proxy '" + name + "' did not " + what + " within "
                    + COMMAND_TIMEOUT.toSeconds() + " s (closed or stuck)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for TCP fault proxy '" + name + "' to " + what, e);
        }
    }

    /** Stops listening, closes every connection and stops the proxy's thread; the port is free on return. */
    @Override
    public void close() {
        if (closing) {
            awaitStopped();
            return;
        }
        closing = true;
        selector.wakeup();
        awaitStopped();
    }

    private void awaitStopped() {
        if (Thread.currentThread() == loopThread) {
            return;
        }
        try {
            stopped.get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            loopThread.join(COMMAND_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("TCP fault proxy '{}' did not stop cleanly", name, e);
        }
    }

    @Override
    public String toString() {
        return "TcpFaultProxy[" + name + " 127.0.0.1:" + port() + " -> " + target + ", " + fault + "]";
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The loop thread.

    private void loop() {
        try {
            while (!closing) {
                long now = System.nanoTime();
                long wake = nextWakeNanos(now);
                long timeoutMs = wake == Long.MAX_VALUE ? 0 : Math.max(1, (wake - now + 999_999) / 1_000_000);
                selector.select(timeoutMs);
                if (closing) {
                    break;
                }
                runCommands();
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    handle(key);
                }
                now = System.nanoTime();
                flap(now);
                for (Conn c : new ArrayList<>(conns)) {
                    c.pump(now);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!closing) {
                LOG.error("TCP fault proxy '{}' stopped on an error", name, e);
            }
        } finally {
            shutdown();
        }
    }

    private void shutdown() {
        closing = true;
        for (Conn c : new ArrayList<>(conns)) {
            c.close(false);
        }
        stopListening();
        try {
            selector.selectNow();
        } catch (IOException | ClosedSelectorException ignored) {
            // Closing anyway.
        }
        try {
            selector.close();
        } catch (IOException e) {
            LOG.debug("closing the selector of '{}'", name, e);
        }
        Runnable command;
        while ((command = commands.poll()) != null) {
            command.run(); // Completes waiters; effects on a closed proxy are harmless.
        }
        stopped.complete(null);
    }

    private void runCommands() {
        Runnable command;
        while ((command = commands.poll()) != null) {
            command.run();
        }
    }

    private long nextWakeNanos(long now) {
        long wake = Long.MAX_VALUE;
        if (fault.kind() == Fault.Kind.FLAPPING) {
            wake = nextFlapNanos;
        }
        for (Conn c : conns) {
            wake = Math.min(wake, c.up.nextDue(now));
            wake = Math.min(wake, c.down.nextDue(now));
        }
        return wake;
    }

    private void applyInLoop(Fault f) {
        Fault old = fault;
        if (old.kind() == Fault.Kind.BLACKHOLE && f.kind() != Fault.Kind.BLACKHOLE) {
            for (Conn c : new ArrayList<>(conns)) {
                if (c.lost || c.upstream == null) {
                    c.close(false);
                }
            }
        }
        switch (f.kind()) {
            case NONE:
            case LATENCY:
                ensureListening();
                break;
            case BLACKHOLE:
                ensureListening();
                for (Conn c : conns) {
                    c.discardPending();
                }
                break;
            case REFUSE:
                stopListening();
                closeAll(false);
                break;
            case RESET:
                ensureListening();
                closeAll(true);
                break;
            case FLAPPING:
                stopListening();
                closeAll(false);
                flapDown = true;
                nextFlapNanos = System.nanoTime() + f.duration().toNanos();
                break;
            default:
                throw new UnsupportedOperationException(f + " is not supported by TcpFaultProxy");
        }
        fault = f;
        flushClosed();
        LOG.debug("TCP fault proxy '{}' now {}", name, f);
    }

    private void flap(long now) {
        Fault f = fault;
        if (f.kind() != Fault.Kind.FLAPPING || now < nextFlapNanos) {
            return;
        }
        if (flapDown) {
            ensureListening();
            flapDown = false;
            nextFlapNanos = now + f.upDuration().toNanos();
        } else {
            stopListening();
            closeAll(false);
            flapDown = true;
            nextFlapNanos = now + f.duration().toNanos();
        }
        flushClosed();
    }

    /** A closed channel still registered with the selector is really closed on the next selection: do it now. */
    private void flushClosed() {
        try {
            selector.selectNow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void ensureListening() {
        if (server != null) {
            return;
        }
        try {
            server = listen(listenAddress);
        } catch (BindException e) {
            throw new IllegalStateException("TCP fault proxy '" + name + "' could not listen again on "
                    + listenAddress + ": another process took the port while it was refusing (" + e.getMessage()
                    + "); close this proxy and start a new one", e);
        } catch (IOException e) {
            throw new UncheckedIOException("TCP fault proxy '" + name + "' could not listen again on " + listenAddress, e);
        }
    }

    private void stopListening() {
        if (server == null) {
            return;
        }
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing the listener of '{}'", name, e);
        }
        server = null;
    }

    private void closeAll(boolean reset) {
        for (Conn c : new ArrayList<>(conns)) {
            c.close(reset);
        }
    }

    private void handle(SelectionKey key) {
        if (!key.isValid()) {
            return;
        }
        if (key.channel() instanceof ServerSocketChannel) {
            if (key.isAcceptable()) {
                accept((ServerSocketChannel) key.channel());
            }
            return;
        }
        Conn c = (Conn) key.attachment();
        SocketChannel channel = (SocketChannel) key.channel();
        try {
            if (key.isConnectable()) {
                c.finishConnect();
            }
            if (key.isValid() && key.isReadable()) {
                c.read(channel);
            }
            if (key.isValid() && key.isWritable()) {
                c.pump(System.nanoTime());
            }
        } catch (IOException | CancelledKeyException e) {
            LOG.debug("TCP fault proxy '{}': connection ended: {}", name, e.toString());
            c.close(false);
        }
    }

    private void accept(ServerSocketChannel listener) {
        while (true) {
            SocketChannel client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                LOG.debug("TCP fault proxy '{}': accept failed", name, e);
                return;
            }
            if (client == null) {
                return;
            }
            Fault f = fault;
            if (f.kind() == Fault.Kind.RESET) {
                reset(client);
                continue;
            }
            boolean blackholed = f.kind() == Fault.Kind.BLACKHOLE;
            if (blackholed && swallowed.size() >= blackholeLimit) {
                Conn oldest = swallowed.iterator().next();
                LOG.debug("TCP fault proxy '{}' holds {} blackholed connections, its maximum; closing the oldest", name,
                        blackholeLimit);
                oldest.close(false);
            } else if (!blackholed && conns.size() - swallowed.size() >= MAX_CONNECTIONS) {
                LOG.warn("TCP fault proxy '{}' has {} connections open, its maximum; closing a new one", name,
                        MAX_CONNECTIONS);
                closeQuietly(client);
                continue;
            }
            Conn c = null;
            try {
                c = new Conn(client);
                conns.add(c);
                connectionCount = conns.size();
                if (blackholed) {
                    swallowed.add(c);
                } else {
                    c.connectUpstream();
                }
                c.updateInterest();
            } catch (IOException e) {
                LOG.debug("TCP fault proxy '{}': could not set up a connection", name, e);
                if (c != null) {
                    c.close(false);
                } else {
                    closeQuietly(client);
                }
            }
        }
    }

    private static void reset(SocketChannel channel) {
        try {
            channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        } catch (IOException ignored) {
            // Closed anyway below.
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing more to do.
        }
    }

    /** One direction of a connection: bytes read from {@code source}, due for {@code sink} at their due time. */
    private static final class Pipe {
        private final ArrayDeque<ByteBuffer> chunks = new ArrayDeque<>();
        private final ArrayDeque<Long> dues = new ArrayDeque<>();
        private long pendingBytes;
        private long lastDue;
        private boolean eof;
        private boolean shutDown;

        void add(ByteBuffer chunk, long due) {
            long d = Math.max(due, lastDue); // Never overtake earlier bytes, even if the latency dropped.
            chunks.add(chunk);
            dues.add(d);
            lastDue = d;
            pendingBytes += chunk.remaining();
        }

        boolean canRead() {
            return !eof && pendingBytes < MAX_PENDING_BYTES;
        }

        boolean hasDue(long now) {
            return !dues.isEmpty() && dues.peek() - now <= 0;
        }

        long nextDue(long now) {
            if (dues.isEmpty()) {
                return Long.MAX_VALUE;
            }
            long due = dues.peek();
            return due - now <= 0 ? Long.MAX_VALUE : due; // Due ones wait for OP_WRITE, not a timer.
        }

        /** Writes due bytes; returns whether something due is left unwritten (the sink is full). */
        boolean flush(SocketChannel sink, long now) throws IOException {
            while (hasDue(now)) {
                ByteBuffer head = chunks.peek();
                int n = sink.write(head);
                pendingBytes -= n;
                if (head.hasRemaining()) {
                    return true;
                }
                chunks.poll();
                dues.poll();
            }
            if (eof && chunks.isEmpty() && !shutDown) {
                shutDown = true;
                sink.shutdownOutput();
            }
            return false;
        }

        boolean discard() {
            boolean had = !chunks.isEmpty();
            chunks.clear();
            dues.clear();
            pendingBytes = 0;
            return had;
        }
    }

    /** A client connection and its upstream. */
    private final class Conn {
        private final SocketChannel client;
        private SocketChannel upstream;
        private boolean connected;
        private final Pipe up = new Pipe();
        private final Pipe down = new Pipe();
        private boolean lost;
        private boolean closed;

        Conn(SocketChannel client) throws IOException {
            this.client = client;
            client.configureBlocking(false);
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
            client.register(selector, SelectionKey.OP_READ, this);
        }

        void connectUpstream() throws IOException {
            upstream = SocketChannel.open();
            upstream.configureBlocking(false);
            upstream.setOption(StandardSocketOptions.TCP_NODELAY, true);
            connected = upstream.connect(target);
            upstream.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, this);
        }

        void finishConnect() throws IOException {
            if (upstream.finishConnect()) {
                connected = true;
                updateInterest();
            }
        }

        void read(SocketChannel from) throws IOException {
            boolean fromClient = from == client;
            Pipe pipe = fromClient ? up : down;
            readBuffer.clear();
            int n = from.read(readBuffer);
            if (n < 0) {
                pipe.eof = true;
                if (fault.kind() == Fault.Kind.BLACKHOLE || (fromClient && upstream == null)) {
                    close(false); // Nothing will ever be forwarded on a blackholed connection.
                }
                return;
            }
            if (n == 0) {
                return;
            }
            Fault f = fault;
            if (f.kind() == Fault.Kind.BLACKHOLE || (fromClient && upstream == null)) {
                lost = true; // Read and discarded.
                return;
            }
            readBuffer.flip();
            ByteBuffer chunk = ByteBuffer.allocate(n);
            chunk.put(readBuffer).flip();
            long delay = f.kind() == Fault.Kind.LATENCY ? f.duration().toNanos() : 0;
            pipe.add(chunk, System.nanoTime() + delay);
        }

        void discardPending() {
            if (up.discard() | down.discard()) {
                lost = true;
            }
            updateInterest();
        }

        void pump(long now) {
            if (closed) {
                return;
            }
            try {
                if (connected) {
                    up.flush(upstream, now);
                }
                down.flush(client, now);
                if (up.shutDown && down.shutDown) {
                    close(false);
                    return;
                }
                updateInterest();
            } catch (IOException e) {
                LOG.debug("TCP fault proxy '{}': connection ended: {}", name, e.toString());
                close(false);
            }
        }

        void updateInterest() {
            if (closed) {
                return;
            }
            long now = System.nanoTime();
            setInterest(client, (up.canRead() ? SelectionKey.OP_READ : 0)
                    | (down.hasDue(now) ? SelectionKey.OP_WRITE : 0));
            if (upstream != null) {
                int ops = !connected ? SelectionKey.OP_CONNECT
                        : (down.canRead() ? SelectionKey.OP_READ : 0) | (up.hasDue(now) ? SelectionKey.OP_WRITE : 0);
                setInterest(upstream, ops);
            }
        }

        private void setInterest(SocketChannel channel, int ops) {
            SelectionKey key = channel.keyFor(selector);
            if (key != null && key.isValid() && key.interestOps() != ops) {
                key.interestOps(ops);
            }
        }

        void close(boolean reset) {
            if (closed) {
                return;
            }
            closed = true;
            conns.remove(this);
            swallowed.remove(this);
            connectionCount = conns.size();
            if (reset) {
                TcpFaultProxy.reset(client);
            } else {
                closeQuietly(client);
            }
            if (upstream != null) {
                closeQuietly(upstream);
            }
        }
    }

    /** For tests of this class: the thread that runs the proxy. */
    Thread thread() {
        return loopThread;
    }
}
