package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** {@link FaultSchedule} applies its steps at their offsets, in order, records them, and heals on close. */
class FaultScheduleTest {
    /** A target that records each fault with the time it arrived. */
    private static final class RecordingTarget implements FaultTarget {
        final String name;
        final List<Object[]> calls = new CopyOnWriteArrayList<>();
        volatile Fault fault = Fault.none();
        volatile boolean rejectErrorRates;

        RecordingTarget(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void apply(Fault f) {
            if (rejectErrorRates && f.kind() == Fault.Kind.ERROR_RATE) {
                throw new UnsupportedOperationException("a TCP proxy cannot answer with an HTTP status");
            }
            calls.add(new Object[] {f, System.nanoTime()});
            fault = f;
        }

        @Override
        public Fault fault() {
            return fault;
        }

        List<Fault> faults() {
            return calls.stream().map(c -> (Fault) c[0]).toList();
        }
    }

    @Test
    void appliesStepsAtTheirOffsetsInOrderRecordsThemAndHealsOnClose() throws Exception {
        RecordingTarget east = new RecordingTarget("us-east-1");
        RecordingTarget west = new RecordingTarget("us-west-2");
        Instant wall = Instant.parse("2025-01-01T00:00:00Z");
        FaultSchedule schedule = FaultSchedule.create(Clock.fixed(wall, ZoneOffset.UTC))
                // Added out of order on purpose; same-offset steps keep the order they were added in.
                .at(Duration.ofMillis(300), west, Fault.errorRate(0.5, 503, "busy"))
                .at(Duration.ZERO, east, Fault.blackhole())
                .at(Duration.ofMillis(150), west, Fault.latency(Duration.ofMillis(50)))
                .healAt(Duration.ofMillis(150), east);
        assertThat(schedule.steps()).hasSize(4);
        assertThat(schedule.applied()).isEmpty();
        assertThat(schedule.startedAt()).isEmpty();

        long started;
        try (FaultSchedule s = schedule) {
            started = System.nanoTime();
            s.start();
            assertThat(s.awaitCompletion(Duration.ofSeconds(10))).isTrue();
            assertThat(s.isComplete()).isTrue();

            assertThat(s.applied()).extracting(FaultSchedule.Applied::target, FaultSchedule.Applied::fault,
                    FaultSchedule.Applied::plannedOffset, FaultSchedule.Applied::succeeded)
                    .containsExactly(
                            tuple("us-east-1", Fault.blackhole(), Duration.ZERO, true),
                            tuple("us-west-2", Fault.latency(Duration.ofMillis(50)), Duration.ofMillis(150), true),
                            tuple("us-east-1", Fault.none(), Duration.ofMillis(150), true),
                            tuple("us-west-2", Fault.errorRate(0.5, 503, "busy"), Duration.ofMillis(300), true));
            for (FaultSchedule.Applied a : s.applied()) {
                // Never early; late by at most a generous margin on a loaded machine (a thread descheduled for a
                // while on a busy 2-core box is slow, not wrong).
                assertThat(a.actualOffset()).isGreaterThanOrEqualTo(a.plannedOffset())
                        .isLessThan(a.plannedOffset().plus(Duration.ofSeconds(1)));
                assertThat(a.at()).isEqualTo(wall);
                assertThat(a.toString()).contains(a.target()).contains("planned +" + a.plannedOffset().toMillis());
            }
            assertThat(s.startedAt()).hasValue(wall);

            // What the targets saw, with the times they saw it (measured from just before start()).
            assertThat(east.faults()).containsExactly(Fault.blackhole(), Fault.none());
            assertThat(west.faults()).containsExactly(Fault.latency(Duration.ofMillis(50)),
                    Fault.errorRate(0.5, 503, "busy"));
            long westErrorAt = ((long) west.calls.get(1)[1] - started) / 1_000_000;
            assertThat(westErrorAt).isBetween(300L, 1300L);
            assertThatThrownBy(() -> s.at(Duration.ZERO, east, Fault.blackhole()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("before start()");
            assertThatThrownBy(s::start).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already started");
        }
        // Close healed every target a step touched.
        assertThat(east.fault()).isEqualTo(Fault.none());
        assertThat(west.fault()).isEqualTo(Fault.none());
        assertThat(west.faults()).endsWith(Fault.none());
        schedule.close(); // idempotent
        assertThat(west.faults()).hasSize(3);
    }

    @Test
    void closeCancelsPendingStepsAndHealsOnlyTheTargetsTouched() throws Exception {
        RecordingTarget early = new RecordingTarget("early");
        RecordingTarget late = new RecordingTarget("late");
        FaultSchedule schedule = FaultSchedule.create()
                .at(Duration.ofMillis(10), early, Fault.refuseConnections())
                .at(Duration.ofSeconds(30), late, Fault.blackhole())
                .start();
        assertThat(Polling.eventually(Duration.ofSeconds(2), Duration.ofMillis(5), () -> !early.calls.isEmpty()))
                .isTrue();
        schedule.close();

        assertThat(schedule.applied()).extracting(FaultSchedule.Applied::target).containsExactly("early");
        assertThat(schedule.isComplete()).isFalse();
        assertThat(schedule.awaitCompletion(Duration.ZERO)).isFalse();
        assertThat(early.faults()).containsExactly(Fault.refuseConnections(), Fault.none());
        assertThat(late.calls).isEmpty(); // never touched, so not healed either
        assertThatThrownBy(schedule::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void aStepTheTargetRejectsIsRecordedAndTheScheduleGoesOn() throws Exception {
        RecordingTarget proxy = new RecordingTarget("tcp-proxy");
        proxy.rejectErrorRates = true;
        try (FaultSchedule schedule = FaultSchedule.create()
                .at(Duration.ZERO, proxy, Fault.errorRate(0.1, 500, "x"))
                .at(Duration.ofMillis(20), proxy, Fault.resetConnections())
                .start()) {
            assertThat(schedule.awaitCompletion(Duration.ofSeconds(2))).isTrue();
            List<FaultSchedule.Applied> applied = schedule.applied();
            assertThat(applied).hasSize(2);
            assertThat(applied.get(0).succeeded()).isFalse();
            assertThat(applied.get(0).error()).contains("UnsupportedOperationException").contains("HTTP status");
            assertThat(applied.get(0).toString()).contains("FAILED");
            assertThat(applied.get(1).succeeded()).isTrue();
        }
        assertThat(proxy.faults()).containsExactly(Fault.resetConnections(), Fault.none());
    }

    @Test
    void drivesARealFakeRegionAndHealsItOnClose() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (FakeRegion region = FakeRegion.start("eu-west-1", Duration.ZERO)) {
            HttpRequest request = HttpRequest.newBuilder(region.uri().resolve("/x")).timeout(Duration.ofSeconds(2))
                    .build();
            try (FaultSchedule schedule = FaultSchedule.create()
                    .at(Duration.ofMillis(50), region, Fault.errorRate(1.0, 503, "scheduled outage"))
                    // Far enough after the first step that a cold HTTP client on a busy machine gets its request in.
                    .at(Duration.ofSeconds(2), region, Fault.refuseConnections())
                    .start()) {
                assertThat(Polling.eventually(Duration.ofSeconds(2), Duration.ofMillis(10),
                        () -> region.fault().kind() == Fault.Kind.ERROR_RATE)).isTrue();
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.body()).isEqualTo("scheduled outage");
                assertThat(schedule.awaitCompletion(Duration.ofSeconds(10))).isTrue();
                assertThatThrownBy(() -> HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()))
                        .isInstanceOf(ConnectException.class);
            }
            assertThat(region.fault()).isEqualTo(Fault.none());
            HttpResponse<String> healed = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(healed.statusCode()).isEqualTo(200);
            assertThat(healed.body()).isEqualTo("eu-west-1");
        }
    }

    @Test
    void rejectsBadSteps() {
        RecordingTarget t = new RecordingTarget("t");
        FaultSchedule schedule = FaultSchedule.create();
        assertThatThrownBy(() -> schedule.at(Duration.ofMillis(-5), t, Fault.blackhole()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT-0.005S")
                .hasMessageContaining("zero or more");
        assertThatThrownBy(() -> schedule.at(null, t, Fault.blackhole()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("offset");
        assertThatThrownBy(() -> schedule.at(Duration.ZERO, null, Fault.blackhole()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target");
        assertThatThrownBy(() -> schedule.at(Duration.ZERO, t, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Fault.none()");
        assertThatThrownBy(() -> FaultSchedule.create(null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Clock.systemUTC()");
        assertThatThrownBy(() -> schedule.awaitCompletion(Duration.ofSeconds(1)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("start()");
        schedule.close(); // closing a schedule never started is fine
    }
}
