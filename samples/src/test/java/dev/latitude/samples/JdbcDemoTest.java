package dev.latitude.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Keeps the PostgreSQL demo honest: the session reads its own write from the writer, no read fails during the
 * blackhole, and writes reach the promoted replica.
 */
class JdbcDemoTest {

    @Test
    void run_readsItsOwnWrite_losesNoReadDuringTheBlackhole_andWritesAfterThePromotion() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        JdbcDemo.run(new String[] {"--reads", "20"}, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("INSERT order-1 status=PLACED -> taken by us-east-1")
                .contains("SELECT order-1 in the session: status=PLACED, served by ")
                .contains("SELECT order-1 without the session: status=null, served by eu-west-1")
                .contains("0 of 20 reads failed with eu-west-1 blackholed")
                .contains("INSERT order-2 status=PLACED -> taken by eu-west-1");
    }

    @Test
    void run_badArgument_namesItAndTheRange() {
        assertThatThrownBy(() -> JdbcDemo.run(new String[] {"--reads", "many"}, System.out))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--reads").hasMessageContaining("1 to 10000");
    }
}
