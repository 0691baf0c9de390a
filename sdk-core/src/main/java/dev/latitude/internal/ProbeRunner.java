package dev.latitude.internal;

import dev.latitude.ProbeConfig;
import dev.latitude.spi.HealthProbe;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes every region on the engine's scheduler: one probe per region at a time, each bounded by the probe timeout,
 * the next one interval after the previous started.
 */
final class ProbeRunner {
    private static final Logger LOG = LoggerFactory.getLogger(ProbeRunner.class);
    private final Engine engine;
    private final HealthProbe probe;
    private final ProbeConfig config;
    private final long intervalNanos;
    private final long timeoutNanos;
    private volatile boolean stopped;

    ProbeRunner(Engine engine, HealthProbe probe, ProbeConfig config) {
        this.engine = engine;
        this.probe = probe;
        this.config = config;
        this.intervalNanos = config.interval().toNanos();
        this.timeoutNanos = config.timeout().toNanos();
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
        AtomicBoolean decided = new AtomicBoolean();
        engine.scheduler.schedule(() -> {
            if (decided.compareAndSet(false, true)) {
                region.probeResult(false, 0, config.successThreshold(), config.failureThreshold());
            }
        }, timeoutNanos);
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
        stage.whenComplete((v, e) -> {
            if (stopped || !decided.compareAndSet(false, true)) {
                return;
            }
            region.probeResult(e == null, engine.ticker.read() - start, config.successThreshold(),
                    config.failureThreshold());
        });
    }
}
