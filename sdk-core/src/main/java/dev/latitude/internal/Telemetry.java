package dev.latitude.internal;

import dev.latitude.CircuitState;
import dev.latitude.ConsistencyLevel;
import dev.latitude.FailureKind;
import dev.latitude.Operation;
import dev.latitude.SensitiveData;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongGauge;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.util.List;

/**
 * The engine's spans and metrics. Attribute sets are built once per region and outcome, so recording allocates
 * nothing beyond what the OpenTelemetry SDK does; with no SDK installed every call is a no-op.
 *
 * <p>Spans: one per logical call, named after the operation, with {@code cloud.region} of the region that answered,
 * {@code latitude.attempts}, {@code latitude.hedged}, {@code latitude.panic}, and events
 * {@code latitude.attempt.failed}, {@code latitude.fallback}, {@code latitude.hedge}.
 *
 * <p>Metrics: {@code latitude.attempt.duration} (s, by region and outcome), {@code latitude.attempts} (by region
 * and outcome), {@code latitude.fallbacks} (by region left and reason), {@code latitude.hedges} (by region hedged
 * to), {@code latitude.circuit.transitions} (by region and new state), {@code latitude.circuit.state} (gauge by
 * region: 0 closed, 1 half-open, 2 open), {@code latitude.stale_reads.avoided} (by check: planned or verified),
 * {@code latitude.watermark.checks} (by outcome: fresh or stale), {@code latitude.residency.refusals}. Spans also
 * carry {@code latitude.consistency} and the events {@code latitude.replicas.skipped},
 * {@code latitude.stale_read_avoided} and {@code latitude.residency.refused}.
 *
 * <p>No attribute or event holds data values: the operation's key is put on its span ({@code latitude.key}) only when
 * {@link SensitiveData#PROPERTY} asks for values, for debugging. For the same reason a failed call's span says the
 * exception's type (status description and an {@code exception} event with {@code exception.type}) but not its
 * message, which may quote what a region answered; with the property set, the exception is recorded whole.
 */
final class Telemetry implements AutoCloseable {
    static final String SCOPE = "dev.latitude";
    static final AttributeKey<String> CLOUD_REGION = AttributeKey.stringKey("cloud.region");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("latitude.outcome");
    static final AttributeKey<String> REASON = AttributeKey.stringKey("latitude.reason");
    static final AttributeKey<String> STATE = AttributeKey.stringKey("latitude.circuit.state");
    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("latitude.operation");
    static final AttributeKey<String> KIND = AttributeKey.stringKey("latitude.operation.kind");
    static final AttributeKey<String> DATA_CLASS = AttributeKey.stringKey("latitude.data_class");
    static final AttributeKey<String> KEY = AttributeKey.stringKey("latitude.key");
    static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("latitude.attempts");
    static final AttributeKey<Boolean> HEDGED = AttributeKey.booleanKey("latitude.hedged");
    static final AttributeKey<Boolean> PANIC = AttributeKey.booleanKey("latitude.panic");
    static final AttributeKey<String> FROM = AttributeKey.stringKey("latitude.from_region");
    static final AttributeKey<String> TO = AttributeKey.stringKey("latitude.to_region");
    static final AttributeKey<Double> DURATION_MS = AttributeKey.doubleKey("latitude.duration_ms");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<String> EXCEPTION_TYPE = AttributeKey.stringKey("exception.type");
    static final AttributeKey<String> CONSISTENCY = AttributeKey.stringKey("latitude.consistency");
    static final AttributeKey<String> CHECK = AttributeKey.stringKey("latitude.check");
    static final AttributeKey<Long> REQUIRED = AttributeKey.longKey("latitude.watermark.required");
    static final AttributeKey<Long> SEEN = AttributeKey.longKey("latitude.watermark.seen");
    static final AttributeKey<Long> SKIPPED = AttributeKey.longKey("latitude.regions.skipped");
    static final AttributeKey<String> JURISDICTIONS = AttributeKey.stringKey("latitude.residency");
    private static final String OK = "ok";

    private final Tracer tracer;
    private final DoubleHistogram attemptDuration;
    private final LongCounter attempts;
    private final LongCounter fallbacks;
    private final LongCounter fallbacksPutOff;
    private final LongCounter hedges;
    private final LongCounter transitions;
    private final ObservableLongGauge circuitGauge;
    private final LongCounter staleAvoided;
    private final LongCounter watermarkChecks;
    private final LongCounter residencyRefusals;
    private static final Attributes PLANNED = Attributes.of(CHECK, "planned");
    private static final Attributes VERIFIED = Attributes.of(CHECK, "verified");
    private static final Attributes FRESH = Attributes.of(OUTCOME, "fresh");
    private static final Attributes STALE = Attributes.of(OUTCOME, "stale");
    /** [region][outcome]: outcome 0 is ok, then FailureKind ordinals + 1. */
    private final Attributes[][] outcomeAttributes;
    private final Attributes[][] fallbackAttributes;
    private final Attributes[][] stateAttributes;
    private final Attributes[] regionAttributes;

    Telemetry(OpenTelemetry otel, List<RegionState> regions) {
        this.tracer = otel.getTracer(SCOPE);
        Meter meter = otel.getMeter(SCOPE);
        this.attemptDuration = meter.histogramBuilder("latitude.attempt.duration").setUnit("s")
                .setDescription("Duration of one attempt in one region").build();
        this.attempts = meter.counterBuilder("latitude.attempts").setUnit("{attempt}")
                .setDescription("Attempts by region and outcome").build();
        this.fallbacks = meter.counterBuilder("latitude.fallbacks").setUnit("{fallback}")
                .setDescription("Calls that moved on from a region, by region and reason").build();
        this.fallbacksPutOff = meter.counterBuilder("latitude.fallbacks.put_off").setUnit("{fallback}")
                .setDescription("Fallbacks beside a slow attempt put off by one attempt timeout, by the slow region and"
                        + " reason (next_region_slow, limit)").build();
        this.hedges = meter.counterBuilder("latitude.hedges").setUnit("{hedge}")
                .setDescription("Hedged attempts, by the region hedged to").build();
        this.transitions = meter.counterBuilder("latitude.circuit.transitions").setUnit("{transition}")
                .setDescription("Circuit-breaker transitions, by region and new state").build();
        this.staleAvoided = meter.counterBuilder("latitude.stale_reads.avoided").setUnit("{read}")
                .setDescription("Reads kept from a replica behind the session: planned (routed away from replicas known"
                        + " to be behind) or verified (a stale answer was caught and escalated)").build();
        this.watermarkChecks = meter.counterBuilder("latitude.watermark.checks").setUnit("{check}")
                .setDescription("Answers checked against the session's watermark, by outcome").build();
        this.residencyRefusals = meter.counterBuilder("latitude.residency.refusals").setUnit("{call}")
                .setDescription("Calls that failed rather than leave their data class's jurisdictions").build();
        int n = regions.size();
        FailureKind[] kinds = FailureKind.values();
        CircuitState[] states = CircuitState.values();
        outcomeAttributes = new Attributes[n][kinds.length + 1];
        fallbackAttributes = new Attributes[n][kinds.length];
        stateAttributes = new Attributes[n][states.length];
        regionAttributes = new Attributes[n];
        for (RegionState r : regions) {
            String id = r.spec.id();
            regionAttributes[r.index] = Attributes.of(CLOUD_REGION, id);
            outcomeAttributes[r.index][0] = Attributes.of(CLOUD_REGION, id, OUTCOME, OK);
            for (FailureKind k : kinds) {
                String name = k.name().toLowerCase(java.util.Locale.ROOT);
                outcomeAttributes[r.index][k.ordinal() + 1] = Attributes.of(CLOUD_REGION, id, OUTCOME, name);
                fallbackAttributes[r.index][k.ordinal()] = Attributes.of(CLOUD_REGION, id, REASON, name);
            }
            for (CircuitState s : states) {
                stateAttributes[r.index][s.ordinal()] = Attributes.of(CLOUD_REGION, id, STATE,
                        s.name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        this.circuitGauge = meter.gaugeBuilder("latitude.circuit.state").ofLongs()
                .setDescription("Circuit-breaker state by region: 0 closed, 1 half-open, 2 open")
                .buildWithCallback(m -> {
                    for (RegionState r : regions) {
                        CircuitState s = r.circuit();
                        m.record(s == CircuitState.CLOSED ? 0 : s == CircuitState.HALF_OPEN ? 1 : 2,
                                regionAttributes[r.index]);
                    }
                });
    }

    /**
     * Starts the span of a logical call as a child of {@code parent}. Its kind is CLIENT, as the database semantic
     * conventions expect of a call to a remote database, whichever regions its attempts go to.
     */
    Span startCall(Operation op, Context parent) {
        Span span = tracer.spanBuilder(op.name()).setParent(parent).setSpanKind(SpanKind.CLIENT).startSpan();
        if (span.isRecording()) {
            span.setAttribute(OPERATION, op.name());
            span.setAttribute(KIND, op.kind().name().toLowerCase(java.util.Locale.ROOT));
            if (op.dataClass() != null) {
                span.setAttribute(DATA_CLASS, op.dataClass());
            }
            span.setAllAttributes(op.attributes());
            if (op.key() != null && SensitiveData.shown()) {
                span.setAttribute(KEY, op.key());
            }
        }
        return span;
    }

    /** Records what the planner decided about consistency. */
    void planned(Span span, Engine.RoutePlan plan) {
        if (plan.behind > 0 && plan.required != null) {
            staleAvoided.add(1, PLANNED);
        }
        if (span.isRecording()) {
            // A write has no read level: it goes to a writer region. Its span names the level its data class is
            // read at, which is what the write's session stamp will be checked against.
            ConsistencyLevel level = plan.level != null ? plan.level : plan.policy.consistency();
            span.setAttribute(CONSISTENCY, level.toString());
            if (plan.behind > 0) {
                span.addEvent("latitude.replicas.skipped", Attributes.of(SKIPPED, (long) plan.behind,
                        REQUIRED, plan.required == null ? -1L : plan.required.value()));
            }
        }
    }

    void watermarkChecked(Span span, RegionState region, boolean fresh, long required, long seen) {
        watermarkChecks.add(1, fresh ? FRESH : STALE);
        if (!fresh) {
            staleAvoided.add(1, VERIFIED);
            if (span.isRecording()) {
                span.addEvent("latitude.stale_read_avoided", Attributes.of(CLOUD_REGION, region.spec.id(),
                        REQUIRED, required, SEEN, seen));
            }
        }
    }

    void residencyRefused(Span span, String dataClass, java.util.Set<String> jurisdictions) {
        residencyRefusals.add(1);
        if (span.isRecording()) {
            span.addEvent("latitude.residency.refused", Attributes.of(DATA_CLASS, String.valueOf(dataClass),
                    JURISDICTIONS, String.join(",", jurisdictions)));
        }
    }

    void attemptEnded(RegionState region, FailureKind failure, long durationNanos) {
        Attributes a = outcomeAttributes[region.index][failure == null ? 0 : failure.ordinal() + 1];
        attempts.add(1, a);
        attemptDuration.record(durationNanos / 1e9, a);
    }

    void attemptFailed(Span span, RegionState region, FailureKind failure, long durationNanos, Throwable cause) {
        if (span.isRecording()) {
            span.addEvent("latitude.attempt.failed", Attributes.of(CLOUD_REGION, region.spec.id(),
                    REASON, failure.name().toLowerCase(java.util.Locale.ROOT), DURATION_MS, durationNanos / 1e6,
                    ERROR_TYPE, errorType(failure, cause)));
        }
    }

    /**
     * The {@code error.type} of a failed attempt: the exception's class when the region answered with one, else the
     * engine's own reason ({@code timeout}, {@code stale_read} for an answer older than the session's writes,
     * {@code circuit_open}, ...), as the OpenTelemetry conventions ask for a low-cardinality identifier.
     */
    static String errorType(FailureKind failure, Throwable cause) {
        return cause != null ? cause.getClass().getName() : failure.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** An attempt ran past the attempt timeout and is still running (it is not cancelled while it may win). */
    void attemptSlow(Span span, RegionState region, long durationNanos) {
        if (span.isRecording()) {
            span.addEvent("latitude.attempt.slow", Attributes.of(CLOUD_REGION, region.spec.id(),
                    DURATION_MS, durationNanos / 1e6));
        }
    }

    void fallback(Span span, RegionState from, RegionState to, FailureKind reason) {
        fallbacks.add(1, fallbackAttributes[from.index][reason.ordinal()]);
        if (span.isRecording()) {
            span.addEvent("latitude.fallback", Attributes.of(FROM, from.spec.id(), TO, to.spec.id(),
                    REASON, reason.name().toLowerCase(java.util.Locale.ROOT)));
        }
    }

    void fallbackPutOff(Span span, RegionState slow, String reason) {
        fallbacksPutOff.add(1, Attributes.of(CLOUD_REGION, slow.spec.id(), REASON, reason));
        if (span.isRecording()) {
            span.addEvent("latitude.fallback.put_off", Attributes.of(CLOUD_REGION, slow.spec.id(), REASON, reason));
        }
    }

    void hedge(Span span, RegionState from, RegionState to, long delayNanos) {
        hedges.add(1, regionAttributes[to.index]);
        if (span.isRecording()) {
            span.addEvent("latitude.hedge", Attributes.of(FROM, from.spec.id(), TO, to.spec.id(),
                    DURATION_MS, delayNanos / 1e6));
        }
    }

    /** Marks a recording call span failed with {@code error}: its type only, unless data values may be shown. */
    void callFailed(Span span, Throwable error) {
        if (SensitiveData.shown()) {
            span.setStatus(StatusCode.ERROR, String.valueOf(error.getMessage()));
            span.recordException(error);
        } else {
            span.setStatus(StatusCode.ERROR, error.getClass().getSimpleName());
            span.addEvent("exception", Attributes.of(EXCEPTION_TYPE, error.getClass().getName()));
        }
    }

    void circuitChanged(RegionState region, CircuitState to) {
        transitions.add(1, stateAttributes[region.index][to.ordinal()]);
    }

    @Override
    public void close() {
        circuitGauge.close();
    }
}
