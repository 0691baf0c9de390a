package dev.latitude.benchmarks;

import dev.latitude.HybridLogicalClock;
import dev.latitude.SessionToken;
import dev.latitude.SessionTokenCodec;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of carrying a session token: encoding it for a response header, decoding it from a request (unsigned, and
 * sealed: HMAC-SHA256 verification, AES-256-CTR decryption and parsing), and merging two copies of a session; single
 * thread.
 *
 * <p>{@code scopes} is how many keys the session wrote: distinct keys spread round-robin over
 * {@code min(scopes, 10)} data classes, taken by 3 regions, with HLC timestamps as watermarks (1 ms apart, small
 * logical counters). Codecs have the default maximum length of 4,096 characters, so at 1,000 scopes
 * {@link SessionTokenCodec#encode} folds the oldest keys into their class watermarks until the text fits, and the
 * decode cases read that folded text (the text a service would really receive).
 *
 * <ul>
 *   <li>{@link #encode()}: {@code codec.encode(token)}, sealed (the default), including any folding.</li>
 *   <li>{@link #decode()}: {@code codec.decode(text)} of an unsigned text ({@code insecureUnsigned()}: every key
 *       folded into its class watermark, so it holds only the classes).</li>
 *   <li>{@link #verify()}: {@code codec.decode(text)} of the sealed text: HMAC-SHA256 verification, decryption,
 *       parsing and the claim checks.</li>
 *   <li>{@link #merge()}: {@code token.merge(other)}, where {@code other} has as many keys: half of them the same keys
 *       written later (another request of the session), half keys this token does not hold.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class TokenBenchmark {
    static final String[] REGIONS = {"us-east-1", "eu-west-1", "ap-southeast-2"};
    static final long BASE_MILLIS = 1_763_800_000_000L; // 2025-11-22
    /** The secret of the signing codec; a fixed value, as this is a benchmark. */
    private static final byte[] SECRET = "benchmark-secret-benchmark-secret!".getBytes(StandardCharsets.US_ASCII);

    @Param({"1", "10", "100", "1000"})
    public int scopes;

    private SessionTokenCodec unsigned;
    private SessionTokenCodec signed;
    private SessionToken token;
    private SessionToken other;
    private String unsignedText;
    private String signedText;

    @Setup(Level.Trial)
    public void setUp() {
        unsigned = unsignedCodec();
        signed = signedCodec();
        token = session(scopes, 0);
        other = otherSession(scopes);
        unsignedText = unsigned.encode(token);
        signedText = signed.encode(token);
        // the cases must measure what they claim: fail the run rather than measure a refusal
        SessionToken u = unsigned.decode(unsignedText);
        SessionToken v = signed.decode(signedText);
        // Both texts must decode: the unsigned one to the classes alone, the sealed one to the token unless the
        // length bound made the encoder fold keys.
        if (u.keyCount() != 0 || !u.dataClasses().equals(token.dataClasses())
                || (v.keyCount() == token.keyCount() && !v.equals(token))) {
            throw new IllegalStateException("the texts do not decode to the token");
        }
        if (token.merge(other).equals(token)) {
            throw new IllegalStateException("merge changes nothing");
        }
    }

    @Benchmark
    public String encode() {
        return signed.encode(token);
    }

    @Benchmark
    public SessionToken decode() {
        return unsigned.decode(unsignedText);
    }

    @Benchmark
    public SessionToken verify() {
        return signed.decode(signedText);
    }

    @Benchmark
    public SessionToken merge() {
        return token.merge(other);
    }

    static SessionTokenCodec unsignedCodec() {
        return SessionTokenCodec.builder().audience("benchmark").insecureUnsigned().build();
    }

    static SessionTokenCodec signedCodec() {
        return SessionTokenCodec.builder().audience("benchmark").signingKey("k2025-11", SECRET).build();
    }

    /**
     * A session that wrote {@code scopes} distinct keys, over {@code min(scopes, 10)} data classes and 3 regions;
     * write {@code i} is key {@code key-(i + firstKey)} stamped 1 ms after write {@code i - 1}.
     */
    static SessionToken session(int scopes, int firstKey) {
        int classes = Math.min(scopes, 10);
        SessionToken t = SessionToken.empty();
        for (int i = 0; i < scopes; i++) {
            int key = i + firstKey;
            t = t.withWrite("class-" + (key % classes), "key-" + key,
                    HybridLogicalClock.timestamp(BASE_MILLIS + key, key % 4), REGIONS[key % REGIONS.length]);
        }
        return t;
    }

    /**
     * Another copy of the session with as many keys: the upper half of {@link #session(int, int)}'s keys written again
     * later, and as many keys that session does not hold.
     */
    static SessionToken otherSession(int scopes) {
        int classes = Math.min(scopes, 10);
        SessionToken t = SessionToken.empty();
        for (int i = 0; i < scopes; i++) {
            int key = i + scopes / 2; // scopes/2 .. scopes-1 overlap, scopes .. are new
            t = t.withWrite("class-" + (key % classes), "key-" + key,
                    HybridLogicalClock.timestamp(BASE_MILLIS + 10_000 + key, 0), REGIONS[(key + 1) % REGIONS.length]);
        }
        return t;
    }
}
