package dev.latitude.dynamodb;

import dev.latitude.aws.AttemptTimeouts;
import dev.latitude.Latitude;
import dev.latitude.dynamodb.internal.Heartbeats;
import dev.latitude.spi.ReplicationWatermarks;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the blocking and non-blocking clients share once built: the engine, the request router, the heartbeats, the
 * home region, and what must be closed with them.
 */
final class Core implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Core.class);
    final Latitude latitude;
    final DynamoDbRouter router;
    final AttemptTimeouts timeouts;
    final String homeRegion;
    private final Heartbeats heartbeats;
    private final List<AutoCloseable> resources;

    Core(Latitude latitude, DynamoDbRouter router, AttemptTimeouts timeouts, String homeRegion, Heartbeats heartbeats,
            List<AutoCloseable> resources) {
        this.latitude = latitude;
        this.router = router;
        this.timeouts = timeouts;
        this.homeRegion = homeRegion;
        this.heartbeats = heartbeats;
        this.resources = List.copyOf(resources);
    }

    ReplicationWatermarks watermarks() {
        return heartbeats != null ? heartbeats : ReplicationWatermarks.NONE;
    }

    /** Stops the heartbeats, then the engine, then closes the resources (probe threads, clients the builder made). */
    @Override
    public void close() {
        if (heartbeats != null) {
            heartbeats.close();
        }
        latitude.close();
        closeAll(resources);
    }

    static void closeAll(List<? extends AutoCloseable> resources) {
        for (AutoCloseable c : resources) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("Closing {} failed", c, e);
            }
        }
    }
}
