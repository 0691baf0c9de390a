package dev.latitude;

import dev.latitude.InvalidSessionTokenException.Reason;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns {@link SessionToken}s into a compact, versioned, URL-safe text for an HTTP header or cookie, and back;
 * optionally signed with HMAC-SHA256 under rotating key ids. Immutable and thread-safe.
 *
 * <p>Text form: {@code v1.<payload>} unsigned, or {@code v1.<payload>.<keyId>.<signature>} signed, where payload and
 * signature are unpadded base64url. The payload is binary: a table of region ids, then per data class its watermark
 * and its key entries (varints). {@link #encode(SessionToken)} keeps the text within the maximum length by folding the
 * oldest keys into their class watermark (see {@link SessionToken#collapse(int)}), which is always safe; keys the
 * format cannot carry (over 1,024 UTF-8 bytes, or not valid Unicode) are folded the same way.
 *
 * <pre>{@code
 * SessionTokenCodec codec = SessionTokenCodec.builder()
 *     .signingKey("k2", secretBytes)          // new tokens are signed with k2
 *     .verificationKey("k1", previousSecret)  // tokens signed with k1 are still accepted
 *     .build();
 * response.setHeader("X-Session-Token", codec.encode(session.token()));
 * session.observe(codec.decode(request.getHeader("X-Session-Token")));
 * }</pre>
 *
 * <p>Defaults: maximum length 4,096 characters; unsigned unless a signing key is set; once any key is set, unsigned
 * tokens are refused ({@link Builder#acceptUnsigned(boolean)} relaxes that during a rollout).
 */
public final class SessionTokenCodec {
    private static final String VERSION = "v1";
    private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    private static final int MAX_STRING_BYTES = 1024;
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    private final int maxLength;
    private final String signingKeyId;
    private final Map<String, byte[]> keys;
    private final boolean acceptUnsigned;

    private SessionTokenCodec(Builder b) {
        this.maxLength = b.maxLength;
        this.signingKeyId = b.signingKeyId;
        this.keys = Map.copyOf(b.keys);
        this.acceptUnsigned = b.acceptUnsigned != null ? b.acceptUnsigned : b.keys.isEmpty();
    }

    /** Returns an unsigned codec with the default maximum length. */
    public static SessionTokenCodec unsigned() {
        return builder().build();
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
     * Encodes {@code token}, folding its oldest keys into their class watermarks if the text would be too long.
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
        // Keys the format cannot carry are folded into their class watermark: safe, only stricter.
        SessionToken t = token.foldKeys((c, k) -> !encodable(k));
        String text = encodeAsIs(t);
        int keys = t.keyCount();
        if (text.length() <= maxLength) {
            return text;
        }
        String bare = encodeAsIs(t.collapse(0));
        if (bare.length() > maxLength) {
            throw new LatitudeException("the session token needs " + bare.length() + " characters for "
                    + t.dataClasses().size() + " data classes even with every key folded, more than the maximum "
                    + maxLength + "; raise SessionTokenCodec.Builder.maxLength", null);
        }
        // Keys cost about the same each: aim at the count that fits, then step down until it does.
        int n = (int) ((long) keys * (maxLength - bare.length()) / (text.length() - bare.length()));
        while (n > 0) {
            text = encodeAsIs(t.collapse(n));
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

    private String encodeAsIs(SessionToken token) {
        String body = VERSION + "." + B64.encodeToString(payload(token));
        if (signingKeyId == null) {
            return body;
        }
        String signed = body + "." + signingKeyId;
        return signed + "." + B64.encodeToString(mac(keys.get(signingKeyId), signed));
    }

    private static byte[] payload(SessionToken token) {
        Map<String, Integer> regions = new LinkedHashMap<>();
        token.entries().forEach((c, e) -> {
            if (e.whole() != null) {
                regions.putIfAbsent(e.whole().region(), regions.size());
            }
            e.keys().values().forEach(w -> regions.putIfAbsent(w.region(), regions.size()));
        });
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
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
     * Decodes a token's text.
     *
     * @param text the text from a header or cookie
     * @return the token
     * @throws InvalidSessionTokenException if it is malformed, of another version, too long, unsigned when a signature
     *     is required, signed with an unknown key, or forged
     */
    public SessionToken decode(String text) {
        if (text == null || text.isEmpty()) {
            throw new InvalidSessionTokenException(Reason.MALFORMED, "empty; omit the header for a new session");
        }
        if (text.length() > maxLength) {
            throw new InvalidSessionTokenException(Reason.OVERSIZED, text.length() + " characters, more than the maximum "
                    + maxLength);
        }
        String[] parts = text.split("\\.", -1);
        if (!parts[0].equals(VERSION)) {
            boolean looksVersioned = parts[0].matches("v[0-9]{1,4}");
            throw new InvalidSessionTokenException(looksVersioned ? Reason.UNSUPPORTED_VERSION : Reason.MALFORMED,
                    looksVersioned ? "version '" + parts[0] + "'; this SDK reads " + VERSION
                            : "does not start with '" + VERSION + ".'");
        }
        if (parts.length == 2) {
            if (!acceptUnsigned) {
                throw new InvalidSessionTokenException(Reason.UNSIGNED, "tokens must be signed by this service");
            }
        } else if (parts.length == 4) {
            verify(parts);
        } else {
            throw new InvalidSessionTokenException(Reason.MALFORMED, "expected 2 or 4 dot-separated parts, found "
                    + parts.length);
        }
        try {
            return parse(B64D.decode(parts[1]));
        } catch (InvalidSessionTokenException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new InvalidSessionTokenException(Reason.MALFORMED, "payload cannot be read ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    private void verify(String[] parts) {
        String kid = parts[2];
        byte[] key = KEY_ID.matcher(kid).matches() ? keys.get(kid) : null;
        if (key == null) {
            throw new InvalidSessionTokenException(Reason.UNKNOWN_KEY, "key id '" + (kid.length() > 32
                    ? kid.substring(0, 32) + "…" : kid) + "' is not one of this codec's keys");
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
        byte[] expected = mac(key, parts[0] + "." + parts[1] + "." + kid);
        if (!MessageDigest.isEqual(expected, given)) {
            throw new InvalidSessionTokenException(Reason.BAD_SIGNATURE, "signature does not match the content");
        }
    }

    private static SessionToken parse(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
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
        return SessionToken.of(classes);
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

    private static byte[] mac(byte[] key, String content) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(content.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
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
         * Signs new tokens with this key (and accepts tokens signed with it).
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
         * Accepts tokens signed with this key (an older key during rotation).
         *
         * @param keyId letters, digits, {@code _} or {@code -}, 1 to 32 characters
         * @param secret at least 32 bytes of secret
         * @return this builder
         * @throws LatitudeConfigException if the id is malformed or repeated, or the secret is short
         */
        public Builder verificationKey(String keyId, byte[] secret) {
            if (keyId == null || !KEY_ID.matcher(keyId).matches()) {
                throw new LatitudeConfigException("sessionToken.keyId", "'" + keyId
                        + "' is not a key id; use 1 to 32 letters, digits, '_' or '-', such as 'k2026-11'");
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
         * Says whether unsigned tokens are accepted; by default only when no key is configured.
         *
         * @param accept whether to accept unsigned tokens
         * @return this builder
         */
        public Builder acceptUnsigned(boolean accept) {
            this.acceptUnsigned = accept;
            return this;
        }

        /**
         * Returns the codec.
         *
         * @throws LatitudeConfigException if verification keys are set without a signing key
         */
        public SessionTokenCodec build() {
            if (signingKeyId == null && !keys.isEmpty()) {
                throw new LatitudeConfigException("sessionToken.signingKey", "verification keys " + keys.keySet()
                        + " are set but no signing key; name the current key with signingKey(id, secret)");
            }
            return new SessionTokenCodec(this);
        }
    }
}
