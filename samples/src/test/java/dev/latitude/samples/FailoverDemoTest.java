package dev.latitude.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Keeps the README's first command honest: a short run of the demo moves traffic and fails no call. */
class FailoverDemoTest {

    @Test
    void run_shortDemo_printsTimelineAndLosesNoCall() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FailoverDemo.run(new String[] {"--seconds", "6", "--rate", "50"}, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("sec | us-east-1 | us-west-2 | eu-west-1 | failed")
                .contains("us-east-1 BLACKHOLED").contains("us-east-1 HEALED")
                .contains("Summary: 300 calls, 0 failed")
                .contains("us-east-1 circuit CLOSED -> OPEN");
    }

    @Test
    void run_badArgument_namesItAndTheRange() {
        assertThatThrownBy(() -> FailoverDemo.run(new String[] {"--rate", "fast"}, System.out))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--rate").hasMessageContaining("1 to 10000");
    }
}
