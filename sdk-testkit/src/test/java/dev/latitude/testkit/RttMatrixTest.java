package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** {@link RttMatrix}: the default AWS matrix, users' own matrices, scaling, and regions started from a matrix. */
class RttMatrixTest {

    @Test
    void awsMatrixCoversEightRegionsSymmetricallyWithPublishedOrdersOfMagnitude() {
        RttMatrix aws = RttMatrix.aws();
        assertThat(aws.regions()).containsExactlyElementsOf(RttMatrix.AWS_REGIONS).hasSize(8);
        for (String a : aws.regions()) {
            assertThat(aws.contains(a)).isTrue();
            assertThat(aws.rtt(a, a)).isEqualTo(Duration.ofMillis(1));
            for (String b : aws.regions()) {
                assertThat(aws.rtt(a, b)).as("%s <-> %s", a, b).isEqualTo(aws.rtt(b, a)).isPositive();
                if (!a.equals(b)) {
                    assertThat(aws.rtt(a, b).toMillis()).as("%s <-> %s", a, b).isBetween(10L, 350L);
                }
            }
        }
        assertThat(aws.rtt("us-east-1", "eu-west-1")).isEqualTo(Duration.ofMillis(68));
        assertThat(aws.rtt("us-east-1", "us-west-2").toMillis()).isBetween(60L, 70L);
        assertThat(aws.rtt("us-east-1", "ap-northeast-1")).isEqualTo(Duration.ofMillis(145));
        // Geometry: Ohio is nearer Virginia than Ireland is, and Sydney is farther still.
        assertThat(aws.rtt("us-east-1", "us-east-2")).isLessThan(aws.rtt("us-east-1", "eu-west-1"));
        assertThat(aws.rtt("us-east-1", "eu-west-1")).isLessThan(aws.rtt("us-east-1", "ap-southeast-2"));
        assertThat(aws.rtt("eu-west-1", "eu-central-1")).isLessThan(aws.rtt("eu-west-1", "us-east-1"));
        assertThat(aws.model("us-east-1", "eu-west-1")).isEqualTo(LatencyModel.fixed(Duration.ofMillis(68)));
    }

    @Test
    void scaledMultipliesEveryPairAndKeepsSymmetry() {
        RttMatrix tenth = RttMatrix.aws().scaled(0.1);
        assertThat(tenth.rtt("us-east-1", "eu-west-1")).isEqualTo(Duration.ofMillis(68).dividedBy(10));
        assertThat(tenth.rtt("ap-northeast-1", "us-east-1")).isEqualTo(Duration.ofMillis(145).dividedBy(10));
        assertThat(tenth.rtt("sa-east-1", "sa-east-1")).isEqualTo(Duration.ofNanos(100_000));
        assertThat(tenth.regions()).isEqualTo(RttMatrix.aws().regions());
        assertThat(RttMatrix.aws().scaled(2).rtt("us-east-1", "eu-west-1")).isEqualTo(Duration.ofMillis(136));
        assertThat(RttMatrix.aws().scaled(1)).isEqualTo(RttMatrix.aws());
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> RttMatrix.aws().scaled(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(String.valueOf(bad)).hasMessageContaining("0.1");
        }
    }

    @Test
    void builderMakesASymmetricMatrixWithSameRegionDefaults() {
        RttMatrix m = RttMatrix.builder()
                .sameRegion(Duration.ofMillis(2))
                .rtt("home", "away", Duration.ofMillis(40))
                .rttMillis("home", "far", 120.5)
                .rtt("away", "far", Duration.ofMillis(90))
                .rtt("far", "far", Duration.ofMillis(3)) // an explicit same-region time wins
                .rtt("home", "away", Duration.ofMillis(40)) // repeating the same value is harmless
                .build();
        assertThat(m.regions()).containsExactly("home", "away", "far");
        assertThat(m.rtt("away", "home")).isEqualTo(Duration.ofMillis(40));
        assertThat(m.rtt("far", "home")).isEqualTo(Duration.ofMillis(120).plusNanos(500_000));
        assertThat(m.rtt("home", "home")).isEqualTo(Duration.ofMillis(2));
        assertThat(m.rtt("far", "far")).isEqualTo(Duration.ofMillis(3));
        assertThat(RttMatrix.builder().region("solo").build().rtt("solo", "solo")).isEqualTo(Duration.ofMillis(1));
    }

    @Test
    void builderValidationNamesTheProblemAndTheFix() {
        assertThatThrownBy(() -> RttMatrix.builder().rtt("a", "b", Duration.ofMillis(10)).region("c").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("missing 2 pair(s)").hasMessageContaining("a <-> c")
                .hasMessageContaining("b <-> c").hasMessageContaining("rtt(a, b, d)");
        assertThatThrownBy(() -> RttMatrix.builder().build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one region");
        assertThatThrownBy(() -> RttMatrix.builder().rtt("a", "b", Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a <-> b")
                .hasMessageContaining("must be positive").hasMessageContaining("0 ms");
        assertThatThrownBy(() -> RttMatrix.builder().rtt("a", "b", Duration.ofMillis(-3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-3 ms");
        assertThatThrownBy(() -> RttMatrix.builder().rttMillis("a", "b", -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1.0 ms");
        assertThatThrownBy(() -> RttMatrix.builder().rtt("a", "b", Duration.ofMillis(10)).rtt("b", "a",
                Duration.ofMillis(12)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("given twice")
                .hasMessageContaining("10 ms").hasMessageContaining("12 ms").hasMessageContaining("symmetric");
        assertThatThrownBy(() -> RttMatrix.builder().rtt(" ", "b", Duration.ofMillis(10)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("non-blank");
        assertThatThrownBy(() -> RttMatrix.builder().sameRegion(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("same-region");
        assertThatThrownBy(() -> RttMatrix.aws().rtt("us-east-1", "mars-north-1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mars-north-1")
                .hasMessageContaining("known regions").hasMessageContaining("RttMatrix.builder()");
    }

    @Test
    void fromMatrixValidatesItsArguments() {
        List<String> ids = List.of("us-east-1");
        assertThatThrownBy(() -> FakeRegions.fromMatrix(null, "us-east-1", ids, 0.1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RttMatrix.aws()");
        assertThatThrownBy(() -> FakeRegions.fromMatrix(RttMatrix.aws(), "us-east-1", List.of(), 0.1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one region");
        assertThatThrownBy(() -> FakeRegions.fromMatrix(RttMatrix.aws(), "us-east-1", List.of("a", "a"), 0.1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("repeat");
        assertThatThrownBy(() -> FakeRegions.fromMatrix(RttMatrix.aws(), "nowhere", ids, 0.1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nowhere");
        assertThatThrownBy(() -> FakeRegions.fromMatrix(RttMatrix.aws(), "us-east-1", List.of("nowhere"), 0.1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nowhere");
        assertThatThrownBy(() -> FakeRegions.fromMatrix(RttMatrix.aws(), "us-east-1", ids, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scale");
    }

    @Test
    void fromMatrixShapesEachRegionAndSeedsThemApart() {
        UnaryOperator<LatencyModel> shape = m -> m.withJitter(0.1).withSpikes(0.01, 5).withSeed(100);
        try (FakeRegions lab = FakeRegions.fromMatrix(RttMatrix.aws(), "eu-west-1",
                List.of("eu-west-1", "us-east-1"), 0.5, shape)) {
            LatencyModel local = lab.region("eu-west-1").latencyModel();
            LatencyModel remote = lab.region("us-east-1").latencyModel();
            assertThat(local.base()).isEqualTo(Duration.ofNanos(500_000));
            assertThat(remote.base()).isEqualTo(Duration.ofMillis(34));
            assertThat(remote.jitter()).isEqualTo(0.1);
            assertThat(remote.tailProbability()).isEqualTo(0.01);
            assertThat(local.seed()).hasValue(100);
            assertThat(remote.seed()).hasValue(101);
        }
    }

    /**
     * Regions started from the matrix at a tenth of real latency, no jitter: the median of a plain client's round
     * trips to each matches matrix x scale within max(5 ms, 25 %), and the regions keep the matrix's order.
     *
     * <p>A loaded machine only ever adds time, so the lower bound must hold for every measurement round, while the
     * upper bound may take up to three rounds of 11 requests to be met.
     */
    @Test
    void observedLatenciesFollowTheScaledMatrix() throws Exception {
        List<String> ids = List.of("us-east-1", "us-east-2", "eu-west-1", "ap-northeast-1", "ap-southeast-2");
        double scale = 0.1;
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        Map<String, Double> medians = new LinkedHashMap<>();
        try (FakeRegions lab = FakeRegions.fromMatrix(RttMatrix.aws(), "us-east-1", ids, scale)) {
            for (String id : ids) {
                FakeRegion region = lab.region(id);
                assertThat(region.latencyModel().isFixed()).isTrue();
                double expected = RttMatrix.aws().rtt("us-east-1", id).toNanos() / 1e6 * scale;
                double tolerance = Math.max(5, expected * 0.25);
                // Above the matrix, a busy machine adds its own delay to every request: the upper bound only checks
                // that no other region's latency was applied; the lower bound and the order below are exact.
                double slack = Math.max(50, expected);
                HttpRequest request = HttpRequest.newBuilder(region.uri().resolve("/ping"))
                        .timeout(Duration.ofSeconds(2)).build();
                for (int i = 0; i < 2; i++) { // warm the connection and the server
                    http.send(request, HttpResponse.BodyHandlers.ofString());
                }
                List<Double> rounds = new ArrayList<>();
                double median;
                do {
                    median = medianMillis(http, request, id, 11);
                    rounds.add(median);
                    assertThat(median).as("median ms to %s (expected %.1f)", id, expected)
                            .isGreaterThanOrEqualTo(expected - tolerance);
                } while (median > expected + slack && rounds.size() < 3);
                assertThat(median).as("median ms to %s (expected %.1f); rounds: %s", id, expected, rounds)
                        .isLessThanOrEqualTo(expected + slack);
                medians.put(id, median);
            }
        }
        assertThat(medians.get("us-east-1")).as("%s", medians).isLessThan(medians.get("eu-west-1"));
        assertThat(medians.get("eu-west-1")).as("%s", medians).isLessThan(medians.get("ap-southeast-2"));
    }

    private static double medianMillis(HttpClient http, HttpRequest request, String id, int n) throws Exception {
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            times.add((System.nanoTime() - start) / 1e6);
            assertThat(r.body()).isEqualTo(id);
        }
        Collections.sort(times);
        return times.get(n / 2);
    }
}
