package dev.latitude.s3.internal;

import dev.latitude.BreakerConfig;
import dev.latitude.FailureKind;
import dev.latitude.HedgingConfig;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.RegionRole;
import dev.latitude.RegionSpec;
import dev.latitude.RegionsUnavailableException;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import dev.latitude.s3.MultiRegionAccessPoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3control.S3ControlClient;
import software.amazon.awssdk.services.s3control.model.MultiRegionAccessPointRoute;
import software.amazon.awssdk.services.s3control.model.S3ControlException;

/**
 * Reads and moves the route dials of one Multi-Region Access Point through S3 Control
 * ({@code GetMultiRegionAccessPointRoutes}, {@code SubmitMultiRegionAccessPointRoutes}).
 *
 * <p>Only five regions serve these calls ({@link #CONTROL_REGIONS}); they are tried in that order through a small
 * Latitude engine of their own (failover routing, no hedging), so a control region that is down, throttling (503
 * {@code SlowDown}) or timing out hands the call to the next one. Two failures are retried as a whole, with
 * exponential backoff, at most {@code maxRounds} times: S3's 409 for a concurrent update of the access point (the
 * routes are read again first, as the other update may already have done the work) and every control region
 * unavailable at once. Other refusals (access denied, no such access point, a malformed update) fail at once.
 *
 * <p>A dry run reads the routes and reports the update it would submit, without submitting it.
 */
public final class RouteDials implements AutoCloseable {
    /** The regions that serve the MRAP route API, in the order they are tried. */
    public static final List<String> CONTROL_REGIONS =
            List.of("us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1");

    private static final Logger LOG = LoggerFactory.getLogger(RouteDials.class);
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration DEADLINE = Duration.ofSeconds(40);

    /** Waits between retry rounds; tests pass one that records instead of sleeping. */
    @FunctionalInterface
    public interface Sleeper {
        /**
         * Waits.
         *
         * @param duration how long
         * @throws InterruptedException if interrupted while waiting
         */
        void sleep(Duration duration) throws InterruptedException;
    }

    /**
     * One route: a region, its bucket, its traffic dial.
     *
     * @param region the bucket's region
     * @param bucket the bucket, or null if S3 did not name it
     * @param dial 0 (passive) to 100
     */
    public record Route(String region, String bucket, int dial) {
    }

    /**
     * What a failover did, or in a dry run would have done.
     *
     * @param before the routes read before deciding
     * @param updates the route updates decided (empty if the dials were already as asked)
     * @param submitted whether the updates were submitted and accepted
     * @param dryRun whether this was a dry run
     * @param rounds how many read-and-submit rounds it took (more than one after 409s or outages)
     */
    public record Result(List<Route> before, List<Route> updates, boolean submitted, boolean dryRun, int rounds) {
        /** Copies the lists. */
        public Result {
            before = List.copyOf(before);
            updates = List.copyOf(updates);
        }
    }

    private final MrapArn arn;
    private final Map<String, String> buckets;
    private final boolean dryRun;
    private final Function<String, S3ControlClient> clientFactory;
    private final Map<String, S3ControlClient> clients = new ConcurrentHashMap<>();
    private final Latitude control;
    private final int maxRounds;
    private final Duration firstBackoff;
    private final Sleeper sleeper;

    private RouteDials(MultiRegionAccessPoint mrap, Function<String, S3ControlClient> clientFactory, int maxRounds,
            Duration firstBackoff, Sleeper sleeper) {
        this.arn = MrapArn.parse("mrap.arn", mrap.arn());
        this.buckets = mrap.buckets();
        this.dryRun = mrap.dryRun();
        this.clientFactory = clientFactory;
        this.maxRounds = maxRounds;
        this.firstBackoff = firstBackoff;
        this.sleeper = sleeper;
        Topology.Builder topology = Topology.builder();
        CONTROL_REGIONS.forEach(r -> topology.region(RegionSpec.builder(r)
                .roles(RegionRole.WRITER, RegionRole.READER).build()));
        this.control = Latitude.builder()
                .topology(topology.localRegion(CONTROL_REGIONS.get(0)).build())
                .routingPolicy(RoutingPolicy.failover().priority(CONTROL_REGIONS.toArray(String[]::new)).build())
                .errorClassifier(RouteDials::classify)
                .hedging(HedgingConfig.disabled())
                .breaker(BreakerConfig.defaults())
                .attemptTimeout(ATTEMPT_TIMEOUT)
                .deadline(DEADLINE)
                .build();
    }

    /**
     * Creates the route dials of an access point.
     *
     * @param mrap the access point
     * @param clientFactory makes the S3 Control client of a control region (called once per region, lazily); the
     *     clients are closed with this object
     * @param maxRounds how many read-and-submit rounds at most (1 to 10)
     * @param firstBackoff the wait before the second round, doubled for each later one
     * @param sleeper how to wait
     * @return the route dials
     * @throws IllegalArgumentException if {@code maxRounds} is out of range or the backoff negative
     */
    public static RouteDials create(MultiRegionAccessPoint mrap, Function<String, S3ControlClient> clientFactory,
            int maxRounds, Duration firstBackoff, Sleeper sleeper) {
        Objects.requireNonNull(mrap, "mrap");
        Objects.requireNonNull(clientFactory, "clientFactory");
        Objects.requireNonNull(sleeper, "sleeper");
        if (maxRounds < 1 || maxRounds > 10) {
            throw new IllegalArgumentException("maxRounds must be 1 to 10, got " + maxRounds);
        }
        if (firstBackoff == null || firstBackoff.isNegative()) {
            throw new IllegalArgumentException("firstBackoff must be zero or more, got " + firstBackoff);
        }
        return new RouteDials(mrap, clientFactory, maxRounds, firstBackoff, sleeper);
    }

    /**
     * Reads the access point's routes.
     *
     * @return the routes, in S3's order
     * @throws S3ControlException if S3 Control refuses (access denied, no such access point)
     * @throws RegionsUnavailableException if no control region answered
     */
    public List<Route> routes() {
        return control.execute(Operation.read("GetMultiRegionAccessPointRoutes").build(), region ->
                client(region.id()).getMultiRegionAccessPointRoutes(b -> b.accountId(arn.accountId())
                        .mrap(arn.toString())).routes().stream()
                        .map(r -> new Route(r.region(), r.bucket(), r.trafficDialPercentage()))
                        .toList());
    }

    /**
     * Moves traffic off {@code from}: its dial to 0, {@code to}'s to 100 (other dials unchanged). Reads the routes
     * first and submits nothing if they are already so; in a dry run, logs and returns the update without submitting.
     *
     * @param from the region to drain
     * @param to the region to make active
     * @return what was done
     * @throws IllegalArgumentException if a region is not behind the access point, or both are the same
     * @throws S3ControlException if S3 Control refuses, or still reports a concurrent update after every round
     * @throws RegionsUnavailableException if no control region answered, after every round
     */
    public Result failover(String from, String to) {
        for (String r : List.of(from, to)) {
            if (!buckets.containsKey(r)) {
                throw new IllegalArgumentException("region " + r + " is not behind " + arn + "; its regions: "
                        + buckets.keySet());
            }
        }
        if (from.equals(to)) {
            throw new IllegalArgumentException("failover needs two regions, got " + from + " twice");
        }
        Duration backoff = firstBackoff;
        for (int round = 1; ; round++) {
            try {
                return attempt(from, to, round);
            } catch (S3ControlException | RegionsUnavailableException e) {
                if (round >= maxRounds || !retryable(e)) {
                    throw e;
                }
                LOG.info("route dials of {}: round {} failed ({}); trying again in {} ms", arn, round,
                        e.getMessage(), backoff.toMillis());
                pause(backoff);
                backoff = backoff.multipliedBy(2);
            }
        }
    }

    private Result attempt(String from, String to, int round) {
        List<Route> before = routes();
        List<Route> updates = new ArrayList<>();
        addIfChanged(before, from, 0, updates);
        addIfChanged(before, to, 100, updates);
        if (updates.isEmpty()) {
            return new Result(before, updates, false, dryRun, round);
        }
        if (dryRun) {
            LOG.warn("dry run: would submit route updates {} to {} (routes now {})", updates, arn, before);
            return new Result(before, updates, false, true, round);
        }
        List<MultiRegionAccessPointRoute> sdkUpdates = updates.stream()
                .map(u -> MultiRegionAccessPointRoute.builder().region(u.region()).bucket(u.bucket())
                        .trafficDialPercentage(u.dial()).build())
                .toList();
        control.execute(Operation.write("SubmitMultiRegionAccessPointRoutes").idempotent(true).build(), region ->
                client(region.id()).submitMultiRegionAccessPointRoutes(b -> b.accountId(arn.accountId())
                        .mrap(arn.toString()).routeUpdates(sdkUpdates)));
        LOG.warn("submitted route updates {} to {} (routes were {}); S3 may take up to 2 minutes to apply them",
                updates, arn, before);
        return new Result(before, updates, true, false, round);
    }

    private void addIfChanged(List<Route> before, String region, int dial, List<Route> updates) {
        Route now = before.stream().filter(r -> region.equals(r.region())).findFirst().orElse(null);
        if (now == null || now.dial() != dial) {
            updates.add(new Route(region, buckets.get(region), dial));
        }
    }

    private static boolean retryable(RuntimeException e) {
        return e instanceof RegionsUnavailableException
                || (e instanceof S3ControlException s && s.statusCode() == 409);
    }

    private void pause(Duration d) {
        try {
            sleeper.sleep(d);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to retry the route dials of " + arn, ie);
        }
    }

    /**
     * S3 Control's failures for the control engine: throttling and 5xx move to the next control region, I/O errors
     * and timeouts too (the calls are idempotent); 4xx, 409 included, are the caller's (409 is retried as a whole
     * round by {@link #failover}, since every control region would report the same conflict).
     */
    static FailureKind classify(Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof S3ControlException s) {
            if (s.statusCode() == 503 || s.statusCode() == 429) {
                return FailureKind.REGION_UNAVAILABLE;
            }
            return s.statusCode() >= 500 ? FailureKind.AMBIGUOUS : FailureKind.CALLER;
        }
        if (e instanceof SdkClientException || e instanceof IOException || e instanceof UncheckedIOException) {
            return FailureKind.AMBIGUOUS;
        }
        return FailureKind.CALLER;
    }

    private S3ControlClient client(String region) {
        return clients.computeIfAbsent(region, clientFactory);
    }

    /** Closes the control engine and the S3 Control clients made. */
    @Override
    public void close() {
        control.close();
        clients.values().forEach(S3ControlClient::close);
    }

    @Override
    public String toString() {
        return "RouteDials[" + arn + (dryRun ? ", dry run" : "") + "]";
    }
}
