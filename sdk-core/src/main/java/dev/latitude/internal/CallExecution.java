package dev.latitude.internal;

import dev.latitude.AmbiguousWriteException;
import dev.latitude.AsyncRegionCall;
import dev.latitude.AttemptRecord;
import dev.latitude.ConsistencyLevel;
import dev.latitude.FailureKind;
import dev.latitude.Operation;
import dev.latitude.RegionsUnavailableException;
import dev.latitude.ResidencyException;
import dev.latitude.ResultWatermark;
import dev.latitude.spi.Scheduler;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One logical call: runs attempts in plan order, hedges, enforces timeouts and the deadline, and completes
 * {@link #result} exactly once.
 *
 * <p>An attempt timeout means "stop waiting only for this region", never "throw the answer away": when it fires and
 * the call may go elsewhere, the next region's attempt starts beside the slow one and the first good answer wins (the
 * other is cancelled), unless that region is itself slow right now (then adding attempts would only add load: the
 * engine looks again one attempt timeout later); when nothing else may serve the call (the plan's last region, a single writer, residency, a
 * non-idempotent write), the slow attempt keeps its chance until the deadline. A write whose outcome is unknown when
 * the call ends fails with {@link AmbiguousWriteException}, never with an exception that reads as "not applied".
 * Regions whose half-open circuit has no trial permit left are tried last, without a permit, when no other region
 * served the call. Each attempt holds a place in its region's bulkhead until its work has really ended.
 *
 * <p>Events (an attempt completing, a timer firing, the caller cancelling) arrive on any thread. Decisions are made
 * under this object's lock; user code (the region call, future callbacks) and health bookkeeping run outside it.
 *
 * @param <T> the result type
 */
final class CallExecution<T> {
    private static final Logger LOG = LoggerFactory.getLogger(CallExecution.class);

    final CompletableFuture<T> result = new CompletableFuture<>();
    private final Engine engine;
    private final Operation op;
    private final AsyncRegionCall<T> call;
    private final ResultWatermark<? super T> watermark;
    private final Engine.RoutePlan plan;
    private final int[] order;
    private final int healthy;
    private final boolean hedgeEligible;
    private final Span span;
    private final Context context;

    // Guarded by this.
    private final List<Attempt> attempts = new ArrayList<>(2);
    private int next;
    private int running;
    private boolean done;
    private boolean hedged;
    private Scheduler.Cancellable deadlineTimer; // armed lazily, see start()
    private long deadlineAt; // ticker time
    private Scheduler.Cancellable hedgeTimer;
    /** Regions skipped for want of a half-open trial permit, in plan order: last resorts once the plan runs out. */
    private int[] deferred;
    private int deferredCount;
    private int deferredNext;

    CallExecution(Engine engine, Operation op, AsyncRegionCall<T> call, ResultWatermark<? super T> watermark,
            Engine.RoutePlan plan) {
        this.engine = engine;
        this.op = op;
        this.call = call;
        this.watermark = watermark;
        this.plan = plan;
        this.order = plan.order;
        this.healthy = plan.healthy;
        this.hedgeEligible = engine.hedgeable(op) && healthy > 1;
        Context parent = Context.current();
        this.span = engine.telemetry.startCall(op, parent);
        this.context = parent.with(span);
        engine.telemetry.planned(span, plan);
    }

    /** One attempt in one region. Fields are guarded by the execution's lock. */
    private final class Attempt {
        final RegionState region;
        final boolean hedge;
        final boolean lastResort;
        final long start;
        CompletableFuture<T> future;
        Scheduler.Cancellable timeout;
        boolean finished;
        /** Ran past the attempt timeout while still running. */
        boolean slow;
        /** Started beside a slow attempt: holds a place of {@link SlowFallbackLimit} until it ends. */
        boolean extra;
        long end;
        FailureKind failure;
        Throwable cause;

        Attempt(RegionState region, boolean hedge, boolean lastResort, long start) {
            this.region = region;
            this.hedge = hedge;
            this.lastResort = lastResort;
            this.start = start;
        }

        AttemptRecord record() {
            return new AttemptRecord(region.spec.id(), failure, Duration.ofNanos(Math.max(0, end - start)), hedge, cause);
        }
    }

    void start() {
        engine.slowFallbacks.callStarted();
        result.whenComplete((v, e) -> {
            engine.slowFallbacks.callEnded();
            if (result.isCancelled()) {
                abandonAll("cancelled by the caller");
            }
        });
        if (hedgeEligible) {
            engine.hedgeBudget.deposit();
        }
        Attempt first;
        synchronized (this) {
            long deadline = op.deadline() != null ? op.deadline().toNanos() : engine.config.deadlineNanos();
            deadlineAt = engine.ticker.read() + deadline;
            if (deadline <= engine.config.attemptTimeoutNanos()) {
                armDeadline(deadline);
            }
            // Otherwise the first attempt's own timeout comes first: the deadline timer is armed only when a second
            // attempt starts (a fallback or a hedge), which most calls never need: one timer per call, not two.
            first = reserve(false, order.length);
            if (first == null) {
                done = true;
            }
        }
        if (first == null) {
            Throwable error;
            synchronized (this) {
                if (deadlineTimer != null) {
                    deadlineTimer.cancel();
                }
                error = exhausted(null);
            }
            finish(null, null, error);
        } else {
            dispatch(first);
        }
    }

    /**
     * Takes the next region of the plan before position {@code limit} that has room in its bulkhead and grants a
     * permit, and starts the bookkeeping of an attempt there. Regions past the healthy prefix are last resorts and go
     * without a permit; so do regions refused a half-open trial permit, once the plan has run out (not for hedges).
     */
    private Attempt reserve(boolean hedge, int limit) {
        long now = engine.ticker.read();
        while (true) {
            int index;
            boolean lastResort;
            if (next < limit) {
                int pos = next++;
                index = order[pos];
                lastResort = pos >= healthy;
            } else if (!hedge && deferredNext < deferredCount) {
                index = deferred[deferredNext++];
                lastResort = true;
            } else {
                return null;
            }
            RegionState r = engine.regions[index];
            if (!r.tryOccupy()) {
                Attempt skipped = new Attempt(r, hedge, lastResort, now);
                skipped.finished = true;
                skipped.end = now;
                skipped.failure = FailureKind.BULKHEAD_FULL;
                attempts.add(skipped);
                continue;
            }
            if (!lastResort && !r.tryAcquirePermit()) {
                r.release();
                defer(index);
                continue;
            }
            if (deadlineTimer == null && !attempts.isEmpty()) {
                armDeadline(deadlineAt - now);
            }
            Attempt a = new Attempt(r, hedge, lastResort, now);
            attempts.add(a);
            running++;
            r.attemptStarted();
            a.timeout = engine.scheduler.schedule(() -> onTimeout(a), engine.config.attemptTimeoutNanos());
            if (!hedge) {
                scheduleHedge(a, now);
            }
            return a;
        }
    }

    /** Remembers a region refused a trial permit, to try it last. Must hold the lock. */
    private void defer(int index) {
        if (deferred == null) {
            deferred = new int[order.length];
        }
        deferred[deferredCount++] = index;
    }

    /** Schedules the deadline timer {@code delayNanos} from now (at once if already past). Must hold the lock. */
    private void armDeadline(long delayNanos) {
        deadlineTimer = engine.scheduler.schedule(this::onDeadline, Math.max(0, delayNanos));
    }

    private void scheduleHedge(Attempt primary, long now) {
        if (hedgeTimer != null) {
            hedgeTimer.cancel();
            hedgeTimer = null;
        }
        if (!hedgeEligible || next >= healthy) {
            return;
        }
        long trigger = primary.region.latency.hedgeDelayNanos(now);
        if (trigger < 0) {
            return;
        }
        long delay = Math.max(trigger, engine.hedgeMinDelayNanos);
        hedgeTimer = engine.scheduler.schedule(() -> onHedge(primary, delay, false), delay);
    }

    /**
     * Runs the region call for {@code a} outside the lock and wires its completion. An attempt the call gave up on
     * before it was sent (the caller cancelled while a fallback or hedge was on its way) is never sent.
     */
    private void dispatch(Attempt a) {
        synchronized (this) {
            if (a.finished) {
                a.region.release();
                return;
            }
        }
        CompletableFuture<T> f;
        try (Scope ignored = context.makeCurrent()) {
            CompletionStage<T> stage = call.call(a.region.spec);
            f = stage != null ? stage.toCompletableFuture() : CompletableFuture.failedFuture(new NullPointerException(
                    "the AsyncRegionCall of " + op.name() + " returned null for " + a.region.spec.id()
                            + "; return a CompletionStage"));
        } catch (Throwable t) {
            f = CompletableFuture.failedFuture(t);
        }
        releaseWhenDone(a.region, f);
        boolean abandoned;
        synchronized (this) {
            a.future = f;
            abandoned = a.finished;
        }
        if (abandoned) {
            f.cancel(true);
        } else {
            f.whenComplete((v, e) -> onComplete(a, v, e));
        }
    }

    /**
     * Gives the attempt's bulkhead place back when its work has really ended: for a blocking attempt, when its thread
     * returns (cancelling it only interrupts the thread); otherwise when its future completes.
     */
    private static void releaseWhenDone(RegionState region, CompletableFuture<?> f) {
        if (f instanceof AttemptTask) {
            ((AttemptTask<?>) f).onExit(region::release);
        } else {
            f.whenComplete((v, e) -> region.release());
        }
    }

    private void onComplete(Attempt a, T value, Throwable error) {
        Throwable cause = error == null ? null : unwrap(error);
        FailureKind kind = cause == null ? null : classify(cause);
        long stamp = error == null ? stampOf(value) : ResultWatermark.NONE;
        if (kind == null && (plan.verify & (1L << a.region.index)) != 0) {
            boolean fresh = stamp >= plan.required.value();
            engine.telemetry.watermarkChecked(span, a.region, fresh, plan.required.value(), stamp);
            if (!fresh) {
                kind = FailureKind.STALE_READ; // the replica is behind the session: escalate to the writer
            }
        }
        long now = engine.ticker.read();
        List<Attempt> losers = null;
        synchronized (this) {
            if (a.finished) {
                return;
            }
            a.finished = true;
            a.end = now;
            a.failure = kind;
            a.cause = cause;
            running--;
            a.timeout.cancel();
            if (kind == null && !done) {
                // The winner is decided in the same critical section that ends the attempt: a failure of another
                // attempt arriving meanwhile must see the call as done, not as out of regions.
                done = true;
                losers = stopLocked();
            }
        }
        ended(a, now);
        if (losers != null) {
            abandon(losers, a.hedge, a.slow);
            advanceSession(a, stamp);
            finish(a, value, null);
        } else if (kind != null) {
            failed(a, kind, cause);
        }
    }

    /**
     * The attempt timeout: stop waiting only for this region. The attempt keeps running; the next region's attempt
     * starts beside it if the call may go elsewhere and no other attempt is still within its own timeout.
     */
    private void onTimeout(Attempt a) {
        long now = engine.ticker.read();
        Attempt fallback = null;
        String putOff = null;
        boolean first;
        synchronized (this) {
            if (a.finished || done) {
                return;
            }
            first = !a.slow;
            if (first) {
                a.slow = true;
                a.region.attemptSlow();
            }
            if (deadlineTimer == null) {
                armDeadline(deadlineAt - now);
            }
            // Like an ambiguous failure: only an idempotent operation may be sent elsewhere while this one may
            // still be applied.
            if (op.idempotent() && !runningWithinTimeout() && hasNextRegion()) {
                // Every region slow (a cold start, a stalled host) or too many fallbacks beside slow attempts
                // already: adding attempts would only add load. Look again one attempt timeout later.
                if (nextRegionSlow()) {
                    putOff = "next_region_slow";
                } else if (!engine.slowFallbacks.tryAcquire()) {
                    putOff = "limit";
                } else {
                    fallback = reserve(false, order.length);
                    if (fallback == null) {
                        engine.slowFallbacks.release();
                    } else {
                        fallback.extra = true;
                    }
                }
                if (putOff != null) {
                    a.timeout = engine.scheduler.schedule(() -> onTimeout(a), engine.config.attemptTimeoutNanos());
                }
            }
        }
        if (first) {
            engine.telemetry.attemptSlow(span, a.region, now - a.start);
        }
        if (putOff != null) {
            engine.telemetry.fallbackPutOff(span, a.region, putOff);
        }
        if (fallback != null) {
            LOG.debug("{}: {} is slow (past the attempt timeout), also trying {}", op, a.region.spec.id(),
                    fallback.region.spec.id());
            engine.telemetry.fallback(span, a.region, fallback.region, FailureKind.TIMEOUT);
            Attempt started = fallback;
            engine.offTimer(() -> dispatch(started));
        }
    }

    /** Whether the plan has a region left for another attempt. Must hold the lock. */
    private boolean hasNextRegion() {
        return next < order.length || deferredNext < deferredCount;
    }

    /** Whether the region the next attempt would go to is itself slow right now. Must hold the lock. */
    private boolean nextRegionSlow() {
        int index = next < order.length ? order[next] : deferredNext < deferredCount ? deferred[deferredNext] : -1;
        return index >= 0 && engine.regions[index].slowNow();
    }

    /** Whether an attempt is running that has not yet reached its timeout (its outcome or timeout decides). */
    private boolean runningWithinTimeout() {
        for (Attempt other : attempts) {
            if (!other.finished && !other.slow) {
                return true;
            }
        }
        return false;
    }

    /** Gives back the {@link SlowFallbackLimit} place of an attempt that ended or was abandoned, once. */
    private void releaseExtra(Attempt a) {
        boolean held;
        synchronized (this) {
            held = a.extra;
            a.extra = false;
        }
        if (held) {
            engine.slowFallbacks.release();
        }
    }

    /** Health, latency and metrics for an attempt that ended on its own (not abandoned). */
    private void ended(Attempt a, long now) {
        releaseExtra(a);
        long duration = a.end - a.start;
        if (cutAfterItsTimeout(a, duration)) {
            // Region clients that end every request by themselves at the attempt timeout (the DynamoDB clients do)
            // turn a slow attempt into a failure at that moment. Slow is not dead: such an attempt is judged like one
            // the call stopped waiting for, a failure only if the region has not answered since it was sent.
            a.region.attemptOutpaced(a.slow, !a.lastResort, a.start);
        } else {
            a.region.attemptEnded(a.failure, duration, a.lastResort, a.slow, now);
        }
        engine.telemetry.attemptEnded(a.region, a.failure, duration);
        if (a.failure != null) {
            engine.telemetry.attemptFailed(span, a.region, a.failure, duration, a.cause);
        }
    }

    /** Whether {@code a} failed the way a request cut by its client's timeout does, at or past the attempt timeout. */
    private boolean cutAfterItsTimeout(Attempt a, long duration) {
        return (a.failure == FailureKind.AMBIGUOUS || a.failure == FailureKind.TIMEOUT)
                && (a.slow || duration >= engine.config.attemptTimeoutNanos());
    }

    /**
     * Sends the hedge of {@code primary}, {@code delay} after it started (twice that when {@code late}), if the budget
     * allows. An ordinary hedge that finds the budget down to its reserve waits as long again: then only requests well
     * into the tail spend the reserve.
     */
    private void onHedge(Attempt primary, long delay, boolean late) {
        Attempt h;
        synchronized (this) {
            if (done || primary.finished || next >= healthy) {
                return;
            }
            if (!engine.hedgeBudget.tryWithdraw(late)) {
                if (!late) {
                    hedgeTimer = engine.scheduler.schedule(() -> onHedge(primary, delay, true), delay);
                }
                return;
            }
            h = reserve(true, healthy);
            if (h == null) {
                return;
            }
            hedged = true;
        }
        engine.telemetry.hedge(span, primary.region, h.region, h.start - primary.start);
        engine.offTimer(() -> dispatch(h));
    }

    private void failed(Attempt a, FailureKind kind, Throwable cause) {
        Throwable terminal = null;
        Attempt fallback = null;
        List<Attempt> losers = List.of();
        synchronized (this) {
            if (done) {
                return;
            }
            if (kind == FailureKind.CALLER) {
                terminal = cause;
            } else if ((kind == FailureKind.AMBIGUOUS || kind == FailureKind.TIMEOUT) && !op.idempotent()) {
                terminal = new AmbiguousWriteException(op.name(), a.region.spec.id(), records(), cause);
            } else if (runningWithinTimeout()) {
                return; // another attempt (a hedge or the primary) is still within its timeout: its outcome decides
            } else {
                if (kind == FailureKind.STALE_READ) {
                    preferNext(plan.source);
                }
                fallback = reserve(false, order.length);
                if (fallback == null) {
                    if (running > 0) {
                        return; // slow attempts still run: they keep their chance until the deadline
                    }
                    terminal = exhausted(cause);
                }
            }
            if (terminal != null) {
                done = true;
                losers = stopLocked();
            }
        }
        if (fallback != null) {
            LOG.debug("{}: {} failed ({}), falling back to {}", op, a.region.spec.id(), kind,
                    fallback.region.spec.id());
            engine.telemetry.fallback(span, a.region, fallback.region, kind);
            dispatch(fallback);
            return;
        }
        abandon(losers, false, false);
        finish(null, null, terminal);
    }

    /**
     * Moves {@code regionIndex} to the front of the untried part of the plan, so the next attempt goes there (the
     * region that took the session's write, after a replica answered with older data). Must hold the lock.
     */
    private void preferNext(int regionIndex) {
        for (int pos = next; pos < order.length; pos++) {
            if (order[pos] == regionIndex) {
                System.arraycopy(order, next, order, next + 1, pos - next);
                order[next] = regionIndex;
                return;
            }
        }
    }

    /** The failure of a call whose plan ran out; must hold the lock. */
    private Throwable exhausted(Throwable cause) {
        Attempt unknown = unknownOutcome();
        if (unknown != null) {
            return new AmbiguousWriteException(op.name(), unknown.region.spec.id(), "an attempt there failed with an"
                    + " unknown outcome and no other region could take the write", records(), unknown.cause);
        }
        if (plan.outsideResidency > 0) {
            engine.telemetry.residencyRefused(span, op.dataClass(), plan.policy.residency());
            return new ResidencyException(op.name(), op.dataClass(), plan.policy.residency(), records(), cause);
        }
        return new RegionsUnavailableException(op.name(), false, records(), cause);
    }

    /** Returns the failure of the latest attempt that failed with one, or {@code null}. Must hold the lock. */
    private Throwable lastCause() {
        for (int i = attempts.size() - 1; i >= 0; i--) {
            if (attempts.get(i).cause != null) {
                return attempts.get(i).cause;
            }
        }
        return null;
    }

    /**
     * Returns the last attempt of a write that may have been applied (it failed ambiguously, or was cut while
     * running), or {@code null} if the call is not a write or every attempt certainly failed. Must hold the lock.
     */
    private Attempt unknownOutcome() {
        if (op.kind() != Operation.Kind.WRITE) {
            return null;
        }
        Attempt found = null;
        for (Attempt a : attempts) {
            if (a.failure == FailureKind.AMBIGUOUS || a.failure == FailureKind.TIMEOUT) {
                found = a;
            }
        }
        return found;
    }

    /**
     * Advances the session with what a successful call wrote or read. A stamp beyond the clock's skew bound (one the
     * hybrid clock refused to follow) is not recorded: it is counted by the engine's {@code WatermarkBounds}.
     */
    private void advanceSession(Attempt winner, long stamp) {
        if (plan.session == null || stamp < 0 || op.dataClass() == null) {
            return;
        }
        if (op.kind() == Operation.Kind.WRITE) {
            String region = winner.region.spec.id();
            if (engine.watermarkBounds().admits(region, stamp)) {
                plan.session.recordWrite(op.dataClass(), op.key(), stamp, region);
            }
        } else if (plan.level.kind() == ConsistencyLevel.Kind.SESSION) {
            // With a single writer, every version was written there: recording the read against the writer (not the
            // replica that answered) keeps all of a data class's watermarks on one source region, so folding old
            // keys into the class watermark stays exact.
            String writer = engine.singleWriter(plan.policy);
            String region = writer != null ? writer : winner.region.spec.id();
            if (engine.watermarkBounds().admits(region, stamp)) {
                plan.session.recordRead(op.dataClass(), op.key(), stamp, region);
            }
        }
    }

    private long stampOf(T value) {
        if (watermark == null) {
            return ResultWatermark.NONE;
        }
        try {
            return watermark.of(value);
        } catch (RuntimeException e) {
            LOG.warn("ResultWatermark of {} threw; the result is treated as carrying no watermark", op, e);
            return ResultWatermark.NONE;
        }
    }

    private void onDeadline() {
        List<Attempt> cut;
        Throwable terminal;
        synchronized (this) {
            if (done) {
                return;
            }
            done = true;
            cut = stopLocked();
            for (Attempt a : cut) {
                a.failure = FailureKind.TIMEOUT;
            }
            Attempt unknown = unknownOutcome();
            if (unknown != null) {
                terminal = new AmbiguousWriteException(op.name(), unknown.region.spec.id(), "the call's deadline"
                        + " passed before its outcome was known", records(), unknown.cause);
            } else if (plan.outsideResidency > 0) {
                engine.telemetry.residencyRefused(span, op.dataClass(), plan.policy.residency());
                terminal = new ResidencyException(op.name(), op.dataClass(), plan.policy.residency(), records(),
                        lastCause());
            } else {
                terminal = new RegionsUnavailableException(op.name(), true, records(), lastCause());
            }
        }
        engine.offTimer(() -> {
            abandon(cut, false, false);
            finish(null, null, terminal);
        });
    }

    private void abandonAll(String why) {
        List<Attempt> cut;
        synchronized (this) {
            if (done) {
                return;
            }
            done = true;
            cut = stopLocked();
        }
        LOG.debug("{}: {}", op, why);
        abandon(cut, false, false);
        span.setStatus(StatusCode.ERROR, why);
        span.end();
    }

    /** Cancels the timers and marks every running attempt finished; returns those to cancel outside the lock. */
    private List<Attempt> stopLocked() {
        if (deadlineTimer != null) {
            deadlineTimer.cancel();
        }
        if (hedgeTimer != null) {
            hedgeTimer.cancel();
        }
        List<Attempt> cut = new ArrayList<>(running);
        long now = engine.ticker.read();
        for (Attempt a : attempts) {
            if (!a.finished) {
                a.finished = true;
                a.end = now;
                if (a.slow) {
                    a.failure = FailureKind.TIMEOUT;
                }
                cut.add(a);
            }
        }
        running = 0;
        return cut;
    }

    /**
     * Stops attempts the call no longer needs. They are not charged to their region's health, except an attempt past
     * its timeout (slow, and beaten or cut) and a primary that a hedge beat: those count as outpaced. Not when the
     * winner itself answered past its attempt timeout: losing to a slow answer proves nothing about the loser, since
     * then the whole path is slow (a cold JVM, a stalled host, a saturated link), not one region dead.
     *
     * @param hedgeWon whether the winner was a hedge
     * @param winnerSlow whether the winner answered past its attempt timeout
     */
    private void abandon(List<Attempt> cut, boolean hedgeWon, boolean winnerSlow) {
        for (Attempt a : cut) {
            a.timeout.cancel();
            releaseExtra(a);
            if (!winnerSlow && (a.slow || (hedgeWon && !a.hedge))) {
                a.region.attemptOutpaced(a.slow, !a.lastResort, a.start);
            } else {
                a.region.attemptAbandoned(a.slow, !a.lastResort, a.start);
            }
            CompletableFuture<T> f;
            synchronized (this) {
                f = a.future;
            }
            if (f != null) {
                f.cancel(true);
            }
        }
    }

    private void finish(Attempt winner, T value, Throwable error) {
        List<AttemptRecord> recs;
        synchronized (this) {
            recs = span.isRecording() ? records() : List.of();
        }
        if (span.isRecording()) {
            if (winner != null) {
                span.setAttribute(Telemetry.CLOUD_REGION, winner.region.spec.id());
            }
            span.setAttribute(Telemetry.ATTEMPTS, recs.stream().filter(r -> r.failure() != FailureKind.CIRCUIT_OPEN).count());
            span.setAttribute(Telemetry.HEDGED, hedgedSnapshot());
            span.setAttribute(Telemetry.PANIC, healthy == 0);
            if (error != null) {
                engine.telemetry.callFailed(span, error);
            }
        }
        span.end();
        if (error == null) {
            result.complete(value);
        } else {
            result.completeExceptionally(error);
        }
    }

    private synchronized boolean hedgedSnapshot() {
        return hedged;
    }

    /** Must hold the lock. */
    private List<AttemptRecord> records() {
        List<AttemptRecord> list = new ArrayList<>(attempts.size());
        for (Attempt a : attempts) {
            list.add(a.record());
        }
        return list;
    }

    private FailureKind classify(Throwable cause) {
        try {
            FailureKind k = engine.config.classifier().classify(cause);
            return k != null ? k : FailureKind.AMBIGUOUS;
        } catch (RuntimeException e) {
            LOG.warn("ErrorClassifier threw while classifying {}; treating the failure as AMBIGUOUS", cause, e);
            return FailureKind.AMBIGUOUS;
        }
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    @Override
    public String toString() {
        return "CallExecution[" + op + "]";
    }
}
