package dev.latitude.s3.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.RegionsUnavailableException;
import dev.latitude.s3.MultiRegionAccessPoint;
import dev.latitude.testkit.S3ControlStubs;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3control.model.S3ControlException;

class RouteDialsTest {
    private static final String ARN = "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap";

    private S3ControlStubs control;
    private final List<Duration> waits = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        control = S3ControlStubs.start();
        control.accessPoint(ARN, List.of(new S3ControlStubs.Route("orders-use1", "us-east-1", 100),
                new S3ControlStubs.Route("orders-euw1", "eu-west-1", 0)));
    }

    @AfterEach
    void stop() {
        control.close();
    }

    private RouteDials dials(boolean dryRun) {
        MultiRegionAccessPoint mrap = MultiRegionAccessPoint.builder().arn(ARN)
                .bucket("us-east-1", "orders-use1").bucket("eu-west-1", "orders-euw1")
                .routeDialFailover(true).dryRun(dryRun).build();
        return RouteDials.create(mrap, region -> control.clientBuilder(region)
                .overrideConfiguration(o -> o.retryStrategy(r -> r.maxAttempts(1))).build(),
                4, Duration.ofMillis(200), waits::add);
    }

    @Test
    void routes_areReadFromTheFirstControlRegion_withTheAccountHeader() {
        try (RouteDials dials = dials(false)) {
            assertThat(dials.routes()).containsExactly(new RouteDials.Route("us-east-1", "orders-use1", 100),
                    new RouteDials.Route("eu-west-1", "orders-euw1", 0));
        }
        assertThat(control.calls()).singleElement().satisfies(c -> {
            assertThat(c.controlRegion()).isEqualTo("us-east-1");
            assertThat(c.method()).isEqualTo("GET");
            assertThat(c.arn()).isEqualTo(ARN);
            assertThat(c.accountId()).isEqualTo("123456789012");
        });
    }

    @Test
    void failover_setsTheFailedRegionTo0_andTheOtherTo100() {
        try (RouteDials dials = dials(false)) {
            RouteDials.Result r = dials.failover("us-east-1", "eu-west-1");
            assertThat(r.submitted()).isTrue();
            assertThat(r.rounds()).isEqualTo(1);
            assertThat(r.updates()).containsExactly(new RouteDials.Route("us-east-1", "orders-use1", 0),
                    new RouteDials.Route("eu-west-1", "orders-euw1", 100));
        }
        assertThat(control.routes(ARN)).containsExactly(new S3ControlStubs.Route("orders-use1", "us-east-1", 0),
                new S3ControlStubs.Route("orders-euw1", "eu-west-1", 100));
        assertThat(control.activeRegion(ARN, List.of("us-east-1", "eu-west-1"))).contains("eu-west-1");
        assertThat(control.calls()).extracting(S3ControlStubs.Call::method).containsExactly("GET", "PATCH");
    }

    @Test
    void failover_whenTheDialsAreAlreadySet_submitsNothing() {
        try (RouteDials dials = dials(false)) {
            RouteDials.Result r = dials.failover("eu-west-1", "us-east-1");
            assertThat(r.updates()).isEmpty();
            assertThat(r.submitted()).isFalse();
        }
        assertThat(control.calls()).extracting(S3ControlStubs.Call::method).containsExactly("GET");
    }

    @Test
    void dryRun_reportsTheUpdate_withoutSubmittingIt() {
        try (RouteDials dials = dials(true)) {
            RouteDials.Result r = dials.failover("us-east-1", "eu-west-1");
            assertThat(r.dryRun()).isTrue();
            assertThat(r.submitted()).isFalse();
            assertThat(r.updates()).hasSize(2);
        }
        assertThat(control.calls()).extracting(S3ControlStubs.Call::method).containsExactly("GET");
        assertThat(control.routes(ARN).get(0).dial()).isEqualTo(100);
    }

    @Test
    void controlRegions_areTriedInTheDocumentedOrder_when503SlowDownOrOutages() {
        control.failAlways("us-east-1", 503, "SlowDown");
        control.failAlways("us-west-2", 500, "InternalError");
        control.failAlways("ap-southeast-2", 503, "ServiceUnavailable");
        try (RouteDials dials = dials(false)) {
            dials.failover("us-east-1", "eu-west-1");
        }
        List<S3ControlStubs.Call> calls = control.calls();
        assertThat(calls).extracting(S3ControlStubs.Call::controlRegion).startsWith(
                "us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1");
        assertThat(calls).filteredOn(c -> c.status() == 200).extracting(S3ControlStubs.Call::controlRegion)
                .containsOnly("ap-northeast-1");
        assertThat(control.routes(ARN).get(1).dial()).isEqualTo(100);
        assertThat(RouteDials.CONTROL_REGIONS).isEqualTo(S3ControlStubs.CONTROL_REGIONS);
    }

    @Test
    void conflict409_isRetriedWithBackoff_readingTheRoutesAgain() {
        control.conflictNext(2);
        try (RouteDials dials = dials(false)) {
            RouteDials.Result r = dials.failover("us-east-1", "eu-west-1");
            assertThat(r.submitted()).isTrue();
            assertThat(r.rounds()).isEqualTo(3);
        }
        assertThat(waits).containsExactly(Duration.ofMillis(200), Duration.ofMillis(400));
        assertThat(control.calls()).extracting(c -> c.method() + " " + c.status())
                .containsExactly("GET 200", "PATCH 409", "GET 200", "PATCH 409", "GET 200", "PATCH 200");
    }

    @Test
    void conflict409_afterEveryRound_failsWithTheConflict() {
        control.conflictNext(10);
        try (RouteDials dials = dials(false)) {
            assertThatThrownBy(() -> dials.failover("us-east-1", "eu-west-1"))
                    .isInstanceOfSatisfying(S3ControlException.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(409);
                        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("OperationAborted");
                    });
        }
        assertThat(waits).hasSize(3);
        assertThat(control.calls()).filteredOn(c -> c.method().equals("PATCH")).hasSize(4);
    }

    @Test
    void everyControlRegionSlowingDown_isRetriedInRounds_thenFails() {
        RouteDials.CONTROL_REGIONS.forEach(r -> control.failAlways(r, 503, "SlowDown"));
        try (RouteDials dials = dials(false)) {
            assertThatThrownBy(() -> dials.failover("us-east-1", "eu-west-1"))
                    .isInstanceOf(RegionsUnavailableException.class);
        }
        assertThat(waits).hasSize(3);
        assertThat(control.routes(ARN).get(0).dial()).isEqualTo(100);
    }

    @Test
    void accessDenied_failsAtOnce_withoutTryingOtherRegions() {
        MultiRegionAccessPoint other = MultiRegionAccessPoint.builder()
                .arn("arn:aws:s3::210987654321:accesspoint/abcdefgh.mrap")
                .bucket("us-east-1", "orders-use1").bucket("eu-west-1", "orders-euw1").build();
        try (RouteDials dials = RouteDials.create(other, region -> control.clientBuilder(region).build(), 4,
                Duration.ZERO, waits::add)) {
            assertThatThrownBy(dials::routes).isInstanceOfSatisfying(S3ControlException.class,
                    e -> assertThat(e.statusCode()).isEqualTo(404));
        }
        assertThat(control.calls()).hasSize(1);
        assertThat(waits).isEmpty();
    }

    @Test
    void failover_refusesRegionsNotBehindTheAccessPoint() {
        try (RouteDials dials = dials(false)) {
            assertThatThrownBy(() -> dials.failover("us-east-1", "ap-south-1"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ap-south-1");
            assertThatThrownBy(() -> dials.failover("us-east-1", "us-east-1"))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(control.calls()).isEmpty();
    }
}
