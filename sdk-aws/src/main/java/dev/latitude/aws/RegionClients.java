package dev.latitude.aws;

import dev.latitude.Latitude;
import dev.latitude.spi.TimerWheel;
import java.time.Duration;
import java.util.List;
import java.util.function.BiConsumer;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.core.client.builder.SdkClientBuilder;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.RetryStrategy;

/**
 * What Latitude's builders set on the region clients they make ({@code buildClients(...)}), after the application's
 * own settings and only where those left a gap:
 * <ul>
 *   <li>the failover retry strategy ({@link FailoverRetryStrategy}), so a failing region is left quickly;</li>
 *   <li>for DynamoDB, {@code apiCallTimeout} and {@code apiCallAttemptTimeout} at the engine's attempt timeout, so a
 *       request sent from the calling thread ends by itself when the engine would move on ({@link AttemptTimeouts}
 *       lengthens it per request where the call should run longer);</li>
 *   <li>a {@link TimeoutScheduler} on a timer wheel, so request timeouts (the client's, or those Latitude sets per
 *       request) cost next to nothing.</li>
 * </ul>
 * The timer wheel is the engine's too, unless the engine was given a scheduler of its own (a test's manual clock):
 * then the SDK's timeouts keep real time on the wheel alone. Made once per multi-region client, when its first region
 * client is made; closed with it.
 *
 * <p>Shared by Latitude's AWS SDK adapters (DynamoDB, S3); an application does not need it.
 */
public final class RegionClients {
    private final Duration attemptTimeout;
    private final boolean clientTimeouts;
    private final RetryStrategy retryStrategy;
    private final List<AutoCloseable> owned;
    private TimerWheel wheel;
    private TimeoutScheduler timeouts;

    /**
     * @param attemptTimeout the engine's attempt timeout
     * @param clientTimeouts whether to give the clients the attempt timeout as their own {@code apiCallTimeout} and
     *     {@code apiCallAttemptTimeout}: only for an adapter that gives every request that may run longer its own
     *     (DynamoDB); S3 sends requests straight to a region's client (multipart parts, the non-blocking client's
     *     calls) that may rightly take longer, so its clients get none and its requests are bounded one by one
     * @param retryStrategy the service's failover retry strategy
     * @param owned closed with the multi-region client; the wheel and the scheduler are added when made
     */
    public RegionClients(Duration attemptTimeout, boolean clientTimeouts, RetryStrategy retryStrategy,
            List<AutoCloseable> owned) {
        this.attemptTimeout = attemptTimeout;
        this.clientTimeouts = clientTimeouts;
        this.retryStrategy = retryStrategy;
        this.owned = owned;
    }

    /**
     * Sets Latitude's defaults on {@code builder} where its override configuration has none (call it after the
     * application's settings): a retry strategy (unless a retry strategy, policy or mode is set), the two request
     * timeouts (if this adapter asked for them), and the scheduled executor. Not thread-safe: builders make their clients on one thread.
     *
     * @param builder a region client's builder
     */
    public void apply(SdkClientBuilder<?, ?> builder) {
        ClientOverrideConfiguration own = builder.overrideConfiguration();
        ClientOverrideConfiguration.Builder b = own.toBuilder();
        if (own.retryStrategy().isEmpty() && own.retryPolicy().isEmpty() && own.retryMode().isEmpty()) {
            b.retryStrategy(retryStrategy);
        }
        if (clientTimeouts && own.apiCallTimeout().isEmpty()) {
            b.apiCallTimeout(attemptTimeout);
        }
        if (clientTimeouts && own.apiCallAttemptTimeout().isEmpty()) {
            b.apiCallAttemptTimeout(attemptTimeout);
        }
        if (own.scheduledExecutorService().isEmpty()) {
            b.scheduledExecutorService(timeouts());
        }
        builder.overrideConfiguration(b.build());
    }

    /**
     * Makes a region's client: {@code builder} with the region, then the application's {@code settings}, then
     * Latitude's defaults where those left a gap ({@link #apply}).
     *
     * @param builder a fresh client builder
     * @param regionId the region
     * @param settings the application's settings, given the region id and the builder
     * @param <B> the builder type
     * @param <C> the client type
     * @return the client
     */
    public <B extends AwsClientBuilder<B, C>, C> C make(B builder, String regionId, BiConsumer<String, B> settings) {
        builder.region(Region.of(regionId));
        settings.accept(regionId, builder);
        apply(builder);
        return builder.build();
    }

    private TimeoutScheduler timeouts() {
        if (timeouts == null) {
            wheel = TimerWheel.start();
            timeouts = TimeoutScheduler.over(wheel);
            owned.add(timeouts);
            owned.add(wheel);
        }
        return timeouts;
    }

    /**
     * Lets the engine share the timer wheel, if a client was made and the engine was given no scheduler of its own.
     * Call it before building the engine; the wheel is closed with the multi-region client, after the engine.
     *
     * @param engine the engine's builder
     */
    public void shareTimer(Latitude.Builder engine) {
        if (wheel != null && engine.scheduler().isEmpty()) {
            engine.scheduler(wheel);
        }
    }
}
