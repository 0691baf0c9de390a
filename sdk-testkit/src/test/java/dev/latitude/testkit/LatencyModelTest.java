package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoublePredicate;
import org.junit.jupiter.api.Test;

/**
 * The shape of {@link LatencyModel}'s samples, tested on the sampling function directly with seeded randoms: jitter is
 * uniform within its band, spikes and Pareto tails hit the configured share with the configured sizes, and a seed
 * replays the same sequence.
 */
class LatencyModelTest {
    private static final Duration BASE = Duration.ofMillis(100);
    private static final int N = 20_000;

    private static double[] samplesMillis(LatencyModel model, long seed) {
        Random random = new Random(seed);
        double[] out = new double[N];
        for (int i = 0; i < N; i++) {
            out[i] = model.sample(random).toNanos() / 1e6;
        }
        return out;
    }

    private static double share(double[] xs, DoublePredicate p) {
        return Arrays.stream(xs).filter(p).count() / (double) xs.length;
    }

    private static double min(double[] xs) {
        return Arrays.stream(xs).min().orElseThrow();
    }

    private static double max(double[] xs) {
        return Arrays.stream(xs).max().orElseThrow();
    }

    @Test
    void fixedModelAlwaysAnswersTheBase() {
        LatencyModel fixed = LatencyModel.fixed(BASE);
        assertThat(fixed.isFixed()).isTrue();
        assertThat(samplesMillis(fixed, 1)).containsOnly(100.0);
        assertThat(fixed.scaledBy(0.1).base()).isEqualTo(Duration.ofMillis(10));
        assertThat(LatencyModel.fixed(Duration.ZERO).sample(new Random(1))).isZero();
    }

    @Test
    void jitterIsUniformWithinItsBand() {
        double[] xs = samplesMillis(LatencyModel.fixed(BASE).withJitter(0.2), 11);
        assertThat(min(xs)).isGreaterThanOrEqualTo(80.0);
        assertThat(max(xs)).isLessThanOrEqualTo(120.0);
        double mean = Arrays.stream(xs).average().orElseThrow();
        assertThat(mean).isCloseTo(100.0, within(1.0));
        // Four equal-width bins each hold about a quarter of the samples.
        for (double lo = 80; lo < 120; lo += 10) {
            double from = lo;
            assertThat(share(xs, x -> x >= from && x < from + 10)).as("bin from %s", from).isCloseTo(0.25,
                    within(0.02));
        }
        // Both edges of the band are reached.
        assertThat(min(xs)).isLessThan(81);
        assertThat(max(xs)).isGreaterThan(119);
    }

    @Test
    void spikesHitTheConfiguredShareWithTheConfiguredMultiplier() {
        double[] xs = samplesMillis(LatencyModel.fixed(BASE).withSpikes(0.05, 10), 12);
        assertThat(share(xs, x -> x == 100.0 || x == 1000.0)).isEqualTo(1.0);
        assertThat(share(xs, x -> x == 1000.0)).isCloseTo(0.05, within(0.006));

        // With jitter as well: the spikes are ten times the jittered value.
        double[] jittered = samplesMillis(LatencyModel.fixed(BASE).withJitter(0.1).withSpikes(0.05, 10), 13);
        assertThat(share(jittered, x -> x >= 900 && x <= 1100)).isCloseTo(0.05, within(0.006));
        assertThat(share(jittered, x -> x >= 90 && x <= 110)).isCloseTo(0.95, within(0.006));
    }

    @Test
    void paretoTailHasTheConfiguredShareShapeAndCap() {
        double alpha = 2;
        double[] xs = samplesMillis(LatencyModel.fixed(BASE).withParetoTail(0.1, alpha, 20), 14);
        assertThat(min(xs)).isEqualTo(100.0);
        assertThat(max(xs)).isLessThanOrEqualTo(2000.0);
        List<Double> tail = new ArrayList<>();
        for (double x : xs) {
            if (x > 100.0) {
                tail.add(x / 100.0);
            }
        }
        assertThat(tail.size() / (double) N).isCloseTo(0.1, within(0.01));
        // P(X > x) = x^-alpha among tail samples: a quarter above 2x, 1/16 above 4x, 1/100 above 10x.
        double n = tail.size();
        assertThat(tail.stream().filter(m -> m > 2).count() / n).isCloseTo(0.25, within(0.03));
        assertThat(tail.stream().filter(m -> m > 4).count() / n).isCloseTo(1 / 16.0, within(0.015));
        assertThat(tail.stream().filter(m -> m > 10).count() / n).isCloseTo(0.01, within(0.007));
        // The cap holds: nothing beyond 20x.
        assertThat(tail.stream().mapToDouble(Double::doubleValue).max().orElseThrow()).isLessThanOrEqualTo(20.0);

        // A heavier shape puts more mass far out.
        double[] heavy = samplesMillis(LatencyModel.fixed(BASE).withParetoTail(0.1, 1, 1000), 14);
        assertThat(share(heavy, x -> x > 1000)).isGreaterThan(share(xs, x -> x > 1000));
    }

    @Test
    void aSeedReplaysTheSameSequence() {
        LatencyModel model = LatencyModel.fixed(BASE).withJitter(0.3).withParetoTail(0.2, 1.5, 50).withSeed(7);
        LatencyModel.Sampler a = model.sampler();
        LatencyModel.Sampler b = model.sampler();
        List<Duration> first = new ArrayList<>();
        List<Duration> second = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            first.add(a.next());
            second.add(b.next());
        }
        assertThat(first).isEqualTo(second);
        assertThat(a.model()).isEqualTo(model);
        assertThat(model.seed()).hasValue(7);

        List<Duration> other = new ArrayList<>();
        LatencyModel.Sampler c = model.withSeed(8).sampler();
        for (int i = 0; i < 500; i++) {
            other.add(c.next());
        }
        assertThat(other).isNotEqualTo(first);
        assertThat(samplesMillis(model, 3)).isEqualTo(samplesMillis(model, 3));
    }

    @Test
    void withersKeepTheRestOfTheModel() {
        LatencyModel m = LatencyModel.fixed(BASE).withJitter(0.1).withSpikes(0.01, 10).withSeed(5);
        LatencyModel scaled = m.scaledBy(0.5);
        assertThat(scaled.base()).isEqualTo(Duration.ofMillis(50));
        assertThat(scaled.jitter()).isEqualTo(0.1);
        assertThat(scaled.tailProbability()).isEqualTo(0.01);
        assertThat(scaled.seed()).hasValue(5);
        assertThat(m.withBase(Duration.ofMillis(7)).withBase(BASE)).isEqualTo(m);
        assertThat(m.withParetoTail(0.02, 2, 10).tailProbability()).isEqualTo(0.02);
        assertThat(m.toString()).contains("100.0ms", "jitter", "spikes", "seed 5");
        assertThat(m.isFixed()).isFalse();
        assertThat(LatencyModel.fixed(BASE).withSpikes(0, 10).isFixed()).isTrue();
    }

    @Test
    void validationNamesTheValueAndTheFix() {
        LatencyModel m = LatencyModel.fixed(BASE);
        assertThatThrownBy(() -> LatencyModel.fixed(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT-0.001S")
                .hasMessageContaining("Duration.ZERO");
        assertThatThrownBy(() -> LatencyModel.fixed(null)).isInstanceOf(IllegalArgumentException.class);
        for (double bad : new double[] {-0.1, 1, 1.5, Double.NaN}) {
            assertThatThrownBy(() -> m.withJitter(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(String.valueOf(bad)).hasMessageContaining("0.1 for ±10 %");
        }
        assertThatThrownBy(() -> m.withSpikes(1.5, 10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1.5").hasMessageContaining("[0, 1]");
        assertThatThrownBy(() -> m.withSpikes(0.1, 0.5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0.5").hasMessageContaining("at least 1");
        assertThatThrownBy(() -> m.withParetoTail(0.1, 0, 10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shape").hasMessageContaining("0.0");
        assertThatThrownBy(() -> m.withParetoTail(0.1, 2, 0.5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxMultiplier").hasMessageContaining("0.5");
        assertThatThrownBy(() -> m.scaledBy(-2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-2.0").hasMessageContaining("0.1");
        assertThatThrownBy(() -> FakeRegion.builder("x").latency(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("LatencyModel.fixed");
    }

    @Test
    void aRegionSamplesItsModelPerRequest() throws Exception {
        // Spikes on about half the requests, 400 ms against 2 ms (far apart, so a busy machine cannot mix them up): over
        // HTTP both show up, in the order the seed gives (sequential requests on one connection, so the region draws
        // its samples in request order).
        LatencyModel model = LatencyModel.fixed(Duration.ofMillis(2)).withSpikes(0.5, 200).withSeed(3);
        List<Boolean> expectedSlow = new ArrayList<>();
        LatencyModel.Sampler replay = model.sampler();
        for (int i = 0; i < 13; i++) {
            expectedSlow.add(replay.next().toMillis() > 200);
        }
        assertThat(expectedSlow.subList(1, 13)).contains(true, false);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (FakeRegion region = FakeRegion.start("eu-central-1", model)) {
            HttpRequest request = HttpRequest.newBuilder(region.uri()).timeout(Duration.ofSeconds(2)).build();
            http.send(request, HttpResponse.BodyHandlers.ofString()); // warms the connection; draws sample 0
            for (int i = 1; i < 13; i++) {
                long start = System.nanoTime();
                http.send(request, HttpResponse.BodyHandlers.ofString());
                long ms = (System.nanoTime() - start) / 1_000_000;
                if (expectedSlow.get(i)) {
                    assertThat(ms).as("request %d should spike", i).isGreaterThanOrEqualTo(400);
                } else {
                    assertThat(ms).as("request %d should be quick", i).isLessThan(300);
                }
            }
        }
    }
}
