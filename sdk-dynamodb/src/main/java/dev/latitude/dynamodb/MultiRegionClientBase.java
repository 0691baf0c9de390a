package dev.latitude.dynamodb;

import dev.latitude.HybridLogicalClock;
import dev.latitude.Latitude;
import dev.latitude.aws.AttemptTimeouts;
import dev.latitude.spi.ReplicationWatermarks;
import java.util.Map;

/**
 * What {@link MultiRegionDynamoDbClient} and {@link MultiRegionDynamoDbAsyncClient} show beyond the AWS interface they
 * implement, and how they close. A client is either the one its builder built (it owns the engine, heartbeats and the
 * region clients the builder made) or a view of it ({@code withConsistency}, {@code withSession}) that shares all of
 * that and only sets options for its requests; closing a view does nothing.
 *
 * @param <C> the per-region client type
 */
abstract class MultiRegionClientBase<C> {
    final Core core;
    final Latitude latitude;
    final DynamoDbRouter router;
    final Map<String, C> clients;
    final C home;
    final AttemptTimeouts timeouts;
    /** Whether this client is a view of another (it then owns nothing, and closing it does nothing). */
    private final boolean view;

    MultiRegionClientBase(Core core, Map<String, C> clients) {
        this(core, clients, core.router, false);
    }

    /** A client over {@code core} whose requests go through {@code router} (a view's, with its options). */
    MultiRegionClientBase(Core core, Map<String, C> clients, DynamoDbRouter router, boolean view) {
        this.core = core;
        this.latitude = core.latitude;
        this.router = router;
        this.timeouts = core.timeouts;
        this.clients = clients;
        this.home = clients.get(core.homeRegion);
        this.view = view;
    }

    /** Whether this client is a view made by {@code withConsistency} or {@code withSession}. */
    public boolean isView() {
        return view;
    }

    /** Returns the engine routing this client's calls: its status, plans, routing policy and clocks. */
    public Latitude latitude() {
        return latitude;
    }

    /** Returns the region that takes control-plane calls. */
    public String homeRegion() {
        return core.homeRegion;
    }

    /** Returns the replication watermarks from heartbeats, or {@link ReplicationWatermarks#NONE} without them. */
    public ReplicationWatermarks replicationWatermarks() {
        return core.watermarks();
    }

    /** Returns the write stamp attribute. */
    public String stampAttribute() {
        return router.stampAttribute();
    }

    /**
     * Returns how many write stamps read from items were further ahead of this process's clock than the clock's skew
     * bound, and so were not followed (see {@link HybridLogicalClock#observe(long)}).
     */
    public int clockSkewRefusals() {
        return router.clockSkewRefusals();
    }

    /**
     * Returns how many single-item writes (PutItem, UpdateItem, DeleteItem without a condition of the caller's) found
     * their item already carrying a newer write stamp: their guard kept them from overwriting the newer write, and
     * they were answered as successes, ordered before it (last writer wins, by stamp). A late or repeated write, a
     * concurrent writer of the same item, or a clock behind another writer's shows here.
     */
    public long supersededWrites() {
        return router.supersededWrites();
    }

    /**
     * Stops the heartbeats and the engine, and closes the region clients this client's builder made. A view
     * ({@link #isView()}) owns none of them: closing it does nothing, and it works as long as the client it came
     * from is open.
     */
    public void close() {
        if (!view) {
            core.close();
        }
    }

    @Override
    public String toString() {
        RequestOptions o = router.options();
        return getClass().getSimpleName() + "[regions=" + clients.keySet() + ", home=" + core.homeRegion
                + (view ? ", view" + (o.consistency() != null ? ", consistency=" + o.consistency() : "")
                        + (o.session() != null ? ", session" : "") : "") + "]";
    }
}
