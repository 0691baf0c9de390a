package dev.latitude.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.LatitudeConfigException;
import dev.latitude.jdbc.WriterIdentity;
import dev.latitude.spi.ReplicationWatermarks;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The poller against stand-in nodes on a manual clock: polls run on the thread that starts them, so every step is
 * deterministic.
 */
class ReplayWatermarkPollerTest {
    private static final WriterIdentity TIMELINE_1 = new WriterIdentity(42, 1);
    private static final WriterIdentity TIMELINE_2 = new WriterIdentity(42, 2);

    private final ManualScheduler clock = new ManualScheduler();
    private FakeNode writer;
    private FakeNode replica;
    private ReplayWatermarkPoller poller;

    @BeforeEach
    void setUp() {
        writer = new FakeNode(new NodeState("w", false, TIMELINE_1, 1000, 0));
        replica = new FakeNode(new NodeState("r", true, TIMELINE_1, 900, 0));
        Map<String, ReplayWatermarkPoller.NodeSource> sources = new LinkedHashMap<>();
        sources.put("w", writer);
        sources.put("r", replica);
        poller = ReplayWatermarkPoller.builder().sources(sources).ticker(clock).executor(Runnable::run).build();
    }

    @Test
    void replayedLsn_beforeStart_isUnknown() {
        assertThat(poller.replayedLsn("r", TIMELINE_1)).isEqualTo(ReplicationWatermarks.UNKNOWN);
        assertThat(poller.awaitReplay("r", TIMELINE_1, 1, Duration.ofSeconds(1))).isCompletedWithValue(false);
        assertThat(poller.stalenessMillis("r", "any")).isEqualTo(ReplicationWatermarks.UNKNOWN);
    }

    @Test
    void replayedLsn_followsPolls_onlyForTheSameIdentity() {
        poller.start(clock);
        assertThat(poller.replayedLsn("r", TIMELINE_1)).isEqualTo(900);
        assertThat(poller.replayedLsn("r", TIMELINE_2)).isEqualTo(ReplicationWatermarks.UNKNOWN);
        assertThat(poller.replayedLsn("elsewhere", TIMELINE_1)).isEqualTo(ReplicationWatermarks.UNKNOWN);

        replica.lsn(950);
        clock.advance(Duration.ofMillis(99));
        assertThat(poller.replayedLsn("r", TIMELINE_1)).isEqualTo(900);
        clock.advance(Duration.ofMillis(1));
        assertThat(poller.replayedLsn("r", TIMELINE_1)).isEqualTo(950);
    }

    @Test
    void applied_comparesPositionsOfTheSourceIdentityOnly() {
        poller.start(clock);
        assertThat(poller.applied("r", "w", "orders")).isEqualTo(900);
        assertThat(poller.applied("w", "w", "orders")).isEqualTo(1000);

        writer.state.set(new NodeState("w", false, TIMELINE_2, 1200, 0)); // promoted elsewhere: a new timeline
        clock.advance(Duration.ofMillis(100));
        assertThat(poller.applied("r", "w", "orders")).isEqualTo(ReplicationWatermarks.UNKNOWN);
    }

    @Test
    void awaitReplay_alreadyReplayed_completesAtOnceWithoutCountingAWait() {
        poller.start(clock);
        assertThat(poller.awaitReplay("r", TIMELINE_1, 900, Duration.ofSeconds(1))).isCompletedWithValue(true);
        assertThat(poller.waits()).isZero();
    }

    @Test
    void awaitReplay_pollsFasterWhileWaiting_andCompletesTrueOnceReplayed() {
        poller.start(clock);
        int before = replica.polls.get();
        CompletableFuture<Boolean> f = poller.awaitReplay("r", TIMELINE_1, 1000, Duration.ofSeconds(1));
        assertThat(replica.polls.get()).isEqualTo(before + 1); // the wait polls at once
        assertThat(f).isNotDone();

        clock.advance(Duration.ofMillis(30));
        assertThat(replica.polls.get()).isEqualTo(before + 4); // then every 10 ms
        assertThat(f).isNotDone();

        replica.lsn(1000);
        clock.advance(Duration.ofMillis(10));
        assertThat(f).isCompletedWithValue(true);
        assertThat(poller.waits()).isEqualTo(1);
        assertThat(poller.waitsReplayed()).isEqualTo(1);
        assertThat(poller.waiting("r")).isZero();

        int after = replica.polls.get();
        clock.advance(Duration.ofMillis(100));
        assertThat(replica.polls.get()).isEqualTo(after + 1); // back to every 100 ms
    }

    @Test
    void awaitReplay_notReplayedInTime_completesFalseAtMax() {
        poller.start(clock);
        CompletableFuture<Boolean> f = poller.awaitReplay("r", TIMELINE_1, 1000, Duration.ofMillis(250));
        clock.advance(Duration.ofMillis(249));
        assertThat(f).isNotDone();
        clock.advance(Duration.ofMillis(1));
        assertThat(f).isCompletedWithValue(false);
        assertThat(poller.waitsExpired()).isEqualTo(1);
        assertThat(poller.waiting("r")).isZero();
    }

    @Test
    void awaitReplay_regionOnAnotherTimeline_completesFalseAtTheNextPoll() {
        poller.start(clock);
        CompletableFuture<Boolean> f = poller.awaitReplay("r", TIMELINE_1, 1000, Duration.ofSeconds(10));
        replica.state.set(new NodeState("r", false, TIMELINE_2, 5000, 0)); // promoted
        clock.advance(Duration.ofMillis(10));
        assertThat(f).isCompletedWithValue(false);
    }

    @Test
    void awaitReplay_unreachableRegion_keepsItsLastPositionAndTimesOut() {
        poller.start(clock);
        replica.failing = true;
        CompletableFuture<Boolean> f = poller.awaitReplay("r", TIMELINE_1, 1000, Duration.ofMillis(50));
        clock.advance(Duration.ofMillis(50));
        assertThat(f).isCompletedWithValue(false);
        assertThat(poller.replayedLsn("r", TIMELINE_1)).isEqualTo(900);

        replica.failing = false;
        replica.lsn(1000);
        clock.advance(Duration.ofMillis(100));
        assertThat(poller.awaitReplay("r", TIMELINE_1, 1000, Duration.ofMillis(50))).isCompletedWithValue(true);
    }

    @Test
    void awaitReplay_unknownRegion_isRefused() {
        assertThatThrownBy(() -> poller.awaitReplay("nowhere", TIMELINE_1, 1, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nowhere").hasMessageContaining("[w, r]");
    }

    @Test
    void stalenessMillis_isHowLongAgoTheWriterWasAtTheReplicasPosition() {
        poller.start(clock); // t=0: writer at 1000, replica at 900
        assertThat(poller.stalenessMillis("w", "any")).isZero();
        assertThat(poller.stalenessMillis("r", "any")).isEqualTo(ReplicationWatermarks.UNKNOWN); // never seen at 900

        replica.lsn(1000);
        writer.lsn(1100);
        clock.advance(Duration.ofMillis(100)); // t=100: writer at 1100, replica at 1000 = the writer at t=0
        assertThat(poller.stalenessMillis("r", "any")).isEqualTo(100);

        clock.advance(Duration.ofMillis(100)); // t=200: writer still at 1100
        assertThat(poller.stalenessMillis("r", "any")).isEqualTo(200);

        replica.lsn(1100);
        clock.advance(Duration.ofMillis(100)); // t=300: replica caught up with the writer as seen at t=300
        assertThat(poller.stalenessMillis("r", "any")).isZero();
    }

    @Test
    void close_endsEveryWaitFalse_andStopsPolling() {
        poller.start(clock);
        CompletableFuture<Boolean> f = poller.awaitReplay("r", TIMELINE_1, 1000, Duration.ofSeconds(10));
        poller.close();
        assertThat(f).isCompletedWithValue(false);
        int polls = replica.polls.get();
        clock.advance(Duration.ofSeconds(1));
        assertThat(replica.polls.get()).isEqualTo(polls);
        assertThat(poller.awaitReplay("r", TIMELINE_1, 1000, Duration.ofSeconds(10))).isCompletedWithValue(false);
    }

    @Test
    void start_twice_isRefused() {
        poller.start(clock);
        assertThatThrownBy(() -> poller.start(clock)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already started");
    }

    @Test
    void builder_validatesEachSetting() {
        assertThatThrownBy(() -> ReplayWatermarkPoller.builder().build()).isInstanceOf(LatitudeConfigException.class)
                .hasMessageContaining("regions");
        assertThatThrownBy(() -> ReplayWatermarkPoller.builder().regions(Map.of()))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("regions");
        assertThatThrownBy(() -> ReplayWatermarkPoller.builder().interval(Duration.ZERO))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("replayPollInterval");
        assertThatThrownBy(() -> ReplayWatermarkPoller.builder().waitInterval(Duration.ofMillis(-1)))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("replayWaitPollInterval");
        assertThatThrownBy(() -> ReplayWatermarkPoller.builder().queryTimeout(null))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("replayPollTimeout");
        assertThatThrownBy(() -> ReplayWatermarkPoller.builder().interval(Duration.ofMillis(5))
                .interval(Duration.ofMillis(5))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already set");
    }

    /** A stand-in node whose state the test sets, counting polls; it can be made to fail like an unreachable one. */
    static final class FakeNode implements ReplayWatermarkPoller.NodeSource {
        final AtomicReference<NodeState> state;
        final AtomicInteger polls = new AtomicInteger();
        volatile boolean failing;

        FakeNode(NodeState initial) {
            this.state = new AtomicReference<>(initial);
        }

        void lsn(long lsn) {
            state.updateAndGet(s -> new NodeState(s.region(), s.inRecovery(), s.identity(), lsn, 0));
        }

        @Override
        public NodeState inspect() throws SQLException {
            polls.incrementAndGet();
            if (failing) {
                throw new SQLException("connection refused");
            }
            return state.get();
        }
    }
}
