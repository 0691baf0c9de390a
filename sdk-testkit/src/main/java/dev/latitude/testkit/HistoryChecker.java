package dev.latitude.testkit;

import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.Topology;
import dev.latitude.testkit.HistoryOp.Outcome;
import dev.latitude.testkit.HistoryOp.Type;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Checks a recorded {@link History} for the guarantees Latitude makes:
 *
 * <ul>
 *   <li><b>read-your-writes</b>: a read that starts after a write of the same session was acknowledged returns that
 *       write's version or a newer one;</li>
 *   <li><b>monotonic reads</b>: a read that starts after an earlier read of the same session completed never returns
 *       an older version;</li>
 *   <li><b>no lost acknowledged writes</b>: in the final state (recorded with {@link History#finalState}) every region
 *       holds, for every key, a version at least as new as every acknowledged write;</li>
 *   <li><b>residency</b>: no operation on a data class was asked of, or answered by, a region outside its
 *       jurisdictions (needs the topology and data policies).</li>
 * </ul>
 *
 * Versions of one key must increase with every write (a write timestamp or counter). Each violation names the
 * operations involved. Runs in O(n log n).
 */
public final class HistoryChecker {
    private final Topology topology;
    private final DataPolicies dataPolicies;

    private HistoryChecker(Builder b) {
        this.topology = b.topology;
        this.dataPolicies = b.dataPolicies;
    }

    /** Starts a builder; without topology and policies the residency check is skipped. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Checks {@code history}.
     *
     * @param history the recorded history
     * @return the report
     */
    public HistoryReport check(History history) {
        List<HistoryOp> ops = history.operations();
        List<Violation> violations = new ArrayList<>();
        Map<List<String>, List<HistoryOp>> bySessionKey = new HashMap<>();
        Map<List<String>, List<HistoryOp>> byKey = new HashMap<>();
        for (HistoryOp op : ops) {
            List<String> key = List.of(op.dataClass(), op.key());
            byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(op);
            if (op.type() != Type.FINAL_READ) {
                bySessionKey.computeIfAbsent(List.of(op.session(), op.dataClass(), op.key()), k -> new ArrayList<>())
                        .add(op);
            }
        }
        bySessionKey.values().forEach(list -> sessionGuarantees(list, violations));
        byKey.values().forEach(list -> lostWrites(list, violations));
        if (topology != null) {
            ops.forEach(op -> residency(op, violations));
        }
        violations.sort(Comparator.comparing(Violation::kind).thenComparing(v -> v.operations().get(0).id()));
        return new HistoryReport(ops.size(), violations);
    }

    /** Read-your-writes and monotonic reads for one session and key: a sweep in time order. */
    private static void sessionGuarantees(List<HistoryOp> ops, List<Violation> out) {
        List<HistoryOp> reads = new ArrayList<>();
        List<HistoryOp> byEnd = new ArrayList<>();
        for (HistoryOp op : ops) {
            if (op.outcome() != Outcome.OK) {
                continue;
            }
            byEnd.add(op);
            if (op.type() == Type.READ) {
                reads.add(op);
            }
        }
        reads.sort(Comparator.comparingLong(HistoryOp::startNanos));
        byEnd.sort(Comparator.comparingLong(HistoryOp::endNanos));
        HistoryOp latestWrite = null; // the highest-version acknowledged write completed so far
        HistoryOp latestRead = null;  // the highest-version read completed so far
        int i = 0;
        for (HistoryOp r : reads) {
            while (i < byEnd.size() && byEnd.get(i).endNanos() < r.startNanos()) {
                HistoryOp done = byEnd.get(i++);
                if (done.type() == Type.WRITE && (latestWrite == null || done.version() > latestWrite.version())) {
                    latestWrite = done;
                } else if (done.type() == Type.READ && (latestRead == null || done.version() > latestRead.version())) {
                    latestRead = done;
                }
            }
            if (latestWrite != null && r.version() < latestWrite.version()) {
                out.add(new Violation(Violation.Kind.READ_YOUR_WRITES, r.session() + " read " + r.dataClass() + "/"
                        + r.key() + " v" + r.version() + " from " + r.regionAnswered() + " after its own write of v"
                        + latestWrite.version() + " was acknowledged", List.of(r, latestWrite)));
            } else if (latestRead != null && r.version() < latestRead.version()) {
                out.add(new Violation(Violation.Kind.MONOTONIC_READS, r.session() + " read " + r.dataClass() + "/"
                        + r.key() + " v" + r.version() + " from " + r.regionAnswered() + " after it had already read v"
                        + latestRead.version() + " from " + latestRead.regionAnswered(), List.of(r, latestRead)));
            }
        }
    }

    /** Every region's final version of a key is at least the newest acknowledged write's. */
    private static void lostWrites(List<HistoryOp> ops, List<Violation> out) {
        HistoryOp newest = null;
        for (HistoryOp op : ops) {
            if (op.type() == Type.WRITE && op.outcome() == Outcome.OK
                    && (newest == null || op.version() > newest.version())) {
                newest = op;
            }
        }
        if (newest == null) {
            return;
        }
        for (HistoryOp op : ops) {
            if (op.type() == Type.FINAL_READ && op.version() < newest.version()) {
                out.add(new Violation(Violation.Kind.LOST_WRITE, op.dataClass() + "/" + op.key() + " ends at v"
                        + op.version() + " in " + op.regionAnswered() + " but v" + newest.version()
                        + " was acknowledged", List.of(op, newest)));
            }
        }
    }

    private void residency(HistoryOp op, List<Violation> out) {
        DataPolicy policy = dataPolicies.policyFor(op.dataClass());
        if (policy.residency().isEmpty()) {
            return;
        }
        for (String region : new String[] {op.regionAsked(), op.regionAnswered()}) {
            if (region != null && (!topology.contains(region) || !policy.allows(topology.region(region)))) {
                out.add(new Violation(Violation.Kind.RESIDENCY, op.dataClass() + " may live only in "
                        + policy.residency() + " but operation #" + op.id() + " went to " + region, List.of(op)));
                return;
            }
        }
    }

    /** Builds a {@link HistoryChecker}. */
    public static final class Builder {
        private Topology topology;
        private DataPolicies dataPolicies = DataPolicies.defaults();

        private Builder() {
        }

        /**
         * Sets the topology, for the residency check.
         *
         * @param topology the regions and their jurisdictions
         * @return this builder
         */
        public Builder topology(Topology topology) {
            this.topology = Objects.requireNonNull(topology, "topology");
            return this;
        }

        /**
         * Sets the data policies whose residencies are checked; default {@link DataPolicies#defaults()}.
         *
         * @param policies the policies
         * @return this builder
         */
        public Builder dataPolicies(DataPolicies policies) {
            this.dataPolicies = Objects.requireNonNull(policies, "dataPolicies");
            return this;
        }

        /** Returns the checker. */
        public HistoryChecker build() {
            return new HistoryChecker(this);
        }
    }
}
