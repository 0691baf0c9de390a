package dev.latitude.benchmarks;

import dev.latitude.SessionToken;
import dev.latitude.SessionTokenCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
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
 * java -jar benchmarks/target/benchmarks.jar failover   # scenario: blackhole the preferred region under load, first
 *                                                      # with the client in a fresh JVM (cold pass), then pre-warmed
 * java -jar benchmarks/target/benchmarks.jar failover-cold          # the cold pass alone
 * java -jar benchmarks/target/benchmarks.jar failover-cold-warmup   # the cold pass with Builder.warmUp(2 s)
 * java -jar benchmarks/target/benchmarks.jar failover-warm          # the warm pass alone
 * java -jar benchmarks/target/benchmarks.jar token      # JMH: TokenBenchmark (session token encode/decode/merge)
 * java -jar benchmarks/target/benchmarks.jar dynamodb   # scenario: MultiRegionDynamoDbClient on DynamoDB Local regions
 * java -jar benchmarks/target/benchmarks.jar s3         # scenario: MultiRegionS3Client on S3Proxy regions
 * java -jar benchmarks/target/benchmarks.jar tail       # scenario: routing and hedging when 5 % of the local region's
 *                                                      # requests are slow (DynamoDB Local behind latency proxies)
 * java -jar benchmarks/target/benchmarks.jar jdbc       # scenario: MultiRegionDataSource beside pgjdbc + HikariCP, the
 *                                                      # AWS JDBC wrapper and pgjdbc multi-host on a PostgreSQL cluster
 * </pre>
 *
 * <p>{@value #FAILOVER_CLIENT} is the client side of a cold pass, started by {@code failover} in a fresh JVM.
 *
 * <p>Exit status: 0 on success, 2 for an unknown name, 1 if the benchmark failed.
 */
public final class Main {
    static final String USAGE = "usage: java -jar benchmarks.jar plan|failover|token|dynamodb|tail|s3|jdbc"
            + " (or failover-cold|failover-cold-warmup|failover-warm: one pass of failover)";
    /** The client side of a failover cold pass, run in a fresh JVM by {@link FailoverScenario#inFreshJvm}. */
    static final String FAILOVER_CLIENT = "failover-client";
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
                // The cold pass needs a client JVM that has run nothing yet: its own process, before the warm pass.
                metrics = new ArrayList<>(FailoverScenario.inFreshJvm(FailoverScenario.Pass.COLD));
                metrics.addAll(new FailoverScenario(FailoverScenario.Pass.WARM).run());
                break;
            case "failover-cold":
                metrics = FailoverScenario.inFreshJvm(FailoverScenario.Pass.COLD);
                break;
            case "failover-cold-warmup":
                metrics = FailoverScenario.inFreshJvm(FailoverScenario.Pass.COLD_WARM_UP);
                break;
            case "failover-warm":
                metrics = new FailoverScenario(FailoverScenario.Pass.WARM).run();
                break;
            case FAILOVER_CLIENT:
                metrics = new FailoverScenario(FailoverScenario.Pass.valueOf(System.getProperty("failover.pass",
                        FailoverScenario.Pass.COLD.name()))).run();
                break;
            case "token":
                metrics = token();
                break;
            case "dynamodb":
                metrics = new DynamoDbScenario().run();
                break;
            case "tail":
                metrics = new TailScenario().run();
                break;
            case "s3":
                metrics = new S3Scenario().run();
                break;
            case "jdbc":
                metrics = new JdbcScenario().run();
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

    /** The session sizes {@link TokenBenchmark} is run for, as in its {@code @Param}. */
    private static final int[] TOKEN_SCOPES = {1, 10, 100, 1000};
    private static final String[] TOKEN_METHODS = {"encode", "decode", "verify", "merge"};

    /**
     * Runs {@link TokenBenchmark} with the gc profiler and returns, per method and session size, the time and the
     * allocation per operation, then the encoded sizes (which must fit the default 4,096-character maximum).
     */
    static List<String> token() throws RunnerException {
        List<String> sizes = tokenSizes(); // first: fail fast if a size is wrong
        Options options = new OptionsBuilder()
                .include(TokenBenchmark.class.getName() + "\\.")
                .forks(1)
                .warmupIterations(2)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(3)
                .measurementTime(TimeValue.seconds(1))
                .addProfiler("gc")
                .build();
        Collection<RunResult> results = new Runner(options).run();
        Map<String, String> times = new TreeMap<>();
        Map<String, String> allocs = new TreeMap<>();
        for (RunResult r : results) {
            BenchmarkParams p = r.getParams();
            String benchmark = p.getBenchmark();
            String method = benchmark.substring(benchmark.lastIndexOf('.') + 1);
            String name = method + "_" + p.getParam("scopes");
            Result<?> primary = r.getPrimaryResult();
            if (!"ns/op".equals(primary.getScoreUnit())) {
                throw new IllegalStateException("expected ns/op from " + benchmark + ", got " + primary.getScoreUnit());
            }
            times.put(name, String.format(Locale.ROOT, "token.%s_ns_%s=%.1f ns", method, p.getParam("scopes"),
                    primary.getScore()));
            Result<?> alloc = secondary(r.getSecondaryResults(), ALLOC_NORM);
            allocs.put(name, alloc == null ? "token.alloc_bytes_" + name + "=NaN B"
                    : String.format(Locale.ROOT, "token.alloc_bytes_%s=%.1f B", name, alloc.getScore()));
            System.out.printf(Locale.ROOT, "token: %-12s %12.1f ± %.1f ns/op, %s%n", name, primary.getScore(),
                    primary.getScoreError(), alloc == null ? "no " + ALLOC_NORM + " result (labels: "
                            + r.getSecondaryResults().keySet() + ")"
                            : String.format(Locale.ROOT, "%.1f ± %.1f B/op", alloc.getScore(), alloc.getScoreError()));
        }
        List<String> metrics = new ArrayList<>();
        for (Map<String, String> group : List.of(times, allocs)) {
            for (String method : TOKEN_METHODS) {
                for (int scopes : TOKEN_SCOPES) {
                    String line = group.get(method + "_" + scopes);
                    if (line == null) {
                        throw new IllegalStateException("no JMH result for " + method + "_" + scopes);
                    }
                    metrics.add(line);
                }
            }
        }
        metrics.addAll(sizes);
        return metrics;
    }

    /**
     * Encoded sizes of the benchmark's sessions with the unsigned and the sealed codec, and the key entries that survive
     * in the sealed text.
     */
    private static List<String> tokenSizes() {
        SessionTokenCodec unsigned = TokenBenchmark.unsignedCodec();
        SessionTokenCodec signed = TokenBenchmark.signedCodec();
        List<String> bytes = new ArrayList<>();
        List<String> signedBytes = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int scopes : TOKEN_SCOPES) {
            SessionToken token = TokenBenchmark.session(scopes, 0);
            String text = unsigned.encode(token);
            String signedText = signed.encode(token);
            int size = text.getBytes(StandardCharsets.US_ASCII).length;
            int signedSize = signedText.getBytes(StandardCharsets.US_ASCII).length;
            if (size > unsigned.maxLength() || signedSize > signed.maxLength()) {
                throw new IllegalStateException("a token of " + scopes + " scopes encodes to " + size + " / "
                        + signedSize + " bytes, more than " + unsigned.maxLength());
            }
            int kept = signed.decode(signedText).keyCount(); // unsigned texts keep none
            System.out.printf(Locale.ROOT, "token: %4d scopes -> %4d bytes unsigned, %4d sealed, %4d of %4d key"
                    + " entries kept sealed (maximum %d characters)%n", scopes, size, signedSize, kept, token.keyCount(),
                    unsigned.maxLength());
            bytes.add(String.format(Locale.ROOT, "token.size_bytes_%d=%d bytes", scopes, size));
            signedBytes.add(String.format(Locale.ROOT, "token.signed_size_bytes_%d=%d bytes", scopes, signedSize));
            keys.add(String.format(Locale.ROOT, "token.keys_kept_%d=%d keys", scopes, kept));
        }
        List<String> out = new ArrayList<>(bytes);
        out.addAll(signedBytes);
        out.addAll(keys);
        return out;
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
