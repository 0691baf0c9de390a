package dev.latitude;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Whether Latitude's log lines, span attributes and exception messages may show data values: item keys, key values,
 * statement text and literals. By default they do not (a key is shown as a short fingerprint, a statement by its
 * length and the position of the problem), so data that must stay in its jurisdiction does not travel with the
 * application's logs and telemetry.
 *
 * <p>The one switch is the system property {@value #PROPERTY}: {@code -Dlatitude.log.sensitive=true} shows the values
 * again, for debugging. It is read each time something is logged or described, so it may be set on a running process.
 */
public final class SensitiveData {
    /** The system property that, set to {@code true}, makes logs, spans and messages show data values. */
    public static final String PROPERTY = "latitude.log.sensitive";

    private static final String ALGORITHM = "HmacSHA256";
    /** A key drawn per process: fingerprints match within a process and cannot be recomputed outside it. */
    private static final SecretKeySpec KEY;

    static {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        KEY = new SecretKeySpec(key, ALGORITHM);
    }

    private SensitiveData() {
    }

    /** Returns whether data values may be shown, that is whether {@value #PROPERTY} is {@code true}. */
    public static boolean shown() {
        return Boolean.getBoolean(PROPERTY);
    }

    /**
     * Returns a short, non-reversible fingerprint of {@code value}: {@code #} and 12 hex digits of an HMAC-SHA256
     * keyed with a secret drawn when the process starts. Equal values get equal fingerprints within one process, so
     * log lines about one key can be told apart from another's; without the secret, a fingerprint cannot be checked
     * against guessed values.
     *
     * @param value the value
     * @return its fingerprint, or {@code "null"} for {@code null}
     */
    public static String fingerprint(String value) {
        if (value == null) {
            return "null";
        }
        byte[] mac;
        try {
            Mac hmac = Mac.getInstance(ALGORITHM);
            hmac.init(KEY);
            mac = hmac.doFinal(value.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            // Every Java platform provides HmacSHA256.
            throw new IllegalStateException(ALGORITHM + " is not available", e);
        }
        StringBuilder sb = new StringBuilder(13).append('#');
        for (int i = 0; i < 6; i++) {
            sb.append(Character.forDigit((mac[i] >> 4) & 0xF, 16)).append(Character.forDigit(mac[i] & 0xF, 16));
        }
        return sb.toString();
    }
}
