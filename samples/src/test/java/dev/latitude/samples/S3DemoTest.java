package dev.latitude.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Keeps the S3 demo honest: the session reads its own write, and no read fails during the blackhole. */
class S3DemoTest {

    @Test
    void run_readsItsOwnWriteAndLosesNoReadDuringTheBlackhole() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        S3Demo.run(new String[] {"--reads", "10"}, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("PutObject -> us-east-1")
                .contains("-> 'meow': the local 404 was checked against the session")
                .contains("-> NoSuchKey")
                .contains("0 of 10 reads failed with eu-west-1 blackholed");
    }

    @Test
    void run_badArgument_namesItAndTheRange() {
        assertThatThrownBy(() -> S3Demo.run(new String[] {"--reads", "many"}, System.out))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--reads").hasMessageContaining("1 to 10000");
    }
}
