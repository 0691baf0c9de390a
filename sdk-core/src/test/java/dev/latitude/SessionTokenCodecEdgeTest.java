package dev.latitude;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Tokens the binary format cannot carry as they are, and the one text form of a signature. */
class SessionTokenCodecEdgeTest {
    private static final byte[] SECRET = new byte[32];

    private static SessionTokenCodec.Builder signed() {
        return SessionTokenCodec.builder().audience("edge").signingKey("k1", SECRET);
    }
    @Test
    void decode_absentOrBlankText_isANewSession() {
        // What a service does with the header of a first request: no header, or an empty one, is a new session.
        SessionTokenCodec codec = signed().build();
        assertThat(codec.decode(null)).isEqualTo(SessionToken.empty());
        assertThat(codec.decode("")).isEqualTo(SessionToken.empty());
        assertThat(codec.decode("  ")).isEqualTo(SessionToken.empty());
        assertThat(codec.rejections(InvalidSessionTokenException.Reason.MALFORMED)).isZero();
        // Text that is there but is not a token is still refused.
        assertThatThrownBy(() -> codec.decode("x")).isInstanceOf(InvalidSessionTokenException.class);
    }

    @Test
    void encode_keyOver1024Bytes_foldsIntoClassWatermarkAndKeepsItsRequirement() {
        SessionTokenCodec codec = signed().maxLength(65_536).build();
        String longKey = "x".repeat(1025);
        SessionToken t = SessionToken.empty().withWrite("orders", longKey, 5, "us-east-1")
                .withWrite("orders", "short", 3, "us-east-1");
        SessionToken back = codec.decode(codec.encode(t));
        assertThat(back.requirement("orders", longKey)).isEqualTo(new Watermark(5, "us-east-1"));
        assertThat(back.isKeyLevel("orders", longKey)).isFalse();
        assertThat(back.requirement("orders", "short").value()).isGreaterThanOrEqualTo(3);
    }

    @Test
    void encode_dataClassNameOver1024Bytes_isRefusedWithReason() {
        SessionToken t = SessionToken.empty().withWrite("t".repeat(1025), "k", 5, "us-east-1");
        assertThatThrownBy(() -> signed().build().encode(t)).isInstanceOf(LatitudeException.class)
                .hasMessageContaining("1024");
    }

    @Test
    void encode_loneSurrogateKey_keepsItsRequirement() {
        SessionTokenCodec codec = signed().build();
        SessionToken t = SessionToken.empty().withWrite("orders", "\uD800", 5, "us-east-1");
        assertThat(codec.decode(codec.encode(t)).requirement("orders", "\uD800")).isEqualTo(new Watermark(5, "us-east-1"));
    }

    @Test
    void decode_signatureSpelledAnotherWay_isRejected() {
        SessionTokenCodec codec = signed().build();
        String text = codec.encode(SessionToken.empty().withWrite("orders", "a", 5, "us-east-1"));
        assertThatThrownBy(() -> codec.decode(text + "=")).isInstanceOf(InvalidSessionTokenException.class);
        String last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char c = text.charAt(text.length() - 1);
        char other = last.charAt(last.indexOf(c) ^ 1);
        assertThatThrownBy(() -> codec.decode(text.substring(0, text.length() - 1) + other))
                .isInstanceOf(InvalidSessionTokenException.class);
    }

    @Test
    void encode_validSurrogatePairsAndMultiByteKeys_stayKeyLevel() {
        SessionTokenCodec codec = signed().build();
        String emoji = "user-\uD83D\uDE00";
        String accented = "müller-ß-日本";
        String limit = "é".repeat(512); // exactly 1,024 UTF-8 bytes
        SessionToken t = SessionToken.empty().withWrite("orders", emoji, 5, "us-east-1")
                .withWrite("orders", accented, 6, "us-east-1").withWrite("orders", limit, 7, "us-east-1");
        SessionToken back = codec.decode(codec.encode(t));
        assertThat(back).isEqualTo(t);
        assertThat(back.isKeyLevel("orders", emoji)).isTrue();
        assertThat(back.isKeyLevel("orders", limit)).isTrue();
        assertThat(SessionTokenCodec.encodable("é".repeat(513))).isFalse();
        assertThat(SessionTokenCodec.encodable("\uDE00x")).isFalse();
    }
}
