package dev.latitude.samples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.ConsistencyLevel;
import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.FailureKind;
import dev.latitude.HedgingConfig;
import dev.latitude.Latitude;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.RoutingPolicy;
import dev.latitude.Session;
import dev.latitude.SessionTokenCodec;
import dev.latitude.Topology;
import dev.latitude.WriteMode;
import dev.latitude.dynamodb.MultiRegionDynamoDbClient;
import dev.latitude.spi.ErrorClassifier;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The README's Java snippets, compiled and run: the engine over a profile service that has one in-memory store per
 * region, sessions carried in a header, and the DynamoDB client's builder.
 */
class ReadmeSnippetsTest {
    /** A profile, stamped with the hybrid-logical-clock time of the write that produced it. */
    record Profile(long id, String name, long writeStamp) {
    }

    record Order(String id, long cents) {
    }

    record Receipt(String orderId, String region) {
    }

    /** What a region of the profile service throws when it sheds load. */
    static final class ProfileServiceBusyException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ProfileServiceBusyException(String region) {
            super(region + " is shedding load");
        }
    }

    /** One region of a profile service: its own store, no replication (so a session has something to prove). */
    static final class ProfileClient {
        private final String region;
        private final Map<Long, Profile> store = new ConcurrentHashMap<>();
        private volatile RuntimeException down;

        ProfileClient(String region) {
            this.region = region;
        }

        Profile getProfile(long id) {
            if (down != null) {
                throw down;
            }
            return store.getOrDefault(id, new Profile(id, "unknown", -1));
        }

        CompletableFuture<Receipt> charge(Order order) {
            return down != null ? CompletableFuture.failedFuture(down)
                    : CompletableFuture.completedFuture(new Receipt(order.id(), region));
        }

        CompletableFuture<Profile> put(Profile profile) {
            store.put(profile.id(), profile);
            return CompletableFuture.completedFuture(profile);
        }
    }

    /** The request and response of a web framework, as far as the snippet needs them. */
    static final class Http {
        final Map<String, String> headers = new HashMap<>();

        String getHeader(String name) {
            return headers.get(name);
        }

        void setHeader(String name, String value) {
            headers.put(name, value);
        }
    }

    private final Map<String, ProfileClient> clients = Map.of(
            "us-east-1", new ProfileClient("us-east-1"),
            "us-west-2", new ProfileClient("us-west-2"),
            "eu-west-1", new ProfileClient("eu-west-1"));

    @Test
    void engineUsage() {
        String localRegion = "us-west-2";
        clients.get("us-west-2").down = new ProfileServiceBusyException("us-west-2");
        clients.get("us-east-1").store.put(42L, new Profile(42, "Ada", 1));
        Order order = new Order("o-1", 1999);

        // snippet: readme-engine
        Topology topology = Topology.builder()
            .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").location(38.9, -77.4).build())
            .region(RegionSpec.builder("us-west-2").jurisdiction("US").location(45.8, -119.7).build())
            .region(RegionSpec.builder("eu-west-1").jurisdiction("EU").location(53.35, -6.26).build())
            .localRegion(localRegion)                   // where this process runs, e.g. from AWS_REGION
            .build();

        // Which failures are the region's (try the next one), the caller's, or ambiguous. Rules for your client's own
        // exceptions come first; ErrorClassifier.defaults() does the rest (connect failures, resets, timeouts, 5xx).
        ErrorClassifier classifier = ErrorClassifier.builder()
            .on(ProfileServiceBusyException.class, FailureKind.REGION_UNAVAILABLE)
            .build();

        Latitude latitude = Latitude.builder()
            .topology(topology)
            .routingPolicy(RoutingPolicy.latency().window(Duration.ofMillis(15)).build())
            .errorClassifier(classifier)
            .attemptTimeout(Duration.ofMillis(300))     // stop waiting only for one region after this: try the next beside it
            .hedging(HedgingConfig.builder().percentile(95).budgetRatio(0.05).build())
            .build();

        Operation getProfile = Operation.read("GetProfile").dataClass("profiles").build();
        Profile p = latitude.execute(getProfile, region -> clients.get(region.id()).getProfile(42));

        Operation charge = Operation.write("Charge").build();   // not idempotent: never retried after an unknown outcome
        CompletableFuture<Receipt> receipt =
            latitude.executeAsync(charge, region -> clients.get(region.id()).charge(order));
        // end snippet

        try (latitude) {
            // us-west-2 is local but busy: the read moved on to the next region, which has the profile.
            assertThat(p.name()).isEqualTo("Ada");
            assertThat(receipt.join().region()).isEqualTo("us-east-1"); // writes go to the writer region
        }
    }

    @Test
    void defaultsFailOverOnAHandMadeClientsIoErrors() {
        // A hand-made HTTP client wrapper typically throws UncheckedIOException: the defaults move the call on.
        clients.get("us-west-2").down = new java.io.UncheckedIOException(new ConnectException("Connection refused"));
        clients.get("us-east-1").store.put(7L, new Profile(7, "Grace", 1));
        Topology topology = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().location(38.9, -77.4).build())
                .region(RegionSpec.builder("us-west-2").location(45.8, -119.7).build())
                .localRegion("us-west-2").build();
        try (Latitude latitude = Latitude.builder().topology(topology).openTelemetry(OpenTelemetry.noop()).build()) {
            Profile p = latitude.execute(Operation.read("GetProfile").build(),
                    region -> clients.get(region.id()).getProfile(7));
            assertThat(p.name()).isEqualTo("Grace");
        }
    }

    @Test
    void sessionsAcrossRequests() {
        Topology topology = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder("us-west-2").jurisdiction("US").location(45.8, -119.7).build())
                .region(RegionSpec.builder("eu-west-1").writer().jurisdiction("EU").location(53.35, -6.26).build())
                .localRegion("us-west-2").build();
        byte[] secret = "a 32-byte secret for tests only!".getBytes(StandardCharsets.UTF_8);
        byte[] previousSecret = "the previous 32-byte test secret".getBytes(StandardCharsets.UTF_8);
        Http request = new Http();
        Http response = new Http();
        long id = 42;

        // snippet: readme-sessions
        DataPolicies policies = DataPolicies.builder()
            .exact("ledger", DataPolicy.builder().consistency(ConsistencyLevel.STRONG).build())
            .prefix("eu_", DataPolicy.builder().residency("EU").writerRegion("eu-west-1").build())
            .build();
        Latitude latitude = Latitude.builder().topology(topology).dataPolicies(policies).build();
        // Stamps writes: the watermark a result carries, so the session can tell a replica that has it from one that has not.
        var clock = latitude.hybridClock();

        SessionTokenCodec codec = SessionTokenCodec.builder()
            .signingKey("k2026-11", secret)              // ≥ 32 random bytes from your secret store; sealed by default
            .verificationKey("k2026-10", previousSecret) // optional: the key being rotated out
            .audience("profile-service.prod")            // tokens of other services are refused
            .bounds(latitude.watermarkBounds())          // watermarks of unknown regions or from the future are dropped
            .build();
        // No header (a first request) is a new session; a forged or expired one throws InvalidSessionTokenException.
        Session session = Session.of(codec.decode(request.getHeader("X-Session-Token")), latitude.watermarkBounds());
        try (Scope s = session.storeIn(Context.current()).makeCurrent()) {
            Profile written = latitude.executeAsync(
                Operation.write("PutProfile").idempotent(true).dataClass("profiles").key(Long.toString(id)).build(),
                region -> clients.get(region.id()).put(new Profile(id, "Ada", clock.now())),
                Profile::writeStamp).join();                                     // advances the session's token
            Profile read = latitude.executeAsync(
                Operation.read("GetProfile").dataClass("profiles").key(Long.toString(id)).build(),
                region -> CompletableFuture.completedFuture(clients.get(region.id()).getProfile(id)),
                Profile::writeStamp).join();                                     // sees that write, from whichever region
        }
        response.setHeader("X-Session-Token", codec.encode(session.token()));
        // end snippet

        try (latitude) {
            // The next request carries the token: its read must see the write although only us-east-1 has it.
            Http next = new Http();
            next.setHeader("X-Session-Token", response.getHeader("X-Session-Token"));
            Session carried = Session.of(codec.decode(next.getHeader("X-Session-Token")), latitude.watermarkBounds());
            Profile read = latitude.execute(Operation.read("GetProfile").dataClass("profiles").key("42")
                    .session(carried).build(), region -> clients.get(region.id()).getProfile(42), Profile::writeStamp);
            assertThat(read.name()).isEqualTo("Ada");
            assertThat(clients.get("us-west-2").store).isEmpty();
        }
    }

    @Test
    void dynamoDbClientBuilds() {
        AwsCredentialsProvider credentials = StaticCredentialsProvider.create(
                AwsBasicCredentials.create("AKIDEXAMPLE", "not-a-real-secret"));
        Topology topology = Topology.builder()
                .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").location(38.9, -77.4).build())
                .region(RegionSpec.builder("us-west-2").writer().jurisdiction("US").location(45.8, -119.7).build())
                .region(RegionSpec.builder("eu-west-1").writer().jurisdiction("EU").location(53.35, -6.26).build())
                .localRegion("us-east-1").build();

        // snippet: readme-dynamodb
        // A global table takes writes in every region: mark each region writer(); data policies pick the writer
        // region per table (the local one unless set) or make a table multi-writer.
        MultiRegionDynamoDbClient dynamo = MultiRegionDynamoDbClient.builder()
            .topology(topology)                                   // ids are the AWS region names
            .buildClients((region, b) -> b.credentialsProvider(credentials)) // or .regionClient(region, yourClient)
            .dataPolicies(DataPolicies.builder()
                .exact("customers_eu", DataPolicy.builder().residency("EU").writerRegion("eu-west-1").build())
                .exact("carts", DataPolicy.builder().writeMode(WriteMode.MULTI_WRITER).build())
                .build())
            .attemptTimeout(Duration.ofMillis(300))               // engine settings; router(r -> ...) for the rest
            .build();
        // end snippet

        // Built without sending anything (no heartbeats, no warm-up): check where calls would go, then close.
        try (dynamo) {
            Latitude engine = dynamo.latitude();
            assertThat(engine.plan(Operation.write("PutItem").dataClass("customers_eu").build()).regions())
                    .extracting(RegionSpec::id).containsExactly("eu-west-1");
            // Other tables: the local region first; the other writable regions only if it cannot serve.
            assertThat(engine.plan(Operation.write("PutItem").dataClass("orders").build()).regions())
                    .extracting(RegionSpec::id).startsWith("us-east-1");
        }
    }
}
