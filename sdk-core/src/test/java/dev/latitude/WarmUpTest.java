package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.spi.HealthProbe;
import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.OpenTelemetry;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Warm-up sends the health probe's request to every region once and reports who answered; it never fails the build.
 * It waits in real time: only the "never answers" cases wait, 200 ms, and no assertion depends on a duration.
 */
class WarmUpTest {
    private static final String A = "us-east-1";
    private static final String B = "us-west-2";
    private static final String C = "eu-west-1";
    private static final Duration NEVER_ANSWERED_WAIT = Duration.ofMillis(200);

    private final ManualClock clock = new ManualClock();
    private final List<Latitude> engines = new ArrayList<>();
    private final Map<String, Integer> probes = new ConcurrentHashMap<>();
    /** How many periodic probe tasks were already scheduled when each probe call was made. */
    private final List<Integer> scheduledAtProbe = new CopyOnWriteArrayList<>();

    private Latitude.Builder builder() {
        return Latitude.builder()
                .topology(Topology.builder()
                        .region(RegionSpec.builder(A).writer().build())
                        .region(RegionSpec.builder(B).writer().build())
                        .region(RegionSpec.builder(C).writer().build())
                        .localRegion(A)
                        .build())
                .ticker(clock)
                .scheduler(clock)
                .openTelemetry(OpenTelemetry.noop());
    }

    private Latitude track(Latitude l) {
        engines.add(l);
        return l;
    }

    @AfterEach
    void close() {
        engines.forEach(Latitude::close);
    }

    /** A probe that counts calls per region and answers with what {@code answer} gives for the region. */
    private HealthProbe probe(Function<String, CompletableFuture<?>> answer) {
        return region -> {
            probes.merge(region.id(), 1, Integer::sum);
            scheduledAtProbe.add(clock.pendingTasks());
            return answer.apply(region.id());
        };
    }

    private static ProbeConfig probeConfig() {
        return ProbeConfig.builder().interval(Duration.ofSeconds(1)).timeout(Duration.ofMillis(200)).build();
    }

    @Test
    void build_withWarmUp_probesEachRegionOnceBeforeReturningAndBeforePeriodicProbes() {
        Latitude l = track(builder()
                .healthProbe(probe(id -> CompletableFuture.completedFuture(null)), probeConfig())
                .warmUp(Duration.ofSeconds(5))
                .build());

        assertThat(probes).containsOnly(Map.entry(A, 1), Map.entry(B, 1), Map.entry(C, 1));
        assertThat(scheduledAtProbe).as("no periodic probe was scheduled yet").containsOnly(0);
        clock.advance(Duration.ZERO);
        assertThat(probes).as("then the periodic probes start")
                .containsOnly(Map.entry(A, 2), Map.entry(B, 2), Map.entry(C, 2));
    }

    @Test
    void build_withWarmUp_answersFeedNeitherLatencyNorHealth() {
        Latitude l = track(builder()
                .healthProbe(probe(id -> CompletableFuture.completedFuture(null)), probeConfig())
                .warmUp(Duration.ofSeconds(5))
                .build());

        assertThat(l.status()).allSatisfy(s -> {
            assertThat(s.latencyEwmaNanos()).isEqualTo(-1);
            assertThat(s.probe()).isEqualTo(ProbeState.UNKNOWN);
            assertThat(s.circuit()).isEqualTo(CircuitState.CLOSED);
        });
    }

    @Test
    void build_withWarmUpAndFailingOrSilentRegions_doesNotThrow() {
        Latitude l = track(builder()
                .healthProbe(probe(id -> switch (id) {
                    case B -> CompletableFuture.failedFuture(new ConnectException("refused"));
                    case C -> new CompletableFuture<>();
                    default -> CompletableFuture.completedFuture(null);
                }), probeConfig())
                .warmUp(NEVER_ANSWERED_WAIT)
                .build());

        assertThat(l).isNotNull();
        assertThat(probes).containsOnly(Map.entry(A, 1), Map.entry(B, 1), Map.entry(C, 1));
    }

    @Test
    void warmUp_onBuiltEngine_reportsAnsweredAndFailedRegions() {
        Latitude l = track(builder()
                .healthProbe(probe(id -> switch (id) {
                    case B -> CompletableFuture.failedFuture(new ConnectException("refused"));
                    case C -> new CompletableFuture<>();
                    default -> CompletableFuture.completedFuture(null);
                }), probeConfig())
                .build());

        WarmUpReport report = l.warmUp(NEVER_ANSWERED_WAIT);

        assertThat(report.complete()).isFalse();
        assertThat(report.answered()).containsOnlyKeys(A);
        assertThat(report.failed()).containsOnlyKeys(B, C);
        assertThat(report.failed().get(B)).contains("ConnectException", "refused");
        assertThat(report.failed().get(C)).contains("no answer");
        assertThat(probes).as("one warm-up request per region; the clock never moved")
                .containsOnly(Map.entry(A, 1), Map.entry(B, 1), Map.entry(C, 1));
    }

    @Test
    void warmUp_onBuiltEngineEveryRegionAnswers_isComplete() {
        Latitude l = track(builder()
                .healthProbe(probe(id -> CompletableFuture.completedFuture(null)), probeConfig())
                .build());

        WarmUpReport report = l.warmUp(Duration.ofSeconds(5));

        assertThat(report.complete()).isTrue();
        assertThat(report.answered()).containsOnlyKeys(A, B, C);
        assertThat(report.failed()).isEmpty();
    }

    @Test
    void warmUp_probeThrowsOrReturnsNull_regionIsListedAsFailed() {
        Latitude l = track(builder()
                .healthProbe(region -> {
                    if (region.id().equals(A)) {
                        throw new IllegalStateException("probe bug");
                    }
                    return region.id().equals(B) ? null : CompletableFuture.completedFuture(null);
                }, probeConfig())
                .build());

        WarmUpReport report = l.warmUp(Duration.ofSeconds(5));

        assertThat(report.failed()).containsOnlyKeys(A, B);
        assertThat(report.failed().get(A)).contains("probe bug");
        assertThat(report.answered()).containsOnlyKeys(C);
    }

    @Test
    void warmUp_builderWithoutProbe_throwsNamingWarmUp() {
        Latitude.Builder b = builder().warmUp(Duration.ofSeconds(1));

        assertConfigError(b::build, "warmUp", "healthProbe(probe, config)");
    }

    @Test
    void warmUp_builtEngineWithoutProbe_throwsNamingWarmUp() {
        Latitude l = track(builder().build());

        assertConfigError(() -> l.warmUp(Duration.ofSeconds(1)), "warmUp", "healthProbe(probe, config)");
    }

    @Test
    void warmUp_builtEngineNonPositiveTimeout_throwsNamingWarmUp() {
        Latitude l = track(builder()
                .healthProbe(probe(id -> CompletableFuture.completedFuture(null)), probeConfig())
                .build());

        assertConfigError(() -> l.warmUp(Duration.ZERO), "warmUp", "0 ms");
        assertThat(probes).isEmpty();
    }
}
