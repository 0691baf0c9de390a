package dev.latitude.s3.internal;

import dev.latitude.CircuitState;
import dev.latitude.HealthListener;
import dev.latitude.Latitude;
import dev.latitude.ProbeState;
import dev.latitude.RegionSpec;
import dev.latitude.RegionStatus;
import dev.latitude.s3.MultiRegionAccessPoint;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Multi-Region Access Points of a client, by logical bucket, and their route-dial failover: when a region behind
 * an access point whose failover is on becomes unhealthy (its circuit opens, or its probe says down), its dial is moved
 * to 0 and the first healthy region's to 100 ({@link RouteDials#failover}), on a thread of its own so no call waits
 * for S3 Control; a dry run only logs what it would submit. Closed with the client.
 */
public final class AccessPoints implements HealthListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AccessPoints.class);

    private final Map<String, MultiRegionAccessPoint> byBucket;
    private final Map<String, RouteDials> dials;
    private final AtomicReference<Latitude> engine = new AtomicReference<>();
    private volatile Duration attemptTimeout = Duration.ofSeconds(1);
    /** Runs blocking access point requests, so that one that hangs is left at the attempt timeout. */
    private final ExecutorService requests = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "latitude-s3-access-point");
        t.setDaemon(true);
        return t;
    });
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "latitude-s3-route-dials");
        t.setDaemon(true);
        return t;
    });

    /**
     * Creates the access points.
     *
     * @param byBucket the access point of each logical bucket in MRAP mode
     * @param dials the route dials of the logical buckets whose access point has route-dial failover on
     */
    public AccessPoints(Map<String, MultiRegionAccessPoint> byBucket, Map<String, RouteDials> dials) {
        this.byBucket = Map.copyOf(byBucket);
        this.dials = Map.copyOf(dials);
    }

    /**
     * Gives the engine whose health this listens to, once built.
     *
     * @param latitude the engine
     */
    public void engine(Latitude latitude) {
        engine.set(latitude);
    }

    /**
     * Sets how long an access point request may take before the read goes to the buckets directly: the engine's
     * attempt timeout.
     *
     * @param timeout the timeout
     */
    public void attemptTimeout(Duration timeout) {
        this.attemptTimeout = timeout;
    }

    /** Returns how long an access point request may take before the read goes to the buckets directly. */
    public Duration attemptTimeout() {
        return attemptTimeout;
    }

    /**
     * Runs a blocking access point request, at most the attempt timeout; a request still running then is interrupted
     * and left to end by itself.
     *
     * @param request the request
     * @param <R> the response type
     * @return the response
     * @throws TimeoutException if it took longer
     * @throws RuntimeException the request's own failure
     */
    public <R> R call(Callable<R> request) throws TimeoutException {
        Future<R> f = requests.submit(request);
        try {
            return f.get(attemptTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw e;
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for an access point", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Returns the access point of {@code bucket}, or {@code null} if the bucket is in direct mode.
     *
     * @param bucket the logical bucket
     * @return the access point or null
     */
    public MultiRegionAccessPoint of(String bucket) {
        return byBucket.get(bucket);
    }

    @Override
    public void onCircuitStateChange(RegionSpec region, CircuitState from, CircuitState to) {
        if (to == CircuitState.OPEN) {
            unhealthy(region.id());
        }
    }

    @Override
    public void onProbeStateChange(RegionSpec region, ProbeState from, ProbeState to) {
        if (to == ProbeState.DOWN) {
            unhealthy(region.id());
        }
    }

    private void unhealthy(String region) {
        dials.forEach((bucket, routeDials) -> {
            MultiRegionAccessPoint mrap = byBucket.get(bucket);
            if (mrap.bucket(region) == null) {
                return;
            }
            String target = healthyOther(mrap.regions(), region);
            if (target == null) {
                LOG.warn("{} of {} is unhealthy and no other region behind it is healthy; route dials unchanged",
                        region, mrap.arn());
                return;
            }
            worker.execute(() -> {
                try {
                    RouteDials.Result r = routeDials.failover(region, target);
                    LOG.info("route dials of {}: {} -> {}: {}", mrap.arn(), region, target, r);
                } catch (RuntimeException e) {
                    LOG.warn("route dials of {}: moving traffic from {} to {} failed", mrap.arn(), region, target, e);
                }
            });
        });
    }

    private String healthyOther(List<String> regions, String unhealthy) {
        Latitude latitude = engine.get();
        if (latitude == null) {
            return null;
        }
        for (String r : regions) {
            if (r.equals(unhealthy)) {
                continue;
            }
            for (RegionStatus s : latitude.status()) {
                if (s.region().id().equals(r) && s.available()) {
                    return r;
                }
            }
        }
        return null;
    }

    /** Stops the failover thread and closes the route dials' S3 Control clients. */
    @Override
    public void close() {
        worker.shutdownNow();
        requests.shutdownNow();
        dials.values().forEach(RouteDials::close);
    }
}
