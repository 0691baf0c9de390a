package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SessionTest {
    private static final String[] REGIONS = {"us-east-1", "eu-west-1", "ap-southeast-2"};

    /** Runs {@code body(thread)} on {@code threads} threads started together; rethrows the first failure. */
    private static void concurrently(int threads, ThreadBody body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    body.run(thread);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @FunctionalInterface
    private interface ThreadBody {
        void run(int thread) throws Exception;
    }

    @Test
    void concurrentWritesAreAllRecorded() throws Exception {
        int threads = 8;
        int perThread = 2_000;
        Session session = Session.of(SessionToken.empty(), 100_000);
        HybridLogicalClock hlc = HybridLogicalClock.create(Clock.systemUTC(), Duration.ofMillis(500));
        long[][] stamps = new long[threads][perThread];

        concurrently(threads, t -> {
            for (int i = 0; i < perThread; i++) {
                long stamp = hlc.now();
                stamps[t][i] = stamp;
                session.recordWrite("class-" + (i % 10), "t" + t + "-" + i, stamp, REGIONS[(t + i) % 3]);
            }
        });

        SessionToken token = session.token();
        assertThat(token.keyCount()).isEqualTo(threads * perThread);
        assertThat(token.dataClasses()).hasSize(10);
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                String c = "class-" + (i % 10);
                String k = "t" + t + "-" + i;
                assertThat(token.requirement(c, k)).as("write %s/%s", c, k)
                        .isEqualTo(new Watermark(stamps[t][i], REGIONS[(t + i) % 3]));
                assertThat(token.isKeyLevel(c, k)).isTrue();
            }
        }
    }

    @Test
    void concurrentWritesAndObservationsLoseNothingAndKeepTheBound() throws Exception {
        int threads = 8;
        int perThread = 1_000;
        int maxKeys = 64;
        Session session = Session.of(SessionToken.empty(), maxKeys);
        long[][] marks = new long[threads][perThread];

        concurrently(threads, t -> {
            for (int i = 0; i < perThread; i++) {
                long mark = 1_000L * i + t;
                marks[t][i] = mark;
                String c = "class-" + (t % 3);
                if (t % 2 == 0) {
                    session.recordWrite(c, "t" + t + "-" + i, mark, REGIONS[t % 3]);
                } else { // another request of the same session finished elsewhere
                    session.observe(SessionToken.empty().withWrite(c, "t" + t + "-" + i, mark, REGIONS[t % 3]));
                }
                if (session.token().keyCount() > maxKeys) {
                    throw new AssertionError("bound exceeded: " + session.token().keyCount());
                }
            }
        });

        SessionToken token = session.token();
        assertThat(token.keyCount()).isLessThanOrEqualTo(maxKeys);
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                assertThat(token.requirement("class-" + (t % 3), "t" + t + "-" + i).value())
                        .isGreaterThanOrEqualTo(marks[t][i]);
            }
        }
        // the largest watermark of each class survives exactly
        for (int c = 0; c < 3; c++) {
            long max = -1;
            for (int t = 0; t < threads; t++) {
                if (t % 3 == c) {
                    max = Math.max(max, marks[t][perThread - 1]);
                }
            }
            assertThat(token.requirement("class-" + c, null).value()).isEqualTo(max);
        }
    }

    @Test
    void theKeyBoundHoldsAfterEveryWriteAndRequirementsOnlyRise() {
        Session session = Session.of(SessionToken.empty(), 16);
        SessionToken full = SessionToken.empty();
        for (int i = 0; i < 500; i++) {
            String c = "class-" + (i % 3);
            String k = "key-" + (i * 7919 % 113);
            long mark = (i * 31L) % 1_000;
            String region = REGIONS[i % 3];
            session.recordWrite(c, i % 50 == 0 ? null : k, mark, region);
            full = full.withWrite(c, i % 50 == 0 ? null : k, mark, region);
            SessionToken token = session.token();
            assertThat(token.keyCount()).isLessThanOrEqualTo(16);
            for (int j = 0; j < 113; j += 7) {
                Watermark need = full.requirement(c, "key-" + j);
                if (need != null) {
                    assertThat(token.requirement(c, "key-" + j).value()).isGreaterThanOrEqualTo(need.value());
                }
            }
            assertThat(token.requirement(c, null)).isEqualTo(full.requirement(c, null));
        }
    }

    @Test
    void theDefaultBoundIs512Keys() {
        Session session = Session.create();
        assertThat(session.token().isEmpty()).isTrue();
        for (int i = 0; i < 600; i++) {
            session.recordWrite("orders", "o" + i, i + 1, "us-east-1");
        }
        assertThat(Session.DEFAULT_MAX_KEYS).isEqualTo(512);
        assertThat(session.token().keyCount()).isEqualTo(512);
        // the oldest 88 keys were folded into the class watermark
        assertThat(session.token().classWatermark("orders")).isEqualTo(new Watermark(88, "us-east-1"));
        assertThat(session.token().isKeyLevel("orders", "o87")).isFalse();
        assertThat(session.token().isKeyLevel("orders", "o88")).isTrue();
        assertThat(session.token().requirement("orders", "o0").value()).isEqualTo(88);
    }

    @Test
    void resumingCollapsesTheGivenTokenToTheBound() {
        SessionToken t = SessionToken.empty();
        for (int i = 0; i < 20; i++) {
            t = t.withWrite("orders", "o" + i, 100 + i, "us-east-1");
        }
        assertThat(Session.of(t, 5).token().keyCount()).isEqualTo(5);
        assertThat(Session.of(t, 0).token().keyCount()).isZero();
        assertThat(Session.of(t, 0).token().requirement("orders", "anything").value()).isEqualTo(119);
        assertThat(Session.of(t).token()).isEqualTo(t);
        assertThat(Session.of(t, 100_000).token()).isEqualTo(t);
    }

    @Test
    void observeMergesAndRecordWriteAdvances() {
        Session session = Session.of(SessionToken.empty().withWrite("orders", "a", 5, "us-east-1"));
        session.observe(SessionToken.empty().withWrite("orders", "a", 3, "eu-west-1").withWrite("users", null, 7,
                "eu-west-1"));
        assertThat(session.token().requirement("orders", "a")).isEqualTo(new Watermark(5, "us-east-1"));
        assertThat(session.token().requirement("users", "u")).isEqualTo(new Watermark(7, "eu-west-1"));
        session.recordWrite("orders", "a", 9, "eu-west-1");
        assertThat(session.token().requirement("orders", "a")).isEqualTo(new Watermark(9, "eu-west-1"));
        session.observe(SessionToken.empty());
        assertThat(session.token().requirement("orders", "a").value()).isEqualTo(9);
        assertThat(session.toString()).startsWith("Session[").contains("orders");
    }

    @Test
    void argumentErrors() {
        assertConfigError(() -> Session.of(SessionToken.empty(), -1), "session.maxKeys", "-1 is outside [0, 100000]");
        assertConfigError(() -> Session.of(SessionToken.empty(), 100_001), "session.maxKeys", "100001");
        assertThatThrownBy(() -> Session.of(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Session.of(null, 10)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Session.create().observe(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Session.create().recordWrite("orders", "a", -1, "us-east-1"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The OpenTelemetry context

    @Test
    void aSessionStoredInAContextIsFoundThere() {
        Session session = Session.create();
        Context ctx = session.storeIn(Context.root());
        assertThat(Session.fromContext(ctx)).isSameAs(session);
        assertThat(Session.fromContext(Context.root())).isNull();
        Session other = Session.create();
        assertThat(Session.fromContext(other.storeIn(ctx))).isSameAs(other);
        assertThat(Session.fromContext(ctx)).as("contexts are immutable").isSameAs(session);
    }

    @Test
    void currentFollowsTheCurrentContext() throws Exception {
        assertThat(Session.current()).isNull();
        Session outer = Session.create();
        Session inner = Session.create();
        try (Scope ignored = outer.storeIn(Context.current()).makeCurrent()) {
            assertThat(Session.current()).isSameAs(outer);
            try (Scope ignored2 = inner.storeIn(Context.current()).makeCurrent()) {
                assertThat(Session.current()).isSameAs(inner);
            }
            assertThat(Session.current()).isSameAs(outer);

            // follows async code that propagates the context
            ExecutorService pool = Context.taskWrapping(Executors.newSingleThreadExecutor());
            try {
                Session seen = CompletableFuture.supplyAsync(() -> {
                    Session s = Session.current();
                    s.recordWrite("orders", "from-another-thread", 42, "eu-west-1");
                    return s;
                }, pool).get(10, TimeUnit.SECONDS);
                assertThat(seen).isSameAs(outer);
            } finally {
                pool.shutdownNow();
            }
            assertThat(outer.token().requirement("orders", "from-another-thread").value()).isEqualTo(42);
        }
        assertThat(Session.current()).isNull();
    }

    @Test
    void aSessionSurvivesAnEncodeDecodeRoundTripThroughTheCodec() {
        SessionTokenCodec codec = SessionTokenCodec.builder().audience("test").signingKey("k1", new byte[32]).build();
        Session first = Session.create();
        first.recordWrite("orders", "o1", 10, "us-east-1");
        first.recordWrite("users", null, 20, "eu-west-1");
        Session resumed = Session.of(codec.decode(codec.encode(first.token())));
        assertThat(resumed.token()).isEqualTo(first.token());
    }
}
