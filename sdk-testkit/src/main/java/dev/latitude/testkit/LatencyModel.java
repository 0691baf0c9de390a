package dev.latitude.testkit;

import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Random;

/**
 * How long a {@link FakeRegion} takes to answer, sampled afresh for every request; immutable.
 *
 * <p>A model is a base latency, optionally shaped by:
 * <ul>
 *   <li><b>jitter</b> ({@link #withJitter(double)}): the base is multiplied by a factor drawn uniformly from
 *       {@code [1 - j, 1 + j]};</li>
 *   <li><b>a heavy tail</b>, one of: {@link #withSpikes(double, double)} (with probability {@code p} the sample is
 *       multiplied by {@code k}) or {@link #withParetoTail(double, double, double)} (with probability {@code p} it is
 *       multiplied by a Pareto-distributed factor {@code >= 1}, capped).</li>
 * </ul>
 * Jitter is applied first, then the tail. A {@linkplain #withSeed(long) seed} makes every {@link #sampler()} of the
 * model produce the same sequence, so tests are deterministic; without one each sampler is seeded at random.
 *
 * <pre>{@code
 * LatencyModel model = LatencyModel.fixed(Duration.ofMillis(68))
 *         .scaledBy(0.1)               // tests at 1/10 of real latency
 *         .withJitter(0.2)             // ±20 %
 *         .withSpikes(0.01, 10)        // 1 % of requests 10 times slower
 *         .withSeed(42);
 * FakeRegion region = FakeRegion.start("eu-west-1", model);
 * }</pre>
 */
public final class LatencyModel {
    private enum Tail { NONE, SPIKES, PARETO }

    private final Duration base;
    private final double jitter;
    private final Tail tail;
    private final double tailProbability;
    private final double tailParameter;
    private final double tailCap;
    private final Long seed;

    private LatencyModel(Duration base, double jitter, Tail tail, double tailProbability, double tailParameter,
            double tailCap, Long seed) {
        this.base = base;
        this.jitter = jitter;
        this.tail = tail;
        this.tailProbability = tailProbability;
        this.tailParameter = tailParameter;
        this.tailCap = tailCap;
        this.seed = seed;
    }

    /**
     * Returns a model that always answers after {@code base}.
     *
     * @param base zero or more
     * @return the model, with no jitter, no tail and no seed
     */
    public static LatencyModel fixed(Duration base) {
        if (base == null || base.isNegative()) {
            throw new IllegalArgumentException("base latency must be zero or more, got " + base
                    + "; use Duration.ZERO for an instant answer");
        }
        return new LatencyModel(base, 0, Tail.NONE, 0, 1, 1, null);
    }

    /**
     * Returns this model with its base latency multiplied by {@code factor} (0.1 runs a test at a tenth of real
     * latency); jitter, tail and seed are kept.
     *
     * @param factor positive and finite
     * @return the scaled model
     */
    public LatencyModel scaledBy(double factor) {
        requireScale(factor);
        return withBase(scale(base, factor));
    }

    /**
     * Returns this model with another base latency; jitter, tail and seed are kept.
     *
     * @param newBase zero or more
     * @return the model
     */
    public LatencyModel withBase(Duration newBase) {
        return new LatencyModel(fixed(newBase).base, jitter, tail, tailProbability, tailParameter, tailCap, seed);
    }

    /**
     * Returns this model with uniform jitter of ± {@code fraction} of the base.
     *
     * @param fraction in [0, 1): 0 for none, 0.1 for ±10 %
     * @return the model
     */
    public LatencyModel withJitter(double fraction) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("jitter must be a fraction in [0, 1), got " + fraction
                    + "; use e.g. 0.1 for ±10 %, or 0 for none");
        }
        return new LatencyModel(base, fraction, tail, tailProbability, tailParameter, tailCap, seed);
    }

    /**
     * Returns this model with a spiky tail: with probability {@code probability} a sample is multiplied by
     * {@code multiplier}. Replaces any other tail.
     *
     * @param probability in [0, 1]
     * @param multiplier at least 1
     * @return the model
     */
    public LatencyModel withSpikes(double probability, double multiplier) {
        requireProbability(probability);
        if (!(multiplier >= 1) || Double.isInfinite(multiplier)) {
            throw new IllegalArgumentException("spike multiplier must be a finite number of at least 1, got "
                    + multiplier + "; use e.g. 10 for spikes ten times the usual latency");
        }
        return new LatencyModel(base, jitter, Tail.SPIKES, probability, multiplier, multiplier, seed);
    }

    /**
     * Returns this model with a Pareto tail: with probability {@code probability} a sample is multiplied by a factor
     * {@code X >= 1} where {@code P(X > x) = x^-shape}, capped at {@code maxMultiplier}. Smaller shapes give heavier
     * tails (1.5 to 3 are typical). Replaces any other tail.
     *
     * @param probability in [0, 1]
     * @param shape the Pareto shape (alpha), positive
     * @param maxMultiplier the cap on the factor, at least 1
     * @return the model
     */
    public LatencyModel withParetoTail(double probability, double shape, double maxMultiplier) {
        requireProbability(probability);
        if (!(shape > 0) || Double.isInfinite(shape)) {
            throw new IllegalArgumentException("Pareto shape must be positive and finite, got " + shape
                    + "; use e.g. 2 (smaller is heavier)");
        }
        if (!(maxMultiplier >= 1) || Double.isInfinite(maxMultiplier)) {
            throw new IllegalArgumentException("Pareto maxMultiplier must be a finite number of at least 1, got "
                    + maxMultiplier + "; use e.g. 50 so one request is at most 50 times slower");
        }
        return new LatencyModel(base, jitter, Tail.PARETO, probability, shape, maxMultiplier, seed);
    }

    /**
     * Returns this model with a seed: every {@link #sampler()} then yields the same sequence.
     *
     * @param newSeed the seed
     * @return the model
     */
    public LatencyModel withSeed(long newSeed) {
        return new LatencyModel(base, jitter, tail, tailProbability, tailParameter, tailCap, newSeed);
    }

    /** Returns the base latency (the latency with no jitter and no tail). */
    public Duration base() {
        return base;
    }

    /** Returns the jitter fraction, 0 for none. */
    public double jitter() {
        return jitter;
    }

    /** Returns the probability that a sample falls in the tail, 0 for no tail. */
    public double tailProbability() {
        return tail == Tail.NONE ? 0 : tailProbability;
    }

    /** Returns the seed, if any. */
    public OptionalLong seed() {
        return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
    }

    /** Returns whether every sample is the base latency (no jitter, no tail). */
    public boolean isFixed() {
        return jitter == 0 && tailProbability() == 0;
    }

    /**
     * Draws one latency from this model using {@code random}: the pure sampling function, for tests and for callers
     * who manage their own randomness.
     *
     * @param random the source of randomness
     * @return the latency, zero or more
     */
    public Duration sample(Random random) {
        Objects.requireNonNull(random, "random");
        double nanos = base.toNanos();
        if (jitter > 0) {
            nanos *= 1 + jitter * (2 * random.nextDouble() - 1);
        }
        if (tail != Tail.NONE && random.nextDouble() < tailProbability) {
            if (tail == Tail.SPIKES) {
                nanos *= tailParameter;
            } else {
                double u = random.nextDouble(); // in [0, 1): 1 - u is in (0, 1]
                nanos *= Math.min(tailCap, Math.pow(1 - u, -1 / tailParameter));
            }
        }
        return Duration.ofNanos(Math.max(0, Math.round(nanos)));
    }

    /** Returns a new sampler of this model, seeded with {@link #seed()} if there is one. */
    public Sampler sampler() {
        return new Sampler(this, seed == null ? new Random() : new Random(seed));
    }

    /** A stream of latencies from one model; safe for concurrent use. */
    public static final class Sampler {
        private final LatencyModel model;
        private final Random random;

        private Sampler(LatencyModel model, Random random) {
            this.model = model;
            this.random = random;
        }

        /** Returns the model sampled. */
        public LatencyModel model() {
            return model;
        }

        /** Returns the next latency. */
        public synchronized Duration next() {
            return model.sample(random);
        }
    }

    static void requireScale(double factor) {
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("scale factor must be positive and finite, got " + factor
                    + "; use e.g. 0.1 to run at a tenth of real latency, 1 for real latency");
        }
    }

    static Duration scale(Duration d, double factor) {
        return Duration.ofNanos(Math.round(d.toNanos() * factor));
    }

    private static void requireProbability(double probability) {
        if (!(probability >= 0 && probability <= 1)) {
            throw new IllegalArgumentException("tail probability must be in [0, 1], got " + probability
                    + "; use e.g. 0.01 for 1 % of requests");
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof LatencyModel)) {
            return false;
        }
        LatencyModel m = (LatencyModel) o;
        return base.equals(m.base) && jitter == m.jitter && tail == m.tail && tailProbability == m.tailProbability
                && tailParameter == m.tailParameter && tailCap == m.tailCap && Objects.equals(seed, m.seed);
    }

    @Override
    public int hashCode() {
        return Objects.hash(base, jitter, tail, tailProbability, tailParameter, tailCap, seed);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("latency(").append(base.toNanos() / 1e6).append("ms");
        if (jitter > 0) {
            s.append(", jitter ±").append(jitter);
        }
        if (tail == Tail.SPIKES) {
            s.append(", spikes p=").append(tailProbability).append(" x").append(tailParameter);
        } else if (tail == Tail.PARETO) {
            s.append(", pareto p=").append(tailProbability).append(" alpha=").append(tailParameter)
                    .append(" cap=").append(tailCap);
        }
        if (seed != null) {
            s.append(", seed ").append(seed);
        }
        return s.append(')').toString();
    }
}
