package dev.latitude;

import dev.latitude.InvalidSessionTokenException.Reason;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns {@link SessionToken}s into a compact, versioned, URL-safe text for an HTTP header or cookie, and back:
 * encrypted and signed by default, bound to an audience and an expiry time. Immutable and thread-safe.
 *
 * <pre>{@code
 * SessionTokenCodec codec = SessionTokenCodec.builder()
 *     .signingKey("k2", secretBytes)          // new tokens are sealed with k2
 *     .verificationKey("k1", previousSecret)  // tokens sealed with k1 are still accepted
 *     .audience("profile-service")            // tokens of other services are refused
 *     .bounds(latitude.watermarkBounds())     // watermarks of unknown regions or from the future are dropped
 *     .build();
 * Session session = Session.of(codec.decode(request.getHeader("X-Session-Token")), latitude.watermarkBounds());
 * response.setHeader("X-Session-Token", codec.encode(session.token()));
 * }</pre>
 *
 * <p><b>Sealed tokens</b> (the default; a signing key is required unless {@link Builder#insecureUnsigned()} is
 * chosen): {@code v2.<body>.<keyId>.<mac>}, where body is {@code iv || AES-256-CTR(plaintext)} and mac is
 * HMAC-SHA256 over {@code v2.<body>.<keyId>} (encrypt-then-MAC, as in Fernet), both unpadded base64url. The
 * encryption, MAC and IV keys are derived from the key's secret with HMAC-SHA256 under distinct labels; the IV is the
 * first 16 bytes of an HMAC of the plaintext (a synthetic IV: equal plaintexts give equal texts, distinct ones
 * distinct IVs). The MAC is checked, in constant time, before anything is decrypted or parsed. The plaintext holds the
 * issue time, the expiry time and the audience (checked on decode), then a table of region ids and per data class its
 * watermark and key entries. Keys, data class names, regions and watermarks are therefore all hidden from clients,
 * proxies and logs; only the text's length says roughly how much the session wrote.
 *
 * <p><b>Unsigned tokens</b> ({@link Builder#insecureUnsigned()}, or a signing codec given an unverified token):
 * {@code v2.<plaintext>}, readable and forgeable by anyone. They never carry keys: every key entry is folded into its
 * class watermark first (safe, only stricter; reads of those keys then need replication watermarks or the writer).
 * A signing codec refuses them unless {@link Builder#acceptUnsigned(boolean)} is set for a rollout; it then accepts
 * them as unverified (see {@link SessionToken#isVerified()}), counts them ({@link #unsignedAccepted()}), warns at
 * most once a minute, and never signs them: an unverified token is re-encoded unsigned.
 *
 * <p>Decoding checks, in order: length, version, signature (or whether unsigned tokens are accepted), structure,
 * audience, issue time (not beyond the clock skew), expiry; then drops watermarks outside the {@link WatermarkBounds}
 * if set. Every refusal is an {@link InvalidSessionTokenException} whose reason says which check failed, counted by
 * {@link #rejections(Reason)}.
 *
 * <p>{@link #encode(SessionToken)} keeps the text within the maximum length by folding the oldest keys into their
 * class watermark (see {@link SessionToken#collapse(int)}), which is always safe; keys the format cannot carry (over
 * 1,024 UTF-8 bytes, or not valid Unicode) are folded the same way.
 *
 * <p>Defaults: maximum length 4,096 characters; time to live 24 hours; clock skew 500 ms; the system UTC clock; no
 * bounds.
 */
public final class SessionTokenCodec {
    private static final Logger LOG = LoggerFactory.getLogger(SessionTokenCodec.class);
    private static final String VERSION = "v2";
    private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    private static final Pattern AUDIENCE = Pattern.compile("[!-~]{1,128}");
    private static final int MAX_STRING_BYTES = 1024;
    private static final int IV_BYTES = 16;
    private static final long WARN_INTERVAL_MILLIS = 60_000;
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    private final int maxLength;
    private final String signingKeyId;
    private final Map<String, Keys> keys;
    private final boolean acceptUnsigned;
    private final String audience;
    private final long ttlSeconds;
    private final Clock clock;
    private final long maxSkewMillis;
    private final WatermarkBounds bounds;
    private final AtomicLongArray rejections = new AtomicLongArray(Reason.values().length);
    private final AtomicLong unsignedAccepted = new AtomicLong();
    private final AtomicLong lastWarning = new AtomicLong(Long.MIN_VALUE);

    /** The keys derived from one secret. */
    private record Keys(byte[] mac, SecretKeySpec enc, byte[] iv) {
        static Keys derive(byte[] secret) {
            return new Keys(hmac(secret, "latitude session token v2 mac"),
                    new SecretKeySpec(hmac(secret, "latitude session token v2 enc"), "AES"),
                    hmac(secret, "latitude session token v2 iv"));
        }

        private static byte[] hmac(byte[] secret, String label) {
            return SessionTokenCodec.mac(secret, label.getBytes(StandardCharsets.US_ASCII));
        }
    }

    /** A decoded plaintext: its claims and its token. */
    private record Parsed(long issuedAt, long expiresAt, String audience, SessionToken token) {
    }

    private SessionTokenCodec(Builder b) {
        this.maxLength = b.maxLength;
        this.signingKeyId = b.signingKeyId;
        Map<String, Keys> derived = new HashMap<>();
        b.keys.forEach((id, secret) -> derived.put(id, Keys.derive(secret)));
        this.keys = Map.copyOf(derived);
        this.acceptUnsigned = b.insecure || Boolean.TRUE.equals(b.acceptUnsigned);
        this.audience = b.audience;
        this.ttlSeconds = b.ttl.getSeconds();
        this.clock = b.clock;
        this.maxSkewMillis = b.maxSkew.toMillis();
        this.bounds = b.bounds;
    }

    /** Starts a builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the maximum encoded length in characters. */
    public int maxLength() {
        return maxLength;
    }

    /**
     * Returns how many texts {@link #decode(String)} refused for {@code reason} since the codec was built.
     *
     * @param reason the reason
     * @return the count
     */
    public long rejections(Reason reason) {
        return rejections.get(reason.ordinal());
    }

    /**
     * Returns how many unsigned texts {@link #decode(String)} accepted (as unverified tokens) since the codec was
     * built: during a rollout of signing, the tokens still issued by instances that do not sign.
     *
     * @return the count
     */
    public long unsignedAccepted() {
        return unsignedAccepted.get();
    }

    /**
     * Encodes {@code token}: sealed if this codec has a signing key and the token is verified, otherwise unsigned with
     * every key folded into its class watermark. The oldest keys are folded into their class watermarks if the text
     * would be too long.
     *
     * @param token the token
     * @return the text
     * @throws LatitudeException if even with every key folded the token is too long (too many data classes for
     *     the maximum length)
     */
    public String encode(SessionToken token) {
        for (String name : token.dataClasses()) {
            if (!encodable(name)) {
                throw new LatitudeException("data class name '" + name + "' cannot go into a session token: it is"
                        + " longer than " + MAX_STRING_BYTES + " UTF-8 bytes or not valid Unicode", null);
            }
        }
        boolean seal = signingKeyId != null && token.isVerified();
        // Keys the format cannot carry are folded into their class watermark: safe, only stricter. An unsigned text
        // carries no key at all.
        SessionToken t = seal ? token.foldKeys((c, k) -> !encodable(k)) : token.collapse(0);
        long issuedAt = Math.floorDiv(clock.millis(), 1000);
        String text = encodeAsIs(t, seal, issuedAt);
        int keys = t.keyCount();
        if (text.length() <= maxLength) {
            return text;
        }
        String bare = encodeAsIs(t.collapse(0), seal, issuedAt);
        if (bare.length() > maxLength) {
            throw new LatitudeException("the session token needs " + bare.length() + " characters for "
                    + t.dataClasses().size() + " data classes even with every key folded, more than the maximum "
                    + maxLength + "; raise SessionTokenCodec.Builder.maxLength", null);
        }
        // Keys cost about the same each: aim at the count that fits, then step down until it does.
        int n = (int) ((long) keys * (maxLength - bare.length()) / (text.length() - bare.length()));
        while (n > 0) {
            text = encodeAsIs(t.collapse(n), seal, issuedAt);
            if (text.length() <= maxLength) {
                return text;
            }
            n = Math.min(n - 1, (int) (n * 0.95));
        }
        return bare;
    }

    /** Whether {@code s} is valid Unicode (no lone surrogate) of at most {@link #MAX_STRING_BYTES} UTF-8 bytes. */
    static boolean encodable(String s) {
        int n = s.length();
        if (n > MAX_STRING_BYTES) {
            return false;
        }
        int bytes = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)) {
                if (i + 1 == n || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                bytes += 4;
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            } else {
                bytes += 3;
            }
        }
        return bytes <= MAX_STRING_BYTES;
    }

    private String encodeAsIs(SessionToken token, boolean seal, long issuedAt) {
        byte[] plain = payload(token, issuedAt, issuedAt + ttlSeconds, audience);
        if (!seal) {
            return VERSION + "." + B64.encodeToString(plain);
        }
        Keys k = keys.get(signingKeyId);
        byte[] iv = Arrays.copyOf(mac(k.iv(), plain), IV_BYTES);
        byte[] cipherText = ctr(k.enc(), iv, plain);
        byte[] body = Arrays.copyOf(iv, IV_BYTES + cipherText.length);
        System.arraycopy(cipherText, 0, body, IV_BYTES, cipherText.length);
        String signed = VERSION + "." + B64.encodeToString(body) + "." + signingKeyId;
        return signed + "." + B64.encodeToString(mac(k.mac(), signed.getBytes(StandardCharsets.US_ASCII)));
    }

    private static byte[] payload(SessionToken token, long issuedAt, long expiresAt, String audience) {
        Map<String, Integer> regions = new LinkedHashMap<>();
        token.entries().forEach((c, e) -> {
            if (e.whole() != null) {
                regions.putIfAbsent(e.whole().region(), regions.size());
            }
            e.keys().values().forEach(w -> regions.putIfAbsent(w.region(), regions.size()));
        });
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        writeVar(out, issuedAt);
        writeVar(out, expiresAt);
        writeString(out, audience);
        writeVar(out, regions.size());
        regions.keySet().forEach(r -> writeString(out, r));
        writeVar(out, token.entries().size());
        token.entries().forEach((c, e) -> {
            writeString(out, c);
            out.write(e.whole() == null ? 0 : 1);
            if (e.whole() != null) {
                writeVar(out, e.whole().value());
                writeVar(out, regions.get(e.whole().region()));
            }
            writeVar(out, e.keys().size());
            e.keys().forEach((k, w) -> {
                writeString(out, k);
                writeVar(out, w.value());
                writeVar(out, regions.get(w.region()));
            });
        });
        return out.toByteArray();
    }

    /**
     * Decodes a token's text. An absent or blank text (no header, an empty cookie) is a new session: the result is
     * {@link SessionToken#empty()}, so {@code Session.of(codec.decode(request.getHeader(...)), bounds)} needs no null
     * check.
     *
     * @param text the text from a header or cookie; {@code null} or blank for a new session
     * @return the token, without watermarks outside the codec's bounds; unverified if the text was unsigned; empty for
     *     an absent or blank text
     * @throws InvalidSessionTokenException if it is malformed, of another version, too long, unsigned when a signature
     *     is required, signed with an unknown key, forged, issued for another audience, issued in the future or
     *     expired; {@link InvalidSessionTokenException#reason()} says which
     */
    public SessionToken decode(String text) {
        try {
            return decodeChecked(text);
        } catch (InvalidSessionTokenException e) {
            rejections.incrementAndGet(e.reason().ordinal());
            throw e;
        }
    }

    private SessionToken decodeChecked(String text) {
        if (text == null || text.isBlank()) {
            return SessionToken.empty();
        }
        if (text.length() > maxLength) {
            throw new InvalidSessionTokenException(Reason.OVERSIZED, text.length() + " characters, more than the maximum "
                    + maxLength);
        }
        String[] parts = text.split("\\.", -1);
        if (!parts[0].equals(VERSION)) {
            boolean looksVersioned = parts[0].matches("v[0-9]{1,4}");
            throw new InvalidSessionTokenException(looksVersioned ? Reason.UNSUPPORTED_VERSION : Reason.MALFORMED,
                    looksVersioned ? "version '" + parts[0] + "'; this SDK reads " + VERSION + " only (v1 tokens"
                            + " carried keys in clear); treat it like a missing token and start a new session"
                            : "does not start with '" + VERSION + ".'");
        }
        if (parts.length == 2) {
            if (!acceptUnsigned) {
                throw new InvalidSessionTokenException(Reason.UNSIGNED, "this codec reads only tokens signed by this"
                        + " service; while other instances still issue unsigned tokens, set acceptUnsigned(true)");
            }
            Parsed p = parse(decodeBase64(parts[1]));
            SessionToken t = checked(p).unverified();
            unsignedAccepted.incrementAndGet();
            warnUnsigned();
            return t;
        }
        if (parts.length != 4) {
            throw new InvalidSessionTokenException(Reason.MALFORMED, "expected 2 or 4 dot-separated parts, found "
                    + parts.length);
        }
        Keys k = verify(parts);
        byte[] body = decodeBase64(parts[1]);
        if (body.length < IV_BYTES) {
            throw malformed("sealed body of " + body.length + " bytes");
        }
        byte[] plain = ctr(k.enc(), Arrays.copyOf(body, IV_BYTES), Arrays.copyOfRange(body, IV_BYTES, body.length));
        return checked(parse(plain));
    }

    private static byte[] decodeBase64(String text) {
        try {
            return B64D.decode(text);
        } catch (IllegalArgumentException e) {
            throw malformed("payload is not base64url");
        }
    }

    /** Checks the claims of a decoded plaintext and returns its token without the watermarks outside the bounds. */
    private SessionToken checked(Parsed p) {
        if (!p.audience().equals(audience)) {
            throw new InvalidSessionTokenException(Reason.WRONG_AUDIENCE, "issued for another audience than this"
                    + " codec's '" + audience + "' (another service or deployment); decode it where it was issued, and"
                    + " give services that must not accept each other's tokens distinct audiences");
        }
        if (p.expiresAt() < p.issuedAt()) {
            throw malformed("expires before it was issued");
        }
        long now = clock.millis();
        long aheadMillis = p.issuedAt() > Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : p.issuedAt() * 1000 - now;
        if (aheadMillis > maxSkewMillis + 999) { // issue times are whole seconds, rounded down
            throw new InvalidSessionTokenException(Reason.NOT_YET_VALID, "issued " + (aheadMillis / 1000) + " s in"
                    + " the future, more than the clock skew of " + maxSkewMillis + " ms allows; synchronise the hosts'"
                    + " clocks (NTP), or raise maxClockSkew if they really differ that much");
        }
        long expiresAtMillis = p.expiresAt() > Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : p.expiresAt() * 1000;
        if (now >= expiresAtMillis) {
            throw new InvalidSessionTokenException(Reason.EXPIRED, "expired " + ((now - expiresAtMillis) / 1000)
                    + " s ago; treat it like a missing token (start a new session), or raise timeToLive (now "
                    + ttlSeconds + " s) if sessions go longer between requests");
        }
        return bounds == null ? p.token() : bounds.clamp(p.token());
    }

    /** Warns of accepted unsigned tokens, at most once a minute. */
    private void warnUnsigned() {
        if (keys.isEmpty()) {
            return; // an insecure codec: warned once when built
        }
        long now = clock.millis();
        long last = lastWarning.get();
        if ((last == Long.MIN_VALUE || now - last >= WARN_INTERVAL_MILLIS) && lastWarning.compareAndSet(last, now)) {
            LOG.warn("Accepted an unsigned session token as unverified ({} so far): some instances do not sign tokens"
                    + " yet. Unverified tokens are re-encoded unsigned; turn acceptUnsigned off once every instance"
                    + " signs.", unsignedAccepted.get());
        }
    }

    private Keys verify(String[] parts) {
        String kid = parts[2];
        boolean validId = KEY_ID.matcher(kid).matches();
        Keys k = validId ? keys.get(kid) : null;
        if (k == null) {
            // Only an id of the allowed form is echoed: anything else could carry CR/LF or markup into logs.
            throw new InvalidSessionTokenException(Reason.UNKNOWN_KEY, (validId ? "key id '" + kid + "'"
                    : "a key id that is not valid") + " is not one of this codec's keys"
                    + (keys.isEmpty() ? " (it has none: it is insecureUnsigned)" : "; if it was rotated out recently,"
                    + " add it back with verificationKey(...)"));
        }
        byte[] given;
        try {
            given = B64D.decode(parts[3]);
        } catch (IllegalArgumentException e) {
            throw new InvalidSessionTokenException(Reason.BAD_SIGNATURE, "signature is not base64url");
        }
        if (!B64.encodeToString(given).equals(parts[3])) {
            // Only the canonical spelling is accepted, so a signed token has exactly one valid text.
            throw new InvalidSessionTokenException(Reason.BAD_SIGNATURE, "signature is not in canonical base64url");
        }
        byte[] expected = mac(k.mac(), (parts[0] + "." + parts[1] + "." + kid).getBytes(StandardCharsets.US_ASCII));
        if (!MessageDigest.isEqual(expected, given)) {
            throw new InvalidSessionTokenException(Reason.BAD_SIGNATURE, "signature does not match the content");
        }
        return k;
    }

    private static Parsed parse(byte[] bytes) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            long issuedAt = readVar(in);
            long expiresAt = readVar(in);
            String audience = readString(in);
            return new Parsed(issuedAt, expiresAt, audience, parseToken(in));
        } catch (InvalidSessionTokenException e) {
            throw e;
        } catch (RuntimeException e) {
            throw malformed("payload cannot be read (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static SessionToken parseToken(ByteBuffer in) {
        int nRegions = count(in);
        List<String> regions = new ArrayList<>(nRegions);
        for (int i = 0; i < nRegions; i++) {
            regions.add(readString(in));
        }
        int nClasses = count(in);
        TreeMap<String, SessionToken.ClassEntry> classes = new TreeMap<>();
        for (int i = 0; i < nClasses; i++) {
            String name = readString(in);
            int flags = in.get();
            if (flags != 0 && flags != 1) {
                throw malformed("bad flags " + flags);
            }
            Watermark whole = flags == 1 ? new Watermark(readVar(in), region(regions, readVar(in))) : null;
            int nKeys = count(in);
            Map<String, Watermark> keys = new HashMap<>();
            for (int k = 0; k < nKeys; k++) {
                String key = readString(in);
                if (keys.put(key, new Watermark(readVar(in), region(regions, readVar(in)))) != null) {
                    throw malformed("key repeated");
                }
            }
            if (classes.put(name, new SessionToken.ClassEntry(whole, keys)) != null) {
                throw malformed("data class repeated");
            }
        }
        if (in.hasRemaining()) {
            throw malformed(in.remaining() + " trailing bytes");
        }
        return SessionToken.of(classes, true);
    }

    private static String region(List<String> regions, long index) {
        if (index >= regions.size()) {
            throw malformed("region index " + index + " out of range");
        }
        return regions.get((int) index);
    }

    private static InvalidSessionTokenException malformed(String why) {
        return new InvalidSessionTokenException(Reason.MALFORMED, why);
    }

    private static byte[] mac(byte[] key, byte[] content) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(content);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /** AES-256 in counter mode: encrypts and decrypts alike. */
    private static byte[] ctr(SecretKeySpec key, byte[] iv, byte[] input) {
        try {
            Cipher cipher = Cipher.getInstance("AES/CTR/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv));
            return cipher.doFinal(input);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CTR is not available in this JVM", e);
        }
    }

    private static void writeVar(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static long readVar(ByteBuffer in) {
        long v = 0;
        for (int shift = 0; shift < 63; shift += 7) {
            byte b = in.get();
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                if (v < 0) {
                    throw malformed("negative number");
                }
                return v;
            }
        }
        throw malformed("number too long");
    }

    /** Reads a count, which can never exceed the bytes left (every entry takes at least one byte). */
    private static int count(ByteBuffer in) {
        long n = readVar(in);
        if (n > in.remaining()) {
            throw malformed("count " + n + " exceeds the " + in.remaining() + " bytes left");
        }
        return (int) n;
    }

    private static void writeString(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        writeVar(out, b.length);
        out.write(b, 0, b.length);
    }

    private static String readString(ByteBuffer in) {
        int n = count(in);
        if (n > MAX_STRING_BYTES) {
            throw malformed("string of " + n + " bytes");
        }
        byte[] b = new byte[n];
        in.get(b);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw malformed("invalid UTF-8");
        }
    }

    /** Builds a {@link SessionTokenCodec}. */
    public static final class Builder {
        private int maxLength = 4096;
        private String signingKeyId;
        private final Map<String, byte[]> keys = new HashMap<>();
        private Boolean acceptUnsigned;
        private boolean insecure;
        private String audience;
        private Duration ttl = Duration.ofHours(24);
        private Clock clock = Clock.systemUTC();
        private Duration maxSkew = Duration.ofMillis(500);
        private WatermarkBounds bounds;

        private Builder() {
        }

        /**
         * Sets the maximum encoded length.
         *
         * @param chars 64 to 65,536; default 4,096 (a cookie's usual limit)
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder maxLength(int chars) {
            if (chars < 64 || chars > 65_536) {
                throw new LatitudeConfigException("sessionToken.maxLength", chars + " is outside [64, 65536]");
            }
            this.maxLength = chars;
            return this;
        }

        /**
         * Seals new tokens with this key (and accepts tokens sealed with it). Required unless
         * {@link #insecureUnsigned()} is chosen.
         *
         * @param keyId letters, digits, {@code _} or {@code -}, 1 to 32 characters
         * @param secret at least 32 bytes of secret
         * @return this builder
         * @throws LatitudeConfigException if the id is malformed, the secret is short, or a signing key was set before
         */
        public Builder signingKey(String keyId, byte[] secret) {
            if (signingKeyId != null) {
                throw new LatitudeConfigException("sessionToken.signingKey", "set twice; set one signing key and add"
                        + " older ones with verificationKey(...)");
            }
            verificationKey(keyId, secret);
            this.signingKeyId = keyId;
            return this;
        }

        /**
         * Accepts tokens sealed with this key (an older key during rotation).
         *
         * @param keyId letters, digits, {@code _} or {@code -}, 1 to 32 characters
         * @param secret at least 32 bytes of secret
         * @return this builder
         * @throws LatitudeConfigException if the id is malformed or repeated, or the secret is short
         */
        public Builder verificationKey(String keyId, byte[] secret) {
            if (keyId == null || !KEY_ID.matcher(keyId).matches()) {
                throw new LatitudeConfigException("sessionToken.keyId", "a key id that is not valid; use 1 to 32"
                        + " letters, digits, '_' or '-', such as 'k2026-11'");
            }
            Objects.requireNonNull(secret, "secret");
            if (secret.length < 32) {
                throw new LatitudeConfigException("sessionToken.key[" + keyId + "]", secret.length
                        + " bytes of secret; HMAC-SHA256 needs at least 32 random bytes");
            }
            if (keys.putIfAbsent(keyId, secret.clone()) != null) {
                throw new LatitudeConfigException("sessionToken.key[" + keyId + "]", "added twice; each key id once");
            }
            return this;
        }

        /**
         * Makes a codec without keys: its tokens are neither signed nor encrypted, so anyone can read and forge them.
         * They carry no keys (every key folds into its class watermark), so nothing personal, but a client can forge
         * watermarks: only {@link #bounds(WatermarkBounds)} and the engine's bounds limit what that does. For tests and
         * for instances that cannot share a secret yet; a warning is logged when such a codec is built.
         *
         * @return this builder
         */
        public Builder insecureUnsigned() {
            this.insecure = true;
            return this;
        }

        /**
         * Also accepts unsigned tokens, for a rollout of signing across instances. They are decoded as unverified
         * tokens ({@link SessionToken#isVerified()}), counted ({@link SessionTokenCodec#unsignedAccepted()}) and warned
         * about at most once a minute, and are never signed: re-encoding an unverified token gives an unsigned text
         * without keys, which codecs without this setting refuse. Default {@code false}; an
         * {@link #insecureUnsigned()} codec accepts unsigned tokens anyway.
         *
         * @param accept whether to accept unsigned tokens
         * @return this builder
         */
        public Builder acceptUnsigned(boolean accept) {
            this.acceptUnsigned = accept;
            return this;
        }

        /**
         * Names the service (or deployment) tokens are issued for; required. Tokens carry it and are refused by a
         * codec with another audience, so services that share a key cannot replay each other's tokens.
         *
         * @param audience 1 to 128 printable ASCII characters without spaces, such as {@code profile-service.prod}
         * @return this builder
         * @throws LatitudeConfigException if malformed
         */
        public Builder audience(String audience) {
            if (audience == null || !AUDIENCE.matcher(audience).matches()) {
                throw new LatitudeConfigException("sessionToken.audience", "an audience that is not valid; use 1 to"
                        + " 128 printable ASCII characters without spaces, such as 'profile-service.prod'");
            }
            this.audience = audience;
            return this;
        }

        /**
         * Sets how long a token is accepted after it was issued. Each response re-issues the session's token, so this
         * only needs to cover the longest pause between a client's requests that should keep its session.
         *
         * @param ttl 1 minute to 400 days; default 24 hours
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder timeToLive(Duration ttl) {
            if (ttl == null || ttl.compareTo(Duration.ofMinutes(1)) < 0 || ttl.compareTo(Duration.ofDays(400)) > 0) {
                throw new LatitudeConfigException("sessionToken.timeToLive", ttl + " is outside [1 min, 400 days]");
            }
            this.ttl = ttl;
            return this;
        }

        /**
         * Sets the clock for issue and expiry times; tests pass a fixed or manual one. Default {@link Clock#systemUTC()}.
         *
         * @param clock the clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Sets how far in the future a token's issue time may be (the clock difference between the hosts that issue
         * and decode tokens).
         *
         * @param skew 1 ms to 1 h; default 500 ms, as the engine's {@code maxClockSkew}
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder maxClockSkew(Duration skew) {
            if (skew == null || skew.compareTo(Duration.ofMillis(1)) < 0 || skew.compareTo(Duration.ofHours(1)) > 0) {
                throw new LatitudeConfigException("sessionToken.maxClockSkew", skew + " is outside [1 ms, 1 h]");
            }
            this.maxSkew = skew;
            return this;
        }

        /**
         * Drops, on decode, the watermarks outside {@code bounds}: regions not in the topology, HLC stamps beyond the
         * clock's skew bound. Default none (the engine still applies its own bounds when it routes).
         *
         * @param bounds the bounds, such as {@link Latitude#watermarkBounds()}
         * @return this builder
         */
        public Builder bounds(WatermarkBounds bounds) {
            this.bounds = Objects.requireNonNull(bounds, "bounds");
            return this;
        }

        /**
         * Returns the codec.
         *
         * @return the codec
         * @throws LatitudeConfigException if no audience is set; if neither a signing key nor
         *     {@link #insecureUnsigned()} is chosen, or both; if verification keys are set without a signing key; or
         *     if an insecure codec is told not to accept unsigned tokens
         */
        public SessionTokenCodec build() {
            if (audience == null) {
                throw new LatitudeConfigException("sessionToken.audience", "not set; name the service tokens are"
                        + " issued for with audience(...), such as 'profile-service.prod'");
            }
            if (insecure) {
                if (!keys.isEmpty()) {
                    throw new LatitudeConfigException("sessionToken.insecureUnsigned", "chosen together with keys "
                            + keys.keySet() + "; choose one");
                }
                if (Boolean.FALSE.equals(acceptUnsigned)) {
                    throw new LatitudeConfigException("sessionToken.acceptUnsigned", "false on an insecureUnsigned"
                            + " codec, which reads only unsigned tokens");
                }
                LOG.warn("Session tokens of audience '{}' are neither signed nor encrypted (insecureUnsigned): clients"
                        + " can forge their watermarks; use signingKey(...) in production", audience);
            } else if (signingKeyId == null) {
                throw new LatitudeConfigException("sessionToken.signingKey", (keys.isEmpty() ? "not set"
                        : "verification keys " + keys.keySet() + " are set but no signing key") + "; tokens are sealed"
                        + " by default: name the current key with signingKey(id, secret), or choose insecureUnsigned()"
                        + " for tests");
            }
            return new SessionTokenCodec(this);
        }
    }
}
