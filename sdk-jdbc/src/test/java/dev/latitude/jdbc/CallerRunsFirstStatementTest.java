package dev.latitude.jdbc;

import static dev.latitude.jdbc.PgRegions.NEAR;
import static dev.latitude.jdbc.PgRegions.WRITER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.HedgingConfig;
import dev.latitude.Session;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Where the first statement of a unit of work runs: on the calling thread by default, with the connection's network
 * timeout lowered to the attempt timeout for read-only work and put back afterwards; on the engine's threads when reads
 * are hedged or the caller is told not to run them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CallerRunsFirstStatementTest {
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofMillis(700);

    private PgRegions regions;
    /** The threads that took physical connections, in order. */
    private final List<Thread> takers = new CopyOnWriteArrayList<>();
    /** The network timeouts set on physical connections, in order. */
    private final List<Integer> networkTimeouts = new CopyOnWriteArrayList<>();
    private Scope sessionScope;

    @BeforeAll
    void start() {
        regions = PgRegions.shared();
    }

    @BeforeEach
    void freshSession() {
        takers.clear();
        networkTimeouts.clear();
        sessionScope = Session.create().storeIn(Context.current()).makeCurrent();
    }

    @AfterEach
    void endSession() {
        sessionScope.close();
    }

    private MultiRegionDataSource build(UnaryOperator<MultiRegionDataSource.Builder> settings) {
        return settings.apply(MultiRegionDataSource.builder()
                .topology(PgRegions.topology())
                .regionDataSources(r -> recording(regions.pools.get(r.id())))
                .router(b -> b.routingPolicy(PgRegions.nearFirst()).attemptTimeout(ATTEMPT_TIMEOUT)))
                .build();
    }

    private String unitOfWork(MultiRegionDataSource ds, boolean readOnly) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(readOnly);
            return regions.regionOf(c);
        }
    }

    @Test
    void defaults_runFirstStatementsOnTheCaller_cutAtTheAttemptTimeoutForReads() throws SQLException {
        try (MultiRegionDataSource ds = build(b -> b)) {
            assertThat(unitOfWork(ds, true)).isEqualTo(NEAR);
            assertThat(takers).containsExactly(Thread.currentThread());
            // The pools' socketTimeout is 10 s: lowered for the statement, then put back.
            assertThat(networkTimeouts).containsExactly((int) ATTEMPT_TIMEOUT.toMillis(), 10_000);

            takers.clear();
            networkTimeouts.clear();
            assertThat(unitOfWork(ds, false)).isEqualTo(WRITER);
            assertThat(takers).first().isEqualTo(Thread.currentThread());
            // Read-write work is cut at the statement deadline (60 s), longer than the pool's own 10 s: left as is.
            assertThat(networkTimeouts).isEmpty();
        }
    }

    @Test
    void hedgeableReadsInACalmRegion_runOnTheCallerCutAtTheAttemptTimeout_writesStillOnTheCaller()
            throws SQLException {
        try (MultiRegionDataSource ds = build(b -> b.hedging(HedgingConfig.defaults()))) {
            assertThat(unitOfWork(ds, true)).isEqualTo(NEAR);
            assertThat(takers).as("no trouble in the region: a hedge is unlikely").containsExactly(
                    Thread.currentThread());
            assertThat(networkTimeouts).containsExactly((int) ATTEMPT_TIMEOUT.toMillis(), 10_000);

            takers.clear();
            assertThat(unitOfWork(ds, false)).isEqualTo(WRITER);
            assertThat(takers).first().isEqualTo(Thread.currentThread());
        }
    }

    @Test
    void callerRunsOff_firstStatementsRunOnTheEngineThreads_uncut() throws SQLException {
        try (MultiRegionDataSource ds = build(b -> b.callerRunsFirstAttempt(false))) {
            assertThat(unitOfWork(ds, true)).isEqualTo(NEAR);
            assertThat(unitOfWork(ds, false)).isEqualTo(WRITER);
            assertThat(takers).isNotEmpty().doesNotContain(Thread.currentThread());
            assertThat(networkTimeouts).isEmpty();
        }
    }

    /** {@code pool}, recording which thread takes each connection and the network timeouts set on them. */
    private DataSource recording(DataSource pool) {
        return (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                    Object result = invoke(pool, method, args);
                    if (method.getName().equals("getConnection") && method.getParameterCount() == 0 && watched()) {
                        takers.add(Thread.currentThread());
                        return recording((Connection) result);
                    }
                    return result;
                });
    }

    private Connection recording(Connection physical) {
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("setNetworkTimeout") && watched()) {
                        networkTimeouts.add((Integer) args[1]);
                    }
                    return invoke(physical, method, args);
                });
    }

    /** Whether the current thread works for a unit of work (not for the replay poller or the writer search). */
    private static boolean watched() {
        return !Thread.currentThread().getName().startsWith("latitude-jdbc-");
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
