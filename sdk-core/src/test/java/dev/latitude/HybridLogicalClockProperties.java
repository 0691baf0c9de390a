package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.testing.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * Properties of {@link HybridLogicalClock} under arbitrary wall-clock behaviour: steps forwards and backwards, bursts
 * of events within one millisecond, remote timestamps inside and beyond the skew bound, and two processes with skewed
 * clocks exchanging messages.
 */
class HybridLogicalClockProperties {
    /** Around 2023-11; far from both ends of the 47-bit millisecond range. */
    private static final long EPOCH = 1_700_000_000_000L;
    private static final long MAX_MILLIS = (1L << 47) - 1;

    // ---------------------------------------------------------------------------------------------------------
    // One process: wall-clock steps, local events and observed remote timestamps

    /** One step of a single-process run. */
    sealed interface Op permits Step, Now, Burst, Observe {
    }

    /** The wall clock is stepped by {@code deltaMillis} (negative: NTP stepped it back). */
    record Step(long deltaMillis) implements Op {
    }

    /** One local event. */
    record Now() implements Op {
    }

    /** {@code count} local events without the wall clock moving (exercises the logical counter). */
    record Burst(int count) implements Op {
    }

    /**
     * A remote timestamp {@code offsetMillis} from the local wall clock is observed; the offset is at most the skew
     * bound, so it is accepted.
     */
    record Observe(long offsetMillis, int logical) implements Op {
    }

    /** A weighted choice for {@link Arbitraries#frequencyOf}. */
    static <T> Tuple.Tuple2<Integer, Arbitrary<? extends T>> w(int weight, Arbitrary<? extends T> arbitrary) {
        return Tuple.of(weight, arbitrary);
    }

    @Provide
    Arbitrary<Integer> skews() {
        return Arbitraries.<Integer>frequencyOf(
                w(1, Arbitraries.of(1, 2, 3_600_000)),
                w(4, Arbitraries.integers().between(1, 2_000)));
    }

    private static Arbitrary<Op> ops(int maxSkew) {
        Arbitrary<Op> step = Arbitraries.<Long>frequencyOf(
                w(6, Arbitraries.longs().between(0, 50)),
                w(2, Arbitraries.longs().between(-50, -1)),
                w(1, Arbitraries.longs().between(-10_000, 10_000)))
                .map(Step::new);
        Arbitrary<Op> observe = Combinators.combine(
                        Arbitraries.<Long>frequencyOf(
                                w(3, Arbitraries.longs().between(-5_000, maxSkew)),
                                w(1, Arbitraries.longs().between(Math.max(-5_000, maxSkew - 3), maxSkew))),
                        Arbitraries.<Integer>frequencyOf(
                                w(3, Arbitraries.integers().between(0, 65_535)),
                                w(1, Arbitraries.of(0, 1, 65_534, 65_535))))
                .as(Observe::new);
        return Arbitraries.<Op>frequencyOf(
                w(5, Arbitraries.just(new Now())),
                w(3, step),
                w(3, observe),
                w(1, Arbitraries.integers().between(2, 300).map(Burst::new)));
    }

    @Provide
    Arbitrary<Scenario> scenarios() {
        return skews().flatMap(skew -> ops(skew).list().ofMaxSize(80).map(ops -> new Scenario(skew, ops)));
    }

    record Scenario(int maxSkewMillis, List<Op> ops) {
    }

    /**
     * Runs a scenario against a clock, checking after every local event that the timestamp is strictly greater than
     * every timestamp issued or observed before, at least the wall clock, and no more than that requires (so it never
     * runs ahead on its own): exactly {@code max(previous + 1, wall)}.
     */
    private static final class Runner {
        final MutableClock wall = new MutableClock(EPOCH);
        final HybridLogicalClock hlc;
        /** The largest timestamp this clock has issued or observed; 0 before any. */
        long last;
        /** The last timestamp issued by now(); -1 before any. */
        long lastIssued = -1;
        int events;

        Runner(int maxSkewMillis) {
            hlc = HybridLogicalClock.create(wall, Duration.ofMillis(maxSkewMillis));
        }

        long now() {
            long wallMillis = wall.millis();
            long ts = hlc.now();
            assertThat(ts).as("strictly after the previous local timestamp").isGreaterThan(lastIssued);
            assertThat(ts).as("after everything issued or observed before").isGreaterThan(last);
            assertThat(HybridLogicalClock.millis(ts)).as("at least the wall clock").isGreaterThanOrEqualTo(wallMillis);
            assertThat(ts).as("max(last + 1, wall): no further ahead than needed")
                    .isEqualTo(Math.max(last + 1, wallMillis << 16));
            last = ts;
            lastIssued = ts;
            events++;
            return ts;
        }

        void apply(Op op) {
            if (op instanceof Step s) {
                wall.set(Math.max(0, wall.millis() + s.deltaMillis()));
            } else if (op instanceof Now) {
                now();
            } else if (op instanceof Burst b) {
                for (int i = 0; i < b.count(); i++) {
                    now();
                }
            } else if (op instanceof Observe o) {
                long remoteMillis = Math.max(0, wall.millis() + o.offsetMillis());
                long remote = HybridLogicalClock.timestamp(remoteMillis, o.logical());
                hlc.observe(remote);
                last = Math.max(last, remote);
            }
        }
    }

    @Property(tries = 300)
    void localTimestampsIncreaseFollowTheWallClockAndPassObservedOnes(@ForAll("scenarios") Scenario scenario) {
        Runner r = new Runner(scenario.maxSkewMillis());
        scenario.ops().forEach(r::apply);
        r.apply(new Now()); // at least one event per run
        assertThat(r.events).isPositive();
    }

    @Property(tries = 300)
    void everyTimestampAfterAnObservationIsGreaterThanTheRemoteOne(@ForAll("scenarios") Scenario scenario,
            @ForAll @LongRange(min = -5_000, max = 0) long remoteOffset,
            @ForAll @IntRange(min = 0, max = 65_535) int remoteLogical,
            @ForAll @IntRange(min = 1, max = 50) int laterEvents) {
        Runner r = new Runner(scenario.maxSkewMillis());
        scenario.ops().forEach(r::apply);
        long offset = Math.min(remoteOffset + scenario.maxSkewMillis(), scenario.maxSkewMillis());
        long remote = HybridLogicalClock.timestamp(Math.max(0, r.wall.millis() + offset), remoteLogical);
        r.hlc.observe(remote);
        for (int i = 0; i < laterEvents; i++) {
            if (i % 7 == 3) {
                r.wall.advance(-1_000); // the wall clock stepping back does not undo the observation
            }
            assertThat(r.hlc.now()).isGreaterThan(remote);
        }
    }

    @Property(tries = 300)
    void aRemoteTimestampBeyondTheSkewBoundIsRefusedAndDoesNotMoveTheClock(@ForAll("scenarios") Scenario scenario,
            @ForAll @LongRange(min = 1, max = 10_000_000) long beyond,
            @ForAll @IntRange(min = 0, max = 65_535) int remoteLogical) {
        Runner r = new Runner(scenario.maxSkewMillis());
        scenario.ops().forEach(r::apply);
        long ahead = scenario.maxSkewMillis() + beyond;
        long remote = HybridLogicalClock.timestamp(r.wall.millis() + ahead, remoteLogical);

        assertThatThrownBy(() -> r.hlc.observe(remote))
                .isInstanceOfSatisfying(ClockSkewException.class, e -> {
                    assertThat(e.aheadMillis()).isEqualTo(ahead);
                    assertThat(e.maxSkewMillis()).isEqualTo(scenario.maxSkewMillis());
                    assertThat(e).hasMessageContaining(ahead + " ms ahead")
                            .hasMessageContaining("maximum skew of " + scenario.maxSkewMillis() + " ms");
                });
        // Not moved: the next timestamp is exactly max(last + 1, wall), as if the observation had not happened.
        r.now();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Two processes with skewed clocks exchanging messages

    /** One step of a two-process run; process 0 is A, 1 is B. */
    sealed interface Msg permits Advance, Local, Send, Deliver {
    }

    /** Real time moves forward by {@code millis} for both processes. */
    record Advance(long millis) implements Msg {
    }

    /** A local event in process {@code p}. */
    record Local(int p) implements Msg {
    }

    /** Process {@code p} sends a message (stamped by a local event) to the other. */
    record Send(int p) implements Msg {
    }

    /**
     * The message in flight to process {@code p} at queue position {@code index} modulo the queue size (so messages
     * may be reordered) is delivered: the receiver observes its stamp, then stamps the receive event.
     */
    record Deliver(int p, int index) implements Msg {
    }

    record TwoProcesses(int maxSkewMillis, long offsetA, long offsetB, List<Msg> steps) {
    }

    @Provide
    Arbitrary<TwoProcesses> twoProcesses() {
        Arbitrary<Msg> step = Arbitraries.<Msg>frequencyOf(
                w(3, Arbitraries.longs().between(0, 30).map(Advance::new)),
                w(3, Arbitraries.integers().between(0, 1).map(Local::new)),
                w(4, Arbitraries.integers().between(0, 1).map(Send::new)),
                w(4, Combinators.combine(Arbitraries.integers().between(0, 1),
                        Arbitraries.integers().between(0, 10)).as(Deliver::new)));
        return Arbitraries.integers().between(1, 2_000).flatMap(skew ->
                // |offsetA - offsetB| < skew: each offset within (-skew/2, skew/2]
                Combinators.combine(
                        Arbitraries.longs().between(-(skew - 1) / 2, skew / 2),
                        Arbitraries.longs().between(-(skew - 1) / 2, skew / 2),
                        step.list().ofMaxSize(120))
                        .as((a, b, steps) -> new TwoProcesses(skew, a, b, steps)));
    }

    @Property(tries = 300)
    void twoProcessesWithSkewedClocksKeepCausality(@ForAll("twoProcesses") TwoProcesses run) {
        assertThat(Math.abs(run.offsetA() - run.offsetB())).isLessThan(run.maxSkewMillis());
        long[] offsets = {run.offsetA(), run.offsetB()};
        MutableClock[] walls = {new MutableClock(EPOCH + offsets[0]), new MutableClock(EPOCH + offsets[1])};
        HybridLogicalClock[] hlcs = new HybridLogicalClock[2];
        for (int p = 0; p < 2; p++) {
            hlcs[p] = HybridLogicalClock.create(walls[p], Duration.ofMillis(run.maxSkewMillis()));
        }
        // Per process: the largest timestamp in its causal past (its own events and every message received).
        long[] causalPast = {-1, -1};
        List<List<Long>> inFlight = List.of(new ArrayList<>(), new ArrayList<>()); // to process p
        long realTime = EPOCH;

        for (Msg m : run.steps()) {
            if (m instanceof Advance a) {
                realTime += a.millis();
                for (int p = 0; p < 2; p++) {
                    walls[p].set(realTime + offsets[p]);
                }
            } else if (m instanceof Local l) {
                causalPast[l.p()] = event(hlcs[l.p()], causalPast[l.p()]);
            } else if (m instanceof Send s) {
                long stamp = event(hlcs[s.p()], causalPast[s.p()]);
                causalPast[s.p()] = stamp;
                inFlight.get(1 - s.p()).add(stamp);
            } else if (m instanceof Deliver d) {
                List<Long> queue = inFlight.get(d.p());
                if (queue.isEmpty()) {
                    continue;
                }
                long stamp = queue.remove(d.index() % queue.size());
                hlcs[d.p()].observe(stamp); // within the bound by construction: must not throw
                long received = event(hlcs[d.p()], Math.max(causalPast[d.p()], stamp));
                assertThat(received).as("receive after send").isGreaterThan(stamp);
                causalPast[d.p()] = received;
            }
        }
    }

    /** Stamps an event of a process and checks it orders after everything in the process's causal past. */
    private static long event(HybridLogicalClock hlc, long causalPast) {
        long ts = hlc.now();
        assertThat(ts).as("an event orders after its causal past").isGreaterThan(causalPast);
        return ts;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Timestamp layout

    @Property(tries = 500)
    void timestampRoundTrips(@ForAll @LongRange(min = 0, max = MAX_MILLIS) long millis,
            @ForAll @IntRange(min = 0, max = 65_535) int logical) {
        long ts = HybridLogicalClock.timestamp(millis, logical);
        assertThat(ts).isNotNegative();
        assertThat(HybridLogicalClock.millis(ts)).isEqualTo(millis);
        assertThat(HybridLogicalClock.logical(ts)).isEqualTo(logical);
    }

    @Property(tries = 500)
    void timestampsCompareLikeMillisThenLogical(@ForAll @LongRange(min = 0, max = MAX_MILLIS) long m1,
            @ForAll @IntRange(min = 0, max = 65_535) int l1, @ForAll @LongRange(min = -2, max = 2) long dm,
            @ForAll @IntRange(min = 0, max = 65_535) int l2) {
        long m2 = Math.max(0, Math.min(MAX_MILLIS, m1 + dm));
        int expected = m1 != m2 ? Long.compare(m1, m2) : Integer.compare(l1, l2);
        assertThat(Integer.signum(Long.compare(HybridLogicalClock.timestamp(m1, l1),
                HybridLogicalClock.timestamp(m2, l2)))).isEqualTo(Integer.signum(expected));
    }

    @Example
    void timestampBoundaries() {
        assertThat(HybridLogicalClock.timestamp(0, 0)).isZero();
        assertThat(HybridLogicalClock.timestamp(MAX_MILLIS, 65_535)).isEqualTo(Long.MAX_VALUE);
        assertThat(HybridLogicalClock.timestamp(1, 0)).isEqualTo(65_536L);
        assertThat(HybridLogicalClock.millis(Long.MAX_VALUE)).isEqualTo(MAX_MILLIS);
        assertThat(HybridLogicalClock.logical(Long.MAX_VALUE)).isEqualTo(65_535);
    }

    @Example
    void timestampRangeErrors() {
        for (long[] bad : new long[][] {{-1, 0}, {MAX_MILLIS + 1, 0}, {Long.MAX_VALUE, 0}, {Long.MIN_VALUE, 0},
                {0, -1}, {0, 65_536}, {0, Integer.MAX_VALUE}, {0, Integer.MIN_VALUE}}) {
            assertThatThrownBy(() -> HybridLogicalClock.timestamp(bad[0], (int) bad[1]))
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("HLC timestamp out of range")
                    .hasMessageContaining("millis=" + bad[0])
                    .hasMessageContaining("logical=" + bad[1]);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Configuration and edge cases

    @Example
    void createRejectsSkewsOutsideOneMillisecondToOneHour() {
        Clock wall = new MutableClock(EPOCH);
        for (Duration bad : new Duration[] {null, Duration.ZERO, Duration.ofMillis(-1), Duration.ofNanos(999_999),
                Duration.ofHours(1).plusNanos(1), Duration.ofHours(2), Duration.ofDays(365)}) {
            assertConfigError(() -> HybridLogicalClock.create(wall, bad), "hybridClock.maxSkew",
                    String.valueOf(bad), "outside [1 ms, 1 h]", "500 ms");
        }
        assertThat(HybridLogicalClock.create(wall, Duration.ofMillis(1)).maxSkewMillis()).isEqualTo(1);
        assertThat(HybridLogicalClock.create(wall, Duration.ofHours(1)).maxSkewMillis()).isEqualTo(3_600_000);
        assertThat(HybridLogicalClock.create(wall, Duration.ofMillis(500)).maxSkewMillis()).isEqualTo(500);
        assertThatThrownBy(() -> HybridLogicalClock.create(null, Duration.ofMillis(500)))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("wall");
    }

    @Example
    void aRemoteExactlyAtTheBoundIsFollowedOneMillisecondMoreIsNot() {
        MutableClock wall = new MutableClock(EPOCH);
        HybridLogicalClock hlc = HybridLogicalClock.create(wall, Duration.ofMillis(500));
        long atBound = HybridLogicalClock.timestamp(EPOCH + 500, 65_535); // the logical part is not counted
        hlc.observe(atBound);
        assertThat(hlc.now()).isEqualTo(atBound + 1);

        long beyond = HybridLogicalClock.timestamp(EPOCH + 501, 0);
        assertThatThrownBy(() -> hlc.observe(beyond)).isInstanceOfSatisfying(ClockSkewException.class,
                e -> assertThat(e.aheadMillis()).isEqualTo(501));
        assertThat(hlc.now()).isEqualTo(atBound + 2);
        assertThat(hlc.toString()).contains("maxSkew=500ms");
    }

    @Example
    void aRemoteFarInThePastChangesNothing() {
        MutableClock wall = new MutableClock(EPOCH);
        HybridLogicalClock hlc = HybridLogicalClock.create(wall, Duration.ofMillis(500));
        long first = hlc.now();
        hlc.observe(0);
        hlc.observe(HybridLogicalClock.timestamp(EPOCH - 1, 65_535));
        assertThat(hlc.now()).isEqualTo(first + 1);
    }

    @Example
    void theClockNeverGoesBackWhenTheWallClockStepsBack() {
        MutableClock wall = new MutableClock(EPOCH);
        HybridLogicalClock hlc = HybridLogicalClock.create(wall, Duration.ofMillis(500));
        long before = hlc.now();
        wall.advance(-60_000);
        long after = hlc.now();
        assertThat(after).isEqualTo(before + 1);
        assertThat(HybridLogicalClock.millis(after)).isEqualTo(EPOCH);
        wall.advance(60_001);
        assertThat(hlc.now()).isEqualTo(HybridLogicalClock.timestamp(EPOCH + 1, 0));
    }

    @Example
    void concurrentNowCallsReturnDistinctIncreasingStamps() throws Exception {
        MutableClock wall = new MutableClock(EPOCH); // frozen: every stamp comes from the logical counter and carries
        HybridLogicalClock hlc = HybridLogicalClock.create(wall, Duration.ofMillis(500));
        int threads = 4;
        int perThread = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<long[]>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    long[] mine = new long[perThread];
                    for (int i = 0; i < perThread; i++) {
                        mine[i] = hlc.now();
                        if (i > 0 && mine[i] <= mine[i - 1]) {
                            throw new AssertionError("not increasing within a thread: " + mine[i - 1] + ", " + mine[i]);
                        }
                    }
                    return mine;
                }));
            }
            start.countDown();
            Set<Long> all = new HashSet<>();
            for (Future<long[]> f : results) {
                for (long ts : f.get(30, TimeUnit.SECONDS)) {
                    all.add(ts);
                }
            }
            assertThat(all).hasSize(threads * perThread);
            long first = HybridLogicalClock.timestamp(EPOCH, 0);
            assertThat(all).allSatisfy(ts -> assertThat(ts).isBetween(first, first + threads * perThread - 1));
        } finally {
            pool.shutdownNow();
        }
    }

    /** A random walk that makes sure the generators above really produce backward steps and near-bound remotes. */
    @Example
    void generatorsCoverBackwardStepsAndNearBoundRemotes() {
        List<Op> sample = ops(100).sampleStream().limit(2_000).toList();
        assertThat(sample).anySatisfy(op -> assertThat(op).isInstanceOfSatisfying(Step.class,
                s -> assertThat(s.deltaMillis()).isNegative()));
        assertThat(sample).anySatisfy(op -> assertThat(op).isInstanceOfSatisfying(Observe.class,
                o -> assertThat(o.offsetMillis()).isEqualTo(100)));
    }
}
