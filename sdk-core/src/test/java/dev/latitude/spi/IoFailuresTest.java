package dev.latitude.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.FailureKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Checks {@link IoFailures}: before-sending failures, after-sending failures, and chains without I/O. */
class IoFailuresTest {

    @Test
    void connectionFailuresBeforeSending_areRegionUnavailable() {
        assertThat(IoFailures.classify(new ConnectException("refused"))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(IoFailures.classify(new RuntimeException(new UnknownHostException("x"))))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(IoFailures.classify(new IOException("Connection refused by peer")))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
    }

    @Test
    void failuresAfterSending_areAmbiguous() {
        assertThat(IoFailures.classify(new UncheckedIOException(new IOException("Connection reset"))))
                .isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(IoFailures.classify(new SocketTimeoutException("Read timed out"))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(IoFailures.classify(new TimeoutException())).isEqualTo(FailureKind.AMBIGUOUS);
    }

    @Test
    void chainsWithoutIo_areNull() {
        assertThat(IoFailures.classify(null)).isNull();
        assertThat(IoFailures.classify(new IllegalStateException(new IllegalArgumentException()))).isNull();
    }
}
