package dev.latitude.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.Latitude;
import dev.latitude.RegionSpec;
import dev.latitude.Topology;
import dev.latitude.spi.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;

class RegionClientsTest {
    private final RetryStrategy failover = FailoverRetryStrategy.create(e -> false);

    @Test
    void fillsEveryGap_withOneSchedulerAndWheelForAllClients() throws Exception {
        List<AutoCloseable> owned = new ArrayList<>();
        RegionClients made = new RegionClients(Duration.ofMillis(300), true, failover, owned);
        DynamoDbClientBuilder a = DynamoDbClient.builder();
        DynamoDbClientBuilder b = DynamoDbClient.builder();
        made.apply(a);
        made.apply(b);
        ClientOverrideConfiguration ca = a.overrideConfiguration();
        assertThat(ca.retryStrategy()).containsSame(failover);
        assertThat(ca.apiCallTimeout()).contains(Duration.ofMillis(300));
        assertThat(ca.apiCallAttemptTimeout()).contains(Duration.ofMillis(300));
        assertThat(ca.scheduledExecutorService()).get().isInstanceOf(TimeoutScheduler.class);
        assertThat(b.overrideConfiguration().scheduledExecutorService()).isEqualTo(ca.scheduledExecutorService());
        assertThat(owned).as("the scheduler and its wheel, once").hasSize(2);
        for (AutoCloseable c : owned) {
            c.close();
        }
    }

    @Test
    void withoutClientTimeouts_setsNone() throws Exception {
        List<AutoCloseable> owned = new ArrayList<>();
        RegionClients made = new RegionClients(Duration.ofMillis(300), false, failover, owned);
        DynamoDbClientBuilder b = DynamoDbClient.builder();
        made.apply(b);
        ClientOverrideConfiguration c = b.overrideConfiguration();
        assertThat(c.apiCallTimeout()).isEmpty();
        assertThat(c.apiCallAttemptTimeout()).isEmpty();
        assertThat(c.retryStrategy()).containsSame(failover);
        assertThat(c.scheduledExecutorService()).get().isInstanceOf(TimeoutScheduler.class);
        for (AutoCloseable o : owned) {
            o.close();
        }
    }

    @Test
    void keepsWhatTheApplicationSet() {
        List<AutoCloseable> owned = new ArrayList<>();
        RegionClients made = new RegionClients(Duration.ofMillis(300), true, failover, owned);
        java.util.concurrent.ScheduledExecutorService own = java.util.concurrent.Executors.newScheduledThreadPool(1);
        try {
            DynamoDbClientBuilder b = DynamoDbClient.builder().overrideConfiguration(o -> o
                    .retryStrategy(RetryMode.STANDARD).apiCallTimeout(Duration.ofSeconds(2))
                    .scheduledExecutorService(own).putHeader("x-team", "orders"));
            made.apply(b);
            ClientOverrideConfiguration c = b.overrideConfiguration();
            assertThat(c.retryStrategy().orElse(null)).isNotSameAs(failover);
            assertThat(c.apiCallTimeout()).contains(Duration.ofSeconds(2));
            assertThat(c.apiCallAttemptTimeout()).as("the gap is filled").contains(Duration.ofMillis(300));
            assertThat(c.scheduledExecutorService()).containsSame(own);
            assertThat(c.headers()).containsKey("x-team");
            assertThat(owned).as("no scheduler was needed").isEmpty();
        } finally {
            own.shutdownNow();
        }
    }

    @Test
    void theEngineSharesTheWheel_unlessItWasGivenASchedulerOfItsOwn() throws Exception {
        Topology topology = Topology.builder().region(RegionSpec.builder("us-east-1").writer().build())
                .localRegion("us-east-1").build();
        List<AutoCloseable> owned = new ArrayList<>();
        RegionClients made = new RegionClients(Duration.ofMillis(300), true, failover, owned);
        Latitude.Builder none = Latitude.builder().topology(topology);
        made.shareTimer(none);
        assertThat(none.scheduler()).as("no client was made: nothing to share").isEmpty();

        made.apply(DynamoDbClient.builder());
        Latitude.Builder shares = Latitude.builder().topology(topology);
        made.shareTimer(shares);
        assertThat(shares.scheduler()).get().isSameAs(owned.get(1));

        Scheduler manual = (task, delay) -> () -> { };
        Latitude.Builder own = Latitude.builder().topology(topology).scheduler(manual);
        made.shareTimer(own);
        assertThat(own.scheduler()).containsSame(manual);
        for (AutoCloseable c : owned) {
            c.close();
        }
    }
}
