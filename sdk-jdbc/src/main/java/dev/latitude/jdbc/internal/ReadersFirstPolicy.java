package dev.latitude.jdbc.internal;

import dev.latitude.RoutingCandidates;
import dev.latitude.RoutingPolicy;
import dev.latitude.Topology;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Ranks with another policy, then puts the writer after every other candidate of a read, so that read-only work
 * the writer is not needed for stays on the readers. The writer remains a read's fallback, and the only choice when
 * no reader qualifies (a STRONG read, or a session read no reader has caught up with).
 *
 * <p>Why: a policy that spreads load over regions of similar latency (the latency policy's window) would otherwise
 * send a share of reads to a nearby writer. Such a read costs more than its round trip: its session records the
 * writer's position at that moment, so the session's next reads must wait for other sessions' writes to be
 * replayed too. Thread-safe if the wrapped policy is.
 */
public final class ReadersFirstPolicy implements RoutingPolicy {
    private final RoutingPolicy ranking;
    private final Supplier<String> writerRegion;

    /**
     * Creates the policy.
     *
     * @param ranking the policy that ranks the candidates first
     * @param writerRegion the current writer's region (it moves on failover)
     */
    public ReadersFirstPolicy(RoutingPolicy ranking, Supplier<String> writerRegion) {
        this.ranking = Objects.requireNonNull(ranking, "ranking");
        this.writerRegion = Objects.requireNonNull(writerRegion, "writerRegion");
    }

    /** Returns the policy that ranks the candidates before the writer is moved last. */
    public RoutingPolicy ranking() {
        return ranking;
    }

    @Override
    public void rank(RoutingCandidates c) {
        ranking.rank(c);
        int n = c.size();
        if (n < 2 || !c.operation().isRead()) {
            return;
        }
        String writer = writerRegion.get();
        for (int i = 0; i < n; i++) {
            if (c.region(i).id().equals(writer)) {
                c.rank(i, Double.MAX_VALUE);
            }
        }
    }

    @Override
    public void validate(Topology topology) {
        ranking.validate(topology);
    }

    @Override
    public String toString() {
        return "ReadersFirst(" + ranking + ")";
    }
}
