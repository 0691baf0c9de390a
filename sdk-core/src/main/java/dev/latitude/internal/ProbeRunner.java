package dev.latitude.internal;

import dev.latitude.CircuitState;
import dev.latitude.ProbeConfig;
import dev.latitude.ProbeState;
import dev.latitude.WarmUpReport;
import dev.latitude.spi.HealthProbe;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes every region on the engine's scheduler: one probe per region at a time, each bounded by the probe timeout,
 * the next one interval after the previous started. A probe past its timeout counts as a failure; if it answers later,
 * that answer still counts as a success (slow is not dead), which breaks the failure streak. A probe still silent
 * two intervals (and at least a second past its timeout) after it started is cancelled. With {@link ProbeConfig#unhealthyOnly()}, a region whose circuit
 * is closed and whose probe is not down is skipped at that tick (nothing is sent): probing costs nothing while all is
 * well, and a region that failed is probed until it answers again.
 */
final class ProbeRunner {
    private static final Logger LOG = LoggerFactory.getLogger(ProbeRunner.class);
    private final Engine engine;
    private final HealthProbe probe;
    private final ProbeConfig config;
    private final long intervalNanos;
    private final long timeoutNanos;
    private volatile boolean stopped;
    /** How long a silent probe is left running (its late answer still counts) before it is cancelled. */
    private final long abandonNanos;

    ProbeRunner(Engine engine, HealthProbe probe, ProbeConfig config) {
        this.engine = engine;
        this.probe = probe;
        this.config = config;
        this.intervalNanos = config.interval().toNanos();
        this.timeoutNanos = config.timeout().toNanos();
        this.abandonNanos = Math.max(2 * intervalNanos, timeoutNanos + TimeUnit.SECONDS.toNanos(1));
    }

    void start() {
        for (RegionState r : engine.regions) {
            engine.scheduler.schedule(() -> run(r), 0);
        }
    }

    void stop() {
        stopped = true;
    }

    private void run(RegionState region) {
        if (stopped) {
            return;
        }
        long start = engine.ticker.read();
        engine.scheduler.schedule(() -> run(region), intervalNanos);
        if (config.unhealthyOnly() && region.circuit() == CircuitState.CLOSED && region.probe() != ProbeState.DOWN) {
            return;
        }
        AtomicBoolean decided = new AtomicBoolean();
        engine.scheduler.schedule(() -> {
            if (decided.compareAndSet(false, true)) {
                region.probeResult(false, 0, config.successThreshold(), config.failureThreshold());
            }
        }, timeoutNanos);
        engine.offTimer(() -> send(region, start, decided));
    }

    /** Sends one probe of {@code region} and records its outcome, unless its timeout decided first. */
    private void send(RegionState region, long start, AtomicBoolean decided) {
        CompletionStage<?> stage;
        try {
            stage = probe.probe(region.spec);
        } catch (RuntimeException e) {
            LOG.debug("Probe of {} threw", region.spec.id(), e);
            if (decided.compareAndSet(false, true)) {
                region.probeResult(false, 0, config.successThreshold(), config.failureThreshold());
            }
            return;
        }
        if (stage == null) {
            LOG.warn("HealthProbe returned null for {}; counted as a failed probe", region.spec.id());
            if (decided.compareAndSet(false, true)) {
                region.probeResult(false, 0, config.successThreshold(), config.failureThreshold());
            }
            return;
        }
        CompletableFuture<?> pending = stage.toCompletableFuture();
        // Silent long after its timeout: stop holding its request (a late answer before then still counts).
        engine.scheduler.schedule(() -> pending.cancel(true), abandonNanos);
        stage.whenComplete((v, e) -> {
            if (stopped) {
                return;
            }
            if (decided.compareAndSet(false, true)) {
                region.probeResult(e == null, engine.ticker.read() - start, config.successThreshold(),
                        config.failureThreshold());
            } else if (e == null) {
                // Past its timeout (already counted as a failure) but answered: slow is not dead. The success breaks
                // the failure streak, so a region that is only slow (a cold process, a busy host) is never marked down.
                region.probeResult(true, engine.ticker.read() - start, config.successThreshold(),
                        config.failureThreshold());
            }
        });
    }

    /**
     * Sends {@code probe} to every region at once and waits for all answers, at most {@code timeout}.
     *
     * @param probe the cheap request
     * @param regions the regions
     * @param timeout the longest wait
     * @return who answered and who did not
     */
    static WarmUpReport warmUp(HealthProbe probe, RegionState[] regions, Duration timeout) {
        long start = System.nanoTime();
        Map<String, CompletableFuture<Long>> pending = new LinkedHashMap<>();
        Map<String, CompletableFuture<?>> sent = new LinkedHashMap<>();
        for (RegionState r : regions) {
            CompletableFuture<Long> f;
            try {
                CompletionStage<?> stage = probe.probe(r.spec);
                if (stage == null) {
                    f = CompletableFuture.failedFuture(new NullPointerException("the HealthProbe returned null"));
                } else {
                    CompletableFuture<?> request = stage.toCompletableFuture();
                    sent.put(r.spec.id(), request);
                    f = request.thenApply(v -> System.nanoTime() - start);
                }
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            pending.put(r.spec.id(), f);
        }
        try {
            CompletableFuture.allOf(pending.values().toArray(CompletableFuture[]::new))
                    .get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // Each region's outcome is read below.
        }
        Map<String, Duration> answered = new LinkedHashMap<>();
        Map<String, String> failed = new LinkedHashMap<>();
        pending.forEach((id, f) -> {
            if (!f.isDone()) {
                CompletableFuture<?> request = sent.get(id);
                if (request != null) {
                    request.cancel(true); // stop holding the silent region's request
                }
                f.cancel(true);
                failed.put(id, "no answer within " + timeout.toMillis() + " ms");
            } else if (f.isCompletedExceptionally()) {
                Throwable cause = f.handle((v, e) -> e).join();
                Throwable root = cause.getCause() != null ? cause.getCause() : cause;
                failed.put(id, root.getClass().getSimpleName() + ": " + root.getMessage());
            } else {
                answered.put(id, Duration.ofNanos(f.join()));
            }
        });
        WarmUpReport report = new WarmUpReport(answered, failed);
        if (failed.isEmpty()) {
            LOG.info("Warm-up: every region answered ({})", answered);
        } else {
            LOG.warn("Warm-up: {} did not answer ({}); answered: {}", failed.keySet(), failed, answered);
        }
        return report;
    }
}
