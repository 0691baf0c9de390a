package dev.latitude;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.latitude.InvalidSessionTokenException.Reason;
import dev.latitude.testing.ManualClock;
import dev.latitude.testing.MutableClock;
import io.opentelemetry.api.OpenTelemetry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Session tokens carry no personal data and cannot be turned against the service: forged, far-future, foreign-region,
 * expired, wrong-audience and unsigned tokens are each refused or neutralised, and counted.
 */
class SessionTokenSecurityTest {
    private static final String WRITER = "us-east-1";
    private static final String EU = "eu-west-1";
    private static final String TABLE = "profiles";
    private static final String EMAIL = "alice@example.com";
    private static final long NOW_MILLIS = 1_796_040_000_000L; // 2026-11-30T12:00:00Z
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private final MutableClock wall = new MutableClock(NOW_MILLIS);
    private final ManualClock ticker = new ManualClock();
    private final List<Latitude> engines = new ArrayList<>();

    @AfterEach
    void close() {
        engines.forEach(Latitude::close);
    }

    private Latitude engine() {
        Latitude l = Latitude.builder()
                .topology(Topology.builder()
                        .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").build())
                        .region(RegionSpec.builder(EU).jurisdiction("EU").build())
                        .localRegion(WRITER)
                        .build())
                .routingPolicy(RoutingPolicy.failover().priority(EU, WRITER).build())
                .dataPolicies(DataPolicies.builder()
                        .exact(TABLE, DataPolicy.builder().writeMode(WriteMode.MULTI_WRITER).build()).build())
                .ticker(ticker).scheduler(ticker)
                .clock(wall)
                .openTelemetry(OpenTelemetry.noop())
                .hedging(HedgingConfig.disabled())
                .build();
        engines.add(l);
        return l;
    }

    private SessionTokenCodec.Builder codec() {
        return SessionTokenCodec.builder().audience("profiles-service").clock(wall);
    }

    private SessionTokenCodec sealing() {
        return codec().signingKey("k1", SECRET).build();
    }

    /** An HLC stamp {@code aheadMillis} ahead of the wall clock. */
    private long stamp(long aheadMillis) {
        return HybridLogicalClock.timestamp(wall.millis() + aheadMillis, 0);
    }

    private static Reason reason(SessionTokenCodec codec, String text) {
        Throwable thrown = catchThrowable(() -> codec.decode(text));
        assertThat(thrown).isExactlyInstanceOf(InvalidSessionTokenException.class);
        return ((InvalidSessionTokenException) thrown).reason();
    }

    private static String rawBytes(String text) {
        return new String(Base64.getUrlDecoder().decode(text.split("\\.")[1]), StandardCharsets.ISO_8859_1);
    }

    // ------------------------------------------------------------------------------------------------ personal data

    @Test
    void aTokenHoldsNoKeyInClear() {
        SessionToken t = SessionToken.empty().withWrite(TABLE, EMAIL, stamp(0), WRITER)
                .withWrite(TABLE, "user:" + EMAIL, stamp(1), EU);
        String sealed = sealing().encode(t);
        assertThat(sealed).doesNotContain(EMAIL).doesNotContain(TABLE);
        assertThat(rawBytes(sealed)).as("the decoded bytes").doesNotContain(EMAIL).doesNotContain("alice")
                .doesNotContain(TABLE).doesNotContain(WRITER);
        assertThat(sealing().decode(sealed)).isEqualTo(t);

        SessionTokenCodec insecure = codec().insecureUnsigned().build();
        String unsigned = insecure.encode(t);
        assertThat(rawBytes(unsigned)).as("unsigned texts carry no keys").contains(TABLE).doesNotContain("alice");
        assertThat(insecure.decode(unsigned).requirement(TABLE, EMAIL).value())
                .as("folded into the class watermark: still required").isEqualTo(stamp(1));
    }

    @Test
    void toStringShowsNoKey_toDebugStringDoes() {
        SessionToken t = SessionToken.empty().withWrite(TABLE, EMAIL, 42, WRITER).withWrite(TABLE, "bob@example.com",
                43, EU).withWrite("carts", null, 7, EU);
        assertThat(t.toString()).doesNotContain("alice").doesNotContain("bob").contains(TABLE).contains("keys=2")
                .contains("42..43").contains(WRITER).contains(EU).contains("carts={whole=7@eu-west-1, keys=0}");
        assertThat(Session.of(t).toString()).doesNotContain("alice").startsWith("Session[SessionToken[");
        assertThat(t.toDebugString()).contains(EMAIL);
        assertThat(t.unverified().toString()).endsWith(", unverified]");
        assertThat(SessionToken.empty().unverified().toString()).isEqualTo("SessionToken[unverified]");
    }

    // ------------------------------------------------------------------------------------------------ refusals

    @Test
    void forged_isRefusedAndCounted() {
        SessionTokenCodec codec = sealing();
        String text = codec.encode(SessionToken.empty().withWrite(TABLE, EMAIL, stamp(0), WRITER));
        int at = text.indexOf('.') + 5;
        String flipped = text.substring(0, at) + (text.charAt(at) == 'A' ? 'B' : 'A') + text.substring(at + 1);
        assertThat(reason(codec, flipped)).isEqualTo(Reason.BAD_SIGNATURE);
        String otherSecret = codec().signingKey("k1", "another-secret-another-secret-32".getBytes(
                StandardCharsets.US_ASCII)).build().encode(SessionToken.empty().withWrite(TABLE, null, Long.MAX_VALUE,
                "nowhere"));
        assertThat(reason(codec, otherSecret)).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(codec.rejections(Reason.BAD_SIGNATURE)).isEqualTo(2);
        assertThat(codec.rejections(Reason.MALFORMED)).isZero();
    }

    @Test
    void expired_isRefusedWithTheFix() {
        SessionTokenCodec codec = codec().signingKey("k1", SECRET).timeToLive(Duration.ofHours(1)).build();
        String text = codec.encode(SessionToken.empty().withWrite(TABLE, EMAIL, stamp(0), WRITER));
        wall.advance(Duration.ofMinutes(59).toMillis());
        assertThat(codec.decode(text).isEmpty()).isFalse();
        wall.advance(Duration.ofMinutes(1).toMillis());
        Throwable thrown = catchThrowable(() -> codec.decode(text));
        assertThat(thrown).isInstanceOfSatisfying(InvalidSessionTokenException.class, e -> {
            assertThat(e.reason()).isEqualTo(Reason.EXPIRED);
            assertThat(e).hasMessageContaining("expired 0 s ago").hasMessageContaining("start a new session")
                    .hasMessageContaining("timeToLive (now 3600 s)");
        });
        assertThat(codec.rejections(Reason.EXPIRED)).isEqualTo(1);
    }

    @Test
    void issuedInTheFuture_beyondTheSkew_isRefused() {
        SessionTokenCodec codec = sealing();
        wall.advance(1_500);
        String ahead = codec.encode(SessionToken.empty().withWrite(TABLE, EMAIL, stamp(0), WRITER));
        wall.advance(-1_500);
        assertThat(codec.decode(ahead).isEmpty()).as("within the 500 ms skew, plus the rounding to seconds").isFalse();
        wall.advance(-1_000);
        Throwable thrown = catchThrowable(() -> codec.decode(ahead));
        assertThat(thrown).isInstanceOfSatisfying(InvalidSessionTokenException.class, e -> {
            assertThat(e.reason()).isEqualTo(Reason.NOT_YET_VALID);
            assertThat(e).hasMessageContaining("in the future").hasMessageContaining("clocks");
        });
        assertThat(codec.rejections(Reason.NOT_YET_VALID)).isEqualTo(1);
    }

    @Test
    void wrongAudience_isRefusedEvenWithTheSameKey() {
        SessionTokenCodec billing = SessionTokenCodec.builder().audience("billing-service").clock(wall)
                .signingKey("k1", SECRET).build();
        SessionTokenCodec profiles = sealing();
        String text = billing.encode(SessionToken.empty().withWrite(TABLE, EMAIL, stamp(0), WRITER));
        Throwable thrown = catchThrowable(() -> profiles.decode(text));
        assertThat(thrown).isInstanceOfSatisfying(InvalidSessionTokenException.class, e -> {
            assertThat(e.reason()).isEqualTo(Reason.WRONG_AUDIENCE);
            assertThat(e).hasMessageContaining("'profiles-service'").hasMessageNotContaining("billing");
        });
        assertThat(profiles.rejections(Reason.WRONG_AUDIENCE)).isEqualTo(1);
    }

    @Test
    void unsignedInStrict_isRefusedAndCounted() {
        String unsigned = codec().insecureUnsigned().build().encode(SessionToken.empty().withWrite(TABLE, null, 5,
                WRITER));
        SessionTokenCodec strict = sealing();
        Throwable thrown = catchThrowable(() -> strict.decode(unsigned));
        assertThat(thrown).isInstanceOfSatisfying(InvalidSessionTokenException.class, e -> {
            assertThat(e.reason()).isEqualTo(Reason.UNSIGNED);
            assertThat(e).hasMessageContaining("acceptUnsigned(true)");
        });
        assertThat(strict.rejections(Reason.UNSIGNED)).isEqualTo(1);
        assertThat(strict.unsignedAccepted()).isZero();
    }

    // ------------------------------------------------------------------------------------------------ neutralised

    @Test
    void rollout_acceptsUnsignedAsUnverified_andNeverReSignsIt() {
        Latitude l = engine();
        WatermarkBounds bounds = l.watermarkBounds();
        // the review's forged token: a watermark of Long.MAX_VALUE from region 'nowhere', plus one far ahead
        SessionToken forged = SessionToken.empty().withWrite(TABLE, null, Long.MAX_VALUE, "nowhere")
                .withWrite("carts", null, stamp(3_600_000), EU).withWrite("orders", null, stamp(-1_000), EU);
        String text = codec().insecureUnsigned().build().encode(forged);
        SessionTokenCodec rollout = codec().signingKey("k1", SECRET).acceptUnsigned(true).bounds(bounds).build();

        SessionToken accepted = rollout.decode(text);
        assertThat(accepted.isVerified()).isFalse();
        assertThat(accepted.dataClasses()).as("only the plausible watermark is left").containsExactly("orders");
        assertThat(rollout.unsignedAccepted()).isEqualTo(1);
        assertThat(bounds.droppedForeignRegion()).isEqualTo(1);
        assertThat(bounds.droppedBeyondClock()).isEqualTo(1);

        Session session = Session.of(accepted, bounds);
        session.recordWrite(TABLE, EMAIL, stamp(0), WRITER);
        assertThat(session.token().isVerified()).as("a session that took an unverified token stays so").isFalse();
        String again = rollout.encode(session.token());
        assertThat(again.split("\\.")).as("re-encoded unsigned, not signed").hasSize(2);
        assertThat(rawBytes(again)).doesNotContain(EMAIL);
        SessionTokenCodec strict = codec().signingKey("k1", SECRET).build();
        assertThat(reason(strict, again)).as("after the rollout it is refused").isEqualTo(Reason.UNSIGNED);

        // without bounds the codec keeps the forged watermarks, but still never signs them
        SessionTokenCodec unbounded = codec().signingKey("k1", SECRET).acceptUnsigned(true).build();
        SessionToken kept = unbounded.decode(text);
        assertThat(kept.classWatermark(TABLE).value()).isEqualTo(Long.MAX_VALUE);
        assertThat(reason(strict, unbounded.encode(kept))).isEqualTo(Reason.UNSIGNED);
        // and a verified token merged with it is not signed either
        SessionToken merged = SessionToken.empty().withWrite(TABLE, "k", 1, WRITER).merge(kept);
        assertThat(merged.isVerified()).isFalse();
        assertThat(unbounded.encode(merged).split("\\.")).hasSize(2);
    }

    @Test
    void farFutureAndForeignRegionWatermarks_areDroppedOnDecodeAndObserve_andCounted() {
        Latitude l = engine();
        WatermarkBounds bounds = l.watermarkBounds();
        SessionTokenCodec unboundedCodec = sealing(); // a signed token from a host whose clock ran far ahead
        SessionToken t = SessionToken.empty().withWrite(TABLE, EMAIL, stamp(60_000), WRITER)
                .withWrite(TABLE, "ok", stamp(400), WRITER).withWrite("carts", "c", stamp(0), "ap-nowhere-1");
        String text = unboundedCodec.encode(t);
        SessionToken decoded = codec().signingKey("k1", SECRET).bounds(bounds).build().decode(text);
        assertThat(decoded.requirement(TABLE, EMAIL)).as("treated as absent").isNull();
        assertThat(decoded.requirement(TABLE, "ok")).isEqualTo(new Watermark(stamp(400), WRITER));
        assertThat(decoded.dataClasses()).containsExactly(TABLE);
        assertThat(bounds.droppedBeyondClock()).isEqualTo(1);
        assertThat(bounds.droppedForeignRegion()).isEqualTo(1);

        Session session = Session.create(bounds);
        session.observe(t);
        assertThat(session.token()).isEqualTo(decoded);
        session.recordWrite(TABLE, "later", stamp(10_000), WRITER);
        session.recordRead(TABLE, "elsewhere", stamp(0), "nowhere");
        assertThat(session.token()).as("never recorded").isEqualTo(decoded);
        assertThat(bounds.droppedBeyondClock()).isEqualTo(3);
        assertThat(bounds.droppedForeignRegion()).isEqualTo(3);
        wall.advance(60_000);
        session.recordWrite(TABLE, EMAIL, stamp(0), WRITER);
        assertThat(session.token().requirement(TABLE, EMAIL)).as("once the clock is there").isNotNull();
    }

    @Test
    void engine_treatsAForgedRequirementAsAbsent_insteadOfTryingEveryRegion() {
        Latitude l = engine();
        Session forged = Session.of(SessionToken.empty().withWrite(TABLE, EMAIL, Long.MAX_VALUE, WRITER)
                .withWrite(TABLE, "k2", stamp(0), "nowhere"));
        List<String> asked = new ArrayList<>();
        CompletableFuture<Long> result = l.executeAsync(Operation.read("Get").dataClass(TABLE).key(EMAIL)
                .session(forged).build(), region -> {
                    asked.add(region.id());
                    return CompletableFuture.completedFuture(stamp(-5_000));
                }, stamp -> stamp);
        assertThat(result).isCompleted();
        assertThat(asked).as("one region, no failed checks").containsExactly(EU);
        assertThat(l.plan(Operation.read("Get").dataClass(TABLE).key("k2").session(forged).build()).regions())
                .hasSize(2);
        assertThat(l.watermarkBounds().droppedBeyondClock()).isPositive();
        assertThat(l.watermarkBounds().droppedForeignRegion()).isPositive();
    }

    @Test
    void engine_doesNotRecordAWriteStampTheClockRefused() {
        Latitude l = engine();
        Session session = Session.create(); // no bounds of its own: the engine's apply
        long farAhead = stamp(3_600_000);
        Operation put = Operation.write("Put").idempotent(true).dataClass(TABLE).key(EMAIL).session(session).build();
        assertThat(l.executeAsync(put, region -> CompletableFuture.completedFuture(farAhead), s -> s)).isCompleted();
        assertThat(catchThrowable(() -> l.hybridClock().observe(farAhead))).isInstanceOf(ClockSkewException.class);
        assertThat(session.token().isEmpty()).as("refused by the clock, so not recorded").isTrue();
        assertThat(l.watermarkBounds().droppedBeyondClock()).isEqualTo(1);

        long fine = l.hybridClock().now();
        assertThat(l.executeAsync(put, region -> CompletableFuture.completedFuture(fine), s -> s)).isCompleted();
        assertThat(session.token().requirement(TABLE, EMAIL).value()).isEqualTo(fine);
    }
}
