package dev.latitude.benchmarks;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs one benchmark by name and prints its figures last, one per line, as {@code NAME.metric=value unit}.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar plan       # JMH: PlanBenchmark with the gc profiler
 * java -jar benchmarks/target/benchmarks.jar failover   # scenario: blackhole the preferred region under load
 * </pre>
 *
 * <p>Exit status: 0 on success, 2 for an unknown name, 1 if the benchmark failed.
 */
public final class Main {
    static final String USAGE = "usage: java -jar benchmarks.jar plan|failover";
    private static final String ALLOC_NORM = "gc.alloc.rate.norm";

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        // One stream for logs and figures, so that the figures really come last; timestamps to read the logs by.
        setDefault("org.slf4j.simpleLogger.logFile", "System.out");
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        if (args.length != 1) {
            System.err.println(USAGE);
            System.exit(2);
        }
        List<String> metrics;
        switch (args[0]) {
            case "plan":
                metrics = plan();
                break;
            case "failover":
                metrics = new FailoverScenario().run();
                break;
            default:
                System.err.println("unknown benchmark '" + args[0] + "'; " + USAGE);
                System.exit(2);
                return;
        }
        System.out.println();
        metrics.forEach(System.out::println);
        System.out.flush();
        System.exit(0); // do not wait for stray non-daemon threads of the libraries
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** Runs {@link PlanBenchmark} with the gc profiler and returns time and allocation per operation for each case. */
    static List<String> plan() throws RunnerException {
        Options options = new OptionsBuilder()
                .include(PlanBenchmark.class.getName() + "\\.")
                .forks(1)
                .warmupIterations(3)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(5)
                .measurementTime(TimeValue.seconds(1))
                .addProfiler("gc")
                .build();
        Collection<RunResult> results = new Runner(options).run();
        List<String> times = new ArrayList<>();
        List<String> allocs = new ArrayList<>();
        for (RunResult r : results) {
            BenchmarkParams p = r.getParams();
            String benchmark = p.getBenchmark();
            String method = benchmark.substring(benchmark.lastIndexOf('.') + 1);
            String name = method + "_" + p.getParam("policy") + "_" + p.getParam("regions");
            Result<?> primary = r.getPrimaryResult();
            if (!"ns/op".equals(primary.getScoreUnit())) {
                throw new IllegalStateException("expected ns/op from " + benchmark + ", got " + primary.getScoreUnit());
            }
            times.add(String.format(Locale.ROOT, "plan.ns_per_op_%s=%.1f ns", name, primary.getScore()));
            Result<?> alloc = secondary(r.getSecondaryResults(), ALLOC_NORM);
            allocs.add(alloc == null ? "plan.alloc_bytes_per_op_" + name + "=NaN B"
                    : String.format(Locale.ROOT, "plan.alloc_bytes_per_op_%s=%.1f B", name, alloc.getScore()));
            System.out.printf(Locale.ROOT, "plan: %-24s %8.1f ± %.1f ns/op, %s%n", name, primary.getScore(),
                    primary.getScoreError(), alloc == null ? "no " + ALLOC_NORM + " result (labels: "
                            + r.getSecondaryResults().keySet() + ")"
                            : String.format(Locale.ROOT, "%.1f ± %.1f B/op", alloc.getScore(), alloc.getScoreError()));
        }
        List<String> metrics = new ArrayList<>(times);
        metrics.addAll(allocs);
        return metrics;
    }

    /**
     * Finds a secondary result by the end of its label: JMH has spelled the gc profiler's labels both
     * {@code ·gc.alloc.rate.norm} (up to 1.35) and {@code gc.alloc.rate.norm} (1.36 on).
     */
    private static Result<?> secondary(Map<String, Result> results, String suffix) {
        for (Map.Entry<String, Result> e : results.entrySet()) {
            String label = e.getKey();
            if (label.equals(suffix) || label.endsWith("·" + suffix)) {
                return e.getValue();
            }
        }
        return null;
    }
}
