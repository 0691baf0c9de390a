package dev.latitude.testkit;

import com.github.tomakehurst.wiremock.core.Options;
import com.github.tomakehurst.wiremock.http.AdminRequestHandler;
import com.github.tomakehurst.wiremock.http.HttpServerFactory;
import com.github.tomakehurst.wiremock.http.StubRequestHandler;
import com.github.tomakehurst.wiremock.jetty11.Jetty11HttpServer;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import wiremock.jakarta.servlet.AsyncContext;
import wiremock.jakarta.servlet.DispatcherType;
import wiremock.jakarta.servlet.Filter;
import wiremock.jakarta.servlet.FilterChain;
import wiremock.jakarta.servlet.ServletException;
import wiremock.jakarta.servlet.ServletRequest;
import wiremock.jakarta.servlet.ServletResponse;
import wiremock.org.eclipse.jetty.io.EofException;
import wiremock.org.eclipse.jetty.server.Handler;
import wiremock.org.eclipse.jetty.server.Request;
import wiremock.org.eclipse.jetty.servlet.FilterHolder;
import wiremock.org.eclipse.jetty.servlet.ServletContextHandler;

/**
 * The blackhole of a {@link FakeRegion}: while it is open, every request that arrives is swallowed, that is suspended
 * (servlet asynchronous mode, so no server thread waits for it) and never answered; when it closes, the connection of
 * every swallowed request is broken (HTTP/1.1: closed; HTTP/2: the stream reset) without an answer.
 *
 * <p>It is a servlet filter in front of WireMock's stub servlet, installed by {@link #serverFactory()}: a swallowed
 * request never reaches WireMock, so it is neither journaled nor forwarded to a backend; {@link #swallowedCount()}
 * counts them instead. At most {@code limit} requests are held at a time; beyond that the oldest one is dropped (its
 * connection broken), as its client has most likely given up.
 */
final class SwallowedRequests implements Filter {
    private final String region;
    private final int limit;
    private final Object lock = new Object();

    // Guarded by lock.
    private final ArrayDeque<AsyncContext> held = new ArrayDeque<>();
    private boolean open;
    private int swallowed;

    /**
     * @param region the region's id, for messages
     * @param limit the most requests held at a time, at least 1
     */
    SwallowedRequests(String region, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("the limit of swallowed requests must be at least 1, got " + limit);
        }
        this.region = region;
        this.limit = limit;
    }

    /** Returns a WireMock server factory whose servers send every stub request through this filter first. */
    HttpServerFactory serverFactory() {
        return (options, admin, stubs) -> new FilteredServer(options, admin, stubs, this);
    }

    /** Opens the blackhole: requests from now on are swallowed. */
    void open() {
        synchronized (lock) {
            open = true;
        }
    }

    /**
     * Closes the blackhole: requests from now on pass; the connection of every request swallowed so far is broken
     * before this returns.
     */
    void close() {
        List<AsyncContext> release;
        synchronized (lock) {
            open = false;
            release = new ArrayList<>(held);
            held.clear();
        }
        release.forEach(SwallowedRequests::breakConnection);
    }

    /** Returns how many requests were swallowed since the count was last reset, held or not any more. */
    int swallowedCount() {
        synchronized (lock) {
            return swallowed;
        }
    }

    /** Resets {@link #swallowedCount()} (the region's request journal starts afresh). */
    void resetCount() {
        synchronized (lock) {
            swallowed = 0;
        }
    }

    /** Returns how many swallowed requests are held, waiting for the blackhole to close. */
    int heldCount() {
        synchronized (lock) {
            return held.size();
        }
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        boolean swallow;
        AsyncContext dropped = null;
        synchronized (lock) {
            // Decided under the lock, so a request is either passed on or held until close() breaks it.
            swallow = open;
            if (swallow) {
                AsyncContext suspended = request.startAsync();
                suspended.setTimeout(0); // Never times out: held until the blackhole closes.
                held.add(suspended);
                swallowed++;
                if (held.size() > limit) {
                    dropped = held.poll();
                }
            }
        }
        if (!swallow) {
            chain.doFilter(request, response);
        } else if (dropped != null) {
            breakConnection(dropped);
        }
    }

    /**
     * Breaks the connection of a swallowed request without answering it: Jetty aborts the exchange, which closes an
     * HTTP/1.1 connection and resets an HTTP/2 stream. The suspended request is not completed afterwards: completing it
     * would only dispatch it to a server thread to find its response aborted; with its connection gone and no timeout
     * set, Jetty keeps nothing else of it, and it is garbage once released here.
     */
    private static void breakConnection(AsyncContext suspended) {
        Request base;
        try {
            base = Request.getBaseRequest(suspended.getRequest());
        } catch (IllegalStateException e) {
            return; // the client went away first and Jetty has already ended and recycled the exchange
        }
        if (base != null) {
            base.getHttpChannel().abort(new EofException("the blackhole of a fake region ended"));
        }
    }

    @Override
    public String toString() {
        return "SwallowedRequests[" + region + ", held " + heldCount() + " of at most " + limit + "]";
    }

    /** WireMock's Jetty 11 server with a {@link SwallowedRequests} filter in front of the stub servlet. */
    private static final class FilteredServer extends Jetty11HttpServer {
        FilteredServer(Options options, AdminRequestHandler admin, StubRequestHandler stubs, SwallowedRequests filter) {
            super(options, admin, stubs);
            FilterHolder holder = new FilterHolder(filter);
            holder.setName("latitude-blackhole");
            holder.setAsyncSupported(true);
            stubContext().addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST));
        }

        /** The servlet context of the stubs, at "/" (the admin API has its own, at "/__admin"). */
        private ServletContextHandler stubContext() {
            for (Handler h : jettyServer.getChildHandlersByClass(ServletContextHandler.class)) {
                ServletContextHandler context = (ServletContextHandler) h;
                if ("/".equals(context.getContextPath())) {
                    return context;
                }
            }
            throw new IllegalStateException("WireMock's Jetty server has no stub context at '/'; this WireMock version"
                    + " is not supported by FakeRegion (built against 3.13)");
        }
    }
}
