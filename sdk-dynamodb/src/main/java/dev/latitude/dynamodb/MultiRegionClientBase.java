package dev.latitude.dynamodb;

import dev.latitude.HybridLogicalClock;
import dev.latitude.Latitude;
import dev.latitude.spi.ReplicationWatermarks;
import java.util.Map;

/**
 * What {@link MultiRegionDynamoDbClient} and {@link MultiRegionDynamoDbAsyncClient} show beyond the AWS interface they
 * implement, and how they close.
 *
 * @param <C> the per-region client type
 */
abstract class MultiRegionClientBase<C> {
    final Core core;
    final Latitude latitude;
    final DynamoDbRouter router;
    final Map<String, C> clients;
    final C home;

    MultiRegionClientBase(Core core, Map<String, C> clients) {
        this.core = core;
        this.latitude = core.latitude;
        this.router = core.router;
        this.clients = clients;
        this.home = clients.get(core.homeRegion);
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

    /** Stops the heartbeats and the engine, and closes the region clients this client's builder made. */
    public void close() {
        core.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[regions=" + clients.keySet() + ", home=" + core.homeRegion + "]";
    }
}
