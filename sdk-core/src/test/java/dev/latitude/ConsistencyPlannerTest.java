package dev.latitude;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.spi.ReplicationWatermarks;
import dev.latitude.testing.ManualClock;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The consistency filter of the planner and the verify step, with replicas that lag, stall and catch up. The
 * routing policy prefers the replicas (eu-west-1, then us-west-2) over the writer (us-east-1), so every time the writer
 * is chosen it is the consistency level's doing.
 */
class ConsistencyPlannerTest {
    private static final String WRITER = "us-east-1";
    private static final String WEST = "us-west-2";
    private static final String EU = "eu-west-1";
    private static final String TABLE = "profiles";

    private final ManualClock clock = new ManualClock();
    private final FakeWatermarks watermarks = new FakeWatermarks();
    private final List<Latitude> engines = new ArrayList<>();

    /** Replica progress set by the test: applied[region] = watermark of the writer's writes applied there. */
    static final class FakeWatermarks implements ReplicationWatermarks {
        final Map<String, Long> applied = new HashMap<>();
        final Map<String, Long> staleness = new HashMap<>();

        @Override
        public long applied(String region, String sourceRegion, String dataClass) {
            return applied.getOrDefault(region, UNKNOWN);
        }

        @Override
        public long stalenessMillis(String region, String dataClass) {
            return staleness.getOrDefault(region, UNKNOWN);
        }
    }

    private Latitude engine(Consumer<Latitude.Builder> custom) {
        Latitude.Builder b = Latitude.builder()
                .topology(Topology.builder()
                        .region(RegionSpec.builder(WRITER).writer().jurisdiction("US").build())
                        .region(RegionSpec.builder(WEST).jurisdiction("US").build())
                        .region(RegionSpec.builder(EU).jurisdiction("EU").build())
                        .localRegion(WRITER)
                        .build())
                .routingPolicy(RoutingPolicy.failover().priority(EU, WEST, WRITER).build())
                .ticker(clock).scheduler(clock)
                .openTelemetry(OpenTelemetry.noop())
                .hedging(HedgingConfig.disabled())
                .replicationWatermarks(watermarks);
        custom.accept(b);
        Latitude l = b.build();
        engines.add(l);
        return l;
    }

    private Latitude engine() {
        return engine(b -> { });
    }

    @AfterEach
    void close() {
        engines.forEach(Latitude::close);
    }

    private static List<String> ids(Plan plan) {
        return plan.regions().stream().map(RegionSpec::id).toList();
    }

    private static Operation read(String key, Session session) {
        Operation.Builder b = Operation.read("GetProfile").dataClass(TABLE).key(key);
        return (session == null ? b : b.session(session)).build();
    }

    /** A stored value with its write stamp, as an adapter would return it. */
    record Item(String region, long stamp) {
    }

    @Test
    void strong_readsOnlyTheWriter() {
        Latitude l = engine();
        Operation op = Operation.read("Get").dataClass(TABLE).consistency(ConsistencyLevel.STRONG).build();
        assertThat(ids(l.plan(op))).containsExactly(WRITER);
    }

    @Test
    void eventual_readsAnyRegionInPolicyOrder() {
        Latitude l = engine();
        Operation op = Operation.read("Get").dataClass(TABLE).consistency(ConsistencyLevel.EVENTUAL).build();
        assertThat(ids(l.plan(op))).containsExactly(EU, WEST, WRITER);
    }

    @Test
    void session_withoutWrites_readsAnyRegion() {
        Latitude l = engine();
        assertThat(ids(l.plan(read("u1", Session.create())))).containsExactly(EU, WEST, WRITER);
        assertThat(ids(l.plan(read("u1", null)))).as("no session at all").containsExactly(EU, WEST, WRITER);
    }

    @Test
    void session_replicaLagsStallsAndCatchesUp_isUsedOnlyOnceItHasTheWrite() {
        Latitude l = engine();
        Session session = Session.create();
        session.recordWrite(TABLE, "u1", 1000, WRITER);
        watermarks.applied.put(EU, 900L);
        watermarks.applied.put(WEST, 400L);
        assertThat(ids(l.plan(read("u1", session)))).as("both replicas lag").containsExactly(WRITER);
        watermarks.applied.put(WEST, 1000L);
        assertThat(ids(l.plan(read("u1", session)))).as("us-west-2 caught up").containsExactly(WEST, WRITER);
        session.recordWrite(TABLE, "u1", 1500, WRITER);
        assertThat(ids(l.plan(read("u1", session)))).as("a newer write, replicas stalled").containsExactly(WRITER);
        watermarks.applied.put(EU, 1600L);
        watermarks.applied.put(WEST, 1600L);
        assertThat(ids(l.plan(read("u1", session)))).containsExactly(EU, WEST, WRITER);
        assertThat(ids(l.plan(read("other-key", session)))).as("keys the session never wrote")
                .containsExactly(EU, WEST, WRITER);
    }

    @Test
    void session_unknownReplicaProgress_withoutVerifier_readsTheRegionThatTookTheWrite() {
        Latitude l = engine();
        Session session = Session.create();
        session.recordWrite(TABLE, "u1", 1000, WRITER);
        assertThat(ids(l.plan(read("u1", session)))).containsExactly(WRITER);
    }

    @Test
    void session_unknownReplicaProgress_staleAnswerEscalatesToTheWriter() {
        Latitude l = engine();
        Session session = Session.create();
        session.recordWrite(TABLE, "u1", 1000, WRITER);
        Map<String, Item> store = Map.of(EU, new Item(EU, 900), WEST, new Item(WEST, 900), WRITER, new Item(WRITER, 1000));
        List<String> asked = new ArrayList<>();
        CompletableFuture<Item> result = l.executeAsync(read("u1", session), region -> {
            asked.add(region.id());
            return CompletableFuture.completedFuture(store.get(region.id()));
        }, Item::stamp);
        assertThat(result).isCompletedWithValue(new Item(WRITER, 1000));
        assertThat(asked).as("the stale replica's answer was checked and the read went to the writer")
                .containsExactly(EU, WRITER);
    }

    @Test
    void session_unknownReplicaProgress_freshAnswerIsAccepted() {
        Latitude l = engine();
        Session session = Session.create();
        session.recordWrite(TABLE, "u1", 1000, WRITER);
        CompletableFuture<Item> result = l.executeAsync(read("u1", session),
                region -> CompletableFuture.completedFuture(new Item(region.id(), 1000)), Item::stamp);
        assertThat(result).isCompletedWithValue(new Item(EU, 1000));
    }

    @Test
    void session_collapsedKey_cannotBeVerifiedByStampAndGoesToTheWriter() {
        Latitude l = engine();
        Session session = Session.of(SessionToken.empty(), 0); // no key entries: every write folds into the class
        session.recordWrite(TABLE, "u1", 1000, WRITER);
        List<String> asked = new ArrayList<>();
        CompletableFuture<Item> result = l.executeAsync(read("u2", session), region -> {
            asked.add(region.id());
            return CompletableFuture.completedFuture(new Item(region.id(), 5));
        }, Item::stamp);
        assertThat(result).isCompleted();
        assertThat(asked).containsExactly(WRITER);
    }

    @Test
    void session_writerDownAndReplicasBehind_failsRatherThanReadStale() {
        Latitude l = engine(b -> b.breaker(BreakerConfig.builder().failureThreshold(1, 1).build()));
        Session session = Session.create();
        session.recordWrite(TABLE, "u1", 1000, WRITER);
        watermarks.applied.put(EU, 10L);
        watermarks.applied.put(WEST, 10L);
        List<String> asked = new ArrayList<>();
        CompletableFuture<Item> result = l.executeAsync(read("u1", session), region -> {
            asked.add(region.id());
            return CompletableFuture.failedFuture(new java.net.ConnectException("down"));
        }, Item::stamp);
        assertThat(result).isCompletedExceptionally();
        assertThat(asked).containsExactly(WRITER);
    }

    @Test
    void session_writeAdvancesTokenWithTheAnsweringRegion_andReadRecordsWhatItSawAgainstTheWriter() {
        Latitude l = engine();
        Session session = Session.create();
        Operation put = Operation.write("PutProfile").idempotent(true).dataClass(TABLE).key("u1").session(session).build();
        long stamp = l.hybridClock().now();
        assertThat(l.executeAsync(put, region -> CompletableFuture.completedFuture(new Item(region.id(), stamp)),
                Item::stamp)).isCompleted();
        assertThat(session.token().requirement(TABLE, "u1")).isEqualTo(new Watermark(stamp, WRITER));

        Session reader = Session.create();
        watermarks.applied.put(EU, Long.MAX_VALUE);
        assertThat(l.executeAsync(read("u2", reader), region -> CompletableFuture.completedFuture(new Item(region.id(), 77)),
                Item::stamp)).isCompletedWithValue(new Item(EU, 77));
        // Recorded against the single writer, where every version originates, so that folded class watermarks keep
        // one source region.
        assertThat(reader.token().requirement(TABLE, "u2")).as("monotonic reads").isEqualTo(new Watermark(77, WRITER));
    }

    @Test
    void session_fromOpenTelemetryContext_isUsedWhenTheOperationHasNone() {
        Latitude l = engine();
        Session session = Session.create();
        session.recordWrite(TABLE, "u1", 1000, WRITER);
        try (Scope ignored = session.storeIn(io.opentelemetry.context.Context.current()).makeCurrent()) {
            assertThat(ids(l.plan(read("u1", null)))).containsExactly(WRITER);
        }
        assertThat(ids(l.plan(read("u1", null)))).containsExactly(EU, WEST, WRITER);
    }

    @Test
    void boundedStaleness_usesReplicasKnownToBeCloseEnough() {
        Latitude l = engine();
        Operation op = Operation.read("Get").dataClass(TABLE)
                .consistency(ConsistencyLevel.boundedStaleness(Duration.ofSeconds(2))).build();
        assertThat(ids(l.plan(op))).as("unknown staleness is not trusted").containsExactly(WRITER);
        watermarks.staleness.put(EU, 2500L);
        watermarks.staleness.put(WEST, 1500L);
        assertThat(ids(l.plan(op))).containsExactly(WEST, WRITER);
        watermarks.staleness.put(EU, 100L);
        assertThat(ids(l.plan(op))).containsExactly(EU, WEST, WRITER);
    }

    @Test
    void dataPolicy_setsTheDefaultLevelAndOperationsOverrideIt() {
        Latitude l = engine(b -> b.dataPolicies(DataPolicies.builder()
                .exact("ledger", DataPolicy.builder().consistency(ConsistencyLevel.STRONG).build())
                .prefix("cache_", DataPolicy.builder().consistency(ConsistencyLevel.EVENTUAL).build())
                .build()));
        assertThat(ids(l.plan(Operation.read("Get").dataClass("ledger").build()))).containsExactly(WRITER);
        assertThat(ids(l.plan(Operation.read("Get").dataClass("cache_sessions").build()))).containsExactly(EU, WEST, WRITER);
        assertThat(ids(l.plan(Operation.read("Get").dataClass("ledger").consistency(ConsistencyLevel.EVENTUAL).build())))
                .containsExactly(EU, WEST, WRITER);
    }

    @Test
    void multiWriter_writesGoAnywhereAndReadsElsewhereNeedProof() {
        Latitude l = engine(b -> b.dataPolicies(DataPolicies.builder()
                .exact(TABLE, DataPolicy.builder().writeMode(WriteMode.MULTI_WRITER).build()).build()));
        Session session = Session.create();
        Operation put = Operation.write("Put").idempotent(true).dataClass(TABLE).key("u1").session(session).build();
        assertThat(ids(l.plan(put))).containsExactly(EU, WEST, WRITER);
        assertThat(l.executeAsync(put, region -> CompletableFuture.completedFuture(new Item(region.id(), 500)),
                Item::stamp)).isCompletedWithValue(new Item(EU, 500));
        assertThat(ids(l.plan(read("u1", session)))).as("only the region that took the write has it").containsExactly(EU);
    }

    @Test
    void singleWriterPolicy_namedWriterRegionTakesTheWrites() {
        Latitude l = engine(b -> b.dataPolicies(DataPolicies.builder()
                .exact(TABLE, DataPolicy.builder().writerRegion(WRITER).build()).build()));
        assertThat(ids(l.plan(Operation.write("Put").dataClass(TABLE).build()))).containsExactly(WRITER);
    }

    @Test
    void moveWriter_sendsWritesToTheNewWriter_andItHoldsTheSessionsWrites() {
        Latitude l = engine();
        l.moveWriter(WEST);
        assertThat(ids(l.plan(Operation.write("Put").dataClass(TABLE).build()))).containsExactly(WEST);
        Session session = Session.create();
        session.recordWrite(TABLE, null, 100, WEST);
        // Nothing is known of the replicas: only the region that took the write may serve the session.
        assertThat(ids(l.plan(Operation.read("Get").dataClass(TABLE).session(session).build())))
                .containsExactly(WEST);
        assertThat(l.topology().region(WRITER).isWriter()).isTrue();
    }

    @Test
    void moveWriter_toAnUnknownRegion_isRefused() {
        Latitude l = engine();
        assertThatThrownBy(() -> l.moveWriter("mars-1")).isInstanceOf(LatitudeConfigException.class)
                .hasMessageContaining("mars-1");
        assertThat(ids(l.plan(Operation.write("Put").dataClass(TABLE).build()))).containsExactly(WRITER);
    }
}
