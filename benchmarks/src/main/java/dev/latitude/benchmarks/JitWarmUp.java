package dev.latitude.benchmarks;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * Warms a measured path until the JIT has settled: runs a pass again and again until one adds less than
 * {@value #SETTLED_MS} ms of compilation (at least two passes, at most {@code max} in all). A fixed couple of seconds
 * is not enough on two busy cores: a wrapped path (the engine's and an adapter's code over a driver or an SDK) kept
 * the compiler threads busy for seconds more, which the first measured rounds paid for.
 */
final class JitWarmUp {
    /** Compilation time, in ms, below which a pass counts as settled. */
    static final long SETTLED_MS = 100;

    /** One pass over every client the measurement compares. */
    @FunctionalInterface
    interface Pass {
        void run() throws Exception;
    }

    private JitWarmUp() {
    }

    /**
     * Runs {@code pass} until the JIT settles or {@code max} has passed.
     *
     * @param pass one warm-up pass
     * @param max the longest the warm-up may take
     * @return how it went, for the log: the passes run and the compilation time the last one added
     * @throws Exception what a pass threw
     */
    static String run(Pass pass, Duration max) throws Exception {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long end = System.nanoTime() + max.toNanos();
        long compiled = jit.getTotalCompilationTime();
        int passes = 0;
        while (true) {
            pass.run();
            passes++;
            long before = compiled;
            compiled = jit.getTotalCompilationTime();
            if (passes >= 2 && compiled - before < SETTLED_MS || System.nanoTime() > end) {
                return "warmed up in " + passes + " passes; the last added " + (compiled - before)
                        + " ms of JIT compilation";
            }
        }
    }
}
