package dev.latitude;

import static dev.latitude.Engines.READ;
import static dev.latitude.Engines.WRITE;
import static dev.latitude.Engines.planIds;
import static dev.latitude.Engines.readFailingIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.testing.ManualClock;
import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The health filter in plans: circuits are opened by real failing calls on a manual clock. */
class PlanHealthTest {
    private final ManualClock clock = new ManualClock();
    private final Topology topology = Topology.builder()
            .region(RegionSpec.builder("a").writer().build())
            .region(RegionSpec.builder("b").build())
            .region(RegionSpec.builder("c").build())
            .localRegion("a")
            .build();

    private Latitude engine(RoutingPolicy policy, BreakerConfig breaker) {
        return Engines.builder(topology, clock, 1).routingPolicy(policy).breaker(breaker).build();
    }

    private static RoutingPolicy priority(String... ids) {
        return RoutingPolicy.failover().priority(ids).build();
    }

    private static BreakerConfig openAfterOneFailure(Duration openDelay) {
        return BreakerConfig.builder().failureThreshold(1, 1).openDelay(openDelay).build();
    }

    private static CircuitState circuit(Latitude latitude, String id) {
        return latitude.status().get(latitude.topology().indexOf(id)).circuit();
    }

    @Test
    void plan_openCircuit_regionMovedBehindHealthyOnes() {
        try (Latitude latitude = engine(priority("a", "b", "c"), openAfterOneFailure(Duration.ofSeconds(10)))) {
            assertThat(readFailingIn(latitude, "a"::equals)).isCompletedWithValue("x");

            Plan plan = latitude.plan(READ);

            assertThat(Engines.ids(plan)).containsExactly("b", "c", "a");
            assertThat(plan.healthyCount()).isEqualTo(2);
            assertThat(plan.panic()).isFalse();
            assertThat(circuit(latitude, "a")).isEqualTo(CircuitState.OPEN);
        }
    }

    @Test
    void plan_defaultBreaker_opensAtFiveFailuresOfTheLastTen() {
        try (Latitude latitude = Engines.engine(topology, priority("a", "b", "c"), clock, 1)) {
            for (int i = 0; i < 5; i++) {
                readFailingIn(latitude, r -> false);
            }
            for (int i = 0; i < 4; i++) {
                readFailingIn(latitude, "a"::equals);
            }
            assertThat(planIds(latitude, READ)).containsExactly("a", "b", "c");

            readFailingIn(latitude, "a"::equals);

            assertThat(planIds(latitude, READ)).containsExactly("b", "c", "a");
        }
    }

    @Test
    void plan_defaultBreaker_needsTenRecentAttemptsBeforeItOpens() {
        try (Latitude latitude = Engines.engine(topology, priority("a", "b", "c"), clock, 1)) {
            for (int i = 0; i < 9; i++) {
                readFailingIn(latitude, "a"::equals);
            }
            assertThat(planIds(latitude, READ)).as("9 attempts: below the minimum volume").containsExactly("a", "b", "c");

            clock.advance(Duration.ofSeconds(11));
            readFailingIn(latitude, "a"::equals);
            assertThat(planIds(latitude, READ)).as("the 9 are older than the 10 s volume period")
                    .containsExactly("a", "b", "c");

            for (int i = 0; i < 9; i++) {
                readFailingIn(latitude, "a"::equals);
            }
            assertThat(planIds(latitude, READ)).as("10 recent failures").containsExactly("b", "c", "a");
        }
    }

    @Test
    void plan_callerErrors_doNotOpenCircuit() {
        try (Latitude latitude = engine(priority("a", "b", "c"), openAfterOneFailure(Duration.ofSeconds(10)))) {
            CompletableFuture<String> call = latitude.executeAsync(READ,
                    region -> CompletableFuture.failedFuture(new IllegalArgumentException("bad request")));

            assertThat(call).isCompletedExceptionally();
            Plan plan = latitude.plan(READ);
            assertThat(Engines.ids(plan)).containsExactly("a", "b", "c");
            assertThat(plan.healthyCount()).isEqualTo(3);
        }
    }

    @Test
    void plan_severalOpen_longestOpenFirstAmongUnhealthy() {
        try (Latitude latitude = engine(priority("b", "a", "c"), openAfterOneFailure(Duration.ofSeconds(60)))) {
            readFailingIn(latitude, "b"::equals);   // b opens at t0; a serves
            clock.advanceMillis(1000);
            readFailingIn(latitude, "a"::equals);   // a opens at t0 + 1 s; c serves

            Plan plan = latitude.plan(READ);

            assertThat(Engines.ids(plan)).containsExactly("c", "b", "a");
            assertThat(plan.healthyCount()).isEqualTo(1);
        }
    }

    @Test
    void plan_allOpen_panicListsAllRegionsLeastBadFirst() {
        try (Latitude latitude = engine(priority("b", "a", "c"), openAfterOneFailure(Duration.ofSeconds(60)))) {
            readFailingIn(latitude, "b"::equals);              // b opens at t0
            clock.advanceMillis(1000);
            CompletableFuture<String> call = readFailingIn(latitude, id -> true); // a and c open at t0 + 1 s

            assertThat(call).isCompletedExceptionally();
            assertThatThrownBy(call::join).hasCauseInstanceOf(RegionsUnavailableException.class);
            Plan plan = latitude.plan(READ);
            assertThat(plan.panic()).isTrue();
            assertThat(plan.healthyCount()).isZero();
            assertThat(Engines.ids(plan)).containsExactly("b", "a", "c");
            assertThat(latitude.status()).allSatisfy(s -> assertThat(s.available()).isFalse());
        }
    }

    @Test
    void plan_onlyWriterOpen_writePlanPanicsButStillListsIt() {
        try (Latitude latitude = engine(priority("a", "b", "c"), openAfterOneFailure(Duration.ofSeconds(60)))) {
            CompletableFuture<String> write = latitude.executeAsync(WRITE,
                    region -> CompletableFuture.failedFuture(new ConnectException("down")));
            assertThat(write).isCompletedExceptionally();

            Plan writes = latitude.plan(WRITE);
            assertThat(Engines.ids(writes)).containsExactly("a");
            assertThat(writes.panic()).isTrue();
            assertThat(planIds(latitude, READ)).containsExactly("b", "c", "a");
        }
    }

    @Test
    void plan_openDelayPassed_regionBackInHealthySetHalfOpen() {
        try (Latitude latitude = engine(priority("a", "b", "c"), openAfterOneFailure(Duration.ofSeconds(2)))) {
            readFailingIn(latitude, "a"::equals);

            clock.advanceMillis(1999);
            assertThat(planIds(latitude, READ)).containsExactly("b", "c", "a");
            assertThat(latitude.plan(READ).healthyCount()).isEqualTo(2);

            clock.advanceMillis(1);
            Plan plan = latitude.plan(READ);
            assertThat(Engines.ids(plan)).containsExactly("a", "b", "c");
            assertThat(plan.healthyCount()).isEqualTo(3);
            assertThat(circuit(latitude, "a")).isEqualTo(CircuitState.HALF_OPEN);
        }
    }

    @Test
    void execute_halfOpenTrialsSucceed_circuitCloses() {
        BreakerConfig breaker = BreakerConfig.builder().failureThreshold(1, 1).successThreshold(2)
                .openDelay(Duration.ofSeconds(2)).build();
        try (Latitude latitude = engine(priority("a", "b", "c"), breaker)) {
            readFailingIn(latitude, "a"::equals);
            clock.advanceMillis(2000);
            assertThat(latitude.plan(READ).healthyCount()).isEqualTo(3);

            readFailingIn(latitude, id -> false);
            assertThat(circuit(latitude, "a")).isEqualTo(CircuitState.HALF_OPEN);
            readFailingIn(latitude, id -> false);

            assertThat(circuit(latitude, "a")).isEqualTo(CircuitState.CLOSED);
        }
    }

    @Test
    void execute_halfOpenTrialFails_circuitReopensAndRegionLeavesHealthySet() {
        try (Latitude latitude = engine(priority("a", "b", "c"), openAfterOneFailure(Duration.ofSeconds(2)))) {
            readFailingIn(latitude, "a"::equals);
            clock.advanceMillis(2000);
            assertThat(latitude.plan(READ).healthyCount()).isEqualTo(3);

            readFailingIn(latitude, "a"::equals);

            assertThat(circuit(latitude, "a")).isEqualTo(CircuitState.OPEN);
            assertThat(planIds(latitude, READ)).containsExactly("b", "c", "a");
        }
    }

    @Test
    void executeAsync_firstRegionDown_fallsBackToNextInPlan() {
        try (Latitude latitude = engine(priority("a", "b", "c"), BreakerConfig.defaults())) {
            CompletableFuture<String> call = latitude.executeAsync(READ, region -> region.id().equals("a")
                    ? CompletableFuture.failedFuture(new CompletionException(new ConnectException("down")))
                    : CompletableFuture.completedFuture(region.id()));

            assertThat(call).isCompletedWithValue("b");
        }
    }
}
