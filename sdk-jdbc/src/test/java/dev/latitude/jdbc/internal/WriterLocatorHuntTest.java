package dev.latitude.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.jdbc.NoWriterException;
import dev.latitude.jdbc.SplitBrainException;
import dev.latitude.jdbc.WriterIdentity;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The hunt for a writer ({@link WriterLocator#awaitWriter}) on fake nodes whose answers the test sets: a promotion is
 * taken while the lost writer is still silent, a writer that answers as before waits for every region, and
 * concurrent callers share one hunt with at most one question per region at a time.
 */
class WriterLocatorHuntTest {
    private static final long SYSTEM = 7_000_000_000_000_000_001L;
    private static final WriterIdentity TIMELINE_1 = new WriterIdentity(SYSTEM, 1);
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final ExecutorService executor = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    @Test
    void awaitWriter_replicaPromotedWhileTheLostWriterIsSilent_takesItWithoutWaitingForTheSilence()
            throws Exception {
        FakeNode lost = FakeNode.down();
        FakeNode near = FakeNode.replica();
        FakeNode far = FakeNode.replica();
        WriterLocator locator = locator(Duration.ofSeconds(20), lost, near, far);

        Future<NodeState> found = executor.submit(() -> locator.awaitWriter(TIMELINE_1));
        // The lost writer's first question fails; a later one hangs (as a pool waiting for a dead node does).
        await(() -> lost.answered() >= 1, "a first answer of the lost writer");
        lost.hangFromNow();
        await(() -> lost.hanging() == 1, "a second question to the lost writer");
        far.promote(2);

        assertThat(found.get(WAIT.toSeconds(), TimeUnit.SECONDS).region()).isEqualTo("far");
        assertThat(lost.hanging()).isEqualTo(1); // decided while it was still silent
        lost.release();
    }

    @Test
    void awaitWriter_noWriterWithinTheTimeout_namesWhatEachRegionSaid() {
        WriterLocator locator = locator(Duration.ofSeconds(2), FakeNode.down(), FakeNode.replica(),
                FakeNode.replica());

        assertThatThrownBy(() -> locator.awaitWriter(TIMELINE_1)).isInstanceOfSatisfying(NoWriterException.class,
                e -> assertThat(e.answers()).containsEntry("near", "replica").containsEntry("far", "replica")
                        .hasEntrySatisfying("lost", a -> assertThat(a).startsWith("unreachable: ")));
    }

    @Test
    void awaitWriter_writerAnswersAsBefore_waitsForTheSilentRegion_andSeesASplitBrain() throws Exception {
        FakeNode old = FakeNode.down();
        FakeNode current = FakeNode.writer(2);
        WriterLocator locator = locator(Duration.ofSeconds(20), old, current, FakeNode.replica());
        assertThat(locator.locate()).isEqualTo("near"); // "old" is unreachable and "near" the writer, on timeline 2
        old.hangFromNow();

        // The writer lost was "near" itself (its connection broke): it answers with the identity it had, so the
        // silent region must be heard, and it turns out to be a writer too.
        Future<NodeState> search = executor.submit(() -> locator.awaitWriter(new WriterIdentity(SYSTEM, 2)));
        await(() -> old.hanging() == 1, "the question to the silent region");
        old.promote(1);
        old.release();

        assertThatThrownBy(() -> search.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                .hasCauseInstanceOf(SplitBrainException.class);
    }

    @Test
    void awaitWriter_manyCallersAtOnce_shareOneHuntAndAskEachRegionOneQuestionAtATime() throws Exception {
        FakeNode lost = FakeNode.down();
        FakeNode near = FakeNode.replica();
        FakeNode far = FakeNode.replica();
        WriterLocator locator = locator(Duration.ofSeconds(20), lost, near, far);
        int callers = 32;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<NodeState>> results = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            results.add(executor.submit(() -> {
                go.await();
                return locator.awaitWriter(TIMELINE_1);
            }));
        }
        go.countDown();
        await(() -> near.questions() >= 5, "a few searches");
        far.promote(2);

        for (Future<NodeState> r : results) {
            assertThat(r.get(WAIT.toSeconds(), TimeUnit.SECONDS).region()).isEqualTo("far");
        }
        for (FakeNode node : List.of(lost, near, far)) {
            assertThat(node.mostAtOnce()).isEqualTo(1);
        }
        // One hunt: the replicas were asked once per search, not once per caller per search.
        assertThat(near.questions()).isLessThan(callers);
    }

    private WriterLocator locator(Duration timeout, FakeNode lost, FakeNode near, FakeNode far) {
        Map<String, DataSource> regions = new LinkedHashMap<>();
        regions.put("lost", lost);
        regions.put("near", near);
        regions.put("far", far);
        return new WriterLocator(regions, executor, timeout);
    }

    /** Polls {@code condition} until it holds, for at most WAIT. */
    private static void await(java.util.function.BooleanSupplier condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(1);
        }
    }

    /**
     * A PostgreSQL node as {@link NodeInspector} sees it, through a data source whose connections answer its one
     * query: down (getting a connection fails at once, or hangs until released), a replica, or a writer on a timeline.
     */
    private static final class FakeNode extends ConnectionSource {
        private volatile boolean down;
        private volatile boolean inRecovery;
        private volatile int timeline = 1;
        private volatile CountDownLatch hang;
        private final AtomicInteger hanging = new AtomicInteger();
        private final AtomicInteger questions = new AtomicInteger();
        private final AtomicInteger answered = new AtomicInteger();
        private final AtomicInteger atOnce = new AtomicInteger();
        private final AtomicInteger mostAtOnce = new AtomicInteger();

        static FakeNode down() {
            FakeNode n = new FakeNode();
            n.down = true;
            return n;
        }

        static FakeNode replica() {
            FakeNode n = new FakeNode();
            n.inRecovery = true;
            return n;
        }

        static FakeNode writer(int timeline) {
            FakeNode n = new FakeNode();
            n.timeline = timeline;
            return n;
        }

        void promote(int newTimeline) {
            inRecovery = false;
            timeline = newTimeline;
            down = false;
        }

        /** From now on, getting a connection blocks until {@link #release()}. */
        void hangFromNow() {
            hang = new CountDownLatch(1);
        }

        void release() {
            CountDownLatch h = hang;
            hang = null;
            if (h != null) {
                h.countDown();
            }
        }

        int hanging() {
            return hanging.get();
        }

        int questions() {
            return questions.get();
        }

        int answered() {
            return answered.get();
        }

        int mostAtOnce() {
            return mostAtOnce.get();
        }

        @Override
        public Connection getConnection() throws SQLException {
            questions.incrementAndGet();
            mostAtOnce.accumulateAndGet(atOnce.incrementAndGet(), Math::max);
            try {
                CountDownLatch h = hang;
                if (h != null) {
                    hanging.incrementAndGet();
                    try {
                        h.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        hanging.decrementAndGet();
                    }
                }
                if (down) {
                    throw new SQLTransientConnectionException("connection refused");
                }
                return connection();
            } finally {
                atOnce.decrementAndGet();
                answered.incrementAndGet();
            }
        }

        private Connection connection() {
            boolean r = inRecovery;
            int tli = timeline;
            ResultSet rs = proxy(ResultSet.class, (name, args) -> switch (name) {
                case "next" -> true;
                case "getBoolean" -> r;
                case "getLong" -> switch ((int) args[0]) {
                    case 2 -> SYSTEM;
                    case 6 -> 8192L;
                    case 7 -> 16L << 20;
                    default -> 1000L;
                };
                case "getInt" -> tli;
                case "wasNull" -> false;
                default -> null;
            });
            PreparedStatement st = proxy(PreparedStatement.class, (name, args) -> name.equals("executeQuery") ? rs
                    : null);
            return proxy(Connection.class, (name, args) -> name.equals("prepareStatement") ? st : null);
        }

        /** Answers {@code answer(methodName, args)}; methods returning a primitive get a zero if it gives null. */
        @FunctionalInterface
        private interface Answer {
            Object answer(String method, Object[] args);
        }

        private static <T> T proxy(Class<T> type, Answer answer) {
            return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (p, m, args) -> {
                Object v = answer.answer(m.getName(), args);
                if (v == null && m.getReturnType() == boolean.class) {
                    return false;
                }
                if (v == null && m.getReturnType() == int.class) {
                    return 0;
                }
                return v;
            }));
        }
    }
}
